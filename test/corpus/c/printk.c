/* SPDX-License-Identifier: MIT */
/*
 * printk: bpf_trace_printk's return value (the length of the formatted line, or -EINVAL) for a
 * spread of formats, stored in `lens`, with arguments taken from the frame so the verifier
 * cannot fold them. Frames shorter than 34 bytes pass untouched.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __s64);
	__uint(max_entries, 12);
} lens SEC(".maps");

static __always_inline void put(__u32 k, long v)
{
	__s64 *slot = bpf_map_lookup_elem(&lens, &k);

	if (slot)
		*slot = v;
}

#define PRINTK(k, fmt, ...) ({ char f[] = fmt; put(k, bpf_trace_printk(f, sizeof(f), ##__VA_ARGS__)); })

SEC("xdp")
int printk(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	char name[8] = "vxo";
	__u32 ttl, proto;
	__s32 neg;

	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	ttl = ip->ttl;
	proto = ip->protocol;
	neg = -(__s32)ttl;

	PRINTK(0, "ttl %d proto %u", ttl, proto);
	PRINTK(1, "[%5d|%-5d|%05d]", ttl, ttl, neg);
	PRINTK(2, "[%+d|% d|%x]", ttl, ttl, proto + 250);
	PRINTK(11, "[%X|%3x]", proto + 250, proto);
	PRINTK(3, "%lx %llu %ld", (long)neg, (unsigned long long)ttl << 40, (long)neg);
	PRINTK(4, "src %pI4 dst %pi4", &ip->saddr, &ip->daddr);
	PRINTK(5, "%c%c%c", 'v', 'x', 'o');
	PRINTK(6, "name=%s!", name);
	PRINTK(7, "100%% %d", ttl);
	PRINTK(8, "%d %d %d %d", 1, 2, 3);
	PRINTK(9, "%q", ttl);
	PRINTK(10, "%s|", (char *)0);
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual MIT/GPL";

/* SPDX-License-Identifier: MIT */
/*
 * parse_num: bpf_strtol / bpf_strtoul on the first 24 bytes of a UDP payload
 * (IPv4 without options), in several bases, results and return codes stored
 * in `nums`: [0..1] strtol base 0, [2..3] strtoul base 0, [4..5] strtol base
 * 16, [6..7] strtoul base 8, [8] strtol with an invalid base. Frames too
 * short for the payload pass untouched.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>

#define NUM_LEN 24

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __s64);
	__uint(max_entries, 9);
} nums SEC(".maps");

static __always_inline void put(__u32 k, __s64 v)
{
	__s64 *slot = bpf_map_lookup_elem(&nums, &k);

	if (slot)
		*slot = v;
}

SEC("xdp")
int parse_num(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	const __u64 off = sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr);
	char buf[NUM_LEN];
	long sv = 0;
	unsigned long uv = 0;

	if (data + off + NUM_LEN > data_end)
		return XDP_PASS;
	__builtin_memcpy(buf, data + off, NUM_LEN);

	put(0, bpf_strtol(buf, NUM_LEN, 0, &sv));
	put(1, sv);
	put(2, bpf_strtoul(buf, NUM_LEN, 0, &uv));
	put(3, uv);
	sv = 0;
	put(4, bpf_strtol(buf, NUM_LEN, 16, &sv));
	put(5, sv);
	uv = 0;
	put(6, bpf_strtoul(buf, NUM_LEN, 8, &uv));
	put(7, uv);
	put(8, bpf_strtol(buf, NUM_LEN, 7, &sv));
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual MIT/GPL";

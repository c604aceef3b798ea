/* SPDX-License-Identifier: MIT */
/*
 * lpm_route: an IPv4 router on the newer map types and helpers.
 *
 * Headers are read with bpf_xdp_load_bytes (no direct packet access at all).
 * The destination is looked up in an LPM_TRIE of routes (longest prefix wins);
 * the route's port id selects a device in a DEVMAP_HASH keyed by that id, and
 * the frame is redirected there (XDP_PASS when the port has no device). Each
 * routed source address is counted in an LRU_HASH (a new source is inserted
 * with BPF_NOEXIST). UDP to port 7000 adds a /32 route for its source (port
 * id 9) from the program; UDP to port 7001 deletes the /24 route covering its
 * destination. A routed frame gets its destination MAC rewritten with
 * bpf_xdp_store_bytes.
 *
 * .bss records helper results that do not depend on the time: the errno of
 * a load past 0xffff (-EFAULT) and past the frame (-EINVAL), a store past the
 * frame (-EINVAL), the program's own route update and delete results, and
 * whether bpf_jiffies64 and bpf_ktime_get_boot_ns returned non-zero.
 * Verdict: XDP_REDIRECT, XDP_PASS, or XDP_DROP when no route matches or the
 * headers are cut.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct route_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct route_key);
	__type(value, __u32);
} routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} sources SEC(".maps");

long load_efault, load_einval, store_einval, add_ret, del_ret;
__u32 clocks_ok;

static const __u8 next_hop[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x42 };

SEC("xdp")
int lpm_route(struct xdp_md *ctx)
{
	struct ethhdr eth;
	struct iphdr iph;
	struct udphdr udp;
	struct route_key key = { .prefixlen = 32 };
	__u32 len = ctx->data_end - ctx->data;
	__u32 *port;
	__u64 *count, one = 1;
	__u8 b;

	load_efault = bpf_xdp_load_bytes(ctx, 0x10000, &b, 1);
	load_einval = bpf_xdp_load_bytes(ctx, len, &b, 1);
	store_einval = bpf_xdp_store_bytes(ctx, len & 0xfff, &b, 1);
	clocks_ok = (bpf_jiffies64() != 0) + (bpf_ktime_get_boot_ns() != 0);

	if (bpf_xdp_load_bytes(ctx, 0, &eth, sizeof(eth)))
		return XDP_DROP;
	if (eth.h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (bpf_xdp_load_bytes(ctx, sizeof(eth), &iph, sizeof(iph)))
		return XDP_DROP;

	if (iph.protocol == IPPROTO_UDP && !bpf_xdp_load_bytes(ctx, sizeof(eth) + iph.ihl * 4, &udp, sizeof(udp))) {
		if (udp.dest == bpf_htons(7000)) {
			__u32 via = 9;

			__builtin_memcpy(key.addr, &iph.saddr, 4);
			add_ret = bpf_map_update_elem(&routes, &key, &via, BPF_NOEXIST);
		} else if (udp.dest == bpf_htons(7001)) {
			key.prefixlen = 24;
			__builtin_memcpy(key.addr, &iph.daddr, 4);
			del_ret = bpf_map_delete_elem(&routes, &key);
		}
	}

	key.prefixlen = 32;
	__builtin_memcpy(key.addr, &iph.daddr, 4);
	port = bpf_map_lookup_elem(&routes, &key);
	if (!port)
		return XDP_DROP;

	count = bpf_map_lookup_elem(&sources, &iph.saddr);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&sources, &iph.saddr, &one, BPF_NOEXIST);

	if (bpf_xdp_store_bytes(ctx, 0, (void *)next_hop, ETH_ALEN))
		return XDP_ABORTED;
	return bpf_redirect_map(&ports, *port, XDP_PASS);
}

char _license[] SEC("license") = "GPL";

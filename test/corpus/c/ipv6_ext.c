/* SPDX-License-Identifier: MIT */
/*
 * ipv6_ext: walks up to two VLAN tags and then the IPv6 extension-header
 * chain with real bounded loops (not unrolled), the shape kernels >= 5.3
 * accept: the verifier follows each iteration with a growing variable packet
 * offset and must see a bounds check before every read.
 *
 * Output:
 *   l4_cnt[nexthdr]   frames per upper-layer protocol after the chain;
 *   ext_depth[n]      frames that carried n extension headers, n <= MAX_EXT;
 *   ext_depth[MAX_EXT + 1] chains longer than MAX_EXT (dropped).
 * Verdicts: non-IPv6 PASS (uncounted), truncated header DROP (uncounted),
 * chain too long DROP, otherwise PASS.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <linux/in6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_VLAN 2
#define MAX_EXT 6

struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
} l4_cnt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, MAX_EXT + 2);
} ext_depth SEC(".maps");

static __always_inline void count(void *map, __u32 key)
{
	__u64 *v = bpf_map_lookup_elem(map, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int ipv6_ext(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6h;
	void *cur;
	__be16 proto;
	__u8 nexthdr;
	int i, n = 0;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	proto = eth->h_proto;
	cur = eth + 1;

#pragma clang loop unroll(disable)
	for (i = 0; i < MAX_VLAN; i++) {
		struct vlan_hdr *vh = cur;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > data_end)
			return XDP_DROP;
		proto = vh->h_vlan_encapsulated_proto;
		cur = vh + 1;
	}

	if (proto != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;
	ip6h = cur;
	if ((void *)(ip6h + 1) > data_end)
		return XDP_DROP;
	nexthdr = ip6h->nexthdr;
	cur = ip6h + 1;

#pragma clang loop unroll(disable)
	for (i = 0; i < MAX_EXT + 1; i++) {
		/* Generic shape: next header, length, option data. */
		struct ipv6_opt_hdr *oh = cur;
		__u32 len;

		if (nexthdr != IPPROTO_HOPOPTS && nexthdr != IPPROTO_ROUTING &&
		    nexthdr != IPPROTO_FRAGMENT && nexthdr != IPPROTO_DSTOPTS &&
		    nexthdr != IPPROTO_AH)
			break;
		if (i == MAX_EXT) {
			count(&ext_depth, MAX_EXT + 1);
			return XDP_DROP;
		}
		if ((void *)(oh + 1) > data_end)
			return XDP_DROP;
		/* Lengths differ: fragment is fixed, AH counts 4-byte words minus 2. */
		if (nexthdr == IPPROTO_FRAGMENT)
			len = 8;
		else if (nexthdr == IPPROTO_AH)
			len = ((__u32)oh->hdrlen + 2) * 4;
		else
			len = ((__u32)oh->hdrlen + 1) * 8;
		nexthdr = oh->nexthdr;
		/* The whole header must be present before the next one is read. */
		if (cur + len > data_end)
			return XDP_DROP;
		cur += len;
		n++;
	}

	count(&ext_depth, n);
	count(&l4_cnt, nexthdr);
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual MIT/GPL";

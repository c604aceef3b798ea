/* SPDX-License-Identifier: MIT */
/*
 * meta_mark: reserves 8 bytes of XDP metadata in front of the packet with
 * bpf_xdp_adjust_meta and fills them with what it parsed, the way a driver
 * program hands hints to a later TC program. The metadata area must be
 * proven (data_meta + size <= data) after the helper, like packet bounds.
 *
 * Metadata layout (host byte order, little-endian on every BPF target we
 * run): u32 mark, u16 ethertype (as on the wire), u8 ip protocol, u8 vlan
 * tags seen.
 * Output: meta_stats[0] frames marked, [1] adjust_meta failures.
 * Verdict: PASS (DROP for frames shorter than 14).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

struct meta {
	__u32 mark;
	__be16 ethertype;
	__u8 ip_proto;
	__u8 vlans;
};

/* Marks chosen so each field of the metadata is visibly distinct. */
#define MARK_BASE 0xa5000000u

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 2);
} meta_stats SEC(".maps");

static __always_inline void stat(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&meta_stats, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int meta_mark(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct vlan_hdr *vh;
	struct meta m = {};
	void *l3;
	struct meta *mp;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	m.ethertype = eth->h_proto;
	l3 = eth + 1;
	vh = l3;
	if (m.ethertype == bpf_htons(ETH_P_8021Q) && (void *)(vh + 1) <= data_end) {
		m.ethertype = vh->h_vlan_encapsulated_proto;
		m.vlans = 1;
		l3 = vh + 1;
	}
	if (m.ethertype == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = l3;

		if ((void *)(iph + 1) <= data_end)
			m.ip_proto = iph->protocol;
	} else if (m.ethertype == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = l3;

		if ((void *)(ip6h + 1) <= data_end)
			m.ip_proto = ip6h->nexthdr;
	}
	m.mark = MARK_BASE | ((__u32)m.ip_proto << 8) | m.vlans;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct meta))) {
		stat(1);
		return XDP_PASS;
	}
	/* Reload after the helper: data_meta moved, old pointers are invalid. */
	mp = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if ((void *)(mp + 1) > data)
		return XDP_ABORTED;
	*mp = m;
	stat(0);
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual MIT/GPL";

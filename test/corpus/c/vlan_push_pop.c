/* SPDX-License-Identifier: MIT */
/*
 * vlan_push_pop: moves the packet start with bpf_xdp_adjust_head. A frame
 * with an outer 802.1Q tag loses it (pop: the MAC addresses move 4 bytes
 * forward over the tag, then the head shrinks by 4); an untagged frame gets
 * the tag configured in .rodata (push: the head grows by 4 into the
 * headroom, the MAC addresses move to the new front, the tag follows them).
 *
 * Every adjust_head invalidates all packet pointers, so data and data_end
 * are reloaded from the context and the bounds are proven again.
 *
 * Output: vlan_stats[0] pops, [1] pushes, [2] adjust_head failures.
 * Verdict: XDP_TX for rewritten frames, DROP for frames shorter than 14.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

/* Both MAC addresses as one unit to move. */
struct mac_pair {
	__u8 addrs[2 * ETH_ALEN];
};

/* The tag to push: VID 100, priority 5 (loader may rewrite before load). */
const volatile __u16 push_vid = 100;
const volatile __u8 push_pcp = 5;

enum { STAT_POP, STAT_PUSH, STAT_FAIL, STAT_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, STAT_MAX);
} vlan_stats SEC(".maps");

static __always_inline void stat(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&vlan_stats, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline int pop_tag(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct mac_pair macs;

	if (data + sizeof(macs) + sizeof(struct vlan_hdr) + 2 > data_end)
		return XDP_DROP;
	/* Copy out first: source and destination overlap. */
	__builtin_memcpy(&macs, data, sizeof(macs));
	__builtin_memcpy(data + sizeof(struct vlan_hdr), &macs, sizeof(macs));

	if (bpf_xdp_adjust_head(ctx, (int)sizeof(struct vlan_hdr))) {
		stat(STAT_FAIL);
		return XDP_ABORTED;
	}
	stat(STAT_POP);
	return XDP_TX;
}

static __always_inline int push_tag(struct xdp_md *ctx)
{
	void *data, *data_end;
	struct ethhdr *eth;
	struct vlan_hdr *vh;
	struct mac_pair macs;
	__be16 inner;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct vlan_hdr))) {
		stat(STAT_FAIL);
		return XDP_ABORTED;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	vh = (void *)(eth + 1);
	if ((void *)(vh + 1) > data_end)
		return XDP_ABORTED;

	/* Old layout starts 4 bytes in: MACs at 4..15, EtherType at 16..17. */
	__builtin_memcpy(&macs, data + sizeof(*vh), sizeof(macs));
	inner = *(__be16 *)(data + sizeof(*vh) + sizeof(macs));
	__builtin_memcpy(data, &macs, sizeof(macs));
	eth->h_proto = bpf_htons(ETH_P_8021Q);
	vh->h_vlan_TCI = bpf_htons(((__u16)push_pcp << 13) | (push_vid & 0x0fff));
	vh->h_vlan_encapsulated_proto = inner;
	stat(STAT_PUSH);
	return XDP_TX;
}

SEC("xdp")
int vlan_push_pop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_8021Q))
		return pop_tag(ctx);
	return push_tag(ctx);
}

char _license[] SEC("license") = "Dual MIT/GPL";

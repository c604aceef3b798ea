/* SPDX-License-Identifier: MIT */
/*
 * rx_drop: the tap's Rx-path program in the XDP_TX benchmarks. Frames the
 * offloaded xdp2 bounces are injected into the tap's Rx path (towards the
 * host); this program counts and drops them so they do not load the host
 * stack, and its counter tells how many bounced frames arrived.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} drop_cnt SEC(".maps");

SEC("xdp")
int rx_drop(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *cnt = bpf_map_lookup_elem(&drop_cnt, &key);

	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual MIT/GPL";

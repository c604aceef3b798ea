/* SPDX-License-Identifier: MIT */
/*
 * redirect: the host NIC's program in benchmark Case 1. Every frame is
 * XDP_REDIRECTed through the DEVMAP tx_port (slot 0 holds the tap's ifindex),
 * the way samples/bpf xdp_redirect_map does; redirected frames reach the tap
 * in batches through tun_xdp_xmit.
 *
 * If slot 0 is empty bpf_redirect_map returns the low bits of its flags
 * argument: 0 = XDP_ABORTED, so a missing tap shows up as aborts, not as a
 * silent pass into the host stack.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 4);
} tx_port SEC(".maps");

/* Slot 0: frames handed to bpf_redirect_map with a usable target. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} redirect_cnt SEC(".maps");

SEC("xdp")
int xdp_redirect_map(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *cnt;
	long act;

	act = bpf_redirect_map(&tx_port, 0, 0);
	if (act == XDP_REDIRECT) {
		cnt = bpf_map_lookup_elem(&redirect_cnt, &key);
		if (cnt)
			__sync_fetch_and_add(cnt, 1);
	}
	return act;
}

char _license[] SEC("license") = "Dual MIT/GPL";

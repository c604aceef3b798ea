/* SPDX-License-Identifier: MIT */
/*
 * trim_tail: shortens frames with bpf_xdp_adjust_tail (negative deltas only).
 *  - IPv4 frames lose the Ethernet padding behind the IP datagram (a 54-byte
 *    TCP ACK is padded to the 60-byte minimum on the wire; this gives 54).
 *  - Frames still longer than snap_len are cut to snap_len, like a capture
 *    snap length, keeping the headers for a sampler.
 * The trim length is a signed difference: a datagram claiming more bytes
 * than the frame holds gives a negative excess and is left alone.
 *
 * Output: trim_stats[0] padding trims, [1] snap trims, [2] bytes removed,
 * [3] adjust_tail failures, [4] frames with a bogus IPv4 length.
 * Verdict: PASS (DROP for frames shorter than 14).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 snap_len = 128;

enum { TRIM_PAD, TRIM_SNAP, TRIM_BYTES, TRIM_FAIL, TRIM_BOGUS, TRIM_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, TRIM_MAX);
} trim_stats SEC(".maps");

static __always_inline void add(__u32 key, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&trim_stats, &key);

	if (v)
		__sync_fetch_and_add(v, n);
}

static __always_inline int trim(struct xdp_md *ctx, int by, __u32 reason)
{
	if (bpf_xdp_adjust_tail(ctx, -by)) {
		add(TRIM_FAIL, 1);
		return -1;
	}
	add(reason, 1);
	add(TRIM_BYTES, by);
	return 0;
}

SEC("xdp")
int trim_tail(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	long frame_len, excess;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	frame_len = data_end - data;

	if (eth->h_proto == bpf_htons(ETH_P_IP) && (void *)(iph + 1) <= data_end) {
		long ip_len = bpf_ntohs(iph->tot_len);

		if (ip_len < (long)sizeof(*iph)) {
			add(TRIM_BOGUS, 1);
		} else {
			excess = frame_len - (long)sizeof(*eth) - ip_len;
			if (excess > 0) {
				if (trim(ctx, (int)excess, TRIM_PAD) < 0)
					return XDP_PASS;
				frame_len -= excess;
			}
		}
	}

	excess = frame_len - (long)snap_len;
	if (excess > 0)
		trim(ctx, (int)excess, TRIM_SNAP);
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual MIT/GPL";

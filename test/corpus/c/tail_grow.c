/* SPDX-License-Identifier: MIT */
/*
 * tail_grow: appends an 8-byte trailer to every IPv4 UDP frame with
 * bpf_xdp_adjust_tail (positive delta), then re-derives every pointer from
 * the context and checks the trailer against the new data_end before
 * writing it: the helper invalidated every packet pointer taken before it.
 * The trailer is the ASCII tag "VXO" + 1 byte, the frame's original length
 * (big endian, u16) and a running sequence number (u16) from .data.
 * The UDP and IPv4 length fields are left alone: the trailer lies behind the
 * datagram, like Ethernet padding.
 *
 * Output: grow_stats[0] grown, [1] adjust_tail failures; seq (.data) counts.
 * Verdict: PASS (DROP for frames shorter than 14).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TRAILER 8

__u16 seq = 1;
__u64 grow_stats[2];

SEC("xdp")
int tail_grow(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	__u8 *tr;
	__u32 len;
	__u16 s;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || (void *)(iph + 1) > data_end || iph->protocol != IPPROTO_UDP)
		return XDP_PASS;
	len = data_end - data;
	if (bpf_xdp_adjust_tail(ctx, TRAILER)) {
		grow_stats[1]++;
		return XDP_PASS;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (len > 2048)
		return XDP_PASS;
	tr = data + len;
	if ((void *)(tr + TRAILER) > data_end)
		return XDP_PASS;
	s = seq++;
	tr[0] = 'V';
	tr[1] = 'X';
	tr[2] = 'O';
	tr[3] = 1;
	tr[4] = len >> 8;
	tr[5] = len & 0xff;
	tr[6] = s >> 8;
	tr[7] = s & 0xff;
	grow_stats[0]++;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";

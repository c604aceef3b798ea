/* SPDX-License-Identifier: MIT */
/*
 * xdp_sk_firewall: drops TCP and UDP packets that no local socket would take,
 * before the stack spends anything on them (no RST, no ICMP unreachable).
 *
 * - TCP: bpf_skc_lookup_tcp on the packet's tuple. Any socket counts: a
 *   listener (SYN, or a cookie ACK), an established socket, a request socket
 *   (the handshake's final ACK) or a TIME_WAIT socket (its late segments, and
 *   a SYN reopening the tuple, which the kernel hands to the listener or
 *   answers with an ACK). bpf_sk_lookup_tcp would not do: it maps TIME_WAIT
 *   to NULL, so a reopening SYN would be dropped. A SYN that finds nothing
 *   has no listener (the lookup also ran the netns's SK_LOOKUP programs), so
 *   the kernel would answer it with a RST: dropped.
 * - UDP: bpf_sk_lookup_udp; unicast only, since multicast and broadcast are
 *   delivered without this lookup.
 * - Everything else passes: ARP, ICMP, IPv4 non-first fragments (no ports),
 *   IPv6 with extension headers; a frame cut inside its headers is dropped.
 * Every socket found is released on every path.
 */
#include "sk_common.h"

enum fw_verdict {
	FW_PASS_NOT_IP,
	FW_PASS_OTHER,		/* IP, not TCP/UDP (ICMP, ...) or not followed */
	FW_PASS_FRAGMENT,
	FW_PASS_MULTICAST,
	FW_PASS_TCP_LISTENER,	/* a listener took it (SYN, cookie ACK) */
	FW_PASS_TCP_SOCKET,	/* established, request or TIME_WAIT socket */
	FW_PASS_UDP,
	FW_DROP_TCP,		/* no TCP socket */
	FW_DROP_UDP,		/* no UDP socket */
	FW_DROP_TRUNCATED,
	FW_NR,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, FW_NR);
} fw_verdicts SEC(".maps");

static __always_inline int verdict(__u32 v, int action)
{
	count(&fw_verdicts, v);
	return action;
}

SEC("xdp")
int xdp_sk_firewall(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct l4_info info = {};
	struct bpf_sock *sk;
	__u32 state;

	switch (parse_l4(data, data_end, &info)) {
	case L4_TCP:
		sk = SK_LOOKUP_TUPLE(bpf_skc_lookup_tcp, ctx, &info);
		if (!sk)
			return verdict(FW_DROP_TCP, XDP_DROP);
		state = sk->state;
		bpf_sk_release(sk);
		if (state == BPF_TCP_LISTEN)
			return verdict(FW_PASS_TCP_LISTENER, XDP_PASS);
		return verdict(FW_PASS_TCP_SOCKET, XDP_PASS);
	case L4_UDP:
		sk = SK_LOOKUP_TUPLE(bpf_sk_lookup_udp, ctx, &info);
		if (!sk)
			return verdict(FW_DROP_UDP, XDP_DROP);
		bpf_sk_release(sk);
		return verdict(FW_PASS_UDP, XDP_PASS);
	case L4_NOT_IP:
		return verdict(FW_PASS_NOT_IP, XDP_PASS);
	case L4_FRAGMENT:
		return verdict(FW_PASS_FRAGMENT, XDP_PASS);
	case L4_MULTICAST:
		return verdict(FW_PASS_MULTICAST, XDP_PASS);
	case L4_TRUNCATED:
		return verdict(FW_DROP_TRUNCATED, XDP_DROP);
	default:
		return verdict(FW_PASS_OTHER, XDP_PASS);
	}
}

char _license[] SEC("license") = "Dual MIT/GPL";

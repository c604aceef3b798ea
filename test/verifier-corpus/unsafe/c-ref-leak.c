// Looks a TCP socket up and returns without bpf_sk_release when one is found.
// category: reference
// expect: Unreleased reference
// kernel-errno: EINVAL
// kernel: Unreleased reference id=2 alloc_insn=16
// kernel: BPF_EXIT instruction in main prog would lead to reference leak
#include "common.h"

SEC("xdp")
int ref_leak(struct xdp_md *ctx)
{
	struct bpf_sock_tuple t = {};

	t.ipv4.saddr = bpf_htonl(0x0a000001);
	t.ipv4.daddr = bpf_htonl(0x0a000002);
	t.ipv4.sport = bpf_htons(12345);
	t.ipv4.dport = bpf_htons(80);
	struct bpf_sock *sk;

	sk = bpf_sk_lookup_tcp(ctx, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (sk && sk->state == 10 /* TCP_LISTEN */)
		return XDP_DROP;
	return XDP_PASS;
}

// Reads sk->state after bpf_sk_release.
// category: reference
// expect: invalid mem access 'scalar'
// kernel-errno: EACCES
// kernel: R6 invalid mem access 'scalar'
#include "common.h"

SEC("xdp")
int ref_use_after_release(struct xdp_md *ctx)
{
	struct bpf_sock_tuple t = {};

	t.ipv4.saddr = bpf_htonl(0x0a000001);
	t.ipv4.daddr = bpf_htonl(0x0a000002);
	t.ipv4.sport = bpf_htons(12345);
	t.ipv4.dport = bpf_htons(80);
	struct bpf_sock *sk;

	sk = bpf_sk_lookup_tcp(ctx, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return XDP_PASS;
	bpf_sk_release(sk);
	return sk->state == 10 ? XDP_DROP : XDP_PASS;
}

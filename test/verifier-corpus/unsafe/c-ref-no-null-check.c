// Reads sk->family without checking the lookup result for NULL.
// category: reference
// expect: invalid mem access 'sock_or_null'
// kernel-errno: EACCES
// kernel: R0 invalid mem access 'sock_or_null'
#include "common.h"

SEC("xdp")
int ref_no_null_check(struct xdp_md *ctx)
{
	struct bpf_sock_tuple t = {};

	t.ipv4.saddr = bpf_htonl(0x0a000001);
	t.ipv4.daddr = bpf_htonl(0x0a000002);
	t.ipv4.sport = bpf_htons(12345);
	t.ipv4.dport = bpf_htons(80);
	struct bpf_sock *sk;
	__u32 family;

	sk = bpf_sk_lookup_tcp(ctx, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	family = sk->family;
	if (sk)
		bpf_sk_release(sk);
	return family == 2 ? XDP_DROP : XDP_PASS;
}

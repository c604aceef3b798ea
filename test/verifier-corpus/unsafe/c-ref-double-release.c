// Releases the socket in a cleanup branch and again at the end.
// category: reference
// expect: type=scalar expected=sock
// kernel-errno: EACCES
// kernel: R1 type=scalar expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_
#include "common.h"

SEC("xdp")
int ref_double_release(struct xdp_md *ctx)
{
	struct bpf_sock_tuple t = {};

	t.ipv4.saddr = bpf_htonl(0x0a000001);
	t.ipv4.daddr = bpf_htonl(0x0a000002);
	t.ipv4.sport = bpf_htons(12345);
	t.ipv4.dport = bpf_htons(80);
	struct bpf_sock *sk;
	int verdict = XDP_PASS;

	sk = bpf_sk_lookup_tcp(ctx, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return XDP_PASS;
	if (sk->state == 10) {
		verdict = XDP_DROP;
		bpf_sk_release(sk);
	}
	bpf_sk_release(sk);
	return verdict;
}

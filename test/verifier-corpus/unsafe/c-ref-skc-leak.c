// bpf_skc_lookup_tcp in a subprogram that drops the reference.
// category: reference
// expect: Unreleased reference
// kernel-errno: EINVAL
// kernel: Unreleased reference id=2 alloc_insn=24
// kernel: BPF_EXIT instruction in main prog would lead to reference leak
#include "common.h"

static __attribute__((noinline)) int has_listener(struct xdp_md *ctx, __u16 port)
{
	struct bpf_sock_tuple t = {};

	t.ipv4.saddr = bpf_htonl(0x0a000001);
	t.ipv4.daddr = bpf_htonl(0x0a000002);
	t.ipv4.sport = bpf_htons(12345);
	t.ipv4.dport = port;
	struct bpf_sock *sk;

	sk = bpf_skc_lookup_tcp(ctx, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	return sk != 0;
}

SEC("xdp")
int ref_skc_leak(struct xdp_md *ctx)
{
	return has_listener(ctx, bpf_htons(22)) ? XDP_PASS : XDP_DROP;
}

// Reads only the low byte of ctx->ingress_ifindex.
// category: ctx
// expect: invalid bpf_context access off=12 size=1
// kernel-errno: EACCES
// kernel: invalid bpf_context access off=12 size=1
#include "common.h"

SEC("xdp")
int ctx_narrow(struct xdp_md *ctx)
{
	return *(volatile __u8 *)&ctx->ingress_ifindex == 3 ? XDP_DROP : XDP_PASS;
}

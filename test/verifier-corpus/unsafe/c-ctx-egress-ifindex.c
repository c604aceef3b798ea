// Reads ctx->egress_ifindex in a program for the xdp section: the field is only for programs run
// from a DEVMAP entry.
// category: ctx
// expect: invalid bpf_context access off=20 size=4
// kernel-errno: EACCES
// kernel: invalid bpf_context access off=20 size=4
#include "common.h"

SEC("xdp")
int ctx_egress(struct xdp_md *ctx)
{
	return ctx->egress_ifindex == 3 ? XDP_DROP : XDP_PASS;
}

// Assigns ctx->rx_queue_index (struct xdp_md is read-only).
// category: ctx
// expect: invalid bpf_context access off=16 size=4
// kernel-errno: EACCES
// kernel: invalid bpf_context access off=16 size=4
#include "common.h"

SEC("xdp")
int ctx_write(struct xdp_md *ctx)
{
	ctx->rx_queue_index = 0;
	return XDP_PASS;
}

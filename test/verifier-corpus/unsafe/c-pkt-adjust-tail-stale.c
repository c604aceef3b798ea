// Trims 4 bytes with bpf_xdp_adjust_tail and then clears the last 4 bytes through pointers
// computed before the call.
// category: packet
// expect: invalid mem access 'scalar'
// kernel-errno: EACCES
// kernel: R6 invalid mem access 'scalar'
#include "common.h"

SEC("xdp")
int pkt_adjust_tail_stale(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	__u32 *tail = data + 60;

	if ((void *)(tail + 1) > data_end)
		return XDP_PASS;
	if (bpf_xdp_adjust_tail(ctx, -4))
		return XDP_DROP;
	*tail = 0;
	return XDP_TX;
}

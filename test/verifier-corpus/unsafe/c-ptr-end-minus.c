// Computes the address of the last packet byte as data_end - 1.
// category: ptr_arith
// expect: pointer arithmetic on pkt_end prohibited
// kernel-errno: EACCES
// kernel: R2 pointer arithmetic on pkt_end prohibited
#include "common.h"

SEC("xdp")
int ptr_end_minus(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	volatile __u8 *last = data_end - 1;

	if ((void *)last < data)
		return XDP_PASS;
	return *last == 0 ? XDP_DROP : XDP_PASS;
}

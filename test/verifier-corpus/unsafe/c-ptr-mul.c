// Scales a packet pointer (a bogus "index to address" conversion); clang emits the multiplication
// as a shift.
// category: ptr_arith
// expect: pointer arithmetic with <<= operator prohibited
// kernel-errno: EACCES
// kernel: R1 pointer arithmetic with <<= operator prohibited
#include "common.h"

SEC("xdp")
int ptr_mul(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	__u8 *p = (void *)((long)data * 2);

	if ((void *)(p + 1) > data_end)
		return XDP_PASS;
	return *p ? XDP_DROP : XDP_PASS;
}

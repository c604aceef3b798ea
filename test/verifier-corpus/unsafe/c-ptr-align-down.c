// Aligns a packet pointer down to 4 bytes with a mask. clang knows ctx->data is a u32 and masks with
// the register constant 0x1fffffffc; the kernel refuses the constant before it looks at the operator.
// category: ptr_arith
// expect: math between pkt pointer and 8589934588 is not allowed
// kernel-errno: EINVAL
// kernel: math between pkt pointer and 8589934588 is not allowed
#include "common.h"

SEC("xdp")
int ptr_align_down(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	__u32 *p = (void *)((long)(data + 15) & ~3L);

	if ((void *)(p + 1) > data_end)
		return XDP_PASS;
	return *p ? XDP_DROP : XDP_PASS;
}

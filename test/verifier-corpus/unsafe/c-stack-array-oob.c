// Indexes an 8-byte stack array with a packet byte masked to 0..15.
// category: stack
// expect: invalid variable-offset read from stack
// kernel-errno: EINVAL
// kernel: invalid variable-offset read from stack R2 var_off=(0x0; 0xf) off=-8 size=1
#include "common.h"

SEC("xdp")
int stack_array_oob(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	volatile __u8 table[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	__u8 *p = data;

	if (data + 1 > data_end)
		return XDP_PASS;
	return table[p[0] & 15] == 1 ? XDP_DROP : XDP_PASS;
}

// Indexes the packet with a value read from it (0..255) without checking the result.
// category: packet
// expect: invalid access to packet
// kernel-errno: EACCES
// kernel: invalid access to packet, off=0 size=1, R1(id=1,off=0,r=0)
// kernel: R1 offset is outside of the packet
#include "common.h"

SEC("xdp")
int pkt_var_index(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	__u8 *p = data;
	__u8 off;

	if (data + 14 > data_end)
		return XDP_PASS;
	off = p[13];
	return p[off] == 0x45 ? XDP_DROP : XDP_PASS;
}

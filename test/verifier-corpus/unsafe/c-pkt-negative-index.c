// Reads the two bytes before the start of the packet.
// category: packet
// expect: invalid access to packet
// kernel-errno: EACCES
// kernel: invalid access to packet, off=-2 size=2, R1(id=0,off=-2,r=14)
// kernel: R1 offset is outside of the packet
#include "common.h"

SEC("xdp")
int pkt_negative_index(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	volatile __u16 *p = data;

	if (data + 14 > data_end)
		return XDP_PASS;
	return p[-1] ? XDP_DROP : XDP_PASS;
}

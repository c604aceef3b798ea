// Checks the 14-byte Ethernet header and clears 20 bytes.
// category: packet
// expect: invalid access to packet
// kernel-errno: EACCES
// kernel: invalid access to packet, off=19 size=1, R1(id=0,off=19,r=14)
// kernel: R1 offset is outside of the packet
#include "common.h"

SEC("xdp")
int pkt_memset_past_check(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);

	if (data + 14 > data_end)
		return XDP_PASS;
	__builtin_memset(data, 0, 20);
	return XDP_TX;
}

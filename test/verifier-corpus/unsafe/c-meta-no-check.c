// Reads a mark from the metadata area without comparing data_meta + 4 against data.
// category: packet_meta
// expect: invalid access to packet
// kernel-errno: EACCES
// kernel: invalid access to packet, off=0 size=4, R1(id=0,off=0,r=0)
// kernel: R1 offset is outside of the packet
#include "common.h"

SEC("xdp")
int meta_no_check(struct xdp_md *ctx)
{
	__u32 *mark = DATA_META(ctx);

	return *mark == 1 ? XDP_DROP : XDP_PASS;
}

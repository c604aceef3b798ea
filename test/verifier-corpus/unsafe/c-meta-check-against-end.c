// Checks the metadata against data_end instead of data.
// category: packet_meta
// expect: invalid access to packet
// kernel-errno: EACCES
// kernel: invalid access to packet, off=0 size=4, R1(id=0,off=0,r=0)
// kernel: R1 offset is outside of the packet
#include "common.h"

SEC("xdp")
int meta_check_against_end(struct xdp_md *ctx)
{
	__u32 *mark;

	if (bpf_xdp_adjust_meta(ctx, -4))
		return XDP_PASS;
	mark = DATA_META(ctx);
	if ((void *)(mark + 1) > DATA_END(ctx))
		return XDP_PASS;
	*mark = 0x2a;
	return XDP_PASS;
}

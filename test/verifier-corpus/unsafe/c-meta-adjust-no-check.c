// Reserves 4 bytes of metadata with bpf_xdp_adjust_meta and writes the mark without checking that
// it fits before data.
// category: packet_meta
// expect: invalid access to packet
// kernel-errno: EACCES
// kernel: invalid access to packet, off=0 size=4, R1(id=0,off=0,r=0)
// kernel: R1 offset is outside of the packet
#include "common.h"

SEC("xdp")
int meta_adjust_no_check(struct xdp_md *ctx)
{
	__u32 *mark;

	if (bpf_xdp_adjust_meta(ctx, -4))
		return XDP_PASS;
	mark = DATA_META(ctx);
	*mark = 0x2a;
	return XDP_PASS;
}

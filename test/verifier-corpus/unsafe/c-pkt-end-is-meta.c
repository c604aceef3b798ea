// A copy-paste slip: data_end is read from ctx->data_meta, so the bounds check compares against
// the wrong pointer.
// category: packet
// expect: invalid access to packet
// kernel-errno: EACCES
// kernel: invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0)
// kernel: R1 offset is outside of the packet
#include "common.h"

SEC("xdp")
int pkt_end_is_meta(struct xdp_md *ctx)
{
	void *data = DATA(ctx);
	void *data_end = DATA_META(ctx);
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	return eth->h_proto == bpf_htons(ETH_P_ARP) ? XDP_DROP : XDP_PASS;
}

// Pushes 4 bytes with bpf_xdp_adjust_head, reloads data and writes a new Ethernet header without
// comparing against data_end.
// category: packet
// expect: invalid access to packet
// kernel-errno: EACCES
// kernel: invalid access to packet, off=5 size=1, R1(id=0,off=5,r=0)
// kernel: R1 offset is outside of the packet
#include "common.h"

SEC("xdp")
int pkt_adjust_head_no_recheck(struct xdp_md *ctx)
{
	struct ethhdr *eth;

	if (bpf_xdp_adjust_head(ctx, -4))
		return XDP_DROP;
	eth = DATA(ctx);
	__builtin_memset(eth->h_dest, 0xff, ETH_ALEN);
	return XDP_TX;
}

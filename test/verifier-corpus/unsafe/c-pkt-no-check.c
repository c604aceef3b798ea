// Reads the EtherType without comparing data + 14 against data_end.
// category: packet
// expect: invalid access to packet
// kernel-errno: EACCES
// kernel: invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0)
// kernel: R1 offset is outside of the packet
#include "common.h"

SEC("xdp")
int pkt_no_check(struct xdp_md *ctx)
{
	struct ethhdr *eth = DATA(ctx);

	return eth->h_proto == bpf_htons(ETH_P_IP) ? XDP_DROP : XDP_PASS;
}

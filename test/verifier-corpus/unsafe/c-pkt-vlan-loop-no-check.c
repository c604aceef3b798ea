// Skips up to two VLAN tags in a loop, checking the bounds only before the loop.
// category: packet
// expect: invalid access to packet
// kernel-errno: EACCES
// kernel: invalid access to packet, off=16 size=1, R1(id=0,off=16,r=14)
// kernel: R1 offset is outside of the packet
#include "common.h"

SEC("xdp")
int pkt_vlan_loop(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	struct ethhdr *eth = data;
	struct vlan_hdr *vh = (void *)(eth + 1);
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		proto = vh->proto;
		vh++;
	}
	return proto == bpf_htons(ETH_P_IP) ? XDP_DROP : XDP_PASS;
}

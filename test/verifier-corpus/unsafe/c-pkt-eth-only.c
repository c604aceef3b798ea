// Checks the Ethernet header, then reads the IPv4 protocol byte without checking the IPv4 header.
// category: packet
// expect: invalid access to packet
// kernel-errno: EACCES
// kernel: invalid access to packet, off=23 size=1, R1(id=0,off=23,r=14)
// kernel: R1 offset is outside of the packet
#include "common.h"

SEC("xdp")
int pkt_eth_only(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	return iph->protocol == IPPROTO_UDP ? XDP_DROP : XDP_PASS;
}

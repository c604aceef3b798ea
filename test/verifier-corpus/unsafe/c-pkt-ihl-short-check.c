// After the variable-length IPv4 header, checks only one byte of the UDP header and reads the
// 2-byte destination port at offset 2.
// category: packet
// expect: invalid access to packet
// kernel-errno: EACCES
// kernel: invalid access to packet, off=16 size=2, R1(id=1,off=16,r=15)
// kernel: R1 offset is outside of the packet
#include "common.h"

SEC("xdp")
int pkt_ihl_short_check(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *udph;

	if ((void *)(iph + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || iph->protocol != IPPROTO_UDP)
		return XDP_PASS;
	udph = (void *)iph + iph->ihl * 4;
	if ((void *)udph + 1 > data_end)
		return XDP_PASS;
	return udph->dest == bpf_htons(53) ? XDP_DROP : XDP_PASS;
}

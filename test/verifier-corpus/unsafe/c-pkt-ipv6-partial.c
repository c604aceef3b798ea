// Checks the Ethernet header and the first 8 bytes of the IPv6 header, then reads the destination
// address.
// category: packet
// expect: invalid access to packet
// kernel-errno: EACCES
// kernel: invalid access to packet, off=50 size=4, R1(id=0,off=50,r=22)
// kernel: R1 offset is outside of the packet
#include "common.h"

SEC("xdp")
int pkt_ipv6_partial(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6h = (void *)(eth + 1);

	if ((void *)ip6h + 8 > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;
	return ip6h->daddr.in6_u.u6_addr32[3] == bpf_htonl(1) ? XDP_DROP : XDP_PASS;
}

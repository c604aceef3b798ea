// Checks 33 bytes where the IPv4 destination address ends at byte 34.
// category: packet
// expect: invalid access to packet
// kernel-errno: EACCES
// kernel: invalid access to packet, off=30 size=4, R1(id=0,off=30,r=33)
// kernel: R1 offset is outside of the packet
#include "common.h"

SEC("xdp")
int pkt_off_by_one(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	struct iphdr *iph = data + sizeof(struct ethhdr);

	if (data + 33 > data_end)
		return XDP_PASS;
	return iph->daddr == bpf_htonl(0x0a000001) ? XDP_DROP : XDP_PASS;
}

// Reads the last UDP payload byte at the offset the UDP length field claims, trusting the header.
// category: packet
// expect: invalid access to packet
// kernel-errno: EACCES
// kernel: invalid access to packet, off=34 size=1, R1(id=1,off=34,r=0)
// kernel: R1 offset is outside of the packet
#include "common.h"

SEC("xdp")
int pkt_udp_len_index(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	struct udphdr *udph = data + sizeof(struct ethhdr) + sizeof(struct iphdr);
	__u16 len;

	if ((void *)(udph + 1) > data_end)
		return XDP_PASS;
	len = bpf_ntohs(udph->len) & 0x3ff;
	return *((__u8 *)udph + len) == 0xff ? XDP_DROP : XDP_PASS;
}

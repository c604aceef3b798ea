// Makes room for an outer header with bpf_xdp_adjust_head and then writes through the Ethernet
// pointer taken before the call: the helper invalidated it.
// category: packet
// expect: invalid mem access 'scalar'
// kernel-errno: EACCES
// kernel: R6 invalid mem access 'scalar'
#include "common.h"

SEC("xdp")
int pkt_adjust_head_stale(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
		return XDP_DROP;
	eth->h_proto = bpf_htons(ETH_P_IP);
	return XDP_TX;
}

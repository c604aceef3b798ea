/* SPDX-License-Identifier: MIT */
/*
 * globals: a small firewall whose whole state is global variables, one of
 * each kind libbpf turns into a one-element ARRAY map:
 *   .rodata  the policy (blocked UDP port, verdict per traffic class),
 *            frozen after load, so the verifier knows the values;
 *   .data    initialised, writable: the verdict for unclassified traffic
 *            and a sequence counter that starts at 1000;
 *   .bss     zero-initialised per-class packet and byte counters.
 * Classes: 0 other, 1 TCP, 2 UDP, 3 ICMP, 4 blocked UDP port, 5 ARP.
 * Verdict: the policy's, DROP for frames shorter than 14.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NCLASS 6
enum { C_OTHER, C_TCP, C_UDP, C_ICMP, C_BLOCKED, C_ARP };

const volatile __u16 blocked_udp_port = 53;
/* Indexed with a variable, so it stays a table in .rodata. */
const __u32 class_verdict[NCLASS] = {
	[C_OTHER] = XDP_PASS, [C_TCP] = XDP_PASS, [C_UDP] = XDP_PASS,
	[C_ICMP] = XDP_DROP, [C_BLOCKED] = XDP_DROP, [C_ARP] = XDP_PASS,
};

__u32 unclassified_verdict = XDP_PASS;
__u64 seq = 1000;

__u64 class_packets[NCLASS];
__u64 class_bytes[NCLASS];

static __always_inline __u32 classify(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *udph;

	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return C_ARP;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || (void *)(iph + 1) > data_end)
		return C_OTHER;
	switch (iph->protocol) {
	case IPPROTO_TCP:
		return C_TCP;
	case IPPROTO_ICMP:
		return C_ICMP;
	case IPPROTO_UDP:
		/* Options are not expected on this path: fixed 20-byte header. */
		udph = (void *)(iph + 1);
		if ((void *)(udph + 1) <= data_end &&
		    udph->dest == bpf_htons(blocked_udp_port))
			return C_BLOCKED;
		return C_UDP;
	}
	return C_OTHER;
}

SEC("xdp")
int globals(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 c;

	if (data + sizeof(struct ethhdr) > data_end)
		return XDP_DROP;
	c = classify(data, data_end);
	__sync_fetch_and_add(&seq, 1);
	if (c >= NCLASS)
		return XDP_ABORTED;
	__sync_fetch_and_add(&class_packets[c], 1);
	__sync_fetch_and_add(&class_bytes[c], data_end - data);
	if (c == C_OTHER)
		return unclassified_verdict;
	return class_verdict[c];
}

char _license[] SEC("license") = "Dual MIT/GPL";

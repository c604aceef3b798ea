/* SPDX-License-Identifier: MIT */
/*
 * ipip_encap: IPv4-in-IPv4 tunnel end point built on bpf_xdp_adjust_head.
 *  - An IPv4 frame whose protocol is IPIP (4) is decapsulated: the Ethernet
 *    header moves 20 bytes forward over the outer IP header, the head
 *    shrinks by 20, and the inner packet is PASSed up.
 *  - Any other IPv4 frame is encapsulated towards the tunnel peer: the head
 *    grows by 20, the Ethernet header moves to the new front, and a fresh
 *    outer header follows it, its checksum computed with bpf_csum_diff.
 *    The frame goes back out (XDP_TX).
 * Non-IPv4 frames PASS untouched.
 *
 * Output: tun_stats[0] encapsulated, [1] decapsulated, [2] adjust_head
 * failures, [3] IPIP frames whose outer header has options (left alone).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Tunnel end points, network order: 192.0.2.1 -> 192.0.2.2 (TEST-NET-1). */
const volatile __be32 tun_local = bpf_htonl(0xc0000201);
const volatile __be32 tun_remote = bpf_htonl(0xc0000202);

enum { TUN_ENCAP, TUN_DECAP, TUN_FAIL, TUN_OPTS, TUN_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, TUN_MAX);
} tun_stats SEC(".maps");

static __always_inline void stat(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&tun_stats, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* Folds a 32-bit one's-complement sum to the 16-bit header checksum. */
static __always_inline __u16 csum_fold(__u32 csum)
{
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	return (__u16)~csum;
}

static __always_inline int decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr eth;

	if (data + sizeof(eth) + sizeof(struct iphdr) > data_end)
		return XDP_DROP;
	__builtin_memcpy(&eth, data, sizeof(eth));
	__builtin_memcpy(data + sizeof(struct iphdr), &eth, sizeof(eth));
	if (bpf_xdp_adjust_head(ctx, (int)sizeof(struct iphdr))) {
		stat(TUN_FAIL);
		return XDP_ABORTED;
	}
	stat(TUN_DECAP);
	return XDP_PASS;
}

static __always_inline int encap(struct xdp_md *ctx)
{
	void *data, *data_end;
	struct ethhdr *eth;
	struct iphdr *outer, *inner;
	__s64 csum;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr))) {
		stat(TUN_FAIL);
		return XDP_ABORTED;
	}
	/* The old pointers died with the helper call: reload and re-prove. */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	outer = (void *)(eth + 1);
	inner = outer + 1;
	if ((void *)(inner + 1) > data_end)
		return XDP_ABORTED;

	__builtin_memcpy(eth, data + sizeof(*outer), sizeof(*eth));
	eth->h_proto = bpf_htons(ETH_P_IP);

	outer->version = 4;
	outer->ihl = 5;
	outer->tos = inner->tos;
	outer->tot_len = bpf_htons(bpf_ntohs(inner->tot_len) + sizeof(*outer));
	outer->id = 0;
	outer->frag_off = bpf_htons(0x4000); /* DF: never fragment the tunnel */
	outer->ttl = 64;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	outer->saddr = tun_local;
	outer->daddr = tun_remote;

	csum = bpf_csum_diff(0, 0, (__be32 *)outer, sizeof(*outer), 0);
	if (csum < 0)
		return XDP_ABORTED;
	outer->check = csum_fold((__u32)csum);
	stat(TUN_ENCAP);
	return XDP_TX;
}

SEC("xdp")
int ipip_encap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if ((void *)(iph + 1) > data_end)
		return XDP_DROP;
	if (iph->protocol == IPPROTO_IPIP) {
		if (iph->ihl != 5) {
			stat(TUN_OPTS);
			return XDP_PASS;
		}
		return decap(ctx);
	}
	return encap(ctx);
}

char _license[] SEC("license") = "Dual MIT/GPL";

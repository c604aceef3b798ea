/* SPDX-License-Identifier: MIT */
/*
 * arith: exercises the ALU on values taken from the packet, so no constant
 * folding can hide an operation. The first 16 bytes of a UDP/IPv4 payload
 * are two big-endian 64-bit numbers a and b; the results land in
 * results[0..NRES-1] (u64 each, memory order = little-endian host):
 *   0 a + b          1 a - b          2 a * b          3 a / (b | 1)
 *   4 a % (b | 1)    5 (s64)a >> 7    6 a << (b & 63)  7 a >> (b & 63)
 *   8 (u32)a + (u32)b   (ALU32 wraps and zero-extends)
 *   9 flags: bit0 (s64)a < (s64)b, bit1 a < b, bit2 (s32)a < (s32)b,
 *            bit3 (s64)a <= -1, bit4 (s32)b >= 0x7fff0000 (signed)
 *  10 bswap64(a)      11 bswap32 of the low half of b, 12 bswap16 of b
 *  13 (s64)(s32)b     (sign extension via shifts)
 *  14 -(s64)a         15 udp source port << 16 | destination port (host order)
 * A sampling gate draws bpf_get_prandom_u32 but keeps 1 in sample_every
 * frames; shipped as 1, every frame is kept, so the output never depends
 * on the draw.
 * Verdict: DROP for UDP/IPv4 with 16 payload bytes, PASS for the rest.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NRES 16

const volatile __u32 sample_every = 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, NRES);
} results SEC(".maps");

static __always_inline void put(__u32 key, __u64 val)
{
	__u64 *v = bpf_map_lookup_elem(&results, &key);

	if (v)
		*v = val;
}

SEC("xdp")
int arith(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *udph = (void *)(iph + 1);
	__be64 *payload = (void *)(udph + 1);
	__u64 a, b, flags = 0;
	__u32 r;

	if ((void *)(payload + 2) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl != 5 ||
	    iph->protocol != IPPROTO_UDP)
		return XDP_PASS;

	r = bpf_get_prandom_u32();
	if (sample_every > 1 && r % sample_every)
		return XDP_PASS;

	a = bpf_be64_to_cpu(payload[0]);
	b = bpf_be64_to_cpu(payload[1]);

	put(0, a + b);
	put(1, a - b);
	put(2, a * b);
	put(3, a / (b | 1));
	put(4, a % (b | 1));
	put(5, (__u64)((__s64)a >> 7));
	put(6, a << (b & 63));
	put(7, a >> (b & 63));
	put(8, (__u32)a + (__u32)b);

	if ((__s64)a < (__s64)b)
		flags |= 1;
	if (a < b)
		flags |= 2;
	if ((__s32)a < (__s32)b)
		flags |= 4;
	if ((__s64)a <= -1)
		flags |= 8;
	if ((__s32)b >= 0x7fff0000)
		flags |= 16;
	put(9, flags);

	put(10, __builtin_bswap64(a));
	put(11, __builtin_bswap32((__u32)b));
	put(12, __builtin_bswap16((__u16)b));
	put(13, (__u64)(((__s64)b << 32) >> 32));
	put(14, (__u64)-(__s64)a);
	put(15, ((__u64)bpf_ntohs(udph->source) << 16) | bpf_ntohs(udph->dest));
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual MIT/GPL";

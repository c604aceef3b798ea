/* SPDX-License-Identifier: MIT */
/*
 * ttl_csum: the forwarding step of a router. For an IPv4 frame with a
 * 20-byte header it checks the header checksum, decrements the TTL, patches
 * the checksum incrementally with bpf_csum_diff (RFC 1624: subtract the old
 * 16-bit word, add the new one), then re-sums the whole header to prove the
 * patch, swaps the MAC addresses and sends the frame back out.
 * (bpf_l3_csum_replace is a TC helper; XDP has only bpf_csum_diff.)
 *
 * bpf_csum_diff returns an unfolded 32-bit sum whose exact value depends on
 * the architecture's csum_partial; only its 16-bit fold is portable, so
 * only folded values reach the output.
 *
 * Output: fwd_stats[0] forwarded, [1] TTL expired (<= 1, dropped),
 *   [2] bad incoming checksum (dropped), [3] bad patched checksum (aborted),
 *   [4] header options or not IPv4 (passed untouched).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum { FWD_OK, FWD_TTL, FWD_BADSUM, FWD_PATCH, FWD_SKIP, FWD_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, FWD_MAX);
} fwd_stats SEC(".maps");

static __always_inline int stat(__u32 key, int verdict)
{
	__u64 *v = bpf_map_lookup_elem(&fwd_stats, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	return verdict;
}

static __always_inline __u16 csum_fold(__u64 csum)
{
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	return (__u16)~csum;
}

static __always_inline void swap_macs(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
}

SEC("xdp")
int ttl_csum(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	/* The 16-bit word holding TTL and protocol, padded to csum_diff's 4 bytes. */
	__be32 old_word = 0, new_word = 0;
	__s64 sum;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return stat(FWD_SKIP, XDP_PASS);
	if ((void *)(iph + 1) > data_end)
		return XDP_DROP;
	if (iph->ihl != 5)
		return stat(FWD_SKIP, XDP_PASS);

	/* A valid header sums to 0xffff, i.e. folds to 0. */
	sum = bpf_csum_diff(0, 0, (__be32 *)iph, sizeof(*iph), 0);
	if (sum < 0 || csum_fold(sum) != 0)
		return stat(FWD_BADSUM, XDP_DROP);
	if (iph->ttl <= 1)
		return stat(FWD_TTL, XDP_DROP);

	__builtin_memcpy(&old_word, &iph->ttl, 2);
	iph->ttl--;
	__builtin_memcpy(&new_word, &iph->ttl, 2);
	/* Seeded with the complemented old checksum, as RFC 1624 eq. 3 wants. */
	sum = bpf_csum_diff(&old_word, 4, &new_word, 4, (__u16)~iph->check);
	if (sum < 0)
		return XDP_ABORTED;
	iph->check = csum_fold(sum);

	sum = bpf_csum_diff(0, 0, (__be32 *)iph, sizeof(*iph), 0);
	if (sum < 0 || csum_fold(sum) != 0)
		return stat(FWD_PATCH, XDP_ABORTED);

	swap_macs(eth);
	return stat(FWD_OK, XDP_TX);
}

char _license[] SEC("license") = "Dual MIT/GPL";

/* SPDX-License-Identifier: MIT */
/*
 * icmp_echo: answers IPv4 ICMP echo requests from XDP. The reply reuses the
 * frame: MAC and IP addresses swapped (the IP checksum is a sum, so swapping
 * two of its words leaves it valid), type 8 becomes 0, and the ICMP
 * checksum is patched with bpf_csum_diff over the 4-byte word holding type
 * and code (checksum bytes zeroed on both sides, so they cancel out).
 *
 * Output: echo_stats[0] replies sent, [1] ICMP that is not an echo request,
 * [2] echo requests too short or with IP options (passed).
 * Verdict: TX for replies, PASS otherwise, DROP for frames shorter than 14.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* <linux/icmp.h> drags in libc socket headers, so the echo header is here. */
struct icmp_echo_hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8

enum { ECHO_REPLY, ECHO_OTHER, ECHO_SKIP, ECHO_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, ECHO_MAX);
} echo_stats SEC(".maps");

static __always_inline int stat(__u32 key, int verdict)
{
	__u64 *v = bpf_map_lookup_elem(&echo_stats, &key);

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

SEC("xdp")
int icmp_echo(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct icmp_echo_hdr *icmp = (void *)(iph + 1);
	__u8 mac[ETH_ALEN];
	__be32 addr;
	__be32 old_word = 0, new_word = 0;
	__s64 sum;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if ((void *)(iph + 1) > data_end || iph->protocol != IPPROTO_ICMP)
		return XDP_PASS;
	if (iph->ihl != 5 || (void *)(icmp + 1) > data_end)
		return stat(ECHO_SKIP, XDP_PASS);
	if (icmp->type != ICMP_ECHO || icmp->code != 0)
		return stat(ECHO_OTHER, XDP_PASS);

	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);

	addr = iph->saddr;
	iph->saddr = iph->daddr;
	iph->daddr = addr;
	iph->ttl = 64;
	/* The TTL changed: recompute the whole 20-byte header checksum. */
	iph->check = 0;
	sum = bpf_csum_diff(0, 0, (__be32 *)iph, sizeof(*iph), 0);
	if (sum < 0)
		return XDP_ABORTED;
	iph->check = csum_fold(sum);

	__builtin_memcpy(&old_word, icmp, 2);
	icmp->type = ICMP_ECHOREPLY;
	__builtin_memcpy(&new_word, icmp, 2);
	sum = bpf_csum_diff(&old_word, 4, &new_word, 4, (__u16)~icmp->checksum);
	if (sum < 0)
		return XDP_ABORTED;
	icmp->checksum = csum_fold(sum);
	return stat(ECHO_REPLY, XDP_TX);
}

char _license[] SEC("license") = "Dual MIT/GPL";

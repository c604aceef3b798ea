/* SPDX-License-Identifier: MIT */
/*
 * tcp_mss: clamps the MSS option of IPv4 TCP SYNs to mss_max, the way a
 * tunnel endpoint protects itself from oversized segments. The options are
 * walked in a bounded loop (at most MAX_OPTS steps over at most 40 bytes),
 * every option re-checked against data_end at its variable offset; NOP and
 * EOL are one byte, everything else carries a length (a length below 2 ends
 * the walk as malformed). The rewritten MSS is folded into the TCP checksum
 * incrementally with bpf_csum_diff (RFC 1624).
 *
 * Output: mss_stats[0] SYNs seen, [1] MSS options found, [2] clamped,
 * [3] malformed option lists, [4] last MSS seen.
 * Verdict: PASS (DROP for cut headers).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_OPTS 10
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2

const volatile __u16 mss_max = 1360;

enum { M_SYN, M_FOUND, M_CLAMPED, M_MALFORMED, M_LAST, M_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, M_MAX);
} mss_stats SEC(".maps");

static __always_inline void bump(__u32 key, __u64 n, int set)
{
	__u64 *v = bpf_map_lookup_elem(&mss_stats, &key);

	if (!v)
		return;
	if (set)
		*v = n;
	else
		__sync_fetch_and_add(v, n);
}

static __always_inline __u16 csum_fold(__u32 csum)
{
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	return (__u16)~csum;
}

SEC("xdp")
int tcp_mss(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct tcphdr *th;
	__u8 *opt, *end;
	int i;

	if ((void *)(iph + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || iph->protocol != IPPROTO_TCP || iph->ihl != 5)
		return XDP_PASS;
	th = (void *)(iph + 1);
	if ((void *)(th + 1) > data_end)
		return XDP_DROP;
	if (!th->syn)
		return XDP_PASS;
	bump(M_SYN, 1, 0);

	opt = (__u8 *)(th + 1);
	end = (__u8 *)th + (th->doff & 0xf) * 4;
	for (i = 0; i < MAX_OPTS; i++) {
		__u8 kind, len;

		if (opt >= end || (void *)(opt + 1) > data_end)
			break;
		kind = opt[0];
		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			opt++;
			continue;
		}
		if ((void *)(opt + 2) > data_end)
			break;
		len = opt[1];
		if (len < 2) {
			bump(M_MALFORMED, 1, 0);
			break;
		}
		if (kind == TCPOPT_MSS && len == 4) {
			__be16 *mssp = (__be16 *)(opt + 2);
			__be16 old, new;
			__u32 sum;

			if ((void *)(mssp + 1) > data_end)
				break;
			old = *mssp;
			bump(M_FOUND, 1, 0);
			bump(M_LAST, bpf_ntohs(old), 1);
			if (bpf_ntohs(old) <= mss_max)
				break;
			new = bpf_htons(mss_max);
			*mssp = new;
			{
				__be32 from = old, to = new;

				sum = bpf_csum_diff(&from, sizeof(from), &to, sizeof(to), ~(__u32)bpf_ntohs(th->check) & 0xffff);
			}
			th->check = bpf_htons(csum_fold(sum));
			bump(M_CLAMPED, 1, 0);
			break;
		}
		opt += len & 0x3f;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";

/* SPDX-License-Identifier: MIT */
/*
 * sk_guard: a SYN guard for a range of "protected" TCP ports. A SYN to a
 * protected port is looked up with bpf_sk_lookup_tcp (IPv4 and IPv6 tuples
 * taken from the packet); with no socket to take it the SYN is dropped here
 * instead of costing the stack a RST. A found socket's state is recorded and
 * the reference released on every path, as the verifier demands.
 * Ports outside [guard_base, guard_base + 16) are never looked up.
 *
 * In BPF_PROG_TEST_RUN the lookup searches the test's network namespace;
 * the guarded range (47100..47115) is chosen so that no socket matches, so
 * the kernel and vxo (whose host has no sockets) both find nothing.
 *
 * Output (.bss): guard_stats[0] unguarded TCP, [1] lookups, [2] sockets
 * found, [3] SYNs dropped, [4] last looked-up port, [5] last found state.
 * Verdict: DROP for guarded SYNs without a socket and for cut headers,
 * PASS otherwise.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u16 guard_base = 47100;

enum { G_UNGUARDED, G_LOOKUPS, G_FOUND, G_SYN_DROP, G_LAST_PORT, G_LAST_STATE, G_MAX };

__u64 guard_stats[G_MAX];

/* Looks the tuple up; returns 1 when a socket took it, 0 when none did. */
static __always_inline int lookup(struct xdp_md *ctx, struct bpf_sock_tuple *t, __u32 size)
{
	struct bpf_sock *sk;

	__sync_fetch_and_add(&guard_stats[G_LOOKUPS], 1);
	sk = bpf_sk_lookup_tcp(ctx, t, size, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	guard_stats[G_FOUND]++;
	guard_stats[G_LAST_STATE] = sk->state;
	bpf_sk_release(sk);
	return 1;
}

static __always_inline int guarded(__be16 dport)
{
	__u16 port = bpf_ntohs(dport);

	return port >= guard_base && port < guard_base + 16;
}

static __always_inline int verdict(struct xdp_md *ctx, struct tcphdr *th,
				   struct bpf_sock_tuple *t, __u32 size)
{
	if (!guarded(th->dest)) {
		__sync_fetch_and_add(&guard_stats[G_UNGUARDED], 1);
		return XDP_PASS;
	}
	guard_stats[G_LAST_PORT] = bpf_ntohs(th->dest);
	if (lookup(ctx, t, size))
		return XDP_PASS;
	if (th->syn && !th->ack) {
		__sync_fetch_and_add(&guard_stats[G_SYN_DROP], 1);
		return XDP_DROP;
	}
	return XDP_PASS;
}

SEC("xdp")
int sk_guard(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct bpf_sock_tuple t = {};
	struct tcphdr *th;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end)
			return XDP_DROP;
		if (iph->protocol != IPPROTO_TCP || iph->ihl < 5)
			return XDP_PASS;
		th = (void *)iph + iph->ihl * 4;
		if ((void *)(th + 1) > data_end)
			return XDP_DROP;
		t.ipv4.saddr = iph->saddr;
		t.ipv4.daddr = iph->daddr;
		t.ipv4.sport = th->source;
		t.ipv4.dport = th->dest;
		return verdict(ctx, th, &t, sizeof(t.ipv4));
	}

	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > data_end)
			return XDP_DROP;
		if (ip6h->nexthdr != IPPROTO_TCP)
			return XDP_PASS;
		th = (void *)(ip6h + 1);
		if ((void *)(th + 1) > data_end)
			return XDP_DROP;
		__builtin_memcpy(t.ipv6.saddr, &ip6h->saddr, sizeof(t.ipv6.saddr));
		__builtin_memcpy(t.ipv6.daddr, &ip6h->daddr, sizeof(t.ipv6.daddr));
		t.ipv6.sport = th->source;
		t.ipv6.dport = th->dest;
		return verdict(ctx, th, &t, sizeof(t.ipv6));
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";

/* SPDX-License-Identifier: MIT */
/*
 * What the socket-aware programs of scenarios/sk share:
 * - the binding key of the dispatcher and of the sk_lookup benchmark (one
 *   layout, so one user-space encoder serves both);
 * - the packet walk of the XDP firewall and the tc proxy, which both need the
 *   same thing from a frame: the bpf_sock_tuple of its TCP or UDP header.
 * Byte layouts are documented in README.md next to this file.
 */
#ifndef VXO_SK_COMMON_H
#define VXO_SK_COMMON_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* <sys/socket.h> cannot be used with -target bpf (no libc); the values are fixed by the ABI. */
#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/*
 * The LPM key of the bindings, tubular's layout: protocol and port before the
 * address, so a prefix covers the protocol, the port and then the leading bits
 * of the address. prefixlen counts bits of everything after it:
 *   8 (protocol) + 16 (port) + address prefix (IPv4 as ::ffff:a.b.c.d, so an
 *   IPv4 /n is 96 + n address bits).
 * Port 0 stands for "all ports": the program looks a packet up twice, with its
 * port and with 0, so "all ports" is an ordinary full-port entry, not a
 * shorter prefix. The port is in network byte order (tubular keeps it in host
 * order; any order works since the port is always fully covered).
 */
struct bind_key {
	__u32 prefixlen;
	__u8 protocol;
	__be16 port;
	__u8 addr[16];
} __attribute__((packed));

/* prefixlen of a key that covers everything: an exact lookup. */
#define BIND_KEY_FULL_PREFIX ((sizeof(struct bind_key) - sizeof(__u32)) * 8)

/*
 * The lookup key for the socket lookup in ctx: protocol, local port and the
 * local address (IPv4 mapped into IPv6, as tubular does, so that one trie holds
 * both families and an IPv4 prefix cannot match an IPv6 address).
 */
static __always_inline void bind_key_from_ctx(struct bpf_sk_lookup *ctx, struct bind_key *key)
{
	/*
	 * Every address field is loaded on both paths (the other family's read as 0), and through
	 * volatile: otherwise clang turns "v4 ? local_ip4 : local_ip6[3]" into one load through a
	 * computed ctx pointer, which the verifier refuses ("dereference of modified ctx ptr").
	 * Built aligned, then copied: the address sits at an odd offset of the packed key, and
	 * the verifier refuses misaligned stack stores.
	 */
	__u32 family = ctx->family;
	volatile __u32 *ip6 = ctx->local_ip6;
	__u32 ip4 = *(volatile __u32 *)&ctx->local_ip4;
	__u32 w[4] = { ip6[0], ip6[1], ip6[2], ip6[3] };

	if (family == AF_INET) {
		w[0] = 0;
		w[1] = 0;
		w[2] = bpf_htonl(0x0000ffff);
		w[3] = ip4;
	}
	key->prefixlen = BIND_KEY_FULL_PREFIX;
	key->protocol = ctx->protocol;
	key->port = bpf_htons(ctx->local_port);
	__builtin_memcpy(key->addr, w, sizeof(w));
}

/* Atomic because the counters are plain ARRAYs that several CPUs (workers) update. */
static __always_inline void count(void *map, __u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(map, &idx);

	if (c)
		__sync_fetch_and_add(c, 1);
}

/* ---- packet walk (XDP and tc: both see the frame from its Ethernet header) ---- */

/* The uapi headers have no VLAN header: if_vlan.h's struct is kernel-internal. */
struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

enum l4_parse {
	L4_TCP,		/* tuple filled, tcp flags in *tcp_flags */
	L4_UDP,		/* tuple filled */
	L4_OTHER,	/* IP, but not TCP/UDP, or a header the walk does not follow */
	L4_NOT_IP,	/* ARP and every other EtherType */
	L4_FRAGMENT,	/* an IPv4 fragment other than the first: no L4 header to read */
	L4_MULTICAST,	/* multicast or limited broadcast: delivered without a socket lookup */
	L4_TRUNCATED,	/* the frame ends inside a header it announces */
};

struct l4_info {
	struct bpf_sock_tuple tuple;
	/* 0: tuple.ipv4, 1: tuple.ipv6. A flag, not the size: the lookup helpers need a size
	 * the verifier knows, so callers branch on it and pass constants (TUPLE_SIZE). */
	__u8 v6;
	__u8 tcp_flags;		/* byte 13 of the TCP header: FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10 */
};

#define TUPLE_SIZE_V4 sizeof(((struct bpf_sock_tuple *)0)->ipv4)
#define TUPLE_SIZE_V6 sizeof(((struct bpf_sock_tuple *)0)->ipv6)

/* Helper calls with the tuple size as a constant on each branch. */
#define SK_LOOKUP_TUPLE(helper, ctx, info)                                                     \
	((info)->v6 ? helper(ctx, &(info)->tuple, TUPLE_SIZE_V6, BPF_F_CURRENT_NETNS, 0)        \
		    : helper(ctx, &(info)->tuple, TUPLE_SIZE_V4, BPF_F_CURRENT_NETNS, 0))

#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10

/*
 * Fills info->tuple the way the lookup helpers take it: saddr/sport are the
 * packet's source (the remote end), daddr/dport its destination (us).
 */
static __always_inline enum l4_parse parse_l4(void *data, void *data_end, struct l4_info *info)
{
	struct ethhdr *eth = data;
	void *l4;
	__u8 proto;
	__be16 h_proto;

	if ((void *)(eth + 1) > data_end)
		return L4_TRUNCATED;
	h_proto = eth->h_proto;
	l4 = eth + 1;
	/* One 802.1Q/802.1ad tag; QinQ frames are left to the stack. */
	if (h_proto == bpf_htons(ETH_P_8021Q) || h_proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_hdr *vh = l4;

		if ((void *)(vh + 1) > data_end)
			return L4_TRUNCATED;
		h_proto = vh->h_vlan_encapsulated_proto;
		l4 = vh + 1;
	}

	if (h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = l4;
		__u32 ihl;

		if ((void *)(iph + 1) > data_end)
			return L4_TRUNCATED;
		ihl = iph->ihl * 4;
		if (ihl < sizeof(*iph))
			return L4_TRUNCATED;
		/* Non-first fragments carry no ports; the stack reassembles first. */
		if (iph->frag_off & bpf_htons(0x1fff))
			return L4_FRAGMENT;
		if ((iph->daddr & bpf_htonl(0xf0000000)) == bpf_htonl(0xe0000000) ||
		    iph->daddr == bpf_htonl(0xffffffff))
			return L4_MULTICAST;
		proto = iph->protocol;
		info->tuple.ipv4.saddr = iph->saddr;
		info->tuple.ipv4.daddr = iph->daddr;
		info->v6 = 0;
		l4 = (void *)iph + ihl;
		if (proto == IPPROTO_TCP) {
			struct tcphdr *th = l4;

			if ((void *)(th + 1) > data_end)
				return L4_TRUNCATED;
			info->tuple.ipv4.sport = th->source;
			info->tuple.ipv4.dport = th->dest;
			info->tcp_flags = ((__u8 *)th)[13];
			return L4_TCP;
		}
		if (proto == IPPROTO_UDP) {
			struct udphdr *uh = l4;

			if ((void *)(uh + 1) > data_end)
				return L4_TRUNCATED;
			info->tuple.ipv4.sport = uh->source;
			info->tuple.ipv4.dport = uh->dest;
			return L4_UDP;
		}
		return L4_OTHER;
	}

	if (h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = l4;

		if ((void *)(ip6h + 1) > data_end)
			return L4_TRUNCATED;
		if (ip6h->daddr.in6_u.u6_addr8[0] == 0xff)
			return L4_MULTICAST;
		/* Extension headers are not walked: such packets count as "other" and pass. */
		proto = ip6h->nexthdr;
		__builtin_memcpy(info->tuple.ipv6.saddr, &ip6h->saddr, 16);
		__builtin_memcpy(info->tuple.ipv6.daddr, &ip6h->daddr, 16);
		info->v6 = 1;
		l4 = ip6h + 1;
		if (proto == IPPROTO_TCP) {
			struct tcphdr *th = l4;

			if ((void *)(th + 1) > data_end)
				return L4_TRUNCATED;
			info->tuple.ipv6.sport = th->source;
			info->tuple.ipv6.dport = th->dest;
			info->tcp_flags = ((__u8 *)th)[13];
			return L4_TCP;
		}
		if (proto == IPPROTO_UDP) {
			struct udphdr *uh = l4;

			if ((void *)(uh + 1) > data_end)
				return L4_TRUNCATED;
			info->tuple.ipv6.sport = uh->source;
			info->tuple.ipv6.dport = uh->dest;
			return L4_UDP;
		}
		return L4_OTHER;
	}

	return L4_NOT_IP;
}

#endif /* VXO_SK_COMMON_H */

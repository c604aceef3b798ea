/* SPDX-License-Identifier: GPL-2.0 */
/* syncookie.h: the SYN cookie that tcp_custom_syncookie.o (the server's tc ingress) and syn_proxy.o
 * (the proxy in front of it) both make, from one source, so that the server checks the proxy's
 * cookies as its own: the same SipHash-2-4 under the same key map (syncookie_keys), the same ISN
 * and TSval layout, MSS tables, window scale and SYN-ACK bytes. Layouts: README.md
 * ("tcp_custom_syncookie", "syn_proxy").
 *
 * Each program keeps what differs: its own counters (count()), where the SYN-ACK goes (the backend
 * sends it back out, the proxy into the device's receive path), and the rest of its logic (the
 * backend's ACK check and kfunc, the proxy's service map).
 *
 * Against vxo's vmlinux.h (CO-RE): a program that wants the kfunc declarations of its own defines
 * BPF_NO_KFUNC_PROTOTYPES before including this.
 */
#ifndef VXO_SYNCOOKIE_H
#define VXO_SYNCOOKIE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IP_DF 0x4000
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

/* The flags byte of the TCP header (byte 13): raw, so no bitfield relocations are needed. */
#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10
#define TCP_FLAG_ECE 0x40
#define TCP_FLAG_CWR 0x80

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WINDOW 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_TIMESTAMP 8
#define TCPOLEN_MSS 4
#define TCPOLEN_WINDOW 3
#define TCPOLEN_SACK_PERM 2
#define TCPOLEN_TIMESTAMP 10
/* MAX_TCP_OPTION_SPACE: the longest option block, so the walk needs at most 40 steps. */
#define MAX_TCP_OPTION_SPACE 40
#define MAX_TCP_OPTION_SPACE_ROUNDED 64
#define MAX_TCP_HEADER 60
#define TCP_MAX_WSCALE 14

#define COOKIE_HASH_MASK 0xffffff00u
#define COOKIE_MSS_SHIFT 6
#define COOKIE_ECN 0x20
#define COOKIE_SACK 0x10
#define COOKIE_WSCALE_MASK 0x0f
#define COOKIE_NO_WSCALE 0x0f
#define TS_HASH_MASK 0xffu

/* The window scale this host announces in its SYN-ACKs, and hands the kfunc as rcv_wscale: the
 * kernel keeps it for cookie-made requests. 7 is what Linux picks for its default tcp_rmem. */
#define SYNACK_WSCALE 7
/* The SYN-ACK's window (never scaled); the connection's own window takes over after the ACK. */
#define SYNACK_WINDOW 65535
#define SYNACK_TTL 64

/* The kernel's classic cookie MSS tables (net/ipv4/syncookies.c msstab, net/ipv6/syncookies.c
 * msstab): real links, not loopback. A SYN's MSS rounds down to one of them; the first entry of
 * each is the kfunc's minimum (536 for IPv4, IPV6_MIN_MTU - 60 for IPv6). In .rodata, so a loader
 * may tune them before load. */
const volatile __u16 msstab4[4] = { 536, 1300, 1440, 1460 };
const volatile __u16 msstab6[4] = { 1280 - 60, 1480 - 60, 1500 - 60, 9000 - 60 };

struct syncookie_key {
	__u64 k0;
	__u64 k1;
};

enum { SC_KEY_CURRENT = 0, SC_KEY_PREVIOUS = 1, SC_KEY_NR };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SC_KEY_NR);
	__type(key, __u32);
	__type(value, struct syncookie_key);
} syncookie_keys SEC(".maps");

/* SipHash-2-4 (the kernel's lib/siphash.c, one u64 word at a time). */
struct sip {
	__u64 v0, v1, v2, v3;
};

#define ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static __always_inline void sip_round(struct sip *s)
{
	s->v0 += s->v1; s->v1 = ROTL64(s->v1, 13); s->v1 ^= s->v0; s->v0 = ROTL64(s->v0, 32);
	s->v2 += s->v3; s->v3 = ROTL64(s->v3, 16); s->v3 ^= s->v2;
	s->v0 += s->v3; s->v3 = ROTL64(s->v3, 21); s->v3 ^= s->v0;
	s->v2 += s->v1; s->v1 = ROTL64(s->v1, 17); s->v1 ^= s->v2; s->v2 = ROTL64(s->v2, 32);
}

static __always_inline void sip_init(struct sip *s, const struct syncookie_key *k)
{
	s->v0 = 0x736f6d6570736575ULL ^ k->k0;
	s->v1 = 0x646f72616e646f6dULL ^ k->k1;
	s->v2 = 0x6c7967656e657261ULL ^ k->k0;
	s->v3 = 0x7465646279746573ULL ^ k->k1;
}

static __always_inline void sip_word(struct sip *s, __u64 m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

static __always_inline __u64 sip_final(struct sip *s, __u64 len)
{
	sip_word(s, len << 56);
	s->v2 ^= 0xff;
	sip_round(s);
	sip_round(s);
	sip_round(s);
	sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* One packet's headers and the result of its option walk. The option walk runs in a bpf_loop
 * callback, which gets this struct as its context. */
struct sc_pkt {
	struct __sk_buff *skb;
	void *data_end;
	struct ethhdr *eth;
	struct iphdr *ip4;	/* exactly one of ip4 and ip6 is set */
	struct ipv6hdr *ip6;
	struct tcphdr *th;
	int opt_len;		/* bytes of TCP options */
	__u32 opt_next;		/* where the next option starts, from the first option byte */
	__u32 tsval;
	__u32 tsecr;
	__u16 mss;		/* 0: no MSS option */
	__u8 wscale;		/* COOKIE_NO_WSCALE: no window scale option */
	__u8 sack_ok;
	__u8 ts_ok;		/* a timestamp option was seen */
};

static __always_inline __u8 tcp_flags(const struct tcphdr *th)
{
	return ((const __u8 *)th)[13];
}

static __always_inline __u32 get_be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/* One step of the option walk per byte of the option area: bpf_loop's index is the byte, and
 * only the byte where the next option starts does anything. Walking by the index (a value the
 * verifier does not know) rather than by a cursor keeps the callback's states alike from one
 * iteration to the next, so the verifier's exploration converges instead of following every
 * option layout. Each read is bounds-checked on its own pointer, which leaves the range the
 * verifier knows of the caller's packet pointers alone. */
static int parse_option(__u32 i, struct sc_pkt *p)
{
	__u8 *ptr;
	__u8 kind, len;

	if ((int)i >= p->opt_len)
		return 1;
	if (i != p->opt_next)
		return 0;
	ptr = (__u8 *)(p->th + 1) + (i & (MAX_TCP_OPTION_SPACE_ROUNDED - 1));
	if ((void *)(ptr + 1) > p->data_end)
		return 1;
	kind = ptr[0];
	if (kind == TCPOPT_EOL)
		return 1;
	if (kind == TCPOPT_NOP) {
		p->opt_next = i + 1;
		return 0;
	}
	if ((void *)(ptr + 2) > p->data_end)
		return 1;
	len = ptr[1];
	if (len < 2 || (int)(i + len) > p->opt_len)
		return 1;
	switch (kind) {
	case TCPOPT_MSS:
		if (len == TCPOLEN_MSS && (void *)(ptr + TCPOLEN_MSS) <= p->data_end)
			p->mss = (__u16)ptr[2] << 8 | ptr[3];
		break;
	case TCPOPT_WINDOW:
		/* Linux clamps an illegal shift to 14 too (tcp_parse_options). */
		if (len == TCPOLEN_WINDOW && (void *)(ptr + TCPOLEN_WINDOW) <= p->data_end)
			p->wscale = ptr[2] > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : ptr[2];
		break;
	case TCPOPT_SACK_PERM:
		if (len == TCPOLEN_SACK_PERM)
			p->sack_ok = 1;
		break;
	case TCPOPT_TIMESTAMP:
		if (len == TCPOLEN_TIMESTAMP && (void *)(ptr + TCPOLEN_TIMESTAMP) <= p->data_end) {
			p->tsval = get_be32(ptr + 2);
			p->tsecr = get_be32(ptr + 6);
			p->ts_ok = 1;
		}
		break;
	}
	p->opt_next = i + len;
	return 0;
}

static __always_inline void parse_options(struct sc_pkt *p)
{
	p->mss = 0;
	p->wscale = COOKIE_NO_WSCALE;
	p->sack_ok = 0;
	p->ts_ok = 0;
	p->tsval = 0;
	p->tsecr = 0;
	p->opt_next = 0;
	p->opt_len = (int)(((const __u8 *)p->th)[12] >> 4) * 4 - (int)sizeof(struct tcphdr);
	bpf_loop(MAX_TCP_OPTION_SPACE, parse_option, p, 0);
}

/* Ethernet, then IPv4 without options or IPv6 without extension headers, then TCP. */
static __always_inline int load_headers(struct sc_pkt *p)
{
	void *data = (void *)(long)p->skb->data;

	p->data_end = (void *)(long)p->skb->data_end;
	p->eth = data;
	p->ip4 = NULL;
	p->ip6 = NULL;
	if ((void *)(p->eth + 1) > p->data_end)
		return -1;
	if (p->eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(p->eth + 1);

		if ((void *)(ip + 1) > p->data_end)
			return -1;
		/* version 4, no IP options: the stack deals with anything else */
		if (((__u8 *)ip)[0] != 0x45 || ip->protocol != IPPROTO_TCP ||
		    (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
			return -1;
		p->ip4 = ip;
		p->th = (void *)(ip + 1);
	} else if (p->eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(p->eth + 1);

		if ((void *)(ip6 + 1) > p->data_end)
			return -1;
		if ((((__u8 *)ip6)[0] >> 4) != 6 || ip6->nexthdr != IPPROTO_TCP)
			return -1;
		p->ip6 = ip6;
		p->th = (void *)(ip6 + 1);
	} else {
		return -1;
	}
	if ((void *)(p->th + 1) > p->data_end)
		return -1;
	if ((((const __u8 *)p->th)[12] >> 4) < sizeof(struct tcphdr) / 4)
		return -1;
	return 0;
}

/* The cookie's hash: the client's address and ours, the client's ISN and the ports, host order. */
static __always_inline __u32 cookie_hash(const struct sc_pkt *p, const struct syncookie_key *k, __u32 client_isn)
{
	__u64 ports = (__u64)client_isn << 32 | (__u32)bpf_ntohs(p->th->source) << 16 | bpf_ntohs(p->th->dest);
	struct sip s;

	sip_init(&s, k);
	if (p->ip4) {
		sip_word(&s, (__u64)bpf_ntohl(p->ip4->saddr) << 32 | bpf_ntohl(p->ip4->daddr));
		sip_word(&s, ports);
		return (__u32)sip_final(&s, 16);
	}
	if (p->ip6) {
		const __be32 *a = p->ip6->saddr.in6_u.u6_addr32;
		const __be32 *b = p->ip6->daddr.in6_u.u6_addr32;

		sip_word(&s, (__u64)bpf_ntohl(a[0]) << 32 | bpf_ntohl(a[1]));
		sip_word(&s, (__u64)bpf_ntohl(a[2]) << 32 | bpf_ntohl(a[3]));
		sip_word(&s, (__u64)bpf_ntohl(b[0]) << 32 | bpf_ntohl(b[1]));
		sip_word(&s, (__u64)bpf_ntohl(b[2]) << 32 | bpf_ntohl(b[3]));
		sip_word(&s, ports);
		return (__u32)sip_final(&s, 40);
	}
	return 0;
}

static __always_inline __u16 csum_fold(__s64 csum)
{
	__u32 c = (__u32)csum;

	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	return (__u16)~c;
}

/* The pseudo-headers the TCP checksum covers (RFC 793, RFC 8200 8.1), in wire order. */
struct pseudo4 {
	__be32 saddr;
	__be32 daddr;
	__u8 zero;
	__u8 proto;
	__be16 len;
};

struct pseudo6 {
	__be32 saddr[4];
	__be32 daddr[4];
	__be32 len;
	__u8 zero[3];
	__u8 nexthdr;
};

/* Each program counts in a stats map of its own: it defines count(stat) (an atomic add to the slot). */
static __always_inline void count(__u32 stat);

/* A SYN, answered: rewritten in place into the SYN-ACK that carries its cookie (under slot 0's key),
 * addresses, ports and MACs swapped, the options the cookie encodes, checksums made, trimmed, and
 * redirected. The programs differ only in their counters' slots and in where the SYN-ACK goes:
 * redirect_flags 0 sends it back out of the device the SYN came in on (the server at its ingress),
 * BPF_F_INGRESS into that device's receive path (the proxy at the egress toward the servers). */
static __always_inline int syncookie_handle_syn(struct sc_pkt *p, __u32 stat_syn, __u32 stat_synack_sent,
						__u32 stat_syn_dropped, __u64 redirect_flags)
{
	const struct syncookie_key *key;
	__u32 zero = SC_KEY_CURRENT;
	__u32 client_isn, hash, cookie, tsval = 0, l4_off, tcp_len;
	__u8 flags = tcp_flags(p->th), mssind, *b;
	__be32 *opt;
	int n = 0;
	__s64 csum;
	__u16 mss;

	count(stat_syn);
	/* The stack would drop a corrupt IPv4 header; so do we. The TCP checksum is not checked: at a
	 * veth it may be CHECKSUM_PARTIAL, holding only the pseudo-header's sum. */
	if (p->ip4 && csum_fold(bpf_csum_diff(0, 0, (__be32 *)p->ip4, sizeof(struct iphdr), 0)) != 0)
		goto drop;

	/* Room for the longest TCP header first (60 bytes): the SYN-ACK is then written at fixed
	 * offsets, and with the whole option area known to be in the packet the option walk's bounds
	 * checks tell the verifier nothing new, so its states stay few. Trimmed at the end. */
	l4_off = sizeof(struct ethhdr) + (p->ip4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr));
	if (bpf_skb_change_tail(p->skb, l4_off + MAX_TCP_HEADER, 0))
		goto drop;
	if (load_headers(p) || (void *)p->th + MAX_TCP_HEADER > p->data_end)
		goto drop;

	parse_options(p);
	key = bpf_map_lookup_elem(&syncookie_keys, &zero);
	if (!key)
		goto drop;
	client_isn = bpf_ntohl(p->th->seq);
	hash = cookie_hash(p, key, client_isn);

	mss = p->mss;
	for (mssind = 3; mssind > 0; mssind--)
		if (mss >= (p->ip4 ? msstab4[mssind] : msstab6[mssind]))
			break;
	mss = p->ip4 ? msstab4[mssind & 3] : msstab6[mssind & 3];

	cookie = (hash & COOKIE_HASH_MASK) | (__u32)mssind << COOKIE_MSS_SHIFT | p->wscale;
	if (p->sack_ok)
		cookie |= COOKIE_SACK;
	/* An ECN-setup SYN (RFC 3168 6.1.1) sets both ECE and CWR. */
	if ((flags & (TCP_FLAG_ECE | TCP_FLAG_CWR)) == (TCP_FLAG_ECE | TCP_FLAG_CWR))
		cookie |= COOKIE_ECN;
	/* A SYN echoes no timestamp: a non-zero TSecr means it is not one to agree with. */
	if (p->ts_ok && p->tsecr == 0)
		tsval = (bpf_get_prandom_u32() & ~TS_HASH_MASK) | (hash & TS_HASH_MASK);
	else
		p->ts_ok = 0;

	opt = (__be32 *)(p->th + 1);
	opt[n++] = bpf_htonl(TCPOPT_MSS << 24 | TCPOLEN_MSS << 16 | mss);
	if (p->wscale != COOKIE_NO_WSCALE)
		opt[n++] = bpf_htonl(TCPOPT_NOP << 24 | TCPOPT_WINDOW << 16 | TCPOLEN_WINDOW << 8 | SYNACK_WSCALE);
	if (p->ts_ok) {
		if (p->sack_ok)
			opt[n++] = bpf_htonl(TCPOPT_SACK_PERM << 24 | TCPOLEN_SACK_PERM << 16 |
					     TCPOPT_TIMESTAMP << 8 | TCPOLEN_TIMESTAMP);
		else
			opt[n++] = bpf_htonl(TCPOPT_NOP << 24 | TCPOPT_NOP << 16 |
					     TCPOPT_TIMESTAMP << 8 | TCPOLEN_TIMESTAMP);
		opt[n++] = bpf_htonl(tsval);
		opt[n++] = bpf_htonl(p->tsval);
	} else if (p->sack_ok) {
		opt[n++] = bpf_htonl(TCPOPT_NOP << 24 | TCPOPT_NOP << 16 | TCPOPT_SACK_PERM << 8 | TCPOLEN_SACK_PERM);
	}
	tcp_len = sizeof(struct tcphdr) + n * 4;

	/* The TCP header: ports swapped, our cookie, their ISN + 1; ECE only if ECN was agreed. */
	{
		__be16 port = p->th->source;

		p->th->source = p->th->dest;
		p->th->dest = port;
	}
	p->th->ack_seq = bpf_htonl(client_isn + 1);
	p->th->seq = bpf_htonl(cookie);
	b = (__u8 *)p->th;
	b[12] = (tcp_len / 4) << 4;
	b[13] = TCP_FLAG_SYN | TCP_FLAG_ACK | (cookie & COOKIE_ECN ? TCP_FLAG_ECE : 0);
	p->th->window = bpf_htons(SYNACK_WINDOW);
	p->th->check = 0;
	p->th->urg_ptr = 0;

	if (p->ip4) {
		struct iphdr *ip = p->ip4;
		struct pseudo4 ph;
		__be32 addr = ip->saddr;

		ip->saddr = ip->daddr;
		ip->daddr = addr;
		ph.saddr = ip->saddr;
		ph.daddr = ip->daddr;
		ph.zero = 0;
		ph.proto = IPPROTO_TCP;
		ph.len = bpf_htons(tcp_len);
		csum = bpf_csum_diff(0, 0, (__be32 *)&ph, sizeof(ph), 0);
		csum = bpf_csum_diff(0, 0, (__be32 *)p->th, tcp_len, csum);
		p->th->check = csum_fold(csum);

		((__u8 *)ip)[1] = 0; /* tos */
		ip->tot_len = bpf_htons(sizeof(struct iphdr) + tcp_len);
		ip->id = 0;
		ip->frag_off = bpf_htons(IP_DF);
		ip->ttl = SYNACK_TTL;
		ip->check = 0;
		ip->check = csum_fold(bpf_csum_diff(0, 0, (__be32 *)ip, sizeof(struct iphdr), 0));
	} else if (p->ip6) {
		struct ipv6hdr *ip6 = p->ip6;
		struct pseudo6 ph = {};
		int i;

		for (i = 0; i < 4; i++) {
			__be32 w = ip6->saddr.in6_u.u6_addr32[i];

			ip6->saddr.in6_u.u6_addr32[i] = ip6->daddr.in6_u.u6_addr32[i];
			ip6->daddr.in6_u.u6_addr32[i] = w;
			ph.saddr[i] = ip6->saddr.in6_u.u6_addr32[i];
			ph.daddr[i] = w;
		}
		ph.len = bpf_htonl(tcp_len);
		ph.nexthdr = IPPROTO_TCP;
		csum = bpf_csum_diff(0, 0, (__be32 *)&ph, sizeof(ph), 0);
		csum = bpf_csum_diff(0, 0, (__be32 *)p->th, tcp_len, csum);
		p->th->check = csum_fold(csum);

		*(__be32 *)ip6 = bpf_htonl(0x60000000); /* version 6, no traffic class, no flow label */
		ip6->payload_len = bpf_htons(tcp_len);
		ip6->hop_limit = SYNACK_TTL;
	} else {
		goto drop;
	}

	{
		struct ethhdr *eth = p->eth;
		__u8 mac[6];

		__builtin_memcpy(mac, eth->h_source, 6);
		__builtin_memcpy(eth->h_source, eth->h_dest, 6);
		__builtin_memcpy(eth->h_dest, mac, 6);
	}

	if (bpf_skb_change_tail(p->skb, l4_off + tcp_len, 0))
		goto drop;
	count(stat_synack_sent);
	return bpf_redirect(p->skb->ifindex, redirect_flags);
drop:
	count(stat_syn_dropped);
	return TC_ACT_SHOT;
}

#endif /* VXO_SYNCOOKIE_H */

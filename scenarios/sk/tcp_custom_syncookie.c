// SPDX-License-Identifier: GPL-2.0
/* tcp_custom_syncookie: SYN cookies made and checked by a tc program at a real device's ingress,
 * with the kernel creating the connection from the ACK through the kfunc bpf_sk_assign_tcp_reqsk
 * (Linux 6.9, "bpf: tcp: Support arbitrary SYN Cookie at TC"). The listener never sees a SYN.
 *
 * A SYN is answered here: the SYN is rewritten in place into the SYN-ACK and sent back out of the
 * device it came in on (bpf_redirect). Its ISN (and TSval) carry the cookie:
 *
 *       MSB                                   LSB
 * ISN:  | 31 ... 8 | 7 6 |   5 |    4 | 3 2 1 0 |
 *       |   hash   | MSS | ECN | SACK |  WScale |      (WScale 0xf: the SYN had none)
 *
 * TSval:| 31 ... 8 |          7 ... 0           |      (only when the SYN offered timestamps)
 *       |  random  |         hash[7:0]          |
 *
 * hash = SipHash-2-4 over the client's address, ours, the client's ISN and both ports, under a key
 * from the syncookie_keys map. The map holds two keys, the current one (slot 0) and the previous
 * one (slot 1), so whoever rotates the secret (a SYN proxy shares it across nodes) does not break
 * handshakes in flight: SYNs are answered with slot 0, ACKs accepted under either.
 *
 * An ACK to a listening socket is checked against the cookie; a valid one becomes a request socket
 * handed to the kernel with the options the cookie encodes (bpf_sk_assign_tcp_reqsk), and goes up
 * the stack, which completes the connection without a SYN queue entry; an invalid one is dropped.
 * Everything else (established traffic, other protocols, fragments, IP options) goes to the stack
 * untouched.
 *
 * The cookie and the SYN-ACK come from syncookie.h, which syn_proxy.o shares. Layout and choices
 * are documented in README.md ("tcp_custom_syncookie"). Written against vxo's vmlinux.h (`vxo btf
 * dump --format c`): the same object loads on Linux, where libbpf relocates the CO-RE accesses
 * against the running kernel's BTF.
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "syncookie.h"

extern int bpf_sk_assign_tcp_reqsk(struct __sk_buff *s, struct sock *sk,
				   struct bpf_tcp_req_attrs *attrs, int attrs__sz) __ksym;

/* Counters (README.md): u64 slots, added to atomically. */
enum sc_stat {
	SC_SYN = 0,		/* SYNs taken (answered or dropped) */
	SC_SYNACK_SENT,		/* SYN-ACKs redirected back out */
	SC_SYN_DROPPED,		/* SYNs dropped: bad IPv4 checksum, no room for the SYN-ACK */
	SC_ACK,			/* ACKs to a listener checked against the cookie */
	SC_ACK_VALID,		/* ... whose cookie was valid */
	SC_ACK_PREVIOUS_KEY,	/* ... of those, valid only under the previous key */
	SC_ACK_INVALID,		/* ... whose cookie was not: dropped, no state */
	SC_ASSIGNED,		/* bpf_sk_assign_tcp_reqsk returned 0 */
	SC_KFUNC_EINVAL,	/* the kfunc's errors, by errno */
	SC_KFUNC_ENETUNREACH,
	SC_KFUNC_ENOMEM,
	SC_KFUNC_EOPNOTSUPP,
	SC_KFUNC_OTHER,
	SC_NOT_TCP_SOCK,	/* the listener found is no tcp_sock (bpf_skc_to_tcp_sock NULL) */
	SC_NR,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SC_NR);
	__type(key, __u32);
	__type(value, __u64);
} syncookie_stats SEC(".maps");

#define EINVAL 22
#define ENOMEM 12
#define EOPNOTSUPP 95
#define ENETUNREACH 101

static __always_inline void count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&syncookie_stats, &stat);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline void count_kfunc_error(int err)
{
	switch (err) {
	case -EINVAL:
		count(SC_KFUNC_EINVAL);
		break;
	case -ENETUNREACH:
		count(SC_KFUNC_ENETUNREACH);
		break;
	case -ENOMEM:
		count(SC_KFUNC_ENOMEM);
		break;
	case -EOPNOTSUPP:
		count(SC_KFUNC_EOPNOTSUPP);
		break;
	default:
		count(SC_KFUNC_OTHER);
	}
}

/* Whether the ACK's cookie (and its TSecr, when it has one) was made under the key in slot. */
static __always_inline int cookie_check(const struct sc_pkt *p, __u32 slot, __u32 cookie, __u32 client_isn)
{
	const struct syncookie_key *k = bpf_map_lookup_elem(&syncookie_keys, &slot);
	__u32 hash;

	if (!k)
		return 0;
	hash = cookie_hash(p, k, client_isn);

	if ((hash ^ cookie) & COOKIE_HASH_MASK)
		return 0;
	return !p->ts_ok || ((hash ^ p->tsecr) & TS_HASH_MASK) == 0;
}

static __always_inline int handle_ack(struct sc_pkt *p)
{
	struct bpf_tcp_req_attrs attrs = {};
	struct bpf_sock_tuple tuple = {};
	struct bpf_sock *skc;
	struct tcp_sock *tp;
	struct sock *sk;
	__u32 cookie, client_isn, tuple_len, slot, wscale, mssind;
	__u16 user_mss;
	int ret = TC_ACT_OK, err;

	if (p->ip4) {
		tuple.ipv4.saddr = p->ip4->saddr;
		tuple.ipv4.daddr = p->ip4->daddr;
		tuple.ipv4.sport = p->th->source;
		tuple.ipv4.dport = p->th->dest;
		tuple_len = sizeof(tuple.ipv4);
	} else if (p->ip6) {
		__builtin_memcpy(tuple.ipv6.saddr, p->ip6->saddr.in6_u.u6_addr32, 16);
		__builtin_memcpy(tuple.ipv6.daddr, p->ip6->daddr.in6_u.u6_addr32, 16);
		tuple.ipv6.sport = p->th->source;
		tuple.ipv6.dport = p->th->dest;
		tuple_len = sizeof(tuple.ipv6);
	} else {
		return TC_ACT_OK;
	}
	skc = bpf_skc_lookup_tcp(p->skb, &tuple, tuple_len, BPF_F_CURRENT_NETNS, 0);
	if (!skc)
		return TC_ACT_OK;
	/* Established traffic (and time-wait, request sockets): the stack's. */
	if (skc->state != TCP_LISTEN)
		goto release;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp) {
		count(SC_NOT_TCP_SOCK);
		goto release;
	}
	sk = (struct sock *)tp;
	/* Through the listener's struct sock and tcp_sock (BTF, CO-RE): it is listening on the
	 * packet's port, and its TCP_MAXSEG caps the peer's MSS as tcp_parse_options would. */
	if (sk->__sk_common.skc_state != TCP_LISTEN || sk->__sk_common.skc_num != bpf_ntohs(p->th->dest))
		goto release;
	user_mss = tp->rx_opt.user_mss;

	count(SC_ACK);
	parse_options(p);
	cookie = bpf_ntohl(p->th->ack_seq) - 1;
	client_isn = bpf_ntohl(p->th->seq) - 1;
	if (cookie_check(p, SC_KEY_CURRENT, cookie, client_isn))
		slot = SC_KEY_CURRENT;
	else if (cookie_check(p, SC_KEY_PREVIOUS, cookie, client_isn))
		slot = SC_KEY_PREVIOUS;
	else
		slot = SC_KEY_NR;
	if (slot == SC_KEY_NR) {
		count(SC_ACK_INVALID);
		ret = TC_ACT_SHOT;
		goto release;
	}
	count(SC_ACK_VALID);
	if (slot == SC_KEY_PREVIOUS)
		count(SC_ACK_PREVIOUS_KEY);

	mssind = (cookie >> COOKIE_MSS_SHIFT) & 3;
	attrs.mss = p->ip4 ? msstab4[mssind] : msstab6[mssind];
	/* TCP_MAXSEG caps it, but not below the kfunc's minimum: the table's first entry. */
	if (user_mss && user_mss < attrs.mss) {
		__u16 min_mss = p->ip4 ? msstab4[0] : msstab6[0];

		attrs.mss = user_mss > min_mss ? user_mss : min_mss;
	}
	wscale = cookie & COOKIE_WSCALE_MASK;
	if (wscale != COOKIE_NO_WSCALE) {
		attrs.wscale_ok = 1;
		attrs.snd_wscale = wscale;
		attrs.rcv_wscale = SYNACK_WSCALE;
	}
	attrs.sack_ok = !!(cookie & COOKIE_SACK);
	attrs.ecn_ok = !!(cookie & COOKIE_ECN);
	if (p->ts_ok) {
		attrs.tstamp_ok = 1;
		attrs.rcv_tsval = p->tsval;
		attrs.rcv_tsecr = p->tsecr;
	}

	err = bpf_sk_assign_tcp_reqsk(p->skb, sk, &attrs, sizeof(attrs));
	if (err) {
		count_kfunc_error(err);
		ret = TC_ACT_SHOT;
	} else {
		count(SC_ASSIGNED);
	}
release:
	bpf_sk_release(skc);
	return ret;
}

SEC("tc")
int tcp_custom_syncookie(struct __sk_buff *skb)
{
	struct sc_pkt p = { .skb = skb };
	__u8 flags;

	if (load_headers(&p))
		return TC_ACT_OK;
	flags = tcp_flags(p.th);
	if (flags & TCP_FLAG_RST)
		return TC_ACT_OK;
	if (flags & TCP_FLAG_SYN)
		return flags & TCP_FLAG_ACK ? TC_ACT_OK : syncookie_handle_syn(&p, SC_SYN, SC_SYNACK_SENT, SC_SYN_DROPPED, 0);
	if (!(flags & TCP_FLAG_ACK))
		return TC_ACT_OK;
	return handle_ack(&p);
}

char _license[] SEC("license") = "GPL";

/* SPDX-License-Identifier: MIT */
/*
 * tc_tproxy: a transparent proxy without iptables TPROXY, at tc ingress (the
 * Cilium pattern, bpf/lib/proxy.h). Packets to a service (protocol, port) in
 * tproxy_services are given to a local proxy socket listening on another port
 * with bpf_sk_assign; the stack then delivers them to that socket whatever
 * their destination port (the prefetched socket skips the hash lookup), and
 * the proxy's accepted sockets carry the original destination as their local
 * address.
 *
 * TCP:
 * 1. bpf_skc_lookup_tcp on the packet's own tuple: a connection the proxy
 *    already accepted (or is accepting: a request socket) keeps going to it.
 *    A LISTEN or TIME_WAIT result is not such a connection and is released.
 * 2. Otherwise the proxy listener: bpf_skc_lookup_tcp with only the proxy
 *    port set (addresses and source port 0), which finds a listener bound to
 *    the wildcard address; anything but TCP_LISTEN is refused.
 * UDP: bpf_sk_lookup_udp the same wildcard way, for an unconnected proxy socket.
 * Then bpf_sk_assign(skb, sk, 0) and bpf_sk_release on every path.
 *
 * Verdicts: not a service → TC_ACT_OK untouched; assigned → TC_ACT_OK; no
 * proxy socket or bpf_sk_assign refused → TC_ACT_SHOT (as Cilium's
 * DROP_PROXY_LOOKUP_FAILED / DROP_PROXY_SET_FAILED: a service packet must not
 * reach whatever else listens on its port). Attach at ingress only:
 * bpf_sk_assign refuses egress packets with -EOPNOTSUPP, which drops them.
 */
#include "sk_common.h"
#include <linux/pkt_cls.h>

#define EINVAL 22
#define ENOENT 2
#define EOPNOTSUPP 95
#define ENETUNREACH 101
#define ESOCKTNOSUPPORT 94

struct service_key {
	__u8 protocol;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;		/* must be 0 */
	__be16 port;		/* the service port, network byte order */
};

struct service_value {
	__be16 proxy_port;	/* where the proxy listens, network byte order */
	__u16 pad;
};

enum tproxy_counter {
	T_NOT_SERVICE,		/* not TCP/UDP, or not a service port: untouched */
	T_ESTABLISHED,		/* TCP: the packet's own connection, assigned again */
	T_PROXY,		/* assigned to the proxy socket */
	T_NO_PROXY,		/* no proxy socket (or not LISTEN): dropped */
	T_ERR_EINVAL,		/* bpf_sk_assign failed, by errno: dropped */
	T_ERR_EOPNOTSUPP,	/* not at ingress, or the socket is unhashed */
	T_ERR_ENETUNREACH,	/* the socket is in another netns */
	T_ERR_ESOCKTNOSUPPORT,
	T_ERR_ENOENT,		/* the socket is being freed */
	T_ERR_OTHER,
	T_NR,
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct service_key);
	__type(value, struct service_value);
	__uint(max_entries, 64);
} tproxy_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, T_NR);
} tproxy_counters SEC(".maps");

static __always_inline int assign(struct __sk_buff *skb, struct bpf_sock *sk, __u32 what)
{
	long err = bpf_sk_assign(skb, sk, 0);
	__u32 c = what;

	bpf_sk_release(sk);
	switch (err) {
	case 0:
		break;
	case -EINVAL:
		c = T_ERR_EINVAL;
		break;
	case -EOPNOTSUPP:
		c = T_ERR_EOPNOTSUPP;
		break;
	case -ENETUNREACH:
		c = T_ERR_ENETUNREACH;
		break;
	case -ESOCKTNOSUPPORT:
		c = T_ERR_ESOCKTNOSUPPORT;
		break;
	case -ENOENT:
		c = T_ERR_ENOENT;
		break;
	default:
		c = T_ERR_OTHER;
	}
	count(&tproxy_counters, c);
	return err ? TC_ACT_SHOT : TC_ACT_OK;
}

/* The wildcard tuple of the proxy: every field 0 but the destination port. */
static __always_inline void proxy_tuple(struct l4_info *info, __be16 proxy_port)
{
	__builtin_memset(&info->tuple, 0, sizeof(info->tuple));
	if (info->v6)
		info->tuple.ipv6.dport = proxy_port;
	else
		info->tuple.ipv4.dport = proxy_port;
}

static __always_inline int steer_tcp(struct __sk_buff *skb, struct l4_info *info, __be16 proxy_port)
{
	struct bpf_sock *sk;

	sk = SK_LOOKUP_TUPLE(bpf_skc_lookup_tcp, skb, info);
	if (sk) {
		if (sk->state != BPF_TCP_LISTEN && sk->state != BPF_TCP_TIME_WAIT)
			return assign(skb, sk, T_ESTABLISHED);
		bpf_sk_release(sk);
	}

	proxy_tuple(info, proxy_port);
	sk = SK_LOOKUP_TUPLE(bpf_skc_lookup_tcp, skb, info);
	if (!sk) {
		count(&tproxy_counters, T_NO_PROXY);
		return TC_ACT_SHOT;
	}
	if (sk->state != BPF_TCP_LISTEN) {
		bpf_sk_release(sk);
		count(&tproxy_counters, T_NO_PROXY);
		return TC_ACT_SHOT;
	}
	return assign(skb, sk, T_PROXY);
}

static __always_inline int steer_udp(struct __sk_buff *skb, struct l4_info *info, __be16 proxy_port)
{
	struct bpf_sock *sk;

	proxy_tuple(info, proxy_port);
	sk = SK_LOOKUP_TUPLE(bpf_sk_lookup_udp, skb, info);
	if (!sk) {
		count(&tproxy_counters, T_NO_PROXY);
		return TC_ACT_SHOT;
	}
	return assign(skb, sk, T_PROXY);
}

SEC("tc")
int tc_tproxy(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct l4_info info = {};
	struct service_key key = {};
	struct service_value *svc;
	enum l4_parse l4;
	__be16 dport;

	l4 = parse_l4(data, data_end, &info);
	if (l4 != L4_TCP && l4 != L4_UDP)
		goto untouched;
	dport = info.v6 ? info.tuple.ipv6.dport : info.tuple.ipv4.dport;
	key.protocol = l4 == L4_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	key.port = dport;
	svc = bpf_map_lookup_elem(&tproxy_services, &key);
	if (!svc)
		goto untouched;
	if (l4 == L4_TCP)
		return steer_tcp(skb, &info, svc->proxy_port);
	return steer_udp(skb, &info, svc->proxy_port);

untouched:
	count(&tproxy_counters, T_NOT_SERVICE);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "Dual MIT/GPL";

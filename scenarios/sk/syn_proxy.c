// SPDX-License-Identifier: GPL-2.0
/* syn_proxy: a stateless SYN proxy in front of a server, at tc on the port that leads to it (the
 * AWS design behind "bpf: tcp: Support arbitrary SYN Cookie at TC", Linux 6.9: the proxy answers
 * SYNs with its own cookies under a rolling secret shared with every backend, and the backend
 * creates the connection from the forwarded ACK with bpf_sk_assign_tcp_reqsk).
 *
 * Attach it at the EGRESS of the device toward the servers (the host's tap, the bridge's port to
 * the guest): `tc filter add dev tap0 egress bpf da obj syn_proxy.o sec tc`. A SYN to a service
 * in proxy_services is rewritten in place into the SYN-ACK (the cookie exactly as
 * tcp_custom_syncookie.o makes it: syncookie.h, the one source of both) and sent back into that
 * device's receive path (bpf_redirect with BPF_F_INGRESS), as if the server had answered: the
 * bridge delivers it to the client by its MAC, the wire's or the host's own stack. The server never sees the SYN. Everything else (the client's ACK, data, other
 * services, other protocols) goes on to the server untouched, where tcp_custom_syncookie.o at its
 * tc ingress checks the ACK's cookie under the same key and makes the connection.
 *
 * No socket, no state, no lookup: the proxy cannot see the server's sockets and needs none. It
 * answers every SYN to a service address and port, as the backend's own program would.
 *
 * The key map (syncookie_keys) has tcp_custom_syncookie.o's name and layout: the same key written
 * into both (`--map` on both machines) is the shared secret. SYNs are answered under slot 0; a
 * rotation writes the old slot 0 into slot 1 and the new key into slot 0, on the backends first
 * (they accept both) and then here. Layout and counters: README.md ("syn_proxy").
 */
#include "syncookie.h"

/* The services the proxy answers for: an address and a TCP port (IPv4 as its 4 bytes in addr[0],
 * the rest 0). */
struct proxy_service {
	__u8 family;		/* 4 or 6 */
	__u8 pad;		/* 0 */
	__be16 port;
	__be32 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct proxy_service);
	__type(value, __u32);
} proxy_services SEC(".maps");

/* Counters (README.md): u64 slots, added to atomically. */
enum proxy_stat {
	P_SYN = 0,		/* SYNs to a service taken (answered or dropped) */
	P_SYNACK_SENT,		/* SYN-ACKs sent back into the device's receive path */
	P_SYN_DROPPED,		/* SYNs to a service dropped: bad IPv4 checksum, no room */
	P_FORWARDED,		/* other TCP to a service (the handshake's ACK, data, FIN, RST): on to the server */
	P_NOT_SERVICE,		/* TCP to an address or port not in proxy_services: on, untouched */
	P_NOT_TCP,		/* not IPv4/IPv6 TCP we parse (ARP, UDP, IP options, fragments): on, untouched */
	P_NR,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, P_NR);
	__type(key, __u32);
	__type(value, __u64);
} syn_proxy_stats SEC(".maps");

static __always_inline void count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&syn_proxy_stats, &stat);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* Whether the packet goes to a service the proxy answers for. */
static __always_inline int is_service(const struct sc_pkt *p)
{
	struct proxy_service k = {};

	k.port = p->th->dest;
	if (p->ip4) {
		k.family = 4;
		k.addr[0] = p->ip4->daddr;
	} else if (p->ip6) {
		k.family = 6;
		__builtin_memcpy(k.addr, p->ip6->daddr.in6_u.u6_addr32, 16);
	} else {
		return 0;
	}
	return bpf_map_lookup_elem(&proxy_services, &k) != NULL;
}

SEC("tc")
int syn_proxy(struct __sk_buff *skb)
{
	struct sc_pkt p = { .skb = skb };
	__u8 flags;

	if (load_headers(&p)) {
		count(P_NOT_TCP);
		return TC_ACT_OK;
	}
	if (!is_service(&p)) {
		count(P_NOT_SERVICE);
		return TC_ACT_OK;
	}
	flags = tcp_flags(p.th);
	if ((flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == TCP_FLAG_SYN)
		return syncookie_handle_syn(&p, P_SYN, P_SYNACK_SENT, P_SYN_DROPPED, BPF_F_INGRESS);
	count(P_FORWARDED);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";

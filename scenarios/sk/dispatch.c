/* SPDX-License-Identifier: MIT */
/*
 * dispatch: a socket dispatcher in the spirit of Cloudflare's tubular, as an
 * SK_LOOKUP program. User space binds (protocol, prefix, port or all ports)
 * to a destination id and puts one socket per destination into a SOCKMAP; on
 * every socket lookup of the netns this program picks the socket of the most
 * specific binding.
 *
 * Verdicts, as tubular's:
 * - no binding: SK_PASS without a socket, so the regular lookup goes on;
 * - a binding whose destination has no socket (service down): SK_DROP, so the
 *   traffic cannot land on another socket bound to the same address and port;
 * - bpf_sk_assign refuses the socket (wrong protocol, family, state, or an
 *   earlier program's pick): SK_DROP, counted by errno;
 * - assigned: SK_PASS.
 * Maps, keys and counters: README.md.
 */
#include "sk_common.h"

#define MAX_BINDINGS 4096
#define MAX_DESTINATIONS 1024

/* The errnos bpf_sk_assign returns for SK_LOOKUP (net/core/filter.c). */
#define EEXIST 17
#define EINVAL 22
#define EPROTOTYPE 91
#define ESOCKTNOSUPPORT 94
#define EAFNOSUPPORT 97

struct binding {
	__u32 id;		/* destination id: the key in destinations and dest_metrics */
	__u32 prefixlen;	/* the entry's own prefixlen, to compare a port and a port-0 match */
};

enum dispatch_metric {
	M_LOOKUPS,		/* every run */
	M_NO_BINDING,		/* no binding: SK_PASS, regular lookup */
	M_MISSING_SOCKET,	/* binding, but its destination has no socket: SK_DROP */
	M_ASSIGNED,		/* bpf_sk_assign succeeded: SK_PASS */
	M_ERR_EINVAL,		/* bpf_sk_assign failed, by errno: SK_DROP */
	M_ERR_ESOCKTNOSUPPORT,	/* socket not LISTEN (TCP) or connected (UDP), or not RCU-freed */
	M_ERR_EPROTOTYPE,	/* TCP socket for a UDP lookup or the other way round */
	M_ERR_EAFNOSUPPORT,	/* IPv4 socket (or v6-only one) for the other family */
	M_ERR_EEXIST,		/* an earlier program already selected a socket */
	M_ERR_OTHER,
	M_BAD_DESTINATION,	/* binding's id beyond dest_metrics: SK_DROP */
	M_NR,
};

struct dest_metrics {
	__u64 lookups;		/* lookups that chose this destination */
	__u64 missing_socket;
	__u64 bad_socket;	/* bpf_sk_assign refused its socket */
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct bind_key);
	__type(value, struct binding);
	__uint(max_entries, MAX_BINDINGS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bindings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, MAX_DESTINATIONS);
} destinations SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, M_NR);
} metrics SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct dest_metrics);
	__uint(max_entries, MAX_DESTINATIONS);
} dest_metrics SEC(".maps");

static __always_inline __u32 assign_error_metric(long err)
{
	switch (err) {
	case -EINVAL:
		return M_ERR_EINVAL;
	case -ESOCKTNOSUPPORT:
		return M_ERR_ESOCKTNOSUPPORT;
	case -EPROTOTYPE:
		return M_ERR_EPROTOTYPE;
	case -EAFNOSUPPORT:
		return M_ERR_EAFNOSUPPORT;
	case -EEXIST:
		return M_ERR_EEXIST;
	default:
		return M_ERR_OTHER;
	}
}

SEC("sk_lookup")
int dispatch(struct bpf_sk_lookup *ctx)
{
	struct bind_key key = {};
	struct binding *port_bind, *wild_bind, *bind;
	struct dest_metrics *dm;
	struct bpf_sock *sk;
	__u32 id;
	long err;

	count(&metrics, M_LOOKUPS);

	bind_key_from_ctx(ctx, &key);
	port_bind = bpf_map_lookup_elem(&bindings, &key);
	key.port = 0;
	wild_bind = bpf_map_lookup_elem(&bindings, &key);

	/* The longer prefix wins; on a tie the specific port beats "all ports". */
	bind = port_bind;
	if (!bind || (wild_bind && wild_bind->prefixlen > bind->prefixlen))
		bind = wild_bind;
	if (!bind) {
		count(&metrics, M_NO_BINDING);
		return SK_PASS;
	}

	/* Copied out: the binding may be replaced while this runs, the id must stay one. */
	id = bind->id;
	dm = bpf_map_lookup_elem(&dest_metrics, &id);
	if (!dm) {
		/* dest_metrics and destinations have the same size: the socket lookup would fail too. */
		count(&metrics, M_BAD_DESTINATION);
		return SK_DROP;
	}
	__sync_fetch_and_add(&dm->lookups, 1);

	sk = bpf_map_lookup_elem(&destinations, &id);
	if (!sk) {
		count(&metrics, M_MISSING_SOCKET);
		__sync_fetch_and_add(&dm->missing_socket, 1);
		return SK_DROP;
	}

	err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	if (err) {
		count(&metrics, assign_error_metric(err));
		__sync_fetch_and_add(&dm->bad_socket, 1);
		return SK_DROP;
	}

	count(&metrics, M_ASSIGNED);
	return SK_PASS;
}

char _license[] SEC("license") = "Dual MIT/GPL";

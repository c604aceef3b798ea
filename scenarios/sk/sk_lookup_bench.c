/* SPDX-License-Identifier: MIT */
/*
 * sk_lookup_bench: the program of the SK_LOOKUP cover letter's benchmark
 * (majek/inet-tool's inet-kern.c: an LPM_TRIE with 200 entries), reduced to
 * its cost: every socket lookup builds the binding key from the context and
 * looks it up, with its port and then with port 0 (all ports), as inet-tool
 * does. It never selects a socket and always returns SK_PASS, so the lookup
 * goes on to the regular hash tables: attaching it changes the cost of a
 * lookup, never its result.
 *
 * The key layout is the dispatcher's (sk_common.h, README.md); user space
 * fills the trie with 200 entries before a run.
 */
#include "sk_common.h"

#define BENCH_ENTRIES 200

enum bench_counter {
	B_RUNS,		/* every run */
	B_HITS,		/* a binding matched (port or port 0) */
	B_MISSES,	/* none matched */
	B_NR,
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct bind_key);
	__type(value, __u32);
	__uint(max_entries, BENCH_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bench_bindings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, B_NR);
} bench_counters SEC(".maps");

SEC("sk_lookup")
int sk_lookup_bench(struct bpf_sk_lookup *ctx)
{
	struct bind_key key = {};
	__u32 *svc;

	count(&bench_counters, B_RUNS);
	bind_key_from_ctx(ctx, &key);
	svc = bpf_map_lookup_elem(&bench_bindings, &key);
	if (!svc) {
		key.port = 0;
		svc = bpf_map_lookup_elem(&bench_bindings, &key);
	}
	count(&bench_counters, svc ? B_HITS : B_MISSES);
	return SK_PASS;
}

char _license[] SEC("license") = "Dual MIT/GPL";

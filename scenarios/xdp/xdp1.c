/* SPDX-License-Identifier: MIT */
/*
 * xdp1: the benchmark's dropping program. Counts every frame by IP protocol
 * (IPv6: next header; non-IP: 0) and drops it. Modelled on the kernel's
 * samples/bpf xdp1_kern.c, with the map changed from PERCPU_ARRAY to ARRAY as
 * the offload RFC did (per-CPU maps cannot be split between guest and host),
 * which is why the increment is atomic.
 */
#include <linux/bpf.h>
#include "proto_parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
} rxcnt SEC(".maps");

SEC("xdp")
int xdp1(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u64 off;
	__be16 proto;
	__u32 key;
	__u64 *cnt;

	/* A frame cut inside its L2 headers is dropped before it is counted. */
	if (parse_l2(data, data_end, &off, &proto) < 0)
		return XDP_DROP;

	key = l3_proto_key(data, off, data_end, proto);
	cnt = bpf_map_lookup_elem(&rxcnt, &key);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);

	return XDP_DROP;
}

char _license[] SEC("license") = "Dual MIT/GPL";

/* SPDX-License-Identifier: MIT */
/*
 * flow_count: per-flow packet and byte counters in a HASH map keyed by the
 * IPv4 5-tuple. A new flow is created with BPF_NOEXIST, so two CPUs racing
 * on the first packet cannot overwrite each other's counts: the loser gets
 * -EEXIST and simply adds to the winner's entry.
 *
 * Global state in .bss: new flows, packets that found their flow, the last
 * non-zero update error (signed, -EEXIST = -17 when a flow already existed,
 * -E2BIG = -7 when the table is full), non-IPv4 frames, and a sanity count
 * of clock readings that went backwards (bpf_ktime_get_ns is monotonic, so
 * it stays 0: the clock is used without making the output time-dependent).
 * Verdict: PASS (DROP for frames too short for their headers).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define EEXIST 17

/* Explicit padding: the key is hashed as raw bytes, so every byte is set. */
struct flow_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct flow_stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
	__uint(max_entries, 64);
} flows SEC(".maps");

__u64 new_flows;
__u64 known_flows;
__s64 last_err;
__u64 not_ipv4;
__u64 clock_backwards;

SEC("xdp")
int flow_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct flow_key key = {};
	struct flow_stats init = {}, *st;
	__u64 t0, t1;
	long err;

	t0 = bpf_ktime_get_ns();
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP)) {
		__sync_fetch_and_add(&not_ipv4, 1);
		return XDP_PASS;
	}
	if ((void *)(iph + 1) > data_end)
		return XDP_DROP;

	key.saddr = iph->saddr;
	key.daddr = iph->daddr;
	key.proto = iph->protocol;
	if (iph->protocol == IPPROTO_TCP || iph->protocol == IPPROTO_UDP) {
		/* Ports are the first 4 bytes of both TCP and UDP headers. */
		__be16 *ports = (void *)iph + iph->ihl * 4;

		if ((void *)(ports + 2) > data_end)
			return XDP_DROP;
		key.sport = ports[0];
		key.dport = ports[1];
	}

	err = bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST);
	if (err == 0)
		__sync_fetch_and_add(&new_flows, 1);
	else if (err == -EEXIST)
		__sync_fetch_and_add(&known_flows, 1);
	if (err)
		last_err = err;

	st = bpf_map_lookup_elem(&flows, &key);
	if (st) {
		__sync_fetch_and_add(&st->packets, 1);
		__sync_fetch_and_add(&st->bytes, data_end - data);
	}

	t1 = bpf_ktime_get_ns();
	if (t1 < t0)
		__sync_fetch_and_add(&clock_backwards, 1);
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual MIT/GPL";

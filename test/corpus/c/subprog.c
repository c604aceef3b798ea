/* SPDX-License-Identifier: MIT */
/*
 * subprog: a flow hasher split into real BPF-to-BPF calls. Each helper is
 * `static __attribute__((noinline))`, so clang emits it once in .text and
 * the program reaches it with a pseudo call (call insn, src_reg 1); the
 * verifier checks every call site with the caller's argument types, which is
 * what lets packet pointers and a stack pointer cross the call.
 *
 * Call graph (depth 3): subprog -> flow_hash -> read_ports
 *                                            -> mix64 (twice)
 * Output: hash_out[0] last hash, [1] last L3 offset, [2] last ports word;
 *         buckets[hash % 16] frames per bucket.
 * Verdict: PASS; DROP when the headers are cut short (a subprogram returns
 * a negative value, tested with a signed compare).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NOINLINE static __attribute__((noinline))
#define NBUCKETS 16

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 3);
} hash_out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, NBUCKETS);
} buckets SEC(".maps");

/* A 64-bit finaliser (multiply / xor-shift), all in ALU64. */
NOINLINE __u64 mix64(__u64 h, __u64 v)
{
	h ^= v;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* L3 offset of an IPv4 header, or -1: a packet pointer pair as arguments. */
NOINLINE int l3_offset(void *data, void *data_end)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return -1;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	if ((void *)(eth + 1) + sizeof(struct iphdr) > data_end)
		return -1;
	return sizeof(*eth);
}

/* Writes the TCP/UDP port pair through a stack pointer; -1 if cut short. */
NOINLINE int read_ports(struct iphdr *iph, void *data_end, __u32 *ports)
{
	__u32 *p;

	*ports = 0;
	if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP)
		return 0;
	p = (void *)(iph + 1);
	if ((void *)(p + 1) > data_end)
		return -1;
	*ports = *p;
	return 0;
}

NOINLINE __s64 flow_hash(void *data, void *data_end, int off, __u32 *ports)
{
	struct iphdr *iph = data + sizeof(struct ethhdr);
	__u64 h;

	if (off != sizeof(struct ethhdr) || (void *)(iph + 1) > data_end)
		return -1;
	if (read_ports(iph, data_end, ports) < 0)
		return -2;
	h = mix64(0x9e3779b97f4a7c15ULL, ((__u64)iph->saddr << 32) | iph->daddr);
	h = mix64(h, ((__u64)*ports << 8) | iph->protocol);
	/* Keep the sign bit clear: a negative return means "no hash". */
	return (__s64)(h >> 1);
}

static __always_inline void put(void *map, __u32 key, __u64 val, int add)
{
	__u64 *v = bpf_map_lookup_elem(map, &key);

	if (!v)
		return;
	if (add)
		__sync_fetch_and_add(v, val);
	else
		*v = val;
}

SEC("xdp")
int subprog(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 ports = 0;
	__s64 h;
	int off;

	off = l3_offset(data, data_end);
	if (off < 0)
		return XDP_PASS;
	h = flow_hash(data, data_end, off, &ports);
	if (h < 0)
		return XDP_DROP;
	put(&hash_out, 0, (__u64)h, 0);
	put(&hash_out, 1, (__u64)off, 0);
	put(&hash_out, 2, ports, 0);
	put(&buckets, (__u32)h % NBUCKETS, 1, 1);
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual MIT/GPL";

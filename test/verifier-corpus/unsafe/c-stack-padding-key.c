// A flow key struct with a hole (u8 then u32) is filled field by field and used as a map key: the
// 3 padding bytes are never written, so the lookup reads uninitialised stack.
// category: stack
// kernel-mode: no-perfmon
// expect: read from stack R2 off -8+1 size 8
// kernel-errno: EACCES
// kernel: invalid read from stack R2 off -8+1 size 8
#include "common.h"

struct key {
	__u8 proto;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct key);
	__type(value, __u64);
} flows SEC(".maps");

SEC("xdp")
int stack_padding_key(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	struct iphdr *iph = data + sizeof(struct ethhdr);
	struct key k;
	__u64 *n;

	if ((void *)(iph + 1) > data_end)
		return XDP_PASS;
	k.proto = iph->protocol;
	k.addr = iph->saddr;
	n = bpf_map_lookup_elem(&flows, &k);
	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_PASS;
}

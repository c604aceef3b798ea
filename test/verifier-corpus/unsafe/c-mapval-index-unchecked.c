// Counts packets per IP protocol in a value holding 4 counters, indexed by the protocol byte
// (0..255) without a bound.
// category: map_value
// expect: invalid access to map value
// kernel-errno: EACCES
// kernel: invalid access to map value, value_size=32 off=2040 size=8
// kernel: R0 max value is outside of the allowed memory range
#include "common.h"

struct counters {
	__u64 c[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counters);
} stats SEC(".maps");

SEC("xdp")
int mapval_index_unchecked(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	struct iphdr *iph = data + sizeof(struct ethhdr);
	struct counters *v;
	__u32 k = 0;

	if ((void *)(iph + 1) > data_end)
		return XDP_PASS;
	v = bpf_map_lookup_elem(&stats, &k);
	if (!v)
		return XDP_PASS;
	v->c[iph->protocol]++;
	return XDP_PASS;
}

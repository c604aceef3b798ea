// Bounds the counter index with "if (idx > 4)" for a 4-counter value.
// category: map_value
// expect: invalid access to map value
// kernel-errno: EACCES
// kernel: invalid access to map value, value_size=32 off=32 size=8
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
int mapval_off_by_one(struct xdp_md *ctx)
{
	__u32 idx = ctx->rx_queue_index;
	struct counters *v;
	__u32 k = 0;

	if (idx > 4)
		return XDP_PASS;
	v = bpf_map_lookup_elem(&stats, &k);
	if (!v)
		return XDP_PASS;
	v->c[idx]++;
	return XDP_PASS;
}

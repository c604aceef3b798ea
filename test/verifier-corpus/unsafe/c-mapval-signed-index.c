// A signed index (a packet byte as __s8) bounded only from above; scaled by 8 it has no lower bound
// the verifier can keep.
// category: map_value
// expect: math between map_value pointer and register with unbounded min value is not allowed
// kernel-errno: EINVAL
// kernel: math between map_value pointer and register with unbounded min value is not allowed
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
int mapval_signed_index(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	struct counters *v;
	__u32 k = 0;
	int idx;

	if (data + 1 > data_end)
		return XDP_PASS;
	idx = *(__s8 *)data;
	if (idx >= 4)
		return XDP_PASS;
	v = bpf_map_lookup_elem(&stats, &k);
	if (!v)
		return XDP_PASS;
	v->c[idx]++;
	return XDP_PASS;
}

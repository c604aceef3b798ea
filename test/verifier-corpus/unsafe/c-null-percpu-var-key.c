// A PERCPU_ARRAY lookup with a key the verifier cannot bound (the RX queue), used without a NULL
// check.
// category: null
// expect: invalid mem access 'map_value_or_null'
// kernel-errno: EACCES
// kernel: R0 invalid mem access 'map_value_or_null'
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} per_queue SEC(".maps");

SEC("xdp")
int null_percpu_var_key(struct xdp_md *ctx)
{
	__u32 q = ctx->rx_queue_index;
	__u64 *n = bpf_map_lookup_elem(&per_queue, &q);

	*n += 1;
	return XDP_PASS;
}

// Two lookups; the code checks the first result and then writes through the second.
// category: null
// expect: invalid mem access 'map_value_or_null'
// kernel-errno: EACCES
// kernel: R0 invalid mem access 'map_value_or_null'
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} pkts SEC(".maps"), bytes SEC(".maps");

SEC("xdp")
int null_wrong_var(struct xdp_md *ctx)
{
	__u32 k = ctx->ingress_ifindex;
	__u64 *p = bpf_map_lookup_elem(&pkts, &k);
	__u64 *b = bpf_map_lookup_elem(&bytes, &k);

	if (!p)
		return XDP_PASS;
	*p += 1;
	*b += ctx->data_end - ctx->data;
	return XDP_PASS;
}

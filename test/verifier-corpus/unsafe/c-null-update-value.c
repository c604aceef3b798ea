// Copies one map entry into another, passing the unchecked lookup result as the value.
// category: null
// expect: type=map_value_or_null expected=
// kernel-errno: EACCES
// kernel: R3 type=map_value_or_null expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} cur SEC(".maps"), prev SEC(".maps");

SEC("xdp")
int null_update_value(struct xdp_md *ctx)
{
	__u32 k = ctx->ingress_ifindex;
	__u64 *v = bpf_map_lookup_elem(&cur, &k);

	bpf_map_update_elem(&prev, &k, v, BPF_ANY);
	return XDP_PASS;
}

// Redirects through an ARRAY map of interface indexes instead of a DEVMAP.
// category: helper_args
// expect: cannot pass map_type 2 into func bpf_redirect_map#51
// kernel-errno: EINVAL
// kernel: cannot pass map_type 2 into func bpf_redirect_map#51
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} ports SEC(".maps");

SEC("xdp")
int redirect_map_array(struct xdp_md *ctx)
{
	return bpf_redirect_map(&ports, ctx->rx_queue_index & 3, XDP_PASS);
}

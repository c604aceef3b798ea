// Looks up a map with 8-byte keys using a 4-byte variable as the key.
// category: helper_args
// expect: stack R2 off=-4 size=8
// kernel-errno: EINVAL
// kernel: invalid read from stack R2 off=-4 size=8
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u64);
	__type(value, __u64);
} by_u64 SEC(".maps");

SEC("xdp")
int key_too_small(struct xdp_md *ctx)
{
	__u32 k = ctx->ingress_ifindex;
	__u64 *v = bpf_map_lookup_elem(&by_u64, &k);

	return v ? XDP_DROP : XDP_PASS;
}

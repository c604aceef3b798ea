// Stores a value into a map whose variable was only assigned on one path.
// category: stack
// kernel-mode: no-perfmon
// expect: read from stack R3
// kernel-errno: EACCES
// kernel: invalid read from stack R3 off=-16 size=8
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} last SEC(".maps");

SEC("xdp")
int stack_uninit_value(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 v;

	if (ctx->ingress_ifindex == 1)
		v = 7;
	bpf_map_update_elem(&last, &k, &v, BPF_ANY);
	return XDP_PASS;
}

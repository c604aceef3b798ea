// Copies a 16-byte packet prefix into an 8-byte map value.
// category: map_value
// expect: invalid access to map value
// kernel-errno: EACCES
// kernel: invalid access to map value, value_size=8 off=15 size=1
// kernel: R0 min value is outside of the allowed memory range
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sample SEC(".maps");

SEC("xdp")
int mapval_memcpy_too_long(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	__u32 k = 0;
	void *v;

	if (data + 16 > data_end)
		return XDP_PASS;
	v = bpf_map_lookup_elem(&sample, &k);
	if (!v)
		return XDP_PASS;
	__builtin_memcpy(v, data, 16);
	return XDP_PASS;
}

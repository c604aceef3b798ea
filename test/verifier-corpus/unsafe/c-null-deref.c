// Increments a per-source counter in a hash map without checking that the lookup found it.
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
} per_src SEC(".maps");

SEC("xdp")
int null_deref(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	struct iphdr *iph = data + sizeof(struct ethhdr);
	__u32 src;
	__u64 *n;

	if ((void *)(iph + 1) > data_end)
		return XDP_PASS;
	src = iph->saddr;
	n = bpf_map_lookup_elem(&per_src, &src);
	*n += 1;
	return XDP_PASS;
}

// bpf_csum_diff over a stack buffer with a size taken from the packet (up to 4G).
// category: helper_args
// expect: unbounded memory access
// kernel-errno: EACCES
// kernel: R4 unbounded memory access, use 'var &= const' or 'if (var < const)'
#include "common.h"

SEC("xdp")
int csum_diff_var_size(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	__be32 buf[4] = {};
	__u32 size;

	if (data + 4 > data_end)
		return XDP_PASS;
	size = *(__u32 *)data;
	return bpf_csum_diff(0, 0, buf, size, 0) ? XDP_PASS : XDP_DROP;
}

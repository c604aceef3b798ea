// Counts per class in a global (.bss) array of 4 counters with an index masked to 0..7.
// category: map_value
// expect: invalid access to map value
// kernel-errno: EACCES
// kernel: invalid access to map value, value_size=32 off=56 size=8
// kernel: R2 max value is outside of the allowed memory range
#include "common.h"

__u64 class_count[4];

SEC("xdp")
int global_array_oob(struct xdp_md *ctx)
{
	__u32 cls = ctx->rx_queue_index & 7;

	__sync_fetch_and_add(&class_count[cls], 1);
	return XDP_PASS;
}

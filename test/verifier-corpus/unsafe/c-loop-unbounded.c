// Sums packet bytes n times, n taken from the packet (a u32): the verifier cannot bound
// the loop and runs out of budget.
// category: loop
// expect: BPF program is too large
// kernel-errno: E2BIG
// kernel: BPF program is too large. Processed 1000001 insn
#include "common.h"

SEC("xdp")
int loop_unbounded(struct xdp_md *ctx)
{
	void *data = DATA(ctx), *data_end = DATA_END(ctx);
	__u8 *p = data;
	__u32 n, i, sum = 0;

	if (data + 4 > data_end)
		return XDP_PASS;
	n = *(__u32 *)data;
	for (i = 0; i < n; i++)
		sum += p[i & 3];
	return sum & 1 ? XDP_DROP : XDP_PASS;
}

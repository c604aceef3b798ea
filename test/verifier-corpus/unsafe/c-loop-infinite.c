// A busy-wait that never ends.
// category: loop
// expect: infinite loop detected
// kernel-errno: EINVAL
// kernel: infinite loop detected at insn 0
#include "common.h"

SEC("xdp")
int loop_infinite(struct xdp_md *ctx)
{
	for (;;)
		asm volatile("" ::: "memory");
	return XDP_PASS;
}

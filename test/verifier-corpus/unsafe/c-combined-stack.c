// main keeps a 300-byte scratch buffer and calls a subprogram with another 300 bytes: 600 bytes in
// total.
// category: size
// expect: combined stack size of 2 calls is
// kernel-errno: EACCES
// kernel: combined stack size of 2 calls is 608. Too large
#include "common.h"

static __attribute__((noinline)) int scratch(int x)
{
	volatile char buf[300];

	buf[x & 255] = 1;
	return buf[(x + 1) & 255];
}

SEC("xdp")
int combined_stack(struct xdp_md *ctx)
{
	volatile char buf[300];

	buf[ctx->rx_queue_index & 255] = 2;
	return scratch(buf[7]) & 3;
}

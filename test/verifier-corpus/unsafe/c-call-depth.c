// Nine nested subprogram frames (main and f1..f8), one more than the kernel allows.
// category: size
// expect: the call stack of 9 frames is too deep
// kernel-errno: E2BIG
// kernel: the call stack of 9 frames is too deep
#include "common.h"

#define F(n, next) \
	static __attribute__((noinline)) int f##n(int x) \
	{ \
		asm volatile("" : "+r"(x)); \
		return next(x + n) + 1; \
	}

static __attribute__((noinline)) int f8(int x)
{
	asm volatile("" : "+r"(x));
	return x;
}
F(7, f8)
F(6, f7)
F(5, f6)
F(4, f5)
F(3, f4)
F(2, f3)
F(1, f2)

SEC("xdp")
int call_depth(struct xdp_md *ctx)
{
	return f1(ctx->rx_queue_index) & 3;
}

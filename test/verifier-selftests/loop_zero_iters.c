#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "selftest.h"

static int two(__u32 i, void *c)
{
  return 2;
}

/* With nr_loops a known 0 the callback is never walked: its bad return value goes unnoticed. */
SEC("xdp")
__success __retval(0)
int loop_zero_iters(struct xdp_md *ctx)
{
  return bpf_loop(0, two, NULL, 0);
}

char _license[] SEC("license") = "GPL";

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "selftest.h"

static int overrun(__u32 i, __u32 *c)
{
  c[3] = i;
  return 0;
}

SEC("xdp")
__failure __msg("invalid write to stack")
int loop_ctx_overrun(struct xdp_md *ctx)
{
  __u32 c[2] = {};

  bpf_loop(2, overrun, c, 0);
  return c[0];
}

char _license[] SEC("license") = "GPL";

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "selftest.h"

static int two(__u32 i, void *c)
{
  return 2;
}

SEC("xdp")
__failure __msg("At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]")
int loop_ret_two(struct xdp_md *ctx)
{
  bpf_loop(1, two, NULL, 0);
  return 0;
}

char _license[] SEC("license") = "GPL";

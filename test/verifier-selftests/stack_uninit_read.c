#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "selftest.h"

/* A privileged (CAP_PERFMON) loader may read stack bytes it never wrote. */
SEC("xdp")
__success
int stack_uninit_read(struct xdp_md *ctx)
{
  volatile __u32 x[2];

  x[0] = 1;
  return x[1] & 1;
}

char _license[] SEC("license") = "GPL";

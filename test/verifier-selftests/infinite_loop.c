#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "selftest.h"

SEC("xdp")
__failure __msg("infinite loop detected")
int infinite_loop(struct xdp_md *ctx)
{
  volatile int i = 0;

  while (i >= 0)
    i++;
  return 0;
}

char _license[] SEC("license") = "GPL";

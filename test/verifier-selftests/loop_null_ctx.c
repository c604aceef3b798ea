#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "selftest.h"

static int deref(__u32 i, __u64 *c)
{
  return *c & 1;
}

SEC("xdp")
__failure __msg("R2 invalid mem access 'scalar'")
int loop_null_ctx(struct xdp_md *ctx)
{
  return bpf_loop(1, deref, NULL, 0);
}

char _license[] SEC("license") = "GPL";

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "selftest.h"

struct counter { __u64 n; };

static int bump(__u32 i, struct counter *c)
{
  c->n += i;
  return 0;
}

SEC("xdp")
__success __retval(190)
int loop_counter(struct xdp_md *ctx)
{
  struct counter c = {};

  bpf_loop(20, bump, &c, 0);
  return (int)c.n;
}

char _license[] SEC("license") = "GPL";

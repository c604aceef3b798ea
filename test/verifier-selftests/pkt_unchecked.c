#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "selftest.h"

SEC("xdp")
__failure __msg("invalid access to packet")
int pkt_unchecked(struct xdp_md *ctx)
{
  __u8 *d = (void *)(long)ctx->data;

  return d[3];
}

char _license[] SEC("license") = "GPL";

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "selftest.h"

struct walk { void *data, *end; __u32 x; };

static int xor_byte(__u32 i, struct walk *w)
{
  __u8 *p = (__u8 *)w->data + (i & 0xff);

  if ((void *)(p + 1) > w->end)
    return 1;
  w->x ^= *p;
  return 0;
}

/* The loop count comes from the packet: unknown to the verifier, bounded at run time. */
SEC("xdp")
__success __log_level(2) __msg("frame1: R1=scalar() R2=fp[0]-") __msg("to caller at") __retval(16)
int loop_pkt_len(struct xdp_md *ctx)
{
  struct walk w = { (void *)(long)ctx->data, (void *)(long)ctx->data_end, 0 };
  __u8 *d = w.data;

  if ((void *)(d + 1) > w.end)
    return 0;
  bpf_loop(d[0], xor_byte, &w, 0);
  return w.x;
}

char _license[] SEC("license") = "GPL";

// Uses bpf_skb_load_bytes, a socket-buffer helper, in an XDP program.
// category: insn
// expect: program of this type cannot use helper bpf_skb_load_bytes#26
// kernel-errno: EINVAL
// kernel: program of this type cannot use helper bpf_skb_load_bytes#26
#include "common.h"

SEC("xdp")
int helper_skb_load_bytes(struct xdp_md *ctx)
{
	__u32 w = 0;

	bpf_skb_load_bytes(ctx, 0, &w, sizeof(w));
	return w ? XDP_PASS : XDP_DROP;
}

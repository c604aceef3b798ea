// Uses bpf_csum_update (#40) in an XDP program.
// category: insn
// expect: program of this type cannot use helper bpf_csum_update#40
// kernel-errno: EINVAL
// kernel: program of this type cannot use helper bpf_csum_update#40
#include "common.h"

SEC("xdp")
int helper_csum_update(struct xdp_md *ctx)
{
	return bpf_csum_update((struct __sk_buff *)ctx, 0) ? XDP_PASS : XDP_DROP;
}

// Writes a "const volatile" configuration global through a cast: .rodata is frozen and read-only
// for programs.
// category: map_value
// expect: write into map forbidden
// kernel-errno: EACCES
// kernel: write into map forbidden, value_size=4 off=0 size=4
#include "common.h"

const volatile __u32 drop_proto = IPPROTO_UDP;

SEC("xdp")
int rodata_write(struct xdp_md *ctx)
{
	*(volatile __u32 *)&drop_proto = IPPROTO_TCP;
	return XDP_PASS;
}

/* SPDX-License-Identifier: MIT */
/*
 * xdp2: the benchmark's bouncing program. Counts like xdp1; UDP frames get
 * their MAC addresses swapped and go back out (XDP_TX), everything else is
 * dropped. That is the kernel's samples/bpf xdp2_kern.c logic: only the UDP
 * flow pktgen sends is reflected. ARRAY instead of PERCPU_ARRAY, as in the
 * offload RFC.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include "proto_parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
} rxcnt SEC(".maps");

/* Three 16-bit moves each way: MACs sit at 2-byte aligned offsets 0 and 6. */
static __always_inline void swap_src_dst_mac(void *data)
{
	__u16 *p = data;
	__u16 d0 = p[0], d1 = p[1], d2 = p[2];

	p[0] = p[3];
	p[1] = p[4];
	p[2] = p[5];
	p[3] = d0;
	p[4] = d1;
	p[5] = d2;
}

SEC("xdp")
int xdp2(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u64 off;
	__be16 proto;
	__u32 key;
	__u64 *cnt;

	if (parse_l2(data, data_end, &off, &proto) < 0)
		return XDP_DROP;

	key = l3_proto_key(data, off, data_end, proto);
	cnt = bpf_map_lookup_elem(&rxcnt, &key);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);

	/* parse_l2 proved the 14 Ethernet bytes are there. */
	if (key == IPPROTO_UDP) {
		swap_src_dst_mac(data);
		return XDP_TX;
	}
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual MIT/GPL";

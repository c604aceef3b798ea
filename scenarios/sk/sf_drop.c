/* SPDX-License-Identifier: MIT */
/*
 * sf_drop: a socket filter (SO_ATTACH_BPF) that keeps 0 bytes of every
 * packet, i.e. drops everything the socket would receive. The kernel counts
 * such drops (sk_filter_trim_cap); the UDP flood of the SK_LOOKUP benchmark
 * used such a socket so that delivery costs nothing after the lookup.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int sf_drop(struct __sk_buff *skb)
{
	return 0;
}

char _license[] SEC("license") = "Dual MIT/GPL";

/* SPDX-License-Identifier: MIT */
/* Shared by the C programs of the rejection corpus: headers, the license, small helpers. */
#ifndef VXO_UNSAFE_COMMON_H
#define VXO_UNSAFE_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char _license[] SEC("license") = "GPL";

#define DATA(ctx) ((void *)(long)(ctx)->data)
#define DATA_END(ctx) ((void *)(long)(ctx)->data_end)
#define DATA_META(ctx) ((void *)(long)(ctx)->data_meta)

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

#endif

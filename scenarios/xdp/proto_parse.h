/* SPDX-License-Identifier: MIT */
/*
 * Header walk shared by xdp1 and xdp2: Ethernet, up to two VLAN tags, then
 * the IPv4 protocol or IPv6 next header. Both programs must count exactly the
 * same way, so the walk lives in one place.
 *
 * The rules follow the kernel's samples/bpf xdp1/xdp2:
 * - a frame too short for its Ethernet or VLAN headers is dropped uncounted
 *   (parse_l2 fails);
 * - an IP header that does not fit, and every non-IP frame (ARP, ...), count
 *   as protocol 0.
 */
#ifndef VXO_PROTO_PARSE_H
#define VXO_PROTO_PARSE_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* The uapi headers have no VLAN header: if_vlan.h's struct is kernel-internal. */
struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

static __always_inline int is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/*
 * Walks Ethernet and up to two VLAN tags. On success stores the L3 offset and
 * the (network order) EtherType of the L3 header and returns 0; returns -1 if
 * the frame ends inside those headers.
 */
static __always_inline int parse_l2(void *data, void *data_end, __u64 *l3_off,
				    __be16 *proto)
{
	struct ethhdr *eth = data;
	struct vlan_hdr *vh;
	__u64 off = sizeof(*eth);
	__be16 p;

	if (data + off > data_end)
		return -1;
	p = eth->h_proto;

	/* Two explicit steps, not a loop: QinQ is at most outer + inner tag. */
	if (is_vlan(p)) {
		vh = data + off;
		off += sizeof(*vh);
		if (data + off > data_end)
			return -1;
		p = vh->h_vlan_encapsulated_proto;
	}
	if (is_vlan(p)) {
		vh = data + off;
		off += sizeof(*vh);
		if (data + off > data_end)
			return -1;
		p = vh->h_vlan_encapsulated_proto;
	}

	*l3_off = off;
	*proto = p;
	return 0;
}

static __always_inline __u32 ipv4_proto(void *data, __u64 off, void *data_end)
{
	struct iphdr *iph = data + off;

	if ((void *)(iph + 1) > data_end)
		return 0;
	return iph->protocol;
}

static __always_inline __u32 ipv6_nexthdr(void *data, __u64 off, void *data_end)
{
	struct ipv6hdr *ip6h = data + off;

	if ((void *)(ip6h + 1) > data_end)
		return 0;
	return ip6h->nexthdr;
}

/* The counting key: IP protocol / IPv6 next header, 0 for everything else. */
static __always_inline __u32 l3_proto_key(void *data, __u64 off, void *data_end,
					  __be16 proto)
{
	if (proto == bpf_htons(ETH_P_IP))
		return ipv4_proto(data, off, data_end);
	if (proto == bpf_htons(ETH_P_IPV6))
		return ipv6_nexthdr(data, off, data_end);
	return 0;
}

#endif /* VXO_PROTO_PARSE_H */

// tc programs for the host's devices (test/host-net/tc-worker.test.ts): the host worker attaches
// them by object and section, with map entries written before traffic.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* [0]: the UDP destination port to drop, host order. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} drop_port SEC(".maps");

/* [0]: packets passed, [1]: packets dropped. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

static __always_inline int count(__u32 k, int act)
{
	__u64 *n = bpf_map_lookup_elem(&verdicts, &k);

	if (n)
		*n += 1;
	return act;
}

SEC("tc")
int drop_udp_port(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 k = 0, *port;

	if ((void *)(udp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_UDP)
		return count(0, TC_ACT_OK);
	port = bpf_map_lookup_elem(&drop_port, &k);
	if (!port || udp->dest != bpf_htons(*port))
		return count(0, TC_ACT_OK);
	return count(1, TC_ACT_SHOT);
}

/* The TTL one lower, the IPv4 header checksum fixed. */
SEC("tc")
int dec_ttl(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	__u16 old, new;

	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	old = *(__u16 *)&ip->ttl;
	ip->ttl--;
	new = *(__u16 *)&ip->ttl;
	bpf_l3_csum_replace(skb, sizeof(struct ethhdr) + __builtin_offsetof(struct iphdr, check), old, new, 2);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";

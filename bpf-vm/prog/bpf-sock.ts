// The context and socket structures programs read, with the uapi's offsets (include/uapi/linux/bpf.h):
// struct __sk_buff (tc, socket filters), struct bpf_sock and struct bpf_tcp_sock (socket pointers
// from the lookup helpers, skb->sk, sockmap lookups), struct bpf_sk_lookup (SK_LOOKUP's context).

/** struct __sk_buff: 192 bytes. */
export const SK_BUFF = {
  len: 0, pkt_type: 4, mark: 8, queue_mapping: 12, protocol: 16, vlan_present: 20, vlan_tci: 24,
  vlan_proto: 28, priority: 32, ingress_ifindex: 36, ifindex: 40, tc_index: 44, cb: 48, hash: 68,
  tc_classid: 72, data: 76, data_end: 80, napi_id: 84, family: 88, remote_ip4: 92, local_ip4: 96,
  remote_ip6: 100, local_ip6: 116, remote_port: 132, local_port: 136, data_meta: 140, flow_keys: 144,
  tstamp: 152, wire_len: 160, gso_segs: 164, sk: 168, gso_size: 176, tstamp_type: 180, hwtstamp: 184,
} as const;
export const SK_BUFF_SIZE = 192;
/** cb[5]: 20 bytes (qdisc_skb_cb's data). */
export const SK_BUFF_CB_SIZE = 20;

/** struct bpf_sock: 80 bytes. */
export const BPF_SOCK = {
  bound_dev_if: 0, family: 4, type: 8, protocol: 12, mark: 16, priority: 20, src_ip4: 24, src_ip6: 28,
  src_port: 44, dst_port: 48, dst_ip4: 52, dst_ip6: 56, state: 72, rx_queue_mapping: 76,
} as const;
export const BPF_SOCK_SIZE = 80;

/** struct bpf_tcp_sock: 112 bytes. */
export const BPF_TCP_SOCK = {
  snd_cwnd: 0, srtt_us: 4, rtt_min: 8, snd_ssthresh: 12, rcv_nxt: 16, snd_nxt: 20, snd_una: 24,
  mss_cache: 28, ecn_flags: 32, rate_delivered: 36, rate_interval_us: 40, packets_out: 44,
  retrans_out: 48, total_retrans: 52, segs_in: 56, data_segs_in: 60, segs_out: 64, data_segs_out: 68,
  lost_out: 72, sacked_out: 76, bytes_received: 80, bytes_acked: 88, dsack_dups: 96, delivered: 100,
  delivered_ce: 104, icsk_retransmits: 108,
} as const;
export const BPF_TCP_SOCK_SIZE = 112;

/** struct bpf_sk_lookup: 72 bytes (sk and cookie share offset 0). */
export const BPF_SK_LOOKUP = {
  sk: 0, cookie: 0, family: 8, protocol: 12, remote_ip4: 16, remote_ip6: 20, remote_port: 36,
  local_ip4: 40, local_ip6: 44, local_port: 60, ingress_ifindex: 64,
} as const;
export const BPF_SK_LOOKUP_SIZE = 72;

/** struct bpf_sock_tuple's two forms: ipv4 {saddr, daddr, sport, dport}, ipv6 {saddr[4], daddr[4], sport, dport}. */
export const BPF_SOCK_TUPLE_IPV4_SIZE = 12;
export const BPF_SOCK_TUPLE_IPV6_SIZE = 36;

/**
 * Where a socket slot's region (interp/sock-slots.ts) keeps each view: a PTR_TO_SOCKET or
 * PTR_TO_SOCK_COMMON points at offset 0 (struct bpf_sock), a PTR_TO_TCP_SOCK at TCP_SOCK.
 */
export const SOCK_SLOT = { SOCK: 0, TCP_SOCK: 128, SIZE: 256 } as const;

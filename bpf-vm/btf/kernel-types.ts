// vxo's kernel structures, as data: the single table vxo's kernel BTF (kernel-btf.ts) is built from,
// `vxo btf dump --format c` writes as vmlinux.h, and the run time will use to map a BTF-typed load at
// an offset back to a field of vxo's socket and skb objects.
//
// Why the layout is vxo's own: vxo's kernel is not a C kernel. Its sockets are TypeScript objects
// (net/core/sock-common.ts, sock.ts, net/ipv4/tcp-sock.ts, net/core/request-sock.ts, skbuff.ts), so
// there is no memory layout to describe; the offsets here are the ones a C compiler gives these
// declarations (natural alignment, SysV bitfield packing, computed by kernel-btf.ts), which is exactly
// what a vmlinux.h from this table makes clang assume. A program built against another kernel's
// vmlinux.h still runs: CO-RE relocates its field accesses by name against this BTF, as libbpf does
// against a real kernel's. At run time a load through a PTR_TO_BTF_ID register at offset `off` is
// resolved through this table (KernelBtf.fieldAt) to the field, and the field to the property of the
// same name on vxo's object (or `model` where vxo's name differs); fields vxo does not model read 0.
// vxo keeps addresses and ports in host order: a field declared __be16/__be32 is byte-swapped on load.
//
// Names and types are the kernel's (u32 where the kernel says u32, __be32 where it says __be32, the
// anonymous unions of sock_common), trimmed to the fields that matter to BPF programs; pointers to
// structures vxo does not describe are pointers to forward declarations (struct net, struct proto).
//
// Type expressions are C: 'u32', '__be16', 'unsigned char', 'struct sock *', 'const struct proto *',
// 'volatile unsigned char', '__u8[48]', 'void *'. A struct, union or typedef used by value must be
// declared in this file; one only pointed to may be left undeclared (it becomes a FWD).
import { BPF_PROG_TYPE } from '../prog/types.ts';

/** One member of a struct or union. */
export interface KMember {
  /** '' for an anonymous struct/union member. */
  readonly name: string;
  /** A type expression, or an inline anonymous struct/union. */
  readonly type: string | KAnon;
  /** Width of a bitfield, in bits. */
  readonly bits?: number;
  /** The property of vxo's object this field reads, when its name differs from the field's. */
  readonly model?: string;
}

/** An anonymous struct or union written inline (the kernel's `union { ... };`). */
export interface KAnon {
  readonly kind: 'struct' | 'union';
  readonly members: readonly KMember[];
}

export interface KStruct {
  readonly kind: 'struct' | 'union';
  readonly name: string;
  readonly members: readonly KMember[];
  /** vxo's class whose objects this struct describes, for the run time's field mapping. */
  readonly vxo?: string;
}

/** `typedef <type> <name>`; `type` may be an inline anonymous struct (atomic_t). */
export interface KTypedef {
  readonly kind: 'typedef';
  readonly name: string;
  readonly type: string | KAnon;
}

export interface KEnum {
  readonly kind: 'enum';
  /** '' for the kernel's anonymous enums (the TCP states). */
  readonly name: string;
  readonly values: readonly (readonly [string, number])[];
}

/** A base type: BTF_KIND_INT with the DWARF name pahole gives it. */
export interface KInt {
  readonly kind: 'int';
  readonly name: string;
  readonly size: number;
  readonly signed: boolean;
  readonly encoding?: 'bool';
}

export type KDecl = KInt | KTypedef | KStruct | KEnum;

const m = (name: string, type: string | KAnon, bits?: number): KMember => (bits === undefined ? { name, type } : { name, type, bits });
const union = (...members: KMember[]): KAnon => ({ kind: 'union', members });
const struct = (...members: KMember[]): KAnon => ({ kind: 'struct', members });
const int = (name: string, size: number, signed: boolean, encoding?: 'bool'): KInt =>
  encoding === undefined ? { kind: 'int', name, size, signed } : { kind: 'int', name, size, signed, encoding };
const typedef = (name: string, type: string | KAnon): KTypedef => ({ kind: 'typedef', name, type });

/**
 * Everything vxo's kernel BTF declares, in BTF id order (dependencies need not come first: the
 * builder resolves names over the whole table).
 */
export const KERNEL_DECLS: readonly KDecl[] = [
  // --- base types (the DWARF names pahole writes) and the kernel's typedefs ---
  int('int', 4, true),
  int('unsigned int', 4, false),
  int('char', 1, false), // pahole: no encoding for plain char
  int('unsigned char', 1, false),
  int('signed char', 1, true),
  int('short int', 2, true),
  int('short unsigned int', 2, false),
  int('long int', 8, true),
  int('long unsigned int', 8, false),
  int('long long int', 8, true),
  int('long long unsigned int', 8, false),
  int('_Bool', 1, false, 'bool'),
  typedef('__s8', 'signed char'),
  typedef('__u8', 'unsigned char'),
  typedef('__s16', 'short int'),
  typedef('__u16', 'short unsigned int'),
  typedef('__s32', 'int'),
  typedef('__u32', 'unsigned int'),
  typedef('__s64', 'long long int'),
  typedef('__u64', 'long long unsigned int'),
  typedef('s8', '__s8'),
  typedef('u8', '__u8'),
  typedef('s16', '__s16'),
  typedef('u16', '__u16'),
  typedef('s32', '__s32'),
  typedef('u32', '__u32'),
  typedef('s64', '__s64'),
  typedef('u64', '__u64'),
  typedef('__be16', '__u16'),
  typedef('__be32', '__u32'),
  typedef('__be64', '__u64'),
  typedef('__wsum', '__u32'),
  typedef('__sum16', '__u16'),
  typedef('bool', '_Bool'),
  typedef('__addrpair', '__u64'),
  typedef('__portpair', '__u32'),
  typedef('__kernel_uid32_t', 'unsigned int'),
  typedef('uid_t', '__kernel_uid32_t'),
  typedef('kuid_t', struct(m('val', 'uid_t'))),
  typedef('atomic_t', struct(m('counter', 'int'))),
  typedef('atomic64_t', struct(m('counter', 's64'))),
  { kind: 'struct', name: 'refcount_struct', members: [m('refs', 'atomic_t')] },
  typedef('refcount_t', 'struct refcount_struct'),
  typedef('possible_net_t', struct(m('net', 'struct net *'))),
  typedef('ktime_t', 's64'),
  typedef('sk_buff_data_t', 'unsigned int'),

  { kind: 'struct', name: 'in6_addr', members: [m('in6_u', union(m('u6_addr8', '__u8[16]'), m('u6_addr16', '__be16[8]'), m('u6_addr32', '__be32[4]')))] },

  // The TCP states (include/net/tcp_states.h: an anonymous enum).
  {
    kind: 'enum', name: '', values: [
      ['TCP_ESTABLISHED', 1], ['TCP_SYN_SENT', 2], ['TCP_SYN_RECV', 3], ['TCP_FIN_WAIT1', 4], ['TCP_FIN_WAIT2', 5],
      ['TCP_TIME_WAIT', 6], ['TCP_CLOSE', 7], ['TCP_CLOSE_WAIT', 8], ['TCP_LAST_ACK', 9], ['TCP_LISTEN', 10],
      ['TCP_CLOSING', 11], ['TCP_NEW_SYN_RECV', 12], ['TCP_BOUND_INACTIVE', 13], ['TCP_MAX_STATES', 14],
    ],
  },

  // --- struct sock_common: net/core/sock-common.ts ---
  {
    kind: 'struct', name: 'sock_common', vxo: 'SockCommon', members: [
      m('', union(m('skc_addrpair', '__addrpair'), m('', struct(m('skc_daddr', '__be32'), m('skc_rcv_saddr', '__be32'))))),
      m('', union(m('skc_hash', 'unsigned int'), m('skc_u16hashes', '__u16[2]'))),
      m('', union(m('skc_portpair', '__portpair'), m('', struct(m('skc_dport', '__be16'), m('skc_num', '__u16'))))),
      m('skc_family', 'short unsigned int'),
      m('skc_state', 'volatile unsigned char'),
      m('skc_reuse', 'unsigned char', 4),
      m('skc_reuseport', 'unsigned char', 1),
      m('skc_ipv6only', 'unsigned char', 1),
      m('skc_net_refcnt', 'unsigned char', 1),
      m('skc_bound_dev_if', 'int'),
      m('skc_prot', 'struct proto *'),
      m('skc_net', 'possible_net_t'),
      m('skc_v6_daddr', 'struct in6_addr'),
      m('skc_v6_rcv_saddr', 'struct in6_addr'),
      m('skc_cookie', 'atomic64_t'),
      // rsk_listener is __req_common.skc_listener (vxo: RequestSock.rsk_listener).
      m('', union(m('skc_flags', 'long unsigned int'), { name: 'skc_listener', type: 'struct sock *', model: 'rsk_listener' }, m('skc_tw_dr', 'struct inet_timewait_death_row *'))),
      m('skc_tx_queue_mapping', 'short unsigned int'),
      m('skc_rx_queue_mapping', 'short unsigned int'),
      m('', union(m('skc_incoming_cpu', 'int'), m('skc_rcv_wnd', 'u32'), m('skc_tw_rcv_nxt', 'u32'))),
      m('skc_refcnt', 'refcount_t'),
    ],
  },

  // --- struct sock: net/core/sock.ts ---
  {
    kind: 'struct', name: 'sock', vxo: 'Sock', members: [
      m('__sk_common', 'struct sock_common'),
      m('sk_rcvlowat', 'int'),
      m('sk_rcvbuf', 'int'),
      m('sk_sndbuf', 'int'),
      m('sk_wmem_queued', 'int'),
      m('sk_forward_alloc', 'int'),
      m('sk_drops', 'atomic_t'),
      m('sk_err', 'int'),
      m('sk_err_soft', 'int'),
      m('sk_ack_backlog', 'u32'),
      m('sk_max_ack_backlog', 'u32'),
      m('sk_priority', '__u32'),
      m('sk_mark', '__u32'),
      m('sk_uid', 'kuid_t'),
      m('sk_txhash', 'u32'),
      m('sk_gso_disabled', 'u8', 1),
      m('sk_kern_sock', 'u8', 1),
      m('sk_no_check_tx', 'u8', 1),
      m('sk_no_check_rx', 'u8', 1),
      m('sk_shutdown', 'u8'),
      m('sk_type', 'u16'),
      m('sk_protocol', 'u16'),
      m('sk_userlocks', 'u8'),
      m('sk_flags', 'long unsigned int'),
      m('sk_lingertime', 'long int'),
      m('sk_socket', 'struct socket *'),
      m('sk_filter', 'struct sk_filter *'),
      m('sk_reuseport_cb', 'struct sock_reuseport *'),
      m('sk_prot_creator', 'struct proto *'),
      m('sk_cgrp_data', 'u64'),
    ],
  },

  // --- struct inet_sock (the inet part of net/core/sock.ts's Sock) ---
  {
    kind: 'struct', name: 'inet_sock', vxo: 'Sock', members: [
      m('sk', 'struct sock'),
      m('pinet6', 'struct ipv6_pinfo *'),
      m('inet_saddr', '__be32'),
      m('uc_ttl', '__s16'),
      m('inet_sport', '__be16'),
      m('inet_flags', 'long unsigned int'),
      m('inet_opt', 'struct ip_options_rcu *'),
      m('inet_id', 'u16'),
      m('tos', '__u8'),
      m('min_ttl', '__u8'),
      m('mc_ttl', '__u8'),
      m('pmtudisc', '__u8'),
      m('rcv_tos', '__u8'),
      m('convert_csum', '__u8'),
      m('uc_index', 'int'),
      m('mc_index', 'int'),
      m('mc_addr', '__be32'),
      m('local_port_range', 'u32'),
    ],
  },

  // --- struct inet_connection_sock (icsk_* of net/ipv4/tcp-sock.ts) ---
  {
    kind: 'struct', name: 'inet_connection_sock', vxo: 'TcpSock', members: [
      m('icsk_inet', 'struct inet_sock'),
      m('icsk_bind_hash', 'struct inet_bind_bucket *'),
      m('icsk_timeout', 'long unsigned int'),
      m('icsk_rto', '__u32'),
      m('icsk_rto_min', '__u32'),
      m('icsk_delack_max', '__u32'),
      m('icsk_pmtu_cookie', '__u32'),
      m('icsk_ca_ops', 'const struct tcp_congestion_ops *'),
      m('icsk_af_ops', 'const struct inet_connection_sock_af_ops *'),
      m('icsk_ca_state', '__u8', 5),
      m('icsk_ca_initialized', '__u8', 1),
      m('icsk_ca_setsockopt', '__u8', 1),
      m('icsk_ca_dst_locked', '__u8', 1),
      m('icsk_retransmits', '__u8'),
      m('icsk_pending', '__u8'),
      m('icsk_backoff', '__u8'),
      m('icsk_syn_retries', '__u8'),
      m('icsk_probes_out', '__u8'),
      m('icsk_ext_hdr_len', '__u16'),
      m('icsk_ack', struct(
        m('pending', '__u8'), m('quick', '__u8'), m('pingpong', '__u8'), m('retry', '__u8'),
        m('ato', '__u32'), m('lrcvtime', '__u32'), m('last_seg_size', '__u16'), m('rcv_mss', '__u16'),
        m('timeout', 'long unsigned int'),
      )),
      m('icsk_user_timeout', '__u32'),
      m('icsk_ca_priv', 'u64[13]'),
    ],
  },

  // struct tcp_options_received (tp->rx_opt).
  {
    kind: 'struct', name: 'tcp_options_received', vxo: 'TcpOptionsReceived', members: [
      m('ts_recent_stamp', 'int'),
      m('ts_recent', 'u32'),
      m('rcv_tsval', 'u32'),
      m('rcv_tsecr', 'u32'),
      m('saw_tstamp', 'u16', 1),
      m('tstamp_ok', 'u16', 1),
      m('dsack', 'u16', 1),
      m('wscale_ok', 'u16', 1),
      m('sack_ok', 'u16', 3),
      m('smc_ok', 'u16', 1),
      m('snd_wscale', 'u16', 4),
      m('rcv_wscale', 'u16', 4),
      m('saw_unknown', 'u8', 1),
      m('unused', 'u8', 7),
      m('num_sacks', 'u8'),
      m('user_mss', 'u16'),
      m('mss_clamp', 'u16'),
    ],
  },

  // --- struct tcp_sock: net/ipv4/tcp-sock.ts ---
  {
    kind: 'struct', name: 'tcp_sock', vxo: 'TcpSock', members: [
      m('inet_conn', 'struct inet_connection_sock'),
      m('tcp_header_len', 'u16'),
      m('gso_segs', 'u16'),
      m('pred_flags', '__be32'),
      m('bytes_received', 'u64'),
      m('segs_in', 'u32'),
      m('data_segs_in', 'u32'),
      m('rcv_nxt', 'u32'),
      m('copied_seq', 'u32'),
      m('rcv_wup', 'u32'),
      m('snd_nxt', 'u32'),
      m('segs_out', 'u32'),
      m('data_segs_out', 'u32'),
      m('bytes_sent', 'u64'),
      m('bytes_acked', 'u64'),
      m('dsack_dups', 'u32'),
      m('snd_una', 'u32'),
      m('snd_sml', 'u32'),
      m('rcv_tstamp', 'u32'),
      m('lsndtime', 'u32'),
      m('last_oow_ack_time', 'u32'),
      m('compressed_ack_rcv_nxt', 'u32'),
      m('tsoffset', 'u32'),
      m('snd_wl1', 'u32'),
      m('snd_wnd', 'u32'),
      m('max_window', 'u32'),
      m('mss_cache', 'u32'),
      m('window_clamp', 'u32'),
      m('rcv_ssthresh', 'u32'),
      m('advmss', 'u16'),
      m('nonagle', 'u8', 4),
      m('thin_lto', 'u8', 1),
      m('recvmsg_inq', 'u8', 1),
      m('repair', 'u8', 1),
      m('frto', 'u8', 1),
      m('ecn_flags', 'u8'),
      m('srtt_us', 'u32'),
      m('mdev_us', 'u32'),
      m('mdev_max_us', 'u32'),
      m('rttvar_us', 'u32'),
      m('rtt_seq', 'u32'),
      m('packets_out', 'u32'),
      m('retrans_out', 'u32'),
      m('max_packets_out', 'u32'),
      m('cwnd_usage_seq', 'u32'),
      m('urg_data', 'u16'),
      m('keepalive_probes', 'u8'),
      m('is_cwnd_limited', 'u8'),
      m('reordering', 'u32'),
      m('reord_seen', 'u32'),
      m('snd_up', 'u32'),
      m('rx_opt', 'struct tcp_options_received'),
      m('snd_ssthresh', 'u32'),
      m('snd_cwnd', 'u32'),
      m('snd_cwnd_cnt', 'u32'),
      m('snd_cwnd_clamp', 'u32'),
      m('snd_cwnd_used', 'u32'),
      m('snd_cwnd_stamp', 'u32'),
      m('prior_cwnd', 'u32'),
      m('prr_delivered', 'u32'),
      m('prr_out', 'u32'),
      m('delivered', 'u32'),
      m('delivered_ce', 'u32'),
      m('lost', 'u32'),
      m('app_limited', 'u32'),
      m('rate_delivered', 'u32'),
      m('rate_interval_us', 'u32'),
      m('rcv_wnd', 'u32'),
      m('write_seq', 'u32'),
      m('notsent_lowat', 'u32'),
      m('pushed_seq', 'u32'),
      m('lost_out', 'u32'),
      m('sacked_out', 'u32'),
      m('total_retrans', 'u32'),
      m('urg_seq', 'u32'),
      m('keepalive_time', 'unsigned int'),
      m('keepalive_intvl', 'unsigned int'),
      m('linger2', 'int'),
      m('rcv_isn', 'u32'),
      m('snd_isn', 'u32'),
      m('tcp_mstamp', 'u64'),
      m('first_tx_mstamp', 'u64'),
      m('delivered_mstamp', 'u64'),
      m('bytes_retrans', 'u64'),
      m('high_seq', 'u32'),
      m('retrans_stamp', 'u32'),
      m('undo_marker', 'u32'),
      m('undo_retrans', 'int'),
      m('prior_ssthresh', 'u32'),
      m('total_rto', 'u32'),
    ],
  },

  // --- request sockets: net/core/request-sock.ts (one vxo class holds all three levels) ---
  {
    kind: 'struct', name: 'request_sock', vxo: 'RequestSock', members: [
      m('__req_common', 'struct sock_common'),
      m('dl_next', 'struct request_sock *'),
      m('mss', 'u16'),
      m('num_retrans', 'u8'),
      m('syncookie', 'u8', 1),
      m('num_timeout', 'u8', 7),
      m('ts_recent', 'u32'),
      m('rsk_ops', 'const struct request_sock_ops *'),
      m('sk', 'struct sock *'),
      m('saved_syn', 'struct saved_syn *'),
      m('secid', 'u32'),
      m('peer_secid', 'u32'),
      m('timeout', 'u32'),
    ],
  },
  {
    kind: 'struct', name: 'inet_request_sock', vxo: 'RequestSock', members: [
      m('req', 'struct request_sock'),
      m('snd_wscale', 'u16', 4),
      m('rcv_wscale', 'u16', 4),
      m('tstamp_ok', 'u16', 1),
      m('sack_ok', 'u16', 1),
      m('wscale_ok', 'u16', 1),
      m('ecn_ok', 'u16', 1),
      m('acked', 'u16', 1),
      m('no_srccheck', 'u16', 1),
      m('smc_ok', 'u16', 1),
      m('ir_mark', 'u32'),
      m('', union(m('ireq_opt', 'struct ip_options_rcu *'), m('', struct(m('ipv6_opt', 'struct ipv6_txoptions *'), m('pktopts', 'struct sk_buff *'))))),
    ],
  },
  {
    kind: 'struct', name: 'tcp_request_sock', vxo: 'RequestSock', members: [
      m('req', 'struct inet_request_sock'),
      m('af_specific', 'const struct tcp_request_sock_ops *'),
      m('snt_synack', 'u64'),
      m('tfo_listener', 'bool'),
      m('is_mptcp', 'bool'),
      m('req_usec_ts', 'bool'),
      m('txhash', 'u32'),
      m('rcv_isn', 'u32'),
      m('snt_isn', 'u32'),
      m('ts_off', 'u32'),
      m('last_oow_ack_time', 'u32'),
      m('rcv_nxt', 'u32'),
      m('syn_tos', 'u8'),
    ],
  },

  // --- IPv6 and UDP sockets, TIME_WAIT: the other targets of the bpf_skc_to_* casts ---
  // struct ipv6_pinfo lives in vxo's Sock itself (v6_saddr, hop_limit, tclass, rxopt).
  {
    kind: 'struct', name: 'ipv6_pinfo', vxo: 'Sock', members: [
      { name: 'saddr', type: 'struct in6_addr', model: 'v6_saddr' },
      m('daddr_cache', 'const struct in6_addr *'),
      m('flow_label', '__be32'),
      m('frag_size', '__u32'),
      { name: 'hop_limit', type: 's16', model: 'hop_limit' },
      m('mcast_hops', 'u8'),
      m('ucast_oif', 'int'),
      m('mcast_oif', 'int'),
      m('rxopt', union({ name: 'all', type: '__u16', model: 'rxopt' })),
      m('srcprefs', '__u8'),
      { name: 'pmtudisc', type: '__u8', model: 'pmtudisc' },
      m('min_hopcount', '__u8'),
      { name: 'tclass', type: '__u8', model: 'tclass' },
      m('rcv_flowinfo', '__be32'),
    ],
  },
  // vxo's Sock is its own ipv6_pinfo (as inet_sock.pinet6 points at it): inet6's fields are the socket's properties.
  { kind: 'struct', name: 'tcp6_sock', vxo: 'TcpSock', members: [m('tcp', 'struct tcp_sock'), { name: 'inet6', type: 'struct ipv6_pinfo', model: '' }] },
  {
    kind: 'struct', name: 'udp_sock', vxo: 'Sock', members: [
      m('inet', 'struct inet_sock'), m('udp_flags', 'long unsigned int'), m('pending', 'int'), m('encap_type', '__u8'),
      m('len', '__u16'), m('gso_size', '__u16'), m('pcslen', '__u16'), m('pcrlen', '__u16'),
    ],
  },
  { kind: 'struct', name: 'udp6_sock', vxo: 'Sock', members: [m('udp', 'struct udp_sock'), { name: 'inet6', type: 'struct ipv6_pinfo', model: '' }] },
  // net/ipv4/inet-timewait-sock.ts (one vxo class for both levels).
  {
    kind: 'struct', name: 'inet_timewait_sock', vxo: 'InetTimewaitSock', members: [
      m('__tw_common', 'struct sock_common'),
      m('tw_mark', '__u32'),
      m('tw_substate', 'unsigned char'),
      m('tw_rcv_wscale', 'unsigned char'),
      m('tw_sport', '__be16'),
      m('tw_transparent', 'unsigned int', 1),
      m('tw_flowlabel', 'unsigned int', 20),
      m('tw_usec_ts', 'unsigned int', 1),
      m('tw_pad', 'unsigned int', 2),
      m('tw_tos', 'unsigned int', 8),
      m('tw_txhash', 'u32'),
      m('tw_priority', 'u32'),
      m('tw_tb', 'struct inet_bind_bucket *'),
    ],
  },
  {
    kind: 'struct', name: 'tcp_timewait_sock', vxo: 'InetTimewaitSock', members: [
      m('tw_sk', 'struct inet_timewait_sock'),
      m('tw_rcv_wnd', 'u32'), m('tw_ts_offset', 'u32'), m('tw_ts_recent', 'u32'), m('tw_last_oow_ack_time', 'u32'),
      m('tw_ts_recent_stamp', 'int'), m('tw_tx_delay', 'u32'), m('tw_rcv_nxt', 'u32'), m('tw_snd_nxt', 'u32'),
    ],
  },

  // --- struct sk_buff: net/core/skbuff.ts ---
  {
    kind: 'struct', name: 'sk_buff', vxo: 'SkBuff', members: [
      m('next', 'struct sk_buff *'),
      m('prev', 'struct sk_buff *'),
      m('dev', 'struct net_device *'),
      m('sk', 'struct sock *'),
      m('tstamp', 'ktime_t'),
      m('cb', 'char[48]'),
      m('_skb_refdst', 'long unsigned int'),
      m('destructor', 'void *'),
      m('len', 'unsigned int'),
      m('data_len', 'unsigned int'),
      m('mac_len', '__u16'),
      m('hdr_len', '__u16'),
      m('queue_mapping', '__u16'),
      m('cloned', '__u8', 1),
      m('nohdr', '__u8', 1),
      m('fclone', '__u8', 2),
      m('peeked', '__u8', 1),
      m('head_frag', '__u8', 1),
      m('pfmemalloc', '__u8', 1),
      m('pp_recycle', '__u8', 1),
      m('pkt_type', '__u8', 3),
      m('ignore_df', '__u8', 1),
      m('dst_pending_confirm', '__u8', 1),
      m('ip_summed', '__u8', 2),
      m('ooo_okay', '__u8', 1),
      m('l4_hash', '__u8', 1),
      m('sw_hash', '__u8', 1),
      m('tc_index', '__u16'),
      m('priority', '__u32'),
      m('skb_iif', 'int'),
      m('hash', '__u32'),
      m('', union(m('mark', '__u32'), m('reserved_tailroom', '__u32'))),
      m('inner_protocol', '__be16'),
      m('protocol', '__be16'),
      m('transport_header', '__u16'),
      m('network_header', '__u16'),
      m('mac_header', '__u16'),
      m('tail', 'sk_buff_data_t'),
      m('end', 'sk_buff_data_t'),
      m('head', 'unsigned char *'),
      m('data', 'unsigned char *'),
      m('truesize', 'unsigned int'),
      m('users', 'refcount_t'),
    ],
  },

  // --- uapi (include/uapi/linux/bpf.h): bpf-vm/prog/bpf-sock.ts has the same offsets ---
  {
    kind: 'struct', name: '__sk_buff', members: [
      m('len', '__u32'), m('pkt_type', '__u32'), m('mark', '__u32'), m('queue_mapping', '__u32'),
      m('protocol', '__u32'), m('vlan_present', '__u32'), m('vlan_tci', '__u32'), m('vlan_proto', '__u32'),
      m('priority', '__u32'), m('ingress_ifindex', '__u32'), m('ifindex', '__u32'), m('tc_index', '__u32'),
      m('cb', '__u32[5]'), m('hash', '__u32'), m('tc_classid', '__u32'), m('data', '__u32'), m('data_end', '__u32'),
      m('napi_id', '__u32'), m('family', '__u32'), m('remote_ip4', '__u32'), m('local_ip4', '__u32'),
      m('remote_ip6', '__u32[4]'), m('local_ip6', '__u32[4]'), m('remote_port', '__u32'), m('local_port', '__u32'),
      m('data_meta', '__u32'), m('', union(m('flow_keys', 'struct bpf_flow_keys *'))), m('tstamp', '__u64'),
      m('wire_len', '__u32'), m('gso_segs', '__u32'), m('', union(m('sk', 'struct bpf_sock *'))), m('gso_size', '__u32'),
      m('tstamp_type', '__u8'), m('hwtstamp', '__u64'),
    ],
  },
  {
    kind: 'struct', name: 'bpf_sock', members: [
      m('bound_dev_if', '__u32'), m('family', '__u32'), m('type', '__u32'), m('protocol', '__u32'), m('mark', '__u32'),
      m('priority', '__u32'), m('src_ip4', '__u32'), m('src_ip6', '__u32[4]'), m('src_port', '__u32'),
      m('dst_port', '__be16'), m('dst_ip4', '__u32'), m('dst_ip6', '__u32[4]'), m('state', '__u32'), m('rx_queue_mapping', '__s32'),
    ],
  },
  {
    kind: 'struct', name: 'bpf_tcp_sock', members: [
      m('snd_cwnd', '__u32'), m('srtt_us', '__u32'), m('rtt_min', '__u32'), m('snd_ssthresh', '__u32'), m('rcv_nxt', '__u32'),
      m('snd_nxt', '__u32'), m('snd_una', '__u32'), m('mss_cache', '__u32'), m('ecn_flags', '__u32'), m('rate_delivered', '__u32'),
      m('rate_interval_us', '__u32'), m('packets_out', '__u32'), m('retrans_out', '__u32'), m('total_retrans', '__u32'),
      m('segs_in', '__u32'), m('data_segs_in', '__u32'), m('segs_out', '__u32'), m('data_segs_out', '__u32'), m('lost_out', '__u32'),
      m('sacked_out', '__u32'), m('bytes_received', '__u64'), m('bytes_acked', '__u64'), m('dsack_dups', '__u32'),
      m('delivered', '__u32'), m('delivered_ce', '__u32'), m('icsk_retransmits', '__u32'),
    ],
  },
  {
    kind: 'struct', name: 'bpf_sock_tuple', members: [
      m('', union(
        m('ipv4', struct(m('saddr', '__be32'), m('daddr', '__be32'), m('sport', '__be16'), m('dport', '__be16'))),
        m('ipv6', struct(m('saddr', '__be32[4]'), m('daddr', '__be32[4]'), m('sport', '__be16'), m('dport', '__be16'))),
      )),
    ],
  },
  {
    kind: 'struct', name: 'bpf_sk_lookup', members: [
      m('', union(m('', union(m('sk', 'struct bpf_sock *'))), m('cookie', '__u64'))),
      m('family', '__u32'), m('protocol', '__u32'), m('remote_ip4', '__u32'), m('remote_ip6', '__u32[4]'),
      m('remote_port', '__be16'), m('local_ip4', '__u32'), m('local_ip6', '__u32[4]'), m('local_port', '__u32'),
      m('ingress_ifindex', '__u32'),
    ],
  },
  {
    kind: 'struct', name: 'xdp_md', members: [
      m('data', '__u32'), m('data_end', '__u32'), m('data_meta', '__u32'), m('ingress_ifindex', '__u32'),
      m('rx_queue_index', '__u32'), m('egress_ifindex', '__u32'),
    ],
  },
  // Packet headers (include/uapi/linux/if_ether.h, ip.h, ipv6.h, tcp.h, udp.h), as programs built
  // on vmlinux.h alone parse packets with them. Bitfields in little-endian order (ihl before version).
  { kind: 'struct', name: 'ethhdr', members: [m('h_dest', 'unsigned char[6]'), m('h_source', 'unsigned char[6]'), m('h_proto', '__be16')] },
  {
    kind: 'struct', name: 'iphdr', members: [
      m('ihl', '__u8', 4), m('version', '__u8', 4), m('tos', '__u8'), m('tot_len', '__be16'), m('id', '__be16'),
      m('frag_off', '__be16'), m('ttl', '__u8'), m('protocol', '__u8'), m('check', '__sum16'),
      m('', union(m('', struct(m('saddr', '__be32'), m('daddr', '__be32'))), m('addrs', struct(m('saddr', '__be32'), m('daddr', '__be32'))))),
    ],
  },
  {
    kind: 'struct', name: 'ipv6hdr', members: [
      m('priority', '__u8', 4), m('version', '__u8', 4), m('flow_lbl', '__u8[3]'), m('payload_len', '__be16'),
      m('nexthdr', '__u8'), m('hop_limit', '__u8'),
      m('', union(m('', struct(m('saddr', 'struct in6_addr'), m('daddr', 'struct in6_addr'))), m('addrs', struct(m('saddr', 'struct in6_addr'), m('daddr', 'struct in6_addr'))))),
    ],
  },
  {
    kind: 'struct', name: 'tcphdr', members: [
      m('source', '__be16'), m('dest', '__be16'), m('seq', '__be32'), m('ack_seq', '__be32'),
      m('res1', '__u16', 4), m('doff', '__u16', 4), m('fin', '__u16', 1), m('syn', '__u16', 1), m('rst', '__u16', 1),
      m('psh', '__u16', 1), m('ack', '__u16', 1), m('urg', '__u16', 1), m('ece', '__u16', 1), m('cwr', '__u16', 1),
      m('window', '__be16'), m('check', '__sum16'), m('urg_ptr', '__be16'),
    ],
  },
  { kind: 'struct', name: 'udphdr', members: [m('source', '__be16'), m('dest', '__be16'), m('len', '__be16'), m('check', '__sum16')] },
  { kind: 'enum', name: 'xdp_action', values: [['XDP_ABORTED', 0], ['XDP_DROP', 1], ['XDP_PASS', 2], ['XDP_TX', 3], ['XDP_REDIRECT', 4]] },
  { kind: 'enum', name: 'sk_action', values: [['SK_DROP', 0], ['SK_PASS', 1]] },
  // The uapi's anonymous flag enums (map update flags, the lookup helpers' netns argument).
  { kind: 'enum', name: '', values: [['BPF_ANY', 0], ['BPF_NOEXIST', 1], ['BPF_EXIST', 2], ['BPF_F_LOCK', 4]] },
  { kind: 'enum', name: '', values: [['BPF_F_CURRENT_NETNS', -1]] },
  { kind: 'enum', name: '', values: [['BPF_F_INGRESS', 1]] },

  // include/net/tcp.h (not uapi): sockets.md section 5's layout, 20 bytes.
  {
    kind: 'struct', name: 'bpf_tcp_req_attrs', members: [
      m('rcv_tsval', 'u32'), m('rcv_tsecr', 'u32'), m('mss', 'u16'), m('rcv_wscale', 'u8'), m('snd_wscale', 'u8'),
      m('ecn_ok', 'u8'), m('wscale_ok', 'u8'), m('sack_ok', 'u8'), m('tstamp_ok', 'u8'), m('usec_ts_ok', 'u8'),
      m('reserved', 'u8[3]'),
    ],
  },
  {
    kind: 'enum', name: 'bpf_map_type', values: [
      'UNSPEC', 'HASH', 'ARRAY', 'PROG_ARRAY', 'PERF_EVENT_ARRAY', 'PERCPU_HASH', 'PERCPU_ARRAY', 'STACK_TRACE',
      'CGROUP_ARRAY', 'LRU_HASH', 'LRU_PERCPU_HASH', 'LPM_TRIE', 'ARRAY_OF_MAPS', 'HASH_OF_MAPS', 'DEVMAP', 'SOCKMAP',
      'CPUMAP', 'XSKMAP', 'SOCKHASH', 'CGROUP_STORAGE', 'REUSEPORT_SOCKARRAY', 'PERCPU_CGROUP_STORAGE', 'QUEUE', 'STACK',
      'SK_STORAGE', 'DEVMAP_HASH', 'STRUCT_OPS', 'RINGBUF', 'INODE_STORAGE', 'TASK_STORAGE', 'BLOOM_FILTER',
      'USER_RINGBUF', 'CGRP_STORAGE', 'ARENA',
    ].map((n, i) => [`BPF_MAP_TYPE_${n}`, i] as const),
  },
];

/**
 * The kernel's btf_sock_ids (include/linux/btf_ids.h BTF_SOCK_TYPE_*): the structs the socket
 * helpers take and return as BTF pointers, by the struct's name. bpf_skc_to_tcp_sock returns
 * PTR_TO_BTF_ID_OR_NULL of BTF_SOCK_TYPE_TCP, and so on (HELPER_RET_BTF_STRUCT).
 */
export const BTF_SOCK_TYPE = {
  BTF_SOCK_TYPE_INET: 'inet_sock',
  BTF_SOCK_TYPE_INET_CONN: 'inet_connection_sock',
  BTF_SOCK_TYPE_INET_REQ: 'inet_request_sock',
  BTF_SOCK_TYPE_INET_TW: 'inet_timewait_sock',
  BTF_SOCK_TYPE_REQ: 'request_sock',
  BTF_SOCK_TYPE_SOCK: 'sock',
  BTF_SOCK_TYPE_SOCK_COMMON: 'sock_common',
  BTF_SOCK_TYPE_TCP: 'tcp_sock',
  BTF_SOCK_TYPE_TCP_REQ: 'tcp_request_sock',
  BTF_SOCK_TYPE_TCP_TW: 'tcp_timewait_sock',
  BTF_SOCK_TYPE_TCP6: 'tcp6_sock',
  BTF_SOCK_TYPE_UDP: 'udp_sock',
  BTF_SOCK_TYPE_UDP6: 'udp6_sock',
} as const;

/** The struct each bpf_skc_to_* helper's PTR_TO_BTF_ID_OR_NULL points to (net/core/filter.c). */
export const HELPER_RET_BTF_STRUCT: Readonly<Record<string, string>> = {
  bpf_skc_to_tcp6_sock: BTF_SOCK_TYPE.BTF_SOCK_TYPE_TCP6,
  bpf_skc_to_tcp_sock: BTF_SOCK_TYPE.BTF_SOCK_TYPE_TCP,
  bpf_skc_to_tcp_timewait_sock: BTF_SOCK_TYPE.BTF_SOCK_TYPE_TCP_TW,
  bpf_skc_to_tcp_request_sock: BTF_SOCK_TYPE.BTF_SOCK_TYPE_TCP_REQ,
  bpf_skc_to_udp6_sock: BTF_SOCK_TYPE.BTF_SOCK_TYPE_UDP6,
};

/** A kfunc's flags (include/linux/btf.h KF_*), for the verifier's checks. */
export const KF = {
  KF_ACQUIRE: 1 << 0,
  KF_RELEASE: 1 << 1,
  KF_RET_NULL: 1 << 2,
  KF_TRUSTED_ARGS: 1 << 4,
  KF_SLEEPABLE: 1 << 5,
  KF_DESTRUCTIVE: 1 << 6,
  KF_RCU: 1 << 7,
} as const;

/** One kfunc: its C prototype (parameters as `type name`) and what the verifier needs to know. */
export interface KFunc {
  readonly name: string;
  readonly ret: string;
  readonly params: readonly (readonly [type: string, name: string])[];
  /** KF_* bits. */
  readonly flags: number;
  /** The BPF_PROG_TYPE_* that may call it; empty: every type. */
  readonly progTypes: readonly number[];
}

/**
 * vxo's kfuncs: BTF_KIND_FUNC (global linkage) + FUNC_PROTO in vxo's kernel BTF, each tagged with
 * the `bpf_kfunc` DECL_TAG pahole adds, so that vmlinux.h declares them as a kernel's does. Adding
 * a kfunc here is one line; its implementation and verifier checks live with the helpers.
 */
export const KERNEL_KFUNCS: readonly KFunc[] = [
  {
    name: 'bpf_sk_assign_tcp_reqsk', ret: 'int',
    params: [['struct __sk_buff *', 's'], ['struct sock *', 'sk'], ['struct bpf_tcp_req_attrs *', 'attrs'], ['int', 'attrs__sz']],
    flags: KF.KF_TRUSTED_ARGS, progTypes: [BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS],
  },
  { name: 'bpf_cast_to_kern_ctx', ret: 'void *', params: [['void *', 'obj']], flags: 0, progTypes: [] },
  { name: 'bpf_rdonly_cast', ret: 'void *', params: [['const void *', 'obj__ign'], ['u32', 'btf_id__k']], flags: 0, progTypes: [] },
  { name: 'bpf_rcu_read_lock', ret: 'void', params: [], flags: 0, progTypes: [] },
  { name: 'bpf_rcu_read_unlock', ret: 'void', params: [], flags: 0, progTypes: [] },
];

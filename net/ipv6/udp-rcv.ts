// The UDP receive path for IPv6 (__udp6_lib_rcv, udpv6_queue_rcv_skb) and ICMPv6 errors
// (__udp6_lib_err with icmpv6_err_convert). The shape of IPv4's (../ipv4/udp-rcv.ts), with
// Udp6 counters, a mandatory checksum (a zero one is a checksum error), a jumbo length of 0
// meaning "the payload length", and ff00::/8 multicast delivered to every matching socket.
import type { Sock } from '../core/sock.ts';
import {
  SKB_DROP_REASONS,
  consume_skb,
  kfree_skb_reason,
  skb_clone,
  skb_pull,
  type SkBuff,
} from '../core/skbuff.ts';
import { In6Addr, ipv6_addr_any, ipv6_addr_equal } from '../core/in6-addr.ts';
import type { Net } from '../core/net-namespace.ts';
import { AF_INET6 } from '../core/socket-constants.ts';
import { TCP_ESTABLISHED } from '../core/tcp-states.ts';
import { E } from '../core/sock-opts.ts';
import { __udp6_lib_lookup } from './udp6-lookup.ts';
import { udp_hashslot } from '../ipv4/udp-table.ts';
import { udp_sk_bound_dev_eq } from '../ipv4/udp-lookup.ts';
import { UDP_HDR_LEN, __udp_enqueue_schedule_skb, udp_rcv_pull } from '../ipv4/udp-rcv.ts';
import { udp_report_error } from '../ipv4/udp-err.ts';
import { udp6_csum_bad } from './udp-csum.ts';
import { ipv6_hdr_addr } from './ipv6-hdr-addr.ts';
import { icmpv6_send, ICMPV6 } from './icmp.ts';
import { sk_filter, sk_filter_trim_cap } from '../core/sk-filter.ts';

const {
  SKB_DROP_REASON_PKT_TOO_SMALL, SKB_DROP_REASON_UDP_CSUM, SKB_DROP_REASON_NO_SOCKET, SKB_DROP_REASON_SOCKET_RCVBUFF, SKB_DROP_REASON_SOCKET_FILTER,
} = SKB_DROP_REASONS;

/** The packet's addresses, parsed into these for the lookup (one packet at a time). */
const saddr = new In6Addr();
const daddr = new In6Addr();

/**
 * udpv6_queue_rcv_skb (udpv6_queue_rcv_one_skb): the socket filter as IPv4's (the checksum first,
 * a drop is Udp6InErrors and sk_drops), then pull the header and queue, or drop as
 * Udp6RcvbufErrors + Udp6InErrors.
 */
export function udpv6_queue_rcv_skb(sk: Sock, skb: SkBuff): number {
  if (sk_filter(sk) !== undefined) {
    const mib = sk.skc_net.mib.ipv6;
    let reason = 0;
    if (udp6_csum_bad(skb, skb.len)) {
      mib.Udp6InCsumErrors++;
      reason = SKB_DROP_REASON_UDP_CSUM;
    } else if (sk_filter_trim_cap(sk, skb, UDP_HDR_LEN) !== 0) {
      reason = SKB_DROP_REASON_SOCKET_FILTER;
    }
    if (reason !== 0) {
      mib.Udp6InErrors++;
      sk.sk_drops++;
      kfree_skb_reason(skb, reason);
      return -1;
    }
  }
  skb_pull(skb, UDP_HDR_LEN);
  if (__udp_enqueue_schedule_skb(sk, skb) < 0) {
    const mib = sk.skc_net.mib.ipv6;
    mib.Udp6RcvbufErrors++;
    mib.Udp6InErrors++;
    kfree_skb_reason(skb, SKB_DROP_REASON_SOCKET_RCVBUFF);
    return -1;
  }
  return 0;
}

/** __udp_v6_is_mcast_sock. */
function __udp_v6_is_mcast_sock(net: Net, sk: Sock, dport: number, sport: number, dif: number): boolean {
  return (
    sk.skc_net === net &&
    sk.skc_family === AF_INET6 &&
    sk.skc_num === dport &&
    !(sk.skc_dport !== 0 && sk.skc_dport !== sport) &&
    (ipv6_addr_any(sk.skc_v6_daddr) || ipv6_addr_equal(sk.skc_v6_daddr, saddr)) &&
    (ipv6_addr_any(sk.skc_v6_rcv_saddr) || ipv6_addr_equal(sk.skc_v6_rcv_saddr, daddr)) &&
    udp_sk_bound_dev_eq(net, sk.skc_bound_dev_if, dif, 0)
  );
}

/** __udp6_lib_mcast_deliver: a clone to each matching socket (group membership not modelled). */
function __udp6_lib_mcast_deliver(net: Net, skb: SkBuff, sport: number, dport: number): number {
  const slot = udp_hashslot(net.ipv4.udp_table, net, dport);
  const dif = skb.skb_iif;
  let first: Sock | null = null;
  for (let i = 0; i < slot.length; i++) {
    const sk = slot[i]!;
    if (!__udp_v6_is_mcast_sock(net, sk, dport, sport, dif)) continue;
    if (first === null) first = sk;
    else udpv6_queue_rcv_skb(sk, skb_clone(skb));
  }
  if (first !== null) udpv6_queue_rcv_skb(first, skb);
  else consume_skb(skb);
  return 0;
}

function udp6_drop(net: Net, skb: SkBuff, csum: boolean, reason: number): number {
  if (csum) net.mib.ipv6.Udp6InCsumErrors++;
  net.mib.ipv6.Udp6InErrors++;
  kfree_skb_reason(skb, reason);
  return 0;
}

/** udpv6_rcv: inet6_protos[IPPROTO_UDP].handler. */
export function udpv6_rcv(skb: SkBuff): number {
  return __udp6_lib_rcv(skb);
}

/** __udp6_lib_rcv: a datagram from ip6_input (skb.data at the UDP header). */
export function __udp6_lib_rcv(skb: SkBuff): number {
  const dev = skb.dev;
  const net = dev !== null ? dev.nd_net : null;
  if (net === null) {
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NOT_SPECIFIED);
    return 0;
  }
  const ulen = udp_rcv_pull(skb, true);
  if (ulen === 0) return udp6_drop(net, skb, false, SKB_DROP_REASON_PKT_TOO_SMALL);
  const v = skb.view;
  const th = skb.transport_header;
  const nh = skb.network_header;
  ipv6_hdr_addr(skb.head, nh + 8, saddr);
  ipv6_hdr_addr(skb.head, nh + 24, daddr);
  const sport = v.getUint16(th);
  const dport = v.getUint16(th + 2);
  const zero_csum = v.getUint16(th + 6) === 0;

  if (daddr.w0 >>> 24 === 0xff) {
    if (zero_csum) return udp6_drop(net, skb, true, SKB_DROP_REASON_UDP_CSUM);
    return __udp6_lib_mcast_deliver(net, skb, sport, dport);
  }
  const sk = __udp6_lib_lookup(net, net.ipv4.udp_table, saddr, sport, daddr, dport, skb.skb_iif, 0, skb);
  if (sk !== undefined) {
    if (zero_csum) return udp6_drop(net, skb, true, SKB_DROP_REASON_UDP_CSUM);
    udpv6_queue_rcv_skb(sk, skb);
    return 0;
  }
  if (zero_csum || udp6_csum_bad(skb, ulen)) return udp6_drop(net, skb, true, SKB_DROP_REASON_UDP_CSUM);
  net.mib.ipv6.Udp6NoPorts++;
  icmpv6_send(skb, ICMPV6.ICMPV6_DEST_UNREACH, ICMPV6.ICMPV6_PORT_UNREACH, 0);
  kfree_skb_reason(skb, SKB_DROP_REASON_NO_SOCKET);
  return 0;
}

/** tab_unreach of icmpv6_err_convert: errno and fatality of each ICMPV6_DEST_UNREACH code. */
const tab_unreach: readonly { errno: number; fatal: boolean }[] = [
  { errno: E.ENETUNREACH, fatal: false }, //  ICMPV6_NOROUTE
  { errno: E.EACCES, fatal: true }, //        ICMPV6_ADM_PROHIBITED
  { errno: E.EHOSTUNREACH, fatal: false }, // ICMPV6_NOT_NEIGHBOUR
  { errno: E.EHOSTUNREACH, fatal: false }, // ICMPV6_ADDR_UNREACH
  { errno: E.ECONNREFUSED, fatal: true }, //  ICMPV6_PORT_UNREACH
  { errno: E.EACCES, fatal: true }, //        ICMPV6_POLICY_FAIL
  { errno: E.EACCES, fatal: true }, //        ICMPV6_REJECT_ROUTE
];

/** icmpv6_err_convert: [errno, fatal] for an ICMPv6 error. */
export function icmpv6_err_convert(type: number, code: number): { errno: number; fatal: boolean } {
  switch (type) {
    case ICMPV6.ICMPV6_DEST_UNREACH:
      return tab_unreach[code] ?? { errno: E.EPROTO, fatal: true };
    case ICMPV6.ICMPV6_PKT_TOOBIG:
      return { errno: E.EMSGSIZE, fatal: false };
    case ICMPV6.ICMPV6_PARAMPROB:
      return { errno: E.EPROTO, fatal: true };
    case ICMPV6.ICMPV6_TIME_EXCEED:
      return { errno: E.EHOSTUNREACH, fatal: false };
    default:
      return { errno: E.EPROTO, fatal: false };
  }
}

/**
 * __udp6_lib_err: skb.data at the quoted IPv6 header, the UDP header `offset` bytes on. The
 * sending socket takes the error as IPv4's does (connected + fatal, or IPV6_RECVERR); a
 * Packet Too Big is fatal unless IPV6_PMTUDISC_DONT.
 */
export function udpv6_err(skb: SkBuff, type: number, code: number, offset: number, _info: number): number {
  const dev = skb.dev;
  const net = dev !== null ? dev.nd_net : null;
  if (net === null) return -E.ENOENT;
  const h = skb.data;
  const uh = h + offset;
  const v = skb.view;
  const qs = new In6Addr().read(skb.head, h + 8);
  const qd = new In6Addr().read(skb.head, h + 24);
  const sk = __udp6_lib_lookup(net, net.ipv4.udp_table, qd, v.getUint16(uh + 2), qs, v.getUint16(uh), skb.skb_iif, 0, null);
  if (sk === undefined) {
    net.mib.ipv6.Icmp6InErrors++;
    return -E.ENOENT;
  }
  if (type === ICMPV6.NDISC_REDIRECT) return 0;
  const conv = icmpv6_err_convert(type, code);
  let harderr = conv.fatal;
  if (type === ICMPV6.ICMPV6_PKT_TOOBIG && sk.pmtudisc !== 0) harderr = true;
  if (!sk.recverr) {
    if (!harderr || sk.skc_state !== TCP_ESTABLISHED) return 0;
  }
  udp_report_error(sk, conv.errno);
  return 0;
}

// The UDP receive path for IPv4 (__udp4_lib_rcv, udp_queue_rcv_skb, __udp_enqueue_schedule_skb):
// header and length checks, the socket lookup, the receive buffer. The hot path of a UDP flood:
// it allocates nothing (numbers, the pooled skb, the preallocated tables).
//
// As in Linux, a datagram for a socket has its checksum verified when it is read (udp_recvmsg),
// not here: only a datagram no socket takes is checked now (a bad one is a checksum error, not
// "no port"). A zero checksum means "none" over IPv4.
import type { Sock } from '../core/sock.ts';
import { SOCK_FLAGS } from '../core/sock.ts';
import {
  CHECKSUM_UNNECESSARY,
  PACKET_BROADCAST,
  PACKET_MULTICAST,
  SKB_DROP_REASONS,
  __skb_queue_tail,
  consume_skb,
  kfree_skb_reason,
  pskb_may_pull,
  skb_clone,
  skb_pull,
  skb_trim,
  type SkBuff,
} from '../core/skbuff.ts';
import { csum_partial, csum_tcpudp_magic } from '../core/checksum.ts';
import { IPPROTO_UDP } from '../core/socket-constants.ts';
import type { Net } from '../core/net-namespace.ts';
import { __udp4_lib_lookup, udp_sk_bound_dev_eq } from './udp-lookup.ts';
import { udp_hashslot } from './udp-table.ts';
import { icmp_send, ICMP } from './icmp.ts';
import { sk_filter, sk_filter_trim_cap } from '../core/sk-filter.ts';

const {
  SKB_DROP_REASON_PKT_TOO_SMALL, SKB_DROP_REASON_UDP_CSUM, SKB_DROP_REASON_NO_SOCKET, SKB_DROP_REASON_SOCKET_RCVBUFF, SKB_DROP_REASON_SOCKET_FILTER,
} = SKB_DROP_REASONS;

export const UDP_HDR_LEN = 8;

/**
 * udp_lib_checksum_complete for a datagram whose UDP header is at skb.transport_header and
 * `ulen` long: true when the checksum is wrong. Over IPv4 a zero checksum is "none"; a device
 * that verified it (CHECKSUM_UNNECESSARY) is trusted.
 */
export function udp4_csum_bad(skb: SkBuff, ulen: number): boolean {
  if (skb.ip_summed === CHECKSUM_UNNECESSARY) return false;
  const th = skb.transport_header;
  const v = skb.view;
  if (v.getUint16(th + 6) === 0) return false;
  const nh = skb.network_header;
  const sum = csum_partial(skb.head, th, ulen, 0);
  if (csum_tcpudp_magic(v.getUint32(nh + 12), v.getUint32(nh + 16), ulen, IPPROTO_UDP, sum) !== 0) return true;
  skb.ip_summed = CHECKSUM_UNNECESSARY;
  return false;
}

/**
 * __udp_enqueue_schedule_skb: charge the datagram (its truesize) to sk_rmem_alloc and queue it.
 * A socket already over sk_rcvbuf takes nothing more (-ENOMEM): Linux lets the last datagram
 * overshoot the limit rather than checking it against the datagram's size.
 */
export function __udp_enqueue_schedule_skb(sk: Sock, skb: SkBuff): number {
  const rcvbuf = sk.sk_rcvbuf;
  if (sk.sk_rmem_alloc > rcvbuf) {
    sk.sk_drops++;
    return -12; /* -ENOMEM */
  }
  const size = skb.truesize;
  const rmem = sk.sk_rmem_alloc + size;
  if (rmem > size + rcvbuf) {
    sk.sk_drops++;
    return -12;
  }
  sk.sk_rmem_alloc = rmem;
  __skb_queue_tail(sk.sk_receive_queue, skb);
  if ((sk.sk_flags & SOCK_FLAGS.SOCK_DEAD) === 0) sk.sk_data_ready(sk);
  return 0;
}

/**
 * udp_queue_rcv_skb (udp_queue_rcv_one_skb + __udp_queue_rcv_skb) for IPv4 datagrams, whichever
 * family the socket: a socket filter first (with one attached the checksum is checked now, so the
 * program sees a valid datagram: a bad one is InCsumErrors + InErrors; the filter's drop is
 * InErrors, both also sk_drops), then the UDP header is pulled (the header stays at
 * transport_header for recvmsg), then the datagram is queued or dropped as RcvbufErrors + InErrors.
 */
export function udp_queue_rcv_skb(sk: Sock, skb: SkBuff): number {
  if (sk_filter(sk) !== undefined) {
    const mib = sk.skc_net.mib.udp;
    if (udp4_csum_bad(skb, skb.len)) {
      mib.InCsumErrors++;
      return udp_filter_drop(sk, skb, mib, SKB_DROP_REASON_UDP_CSUM);
    }
    if (sk_filter_trim_cap(sk, skb, UDP_HDR_LEN) !== 0) return udp_filter_drop(sk, skb, mib, SKB_DROP_REASON_SOCKET_FILTER);
  }
  skb_pull(skb, UDP_HDR_LEN);
  if (__udp_enqueue_schedule_skb(sk, skb) < 0) {
    const mib = sk.skc_net.mib.udp;
    mib.RcvbufErrors++;
    mib.InErrors++;
    kfree_skb_reason(skb, SKB_DROP_REASON_SOCKET_RCVBUFF);
    return -1;
  }
  return 0;
}

/** udp_queue_rcv_one_skb's drop: InErrors, sk_drops, freed with the reason. */
function udp_filter_drop(sk: Sock, skb: SkBuff, mib: { InErrors: number }, reason: number): number {
  mib.InErrors++;
  sk.sk_drops++;
  kfree_skb_reason(skb, reason);
  return -1;
}

/** __udp_is_mcast_sock: may sk take a broadcast/multicast datagram to (daddr, dport) from (saddr, sport)? */
function __udp_is_mcast_sock(net: Net, sk: Sock, dport: number, daddr: number, sport: number, saddr: number, dif: number): boolean {
  return (
    sk.skc_net === net &&
    sk.skc_num === dport &&
    !(sk.skc_daddr !== 0 && sk.skc_daddr !== saddr) &&
    !(sk.skc_dport !== 0 && sk.skc_dport !== sport) &&
    !(sk.skc_rcv_saddr !== 0 && sk.skc_rcv_saddr !== daddr) &&
    !sk.skc_ipv6only &&
    udp_sk_bound_dev_eq(net, sk.skc_bound_dev_if, dif, 0)
  );
}

/**
 * __udp4_lib_mcast_deliver: a broadcast or multicast datagram goes to every socket on the port
 * that accepts it (each a clone of the datagram); none: IgnoredMulti, no ICMP. Multicast group
 * membership is not modelled: any socket bound to the port and a matching address takes it.
 */
function __udp4_lib_mcast_deliver(net: Net, skb: SkBuff, saddr: number, daddr: number, sport: number, dport: number): number {
  const t = net.ipv4.udp_table;
  const slot = udp_hashslot(t, net, dport);
  const dif = skb.skb_iif;
  let first: Sock | null = null;
  for (let i = 0; i < slot.length; i++) {
    const sk = slot[i]!;
    if (!__udp_is_mcast_sock(net, sk, dport, daddr, sport, saddr, dif)) continue;
    if (first === null) {
      first = sk;
      continue;
    }
    udp_queue_rcv_skb(sk, skb_clone(skb));
  }
  if (first !== null) udp_queue_rcv_skb(first, skb);
  else {
    net.mib.udp.IgnoredMulti++;
    consume_skb(skb);
  }
  return 0;
}

/**
 * The header and length checks both families' receive paths start with (skb.data at the UDP
 * header): the header is there and its length fits the payload; over IPv6 (`jumbo`) a length of 0
 * means the payload's. The datagram is trimmed to that length and its transport header set;
 * returns the length, or 0 when the datagram is malformed (the caller counts and drops it).
 */
export function udp_rcv_pull(skb: SkBuff, jumbo: boolean): number {
  if (!pskb_may_pull(skb, UDP_HDR_LEN)) return 0;
  const th = skb.data;
  let ulen = skb.view.getUint16(th + 4);
  if (ulen > skb.len) return 0;
  if (ulen === 0 && jumbo) ulen = skb.len;
  if (ulen < UDP_HDR_LEN) return 0;
  skb_trim(skb, ulen);
  skb.transport_header = th;
  return ulen;
}

/** udp_rcv: inet_protos[IPPROTO_UDP].handler. */
export function udp_rcv(skb: SkBuff): number {
  return __udp4_lib_rcv(skb);
}

/**
 * __udp4_lib_rcv: a datagram from ip_local_deliver (skb.data at the UDP header, len the IP
 * payload). Short or inconsistent lengths are InErrors; a socket gets it queued; otherwise a
 * valid datagram is NoPorts and answered with ICMP port unreachable.
 */
export function __udp4_lib_rcv(skb: SkBuff): number {
  const dev = skb.dev;
  const net = dev !== null ? dev.nd_net : null;
  if (net === null) {
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NOT_SPECIFIED);
    return 0;
  }
  const mib = net.mib.udp;
  const ulen = udp_rcv_pull(skb, false);
  if (ulen === 0) {
    mib.InErrors++;
    kfree_skb_reason(skb, SKB_DROP_REASON_PKT_TOO_SMALL);
    return 0;
  }
  const v = skb.view;
  const th = skb.transport_header;
  const nh = skb.network_header;
  const saddr = v.getUint32(nh + 12);
  const daddr = v.getUint32(nh + 16);
  const sport = v.getUint16(th);
  const dport = v.getUint16(th + 2);

  if (skb.pkt_type === PACKET_BROADCAST || skb.pkt_type === PACKET_MULTICAST) {
    return __udp4_lib_mcast_deliver(net, skb, saddr, daddr, sport, dport);
  }

  const sk = __udp4_lib_lookup(net, net.ipv4.udp_table, saddr, sport, daddr, dport, skb.skb_iif, 0, skb);
  if (sk !== undefined) {
    udp_queue_rcv_skb(sk, skb);
    return 0;
  }

  if (udp4_csum_bad(skb, ulen)) {
    mib.InCsumErrors++;
    mib.InErrors++;
    kfree_skb_reason(skb, SKB_DROP_REASON_UDP_CSUM);
    return 0;
  }
  mib.NoPorts++;
  icmp_send(skb, ICMP.ICMP_DEST_UNREACH, ICMP.ICMP_PORT_UNREACH, 0);
  kfree_skb_reason(skb, SKB_DROP_REASON_NO_SOCKET);
  return 0;
}

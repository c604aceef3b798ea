// net/ipv4/icmp.c: ICMP receive (checksum, counters by type, echo answered, errors handed to the
// quoted protocol's err_handler) and icmp_send, the errors this host sends, under Linux's rules:
// never about an ICMP error, a broadcast or multicast, a non-first fragment or a datagram not
// addressed to this host's MAC; the quote is as much of the original as fits in 576 bytes; the
// per-netns token bucket (icmp_global_allow, msgs_per_sec / msgs_burst) and the per-destination
// limit (inet_peer_xrlim_allow, icmp_ratelimit) for the types in icmp_ratemask.
import {
  MAX_HEADER, PACKET_HOST, SKB_DROP_REASONS, alloc_skb, consume_skb, kfree_skb_reason, pskb_may_pull, skb_pull, skb_put,
  skb_reserve, type SkBuff,
} from '../core/skbuff.ts';
import { HZ } from '../core/clock.ts';
import { IFF } from '../core/netdevice.ts';
import type { Net } from '../core/net-namespace.ts';
import { csum_fold, csum_partial } from '../core/checksum.ts';
import { IPPROTO_ICMP } from '../core/socket-constants.ts';
import { Flowi4 } from '../core/flow.ts';
import { inet_add_protocol, inet_protos } from './protocol.ts';
import { RTN, RT_SCOPE, ip_route_output_key, rt_mtu, type Rtable, InetPeer, type InetPeerBase } from './route.ts';
import { inet_addr_type, inet_select_addr, inet_select_addr_scope } from './devinet.ts';
import { dev_get_by_index } from '../core/dev.ts';
import { ip_build_and_send_pkt } from './ip-output.ts';

/** include/uapi/linux/icmp.h */
export const ICMP = {
  ICMP_ECHOREPLY: 0, ICMP_DEST_UNREACH: 3, ICMP_SOURCE_QUENCH: 4, ICMP_REDIRECT: 5, ICMP_ECHO: 8,
  ICMP_TIME_EXCEEDED: 11, ICMP_PARAMETERPROB: 12, ICMP_TIMESTAMP: 13, ICMP_TIMESTAMPREPLY: 14,
  ICMP_INFO_REQUEST: 15, ICMP_INFO_REPLY: 16, ICMP_ADDRESS: 17, ICMP_ADDRESSREPLY: 18, NR_ICMP_TYPES: 18,
  // Codes for ICMP_DEST_UNREACH.
  ICMP_NET_UNREACH: 0, ICMP_HOST_UNREACH: 1, ICMP_PROT_UNREACH: 2, ICMP_PORT_UNREACH: 3, ICMP_FRAG_NEEDED: 4,
  ICMP_SR_FAILED: 5, ICMP_NET_UNKNOWN: 6, ICMP_HOST_UNKNOWN: 7, ICMP_HOST_ISOLATED: 8, ICMP_NET_ANO: 9,
  ICMP_HOST_ANO: 10, ICMP_NET_UNR_TOS: 11, ICMP_HOST_UNR_TOS: 12, ICMP_PKT_FILTERED: 13, ICMP_PREC_VIOLATION: 14,
  ICMP_PREC_CUTOFF: 15, NR_ICMP_UNREACH: 15,
  // Codes for ICMP_TIME_EXCEEDED.
  ICMP_EXC_TTL: 0, ICMP_EXC_FRAGTIME: 1,
} as const;
const { ICMP_ECHOREPLY, ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_TIMESTAMP, ICMP_ADDRESS, ICMP_ADDRESSREPLY, NR_ICMP_TYPES } = ICMP;

/** icmp_pointers[type].error: which types are errors (never answered with an error). */
const ICMP_IS_ERROR = new Uint8Array(NR_ICMP_TYPES + 1);
for (const t of [3, 4, 5, 11, 12]) ICMP_IS_ERROR[t] = 1;

const IPTOS_PREC_INTERNETCONTROL = 0xc0;
/** The ICMP header: type, code, checksum, 4 bytes of rest. */
export const ICMP_HDR_LEN = 8;
/** RFC 1812 4.3.2.3: an error carries at most 576 bytes. */
const ICMP_ERR_MAX = 576;
/** XRLIM_BURST_FACTOR: a destination may take up to 6 errors at once. */
const XRLIM_BURST_FACTOR = 6;

/** icmp_init: ICMP in inet_protos, the token bucket full at start (the kernel's jiffies start long before). */
export function icmp_init(net: Net): void {
  inet_add_protocol({ handler: icmp_rcv, err_handler: () => 0 }, IPPROTO_ICMP);
  net.ipv4.icmp_global_stamp = net.boot.clock.get_jiffies_64() - HZ;
  net.ipv4.icmp_global_credit = 0;
}

/** ICMPMSGIN_INC_STATS plus the named Icmp: counter /proc derives from it. */
function icmp_in_count(net: Net, type: number): void {
  const m = net.mib.icmp;
  m.InType[type] = m.InType[type]! + 1;
  switch (type) {
    case 0: m.InEchoReps++; break;
    case 3: m.InDestUnreachs++; break;
    case 8: m.InEchos++; break;
    case 11: m.InTimeExcds++; break;
    case 12: m.InParmProbs++; break;
  }
}

/** icmp_out_count: OutMsgs and the per-type count (what __ip_make_skb counts for ICMP). */
export function icmp_out_count(net: Net, type: number): void {
  const m = net.mib.icmp;
  m.OutType[type] = m.OutType[type]! + 1;
  m.OutMsgs++;
  switch (type) {
    case 0: m.OutEchoReps++; break;
    case 3: m.OutDestUnreachs++; break;
    case 8: m.OutEchos++; break;
    case 11: m.OutTimeExcds++; break;
  }
}

function net_of(skb: SkBuff): Net | null {
  return skb.dev?.nd_net ?? null;
}

/**
 * icmp_rcv: skb.data at the ICMP header, network_header at the IP header. Owns the skb.
 */
export function icmp_rcv(skb: SkBuff): number {
  const net = net_of(skb);
  if (net === null) {
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NOT_SPECIFIED);
    return 0;
  }
  const m = net.mib.icmp;
  m.InMsgs++;
  if (csum_fold(csum_partial(skb.head, skb.data, skb.len, 0)) !== 0) {
    m.InCsumErrors++;
    m.InErrors++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_ICMP_CSUM);
    return 0;
  }
  if (!pskb_may_pull(skb, ICMP_HDR_LEN)) {
    m.InErrors++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_PKT_TOO_SMALL);
    return 0;
  }
  const type = skb.head[skb.data]!;
  icmp_in_count(net, type);
  // RFC 1122 3.2.2: unknown types are silently discarded.
  if (type > NR_ICMP_TYPES) {
    m.InErrors++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_UNHANDLED_PROTO);
    return 0;
  }
  const dtype = inet_addr_type(net, skb.view.getUint32(skb.network_header + 16));
  if (dtype === RTN.RTN_BROADCAST || dtype === RTN.RTN_MULTICAST) {
    // RFC 1122 3.2.2.6 / 3.2.2.8: echo and timestamp to a broadcast may be ignored (a sysctl
    // decides); errors about broadcasts are never taken.
    if ((type === ICMP_ECHO || type === ICMP_TIMESTAMP) && net.ipv4.sysctl_icmp_echo_ignore_broadcasts !== 0) {
      m.InErrors++;
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_INVALID_PROTO);
      return 0;
    }
    if (type !== ICMP_ECHO && type !== ICMP_TIMESTAMP && type !== ICMP_ADDRESS && type !== ICMP_ADDRESSREPLY) {
      m.InErrors++;
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_INVALID_PROTO);
      return 0;
    }
  }
  let reason: number = SKB_DROP_REASONS.SKB_NOT_DROPPED_YET;
  switch (type) {
    case ICMP_ECHO:
      icmp_echo(net, skb);
      break;
    case ICMP.ICMP_DEST_UNREACH:
    case ICMP.ICMP_TIME_EXCEEDED:
    case ICMP.ICMP_PARAMETERPROB:
    case ICMP.ICMP_SOURCE_QUENCH:
      if (!icmp_unreach(skb)) {
        m.InErrors++;
        reason = SKB_DROP_REASONS.SKB_DROP_REASON_PKT_TOO_SMALL;
      }
      break;
    case ICMP_ECHOREPLY:
      // ping_rcv: no ping sockets here, so a reply finds no socket.
      reason = SKB_DROP_REASONS.SKB_DROP_REASON_NO_SOCKET;
      break;
    case ICMP_TIMESTAMP:
      if (skb.len < ICMP_HDR_LEN + 4) {
        m.InErrors++;
        reason = SKB_DROP_REASONS.SKB_DROP_REASON_PKT_TOO_SMALL;
      } else {
        icmp_timestamp(net, skb);
      }
      break;
    default:
      // Redirects, timestamps, address masks: counted and discarded (icmp_discard / not modelled).
      break;
  }
  if (reason === SKB_DROP_REASONS.SKB_NOT_DROPPED_YET) consume_skb(skb);
  else kfree_skb_reason(skb, reason);
  return 0;
}

/**
 * icmp_unreach: an error; skb.data moves to the quoted IP header, which must hold a whole header
 * and 8 bytes of the transport header (icmp_socket_deliver) before the protocol's err_handler
 * sees it. info: the next-hop MTU for fragmentation needed, the pointer for a parameter problem.
 */
function icmp_unreach(skb: SkBuff): boolean {
  const b = skb.head;
  const type = b[skb.data]!;
  const code = b[skb.data + 1]!;
  let info = 0;
  if (type === ICMP_DEST_UNREACH) {
    if (code === ICMP.ICMP_FRAG_NEEDED) info = skb.view.getUint16(skb.data + 6);
    if (code > ICMP.NR_ICMP_UNREACH) return true;
  } else if (type === ICMP.ICMP_PARAMETERPROB) {
    info = b[skb.data + 4]!;
  }
  skb_pull(skb, ICMP_HDR_LEN);
  if (!pskb_may_pull(skb, 20)) return false;
  const ihl = b[skb.data]! & 0x0f;
  if (ihl < 5) return false;
  if (!pskb_may_pull(skb, ihl * 4 + 8)) return false;
  const ipprot = inet_protos[b[skb.data + 9]!];
  if (ipprot !== undefined) ipprot.err_handler(skb, type, code, info);
  return true;
}

const fl4_tmp = new Flowi4();

/** icmp_echo + icmp_reply: the same identifier, sequence and data back, from the address asked. */
function icmp_echo(net: Net, skb: SkBuff): void {
  if (net.ipv4.sysctl_icmp_echo_ignore_all !== 0) return;
  const iph = skb.network_header;
  const v = skb.view;
  const saddr_in = v.getUint32(iph + 12);
  const daddr_in = v.getUint32(iph + 16);
  const tos = skb.head[iph + 1]!;
  // fib_compute_spec_dst: our address that was asked, or the device's for a broadcast.
  const src = inet_addr_type(net, daddr_in) === RTN.RTN_LOCAL ? daddr_in : (skb.dev !== null ? inet_select_addr(skb.dev, saddr_in) : 0);
  const fl4 = fl4_tmp;
  fl4.flowi4_oif = 0;
  fl4.flowi4_mark = 0;
  fl4.flowi4_proto = IPPROTO_ICMP;
  fl4.saddr = src;
  fl4.daddr = saddr_in;
  const rt = ip_route_output_key(net, fl4);
  if (typeof rt === 'number') return;
  const len = skb.len;
  const r = alloc_skb(MAX_HEADER + len);
  skb_reserve(r, MAX_HEADER);
  const o = skb_put(r, len);
  r.head.set(skb.head.subarray(skb.data, skb.data + len), o);
  r.head[o] = ICMP_ECHOREPLY;
  r.head[o + 1] = 0;
  icmp_csum(r, o, len);
  icmp_out_count(net, ICMP_ECHOREPLY);
  ip_build_and_send_pkt(r, net, null, fl4.saddr, saddr_in, IPPROTO_ICMP, { tos });
}

/**
 * icmp_timestamp: the originate timestamp back with receive and transmit times, in ms since
 * midnight UT (inet_current_timestamp). The machine has no wall clock, so its monotonic clock
 * stands in: ms since boot, modulo a day.
 */
function icmp_timestamp(net: Net, skb: SkBuff): void {
  const iph = skb.network_header;
  const v = skb.view;
  const saddr_in = v.getUint32(iph + 12);
  const daddr_in = v.getUint32(iph + 16);
  const now = Math.floor(net.boot.clock.ktime_get_ns() / 1e6) % 86_400_000;
  const r = alloc_skb(MAX_HEADER + ICMP_HDR_LEN + 12);
  skb_reserve(r, MAX_HEADER);
  const o = skb_put(r, ICMP_HDR_LEN + 12);
  r.head.set(skb.head.subarray(skb.data, skb.data + ICMP_HDR_LEN + 4), o);
  r.head[o] = ICMP.ICMP_TIMESTAMPREPLY;
  r.head[o + 1] = 0;
  r.view.setUint32(o + 12, now);
  r.view.setUint32(o + 16, now);
  icmp_csum(r, o, ICMP_HDR_LEN + 12);
  const src = inet_addr_type(net, daddr_in) === RTN.RTN_LOCAL ? daddr_in : 0;
  icmp_out_count(net, ICMP.ICMP_TIMESTAMPREPLY);
  ip_build_and_send_pkt(r, net, null, src, saddr_in, IPPROTO_ICMP, { tos: skb.head[iph + 1]! });
}

function icmp_csum(skb: SkBuff, off: number, len: number): void {
  const b = skb.head;
  b[off + 2] = 0;
  b[off + 3] = 0;
  const c = csum_fold(csum_partial(b, off, len, 0));
  b[off + 2] = c >>> 8;
  b[off + 3] = c & 0xff;
}

/** icmpv4_mask_allow: types outside icmp_ratemask (and fragmentation needed) are never limited. */
function icmpv4_mask_allow(net: Net, type: number, code: number): boolean {
  if (type > NR_ICMP_TYPES) return true;
  if (type === ICMP_DEST_UNREACH && code === ICMP.ICMP_FRAG_NEEDED) return true;
  return ((1 << type) & net.ipv4.sysctl_icmp_ratemask) === 0;
}

/**
 * icmp_global_allow: the per-netns token bucket. Credit left: yes. Else a refill of
 * msgs_per_sec per second elapsed (at most a second's, at least 20 ms apart), capped at burst.
 */
export function icmp_global_allow(net: Net): boolean {
  const st = net.ipv4;
  if (st.icmp_global_credit > 0) return true;
  const now = net.boot.clock.get_jiffies_64();
  const delta = Math.min(now - st.icmp_global_stamp, HZ);
  if (delta < HZ / 50) return false;
  const incr = Math.floor((st.sysctl_icmp_msgs_per_sec * delta) / HZ);
  if (incr === 0) return false;
  st.icmp_global_stamp = now;
  st.icmp_global_credit = Math.min(st.icmp_global_credit + incr, st.sysctl_icmp_msgs_burst);
  return true;
}

/** icmp_global_consume: 0, 1 or 2 credits at random, so the bucket is no clean side channel (CVE-2020-25705). */
export function icmp_global_consume(net: Net): void {
  const credits = net.boot.random.get_random_u32_below(3);
  if (credits !== 0) net.ipv4.icmp_global_credit -= credits;
}

/** icmpv4_global_allow: sets apply_ratelimit (returned as 2) when the bucket was consulted. */
function icmpv4_global_allow(net: Net, type: number, code: number): 0 | 1 | 2 {
  if (icmpv4_mask_allow(net, type, code)) return 1;
  if (icmp_global_allow(net)) return 2;
  net.mib.icmp.OutRateLimitGlobal++;
  return 0;
}

/** inet_peer_xrlim_allow: a token per `timeout` jiffies, at most XRLIM_BURST_FACTOR saved. */
export function inet_peer_xrlim_allow(peer: InetPeer, now: number, timeout: number): boolean {
  let token = peer.rate_tokens + (now - peer.rate_last);
  peer.rate_last = now;
  if (token > XRLIM_BURST_FACTOR * timeout) token = XRLIM_BURST_FACTOR * timeout;
  let rc = false;
  if (token >= timeout) {
    token -= timeout;
    rc = true;
  }
  peer.rate_tokens = token;
  return rc;
}

/** inet_getpeer: a new peer starts a minute in the past, so its first burst is whole. */
export function inet_getpeer(base: InetPeerBase, key: number | string, now: number): InetPeer {
  let p = base.peers.get(key);
  if (p === undefined) {
    p = new InetPeer();
    p.rate_last = now - 60 * HZ;
    base.peers.set(key, p);
  }
  return p;
}

/** icmpv4_xrlim_allow: the per-destination limit, except on lo. */
function icmpv4_xrlim_allow(net: Net, rt: Rtable, daddr: number, apply_ratelimit: boolean): boolean {
  if (!apply_ratelimit) return true;
  if ((rt.dst_dev.flags & IFF.IFF_LOOPBACK) !== 0) return true;
  const now = net.boot.clock.get_jiffies_64();
  const peer = inet_getpeer(net.ipv4.inet_peers, daddr >>> 0, now);
  const rc = inet_peer_xrlim_allow(peer, now, Math.ceil((net.ipv4.sysctl_icmp_ratelimit * HZ) / 1000));
  if (!rc) net.mib.icmp.OutRateLimitHost++;
  else icmp_global_consume(net);
  return rc;
}

/**
 * icmp_send (__icmp_send): an ICMP error about skb_in (network_header at its IP header). Does not
 * consume skb_in. Silently sends nothing where Linux would not (see the file comment).
 */
export function icmp_send(skb_in: SkBuff, type: number, code: number, info: number): void {
  const net = net_of(skb_in);
  if (net === null) return;
  const iph = skb_in.network_header;
  if (iph < 0 || iph + 20 > skb_in.tail) return;
  if (skb_in.pkt_type !== PACKET_HOST) return;
  const b = skb_in.head;
  const v = skb_in.view;
  const saddr_in = v.getUint32(iph + 12);
  const daddr_in = v.getUint32(iph + 16);
  const dtype = inet_addr_type(net, daddr_in);
  if (dtype === RTN.RTN_BROADCAST || dtype === RTN.RTN_MULTICAST) return;
  // Only about the first fragment.
  if ((v.getUint16(iph + 6) & 0x1fff) !== 0) return;
  const ihl = (b[iph]! & 0x0f) * 4;
  if (type <= NR_ICMP_TYPES && ICMP_IS_ERROR[type] === 1 && b[iph + 9] === IPPROTO_ICMP) {
    // Never an error about an error; an unreadable or unknown inner type counts as one.
    const it = iph + ihl;
    if (it >= skb_in.tail) return;
    const inner = b[it]!;
    if (inner > NR_ICMP_TYPES || ICMP_IS_ERROR[inner] === 1) return;
  }
  let apply_ratelimit = false;
  if (!(skb_in.dev !== null && (skb_in.dev.flags & IFF.IFF_LOOPBACK) !== 0)) {
    const g = icmpv4_global_allow(net, type, code);
    if (g === 0) return;
    apply_ratelimit = g === 2;
  }
  // Our address the datagram was for, else the route's choice (or, with
  // icmp_errors_use_inbound_ifaddr, the address of the device it came in by).
  let saddr = dtype === RTN.RTN_LOCAL ? daddr_in : 0;
  if (saddr === 0 && net.ipv4.sysctl_icmp_errors_use_inbound_ifaddr !== 0 && skb_in.cb.iif !== 0) {
    const idev = dev_get_by_index(net, skb_in.cb.iif);
    if (idev !== undefined) saddr = inet_select_addr_scope(idev, saddr_in, RT_SCOPE.RT_SCOPE_LINK);
  }
  const tos = ICMP_IS_ERROR[type] === 1 ? ((b[iph + 1]! & 0x1e) | IPTOS_PREC_INTERNETCONTROL) : b[iph + 1]!;
  const fl4 = fl4_tmp;
  fl4.flowi4_oif = 0;
  fl4.flowi4_mark = skb_in.mark;
  fl4.flowi4_proto = IPPROTO_ICMP;
  fl4.saddr = saddr;
  fl4.daddr = saddr_in;
  const rt = ip_route_output_key(net, fl4);
  if (typeof rt === 'number') return;
  if (!icmpv4_xrlim_allow(net, rt, saddr_in, apply_ratelimit)) return;
  const room = Math.min(rt_mtu(rt), ICMP_ERR_MAX) - 20 - ICMP_HDR_LEN;
  if (room <= 20) return;
  // The quote runs from the IP header to the end of what arrived (skb_in.data may be past it).
  let data_len = skb_in.tail - iph;
  if (data_len > room) data_len = room;
  const src = fl4.saddr !== 0 ? fl4.saddr : 0xc0000008; // INADDR_DUMMY (192.0.0.8)
  const r = alloc_skb(MAX_HEADER + ICMP_HDR_LEN + data_len);
  skb_reserve(r, MAX_HEADER);
  const o = skb_put(r, ICMP_HDR_LEN + data_len);
  const rb = r.head;
  rb[o] = type;
  rb[o + 1] = code;
  r.view.setUint32(o + 4, info >>> 0);
  rb.set(b.subarray(iph, iph + data_len), o + ICMP_HDR_LEN);
  icmp_csum(r, o, ICMP_HDR_LEN + data_len);
  icmp_out_count(net, type);
  ip_build_and_send_pkt(r, net, null, src, saddr_in, IPPROTO_ICMP, { tos });
}

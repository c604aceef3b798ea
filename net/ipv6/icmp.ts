// net/ipv6/icmp.c: ICMPv6 receive (checksum over the pseudo-header, counters, echo answered,
// errors to the quoted protocol's err_handler, neighbour discovery to ndisc_rcv) and icmpv6_send
// with RFC 4443 2.4's rules: never about an ICMPv6 error, a multicast destination (but Packet Too
// Big and unknown-option problems that ask for it) or an unspecified/multicast source; at most
// the IPv6 minimum MTU; the global token bucket IPv4 also draws from and a per-destination limit
// (icmpv6_ratelimit, scaled by the route's prefix length) for the types in icmpv6 ratemask.
import {
  MAX_HEADER, PACKET_HOST, SKB_DROP_REASONS, alloc_skb, consume_skb, kfree_skb_reason, pskb_may_pull, skb_pull, skb_put,
  skb_reserve, type SkBuff,
} from '../core/skbuff.ts';
import { HZ } from '../core/clock.ts';
import { IFF } from '../core/netdevice.ts';
import type { Net } from '../core/net-namespace.ts';
import { csum_ipv6_magic, csum_partial } from '../core/checksum.ts';
import { In6Addr, ipv6_addr_any, type ReadonlyIn6Addr } from '../core/in6-addr.ts';
import { IPPROTO_ICMPV6 } from '../core/socket-constants.ts';
import { Flowi6 } from '../core/flow.ts';
import { inet6_add_protocol, inet6_protos } from '../ipv4/protocol.ts';
import { icmp_global_allow, icmp_global_consume, inet_getpeer, inet_peer_xrlim_allow } from '../ipv4/icmp.ts';
import { ipv6_addr_is_multicast, ipv6_chk_addr } from './addrconf.ts';
import { ip6_route_output, rt6_mtu } from './route.ts';
import { ip6_build_and_send_pkt } from './ip6-output.ts';
import { ndisc_rcv } from './ndisc.ts';

/** include/uapi/linux/icmpv6.h */
export const ICMPV6 = {
  ICMPV6_DEST_UNREACH: 1, ICMPV6_PKT_TOOBIG: 2, ICMPV6_TIME_EXCEED: 3, ICMPV6_PARAMPROB: 4,
  ICMPV6_ECHO_REQUEST: 128, ICMPV6_ECHO_REPLY: 129,
  NDISC_ROUTER_SOLICITATION: 133, NDISC_ROUTER_ADVERTISEMENT: 134, NDISC_NEIGHBOUR_SOLICITATION: 135,
  NDISC_NEIGHBOUR_ADVERTISEMENT: 136, NDISC_REDIRECT: 137,
  ICMPV6_INFOMSG_MASK: 0x80, ICMPV6_MSG_MAX: 255,
  // Codes for ICMPV6_DEST_UNREACH.
  ICMPV6_NOROUTE: 0, ICMPV6_ADM_PROHIBITED: 1, ICMPV6_NOT_NEIGHBOUR: 2, ICMPV6_ADDR_UNREACH: 3, ICMPV6_PORT_UNREACH: 4,
  ICMPV6_POLICY_FAIL: 5, ICMPV6_REJECT_ROUTE: 6,
  // Codes for ICMPV6_TIME_EXCEED.
  ICMPV6_EXC_HOPLIMIT: 0, ICMPV6_EXC_FRAGTIME: 1,
  // Codes for ICMPV6_PARAMPROB.
  ICMPV6_HDR_FIELD: 0, ICMPV6_UNK_NEXTHDR: 1, ICMPV6_UNK_OPTION: 2,
} as const;
const { ICMPV6_INFOMSG_MASK, ICMPV6_PKT_TOOBIG, ICMPV6_PARAMPROB } = ICMPV6;

/** IPV6_MIN_MTU: an error carries at most this much. */
const IPV6_MIN_MTU = 1280;
export const ICMPV6_HDR_LEN = 8;

export function icmpv6_init(_net: Net): void {
  inet6_add_protocol({ handler: icmpv6_rcv, err_handler: () => 0 }, IPPROTO_ICMPV6);
}

function icmp6_in_count(net: Net, type: number): void {
  const m = net.mib.ipv6;
  switch (type) {
    case 1: m.Icmp6InDestUnreachs++; break;
    case 128: m.Icmp6InEchos++; break;
    case 129: m.Icmp6InEchoReplies++; break;
    case 135: m.Icmp6InNeighborSolicits++; break;
    case 136: m.Icmp6InNeighborAdvertisements++; break;
  }
}

/** ICMP6MSGOUT_INC_STATS + OutMsgs. */
export function icmp6_out_count(net: Net, type: number): void {
  const m = net.mib.ipv6;
  m.Icmp6OutMsgs++;
  switch (type) {
    case 1: m.Icmp6OutDestUnreachs++; break;
    case 128: m.Icmp6OutEchos++; break;
    case 129: m.Icmp6OutEchoReplies++; break;
    case 135: m.Icmp6OutNeighborSolicits++; break;
    case 136: m.Icmp6OutNeighborAdvertisements++; break;
  }
}

/** The ICMPv6 checksum of len bytes at off, with the pseudo-header for (saddr, daddr). */
export function icmpv6_csum(b: Uint8Array, off: number, len: number, saddr: ReadonlyIn6Addr, daddr: ReadonlyIn6Addr): number {
  return csum_ipv6_magic(saddr, daddr, len, IPPROTO_ICMPV6, csum_partial(b, off, len, 0));
}

const s_tmp = new In6Addr();
const d_tmp = new In6Addr();

function read6(skb: SkBuff, off: number, out: In6Addr): In6Addr {
  const v = skb.view;
  return out.set(v.getUint32(off), v.getUint32(off + 4), v.getUint32(off + 8), v.getUint32(off + 12));
}

/** icmpv6_rcv: skb.data at the ICMPv6 header, network_header at the IPv6 header. Owns the skb. */
export function icmpv6_rcv(skb: SkBuff): number {
  const net = skb.dev?.nd_net ?? null;
  if (net === null) {
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NOT_SPECIFIED);
    return 0;
  }
  const m = net.mib.ipv6;
  m.Icmp6InMsgs++;
  const saddr = read6(skb, skb.network_header + 8, s_tmp);
  const daddr = read6(skb, skb.network_header + 24, d_tmp);
  if (icmpv6_csum(skb.head, skb.data, skb.len, saddr, daddr) !== 0) {
    m.Icmp6InCsumErrors++;
    m.Icmp6InErrors++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_ICMP_CSUM);
    return 0;
  }
  if (!pskb_may_pull(skb, ICMPV6_HDR_LEN)) {
    m.Icmp6InErrors++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_PKT_TOO_SMALL);
    return 0;
  }
  const type = skb.head[skb.data]!;
  icmp6_in_count(net, type);
  let reason: number = SKB_DROP_REASONS.SKB_NOT_DROPPED_YET;
  switch (type) {
    case ICMPV6.ICMPV6_ECHO_REQUEST:
      if (net.ipv6.sysctl_icmpv6_echo_ignore_all === 0) icmpv6_echo_reply(net, skb);
      break;
    case ICMPV6.ICMPV6_ECHO_REPLY:
      // ping_rcv: no ping sockets here.
      reason = SKB_DROP_REASONS.SKB_DROP_REASON_NO_SOCKET;
      break;
    case ICMPV6.NDISC_ROUTER_SOLICITATION:
    case ICMPV6.NDISC_ROUTER_ADVERTISEMENT:
    case ICMPV6.NDISC_NEIGHBOUR_SOLICITATION:
    case ICMPV6.NDISC_NEIGHBOUR_ADVERTISEMENT:
    case ICMPV6.NDISC_REDIRECT:
      reason = ndisc_rcv(net, skb);
      break;
    default:
      // Informational types we don't handle are dropped quietly; errors of any type go up.
      if ((type & ICMPV6_INFOMSG_MASK) === 0) {
        if (!icmpv6_notify(skb)) {
          m.Icmp6InErrors++;
          reason = SKB_DROP_REASONS.SKB_DROP_REASON_PKT_TOO_SMALL;
        }
      }
  }
  if (reason === SKB_DROP_REASONS.SKB_NOT_DROPPED_YET || reason === SKB_DROP_REASONS.SKB_CONSUMED) consume_skb(skb);
  else kfree_skb_reason(skb, reason);
  return 0;
}

/**
 * icmpv6_notify: an error. skb.data moves to the quoted IPv6 header; extension headers are
 * skipped to find the transport (ipv6_skip_exthdr), whose 8 bytes must be there; its err_handler
 * gets the offset of the transport header from the quoted one.
 */
function icmpv6_notify(skb: SkBuff): boolean {
  const b = skb.head;
  const type = b[skb.data]!;
  const code = b[skb.data + 1]!;
  const info = skb.view.getUint32(skb.data + 4);
  skb_pull(skb, ICMPV6_HDR_LEN);
  if (!pskb_may_pull(skb, 40)) return false;
  let nexthdr = b[skb.data + 6]!;
  let off = 40;
  // ipv6_skip_exthdr over the options, routing and fragment headers.
  for (;;) {
    if (nexthdr === 0 || nexthdr === 43 || nexthdr === 60) {
      if (!pskb_may_pull(skb, off + 8)) return false;
      const n = b[skb.data + off]!;
      off += (b[skb.data + off + 1]! + 1) * 8;
      nexthdr = n;
    } else if (nexthdr === 44) {
      if (!pskb_may_pull(skb, off + 8)) return false;
      const n = b[skb.data + off]!;
      // Not the first fragment: no transport header to read.
      if ((skb.view.getUint16(skb.data + off + 2) & 0xfff8) !== 0) return true;
      off += 8;
      nexthdr = n;
    } else {
      break;
    }
  }
  if (!pskb_may_pull(skb, off + 8)) return false;
  const ipprot = inet6_protos[nexthdr];
  if (ipprot !== undefined) ipprot.err_handler(skb, type, code, off, info);
  return true;
}

const fl6_tmp = new Flowi6();

/** icmpv6_echo_reply: the request's identifier, sequence and data back, from the address asked. */
function icmpv6_echo_reply(net: Net, skb: SkBuff): void {
  const nh = skb.network_header;
  const saddr = read6(skb, nh + 8, new In6Addr());
  const daddr = read6(skb, nh + 24, new In6Addr());
  const tclass = (skb.view.getUint32(nh) >>> 20) & 0xff;
  const fl6 = fl6_tmp;
  fl6.flowi6_oif = 0;
  fl6.flowi6_proto = IPPROTO_ICMPV6;
  fl6.daddr.copy_from(saddr);
  // To a multicast group: answer from the address the route picks.
  if (ipv6_addr_is_multicast(daddr)) fl6.saddr.set(0, 0, 0, 0);
  else fl6.saddr.copy_from(daddr);
  if ((saddr.w0 >>> 22) === (0xfe80 >>> 6) && skb.dev !== null) fl6.flowi6_oif = skb.dev.ifindex;
  const rt = ip6_route_output(net, fl6);
  if (typeof rt === 'number') return;
  const src = new In6Addr().copy_from(fl6.saddr);
  const len = skb.len;
  const r = alloc_skb(MAX_HEADER + len);
  skb_reserve(r, MAX_HEADER);
  const o = skb_put(r, len);
  r.head.set(skb.head.subarray(skb.data, skb.data + len), o);
  r.head[o] = ICMPV6.ICMPV6_ECHO_REPLY;
  r.head[o + 1] = 0;
  r.head[o + 2] = 0;
  r.head[o + 3] = 0;
  r.view.setUint16(o + 2, icmpv6_csum(r.head, o, len, src, saddr));
  icmp6_out_count(net, ICMPV6.ICMPV6_ECHO_REPLY);
  ip6_build_and_send_pkt(r, net, null, src, saddr, IPPROTO_ICMPV6, { tclass, oif: fl6.flowi6_oif });
}

/** is_ineligible: an ICMPv6 error (or an unreadable ICMPv6 header) is never answered. */
function is_ineligible(skb: SkBuff): boolean {
  const b = skb.head;
  const nh = skb.network_header;
  let nexthdr = b[nh + 6]!;
  let off = 40;
  for (;;) {
    if (nexthdr === 0 || nexthdr === 43 || nexthdr === 60 || nexthdr === 44) {
      if (nh + off + 8 > skb.tail) return false;
      const n = b[nh + off]!;
      if (nexthdr === 44) {
        if ((skb.view.getUint16(nh + off + 2) & 0xfff8) !== 0) return false;
        off += 8;
      } else {
        off += (b[nh + off + 1]! + 1) * 8;
      }
      nexthdr = n;
      continue;
    }
    break;
  }
  if (nexthdr !== IPPROTO_ICMPV6) return false;
  if (nh + off >= skb.tail) return true;
  return (b[nh + off]! & ICMPV6_INFOMSG_MASK) === 0;
}

/** icmpv6_mask_allow: types outside the ratemask are never limited. */
function icmpv6_mask_allow(net: Net, type: number): boolean {
  if (type > ICMPV6.ICMPV6_MSG_MAX) return true;
  return net.ipv6.sysctl_icmpv6_ratemask[type] === 0;
}

/**
 * icmpv6_send (icmp6_send): an ICMPv6 error about skb_in (network_header at its IPv6 header).
 * Does not consume skb_in.
 */
export function icmpv6_send(skb_in: SkBuff, type: number, code: number, info: number): void {
  const net = skb_in.dev?.nd_net ?? null;
  if (net === null) return;
  const nh = skb_in.network_header;
  if (nh < 0 || nh + 40 > skb_in.tail) return;
  const hs = read6(skb_in, nh + 8, new In6Addr());
  const hd = read6(skb_in, nh + 24, new In6Addr());
  let saddr: In6Addr | null = ipv6_chk_addr(net, hd, skb_in.dev) ? hd : null;
  if (ipv6_addr_is_multicast(hd) || skb_in.pkt_type !== PACKET_HOST) {
    // Only Packet Too Big and an unknown option that asked for it (type bits 10) may answer these.
    const optAsks = type === ICMPV6_PARAMPROB && code === ICMPV6.ICMPV6_UNK_OPTION && nh + info < skb_in.tail
      && (skb_in.head[nh + info]! & 0xc0) === 0x80;
    if (type !== ICMPV6_PKT_TOOBIG && !optAsks) return;
    saddr = null;
  }
  if (ipv6_addr_any(hs) || ipv6_addr_is_multicast(hs)) return;
  if (is_ineligible(skb_in)) return;
  let apply_ratelimit = false;
  if (!(skb_in.dev !== null && (skb_in.dev.flags & IFF.IFF_LOOPBACK) !== 0)) {
    if (!icmpv6_mask_allow(net, type)) {
      if (!icmp_global_allow(net)) {
        net.mib.icmp.OutRateLimitGlobal++;
        return;
      }
      apply_ratelimit = true;
    }
  }
  const fl6 = fl6_tmp;
  fl6.flowi6_oif = (hs.w0 >>> 22) === (0xfe80 >>> 6) && skb_in.dev !== null ? skb_in.dev.ifindex : 0;
  fl6.flowi6_proto = IPPROTO_ICMPV6;
  fl6.daddr.copy_from(hs);
  if (saddr !== null) fl6.saddr.copy_from(saddr);
  else fl6.saddr.set(0, 0, 0, 0);
  const rt = ip6_route_output(net, fl6);
  if (typeof rt === 'number') {
    if (apply_ratelimit) net.mib.ipv6.Ip6OutNoRoutes++;
    return;
  }
  if (apply_ratelimit && (type & ICMPV6_INFOMSG_MASK) === 0 && type !== ICMPV6_PKT_TOOBIG && (rt.dst_dev.flags & IFF.IFF_LOOPBACK) === 0) {
    // Wider prefixes get more bandwidth: the timeout shrinks by the route's /32s below 128.
    let tmo = Math.ceil((net.ipv6.sysctl_icmpv6_ratelimit * HZ) / 1000);
    if (rt.rt6i_dst_plen < 128) tmo >>= (128 - rt.rt6i_dst_plen) >>> 5;
    const now = net.boot.clock.get_jiffies_64();
    const peer = inet_getpeer(net.ipv6.inet_peers, `${hs.w0},${hs.w1},${hs.w2},${hs.w3}`, now);
    if (!inet_peer_xrlim_allow(peer, now, tmo)) return;
    icmp_global_consume(net);
  }
  const src = new In6Addr().copy_from(fl6.saddr);
  let len = skb_in.tail - nh;
  len = Math.min(len, IPV6_MIN_MTU - 40 - ICMPV6_HDR_LEN, rt6_mtu(rt) - 40 - ICMPV6_HDR_LEN);
  if (len < 0) return;
  const r = alloc_skb(MAX_HEADER + ICMPV6_HDR_LEN + len);
  skb_reserve(r, MAX_HEADER);
  const o = skb_put(r, ICMPV6_HDR_LEN + len);
  r.head[o] = type;
  r.head[o + 1] = code;
  r.view.setUint16(o + 2, 0);
  r.view.setUint32(o + 4, info >>> 0);
  r.head.set(skb_in.head.subarray(nh, nh + len), o + ICMPV6_HDR_LEN);
  r.view.setUint16(o + 2, icmpv6_csum(r.head, o, ICMPV6_HDR_LEN + len, src, hs));
  icmp6_out_count(net, type);
  ip6_build_and_send_pkt(r, net, null, src, hs, IPPROTO_ICMPV6, { oif: fl6.flowi6_oif });
}

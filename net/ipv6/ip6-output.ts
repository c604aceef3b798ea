// net/ipv6/ip6_output.c: the IPv6 header on locally generated packets (traffic class, flow label,
// hop limit), routing, the MTU check, neighbour discovery, the device. Counters as IPv4's:
// Ip6OutRequests, Ip6OutNoRoutes, Ip6OutDiscards, Ip6OutTransmits, Ip6OutOctets.
//
// No fragmentation: a packet bigger than the path MTU fails with -EMSGSIZE (IPv6 routers never
// fragment, and the transports here size to the MTU; only an oversized UDP datagram differs from
// Linux, which would fragment it at the source).
//
// Flow labels are 0 unless the caller gives one: Linux's auto_flowlabels would derive one from
// the flow's hash (ip6_make_flowlabel), which nothing here reads.
import {
  ETH_P_IPV6, SKB_DROP_REASONS, kfree_skb_reason, skb_copy, skb_push, skb_reset_network_header, type SkBuff,
} from '../core/skbuff.ts';
import type { Net } from '../core/net-namespace.ts';
import type { Sock } from '../core/sock.ts';
import { Flowi6 } from '../core/flow.ts';
import { IPPROTO_TCP } from '../core/socket-constants.ts';
import { In6Addr, type ReadonlyIn6Addr } from '../core/in6-addr.ts';
import { eth_header } from '../ethernet/eth.ts';
import { dev_add_pack, dev_queue_xmit, NET_XMIT_SUCCESS } from '../core/dev.ts';
import { IFF } from '../core/netdevice.ts';
import { __neigh_lookup6, neigh_output, sock_confirm_neigh } from '../core/neighbour.ts';
import { Rt6Info, ip6_route_output, rt6_mtu, rt6_nexthop, rt6_valid } from './route.ts';
import { ipv6_addr_is_multicast, ipv6_chk_mcast_addr } from './addrconf.ts';
import { dev_loopback_xmit } from '../core/loopback.ts';
import { EHOSTUNREACH, EMSGSIZE, ENETUNREACH, ENOBUFS } from '../ipv4/ip-errno.ts';
import { ipv6_rcv } from './ip6-input.ts';
import { ICMPV6, icmpv6_init, icmpv6_send } from './icmp.ts';
import { ndisc_init } from './ndisc.ts';

export interface Ip6XmitOpts {
  hop_limit?: number;
  tclass?: number;
  oif?: number;
  flowlabel?: number;
  /** IPV6_MULTICAST_LOOP: a multicast to a group this host joined comes back to it (default true; ND's socket sets false). */
  mc_loop?: boolean;
}

export const IPV6_HDR_LEN = 40;

/** ipv6_init (inet6_init, ndisc_init, icmpv6_init): the ETH_P_IPV6 handler, ICMPv6 with ND. */
export function ipv6_init(net: Net): void {
  dev_add_pack(net, { type: ETH_P_IPV6, dev: null, func: (skb, dev) => ipv6_rcv(skb, dev) });
  ndisc_init(net);
  icmpv6_init(net);
}

/** ip6_dst_hoplimit / ip6_sk_dst_hoplimit: the socket's, else 1 for multicast, else the devconf's. */
function ip6_hoplimit(net: Net, sk: Sock | null, daddr: ReadonlyIn6Addr): number {
  if (sk !== null && sk.hop_limit >= 0) return sk.hop_limit;
  return ipv6_addr_is_multicast(daddr) ? 1 : net.ipv6.sysctl_hop_limit;
}

/** Pushes the 40-byte header in front of skb.data (the transport header). */
export function ip6_push_header(skb: SkBuff, tclass: number, flowlabel: number, nexthdr: number, hlim: number, saddr: ReadonlyIn6Addr, daddr: ReadonlyIn6Addr): void {
  skb.transport_header = skb.data;
  const plen = skb.len;
  const h = skb_push(skb, IPV6_HDR_LEN);
  skb_reset_network_header(skb);
  const v = skb.view;
  v.setUint32(h, ((6 << 28) | ((tclass & 0xff) << 20) | (flowlabel & 0xfffff)) >>> 0);
  v.setUint16(h + 4, plen);
  v.setUint8(h + 6, nexthdr);
  v.setUint8(h + 7, hlim);
  v.setUint32(h + 8, saddr.w0); v.setUint32(h + 12, saddr.w1); v.setUint32(h + 16, saddr.w2); v.setUint32(h + 20, saddr.w3);
  v.setUint32(h + 24, daddr.w0); v.setUint32(h + 28, daddr.w1); v.setUint32(h + 32, daddr.w2); v.setUint32(h + 36, daddr.w3);
  skb.protocol = ETH_P_IPV6;
}

const fl6_tmp = new Flowi6();
const ip6_daddr_tmp = new In6Addr();

/**
 * ip6_build_and_send_pkt: skb.data at a complete transport header (checksummed over the
 * pseudo-header with this saddr). Routes (-ENETUNREACH, counted Ip6OutNoRoutes), fills a ::
 * saddr from the route, pushes the header, sends. Consumes the skb.
 */
export function ip6_build_and_send_pkt(skb: SkBuff, net: Net, sk: Sock | null, saddr: ReadonlyIn6Addr, daddr: ReadonlyIn6Addr, nexthdr: number, opts?: Ip6XmitOpts): number {
  const fl6 = fl6_tmp;
  fl6.flowi6_oif = opts?.oif ?? sk?.skc_bound_dev_if ?? 0;
  fl6.flowi6_mark = sk?.sk_mark ?? 0;
  fl6.flowi6_proto = nexthdr;
  fl6.saddr.copy_from(saddr);
  fl6.daddr.copy_from(daddr);
  const rt = ip6_route_output(net, fl6);
  if (typeof rt === 'number') {
    if (rt === -ENETUNREACH) net.mib.ipv6.Ip6OutNoRoutes++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_IP_OUTNOROUTES);
    return rt;
  }
  const hlim = opts?.hop_limit ?? ip6_hoplimit(net, sk, daddr);
  ip6_push_header(skb, opts?.tclass ?? sk?.tclass ?? 0, opts?.flowlabel ?? 0, nexthdr, hlim, fl6.saddr, daddr);
  skb.mark = fl6.flowi6_mark;
  skb.priority = sk?.sk_priority ?? 0;
  if (sk !== null && skb.sk === null) skb.sk = sk;
  const err = ip6_local_out(net, skb, rt, opts?.mc_loop ?? true);
  // ip6_send_skb (UDP, ICMPv6): what the layers below refused is an Ip6OutDiscard; not TCP's.
  if (err !== 0 && nexthdr !== IPPROTO_TCP) net.mib.ipv6.Ip6OutDiscards++;
  return err;
}

/**
 * ip6_xmit: TCP's. Addresses from sk.v6_saddr and sk.skc_v6_daddr, the cached route while valid
 * (no route: Ip6OutNoRoutes, -EHOSTUNREACH). Consumes the skb.
 */
export function ip6_xmit(sk: Sock, skb: SkBuff): number {
  const net = sk.skc_net;
  let rt = sk.sk_dst_cache instanceof Rt6Info ? sk.sk_dst_cache : null;
  if (rt === null || !rt6_valid(net, rt)) {
    const fl6 = fl6_tmp;
    fl6.flowi6_oif = sk.skc_bound_dev_if;
    fl6.flowi6_mark = sk.sk_mark;
    fl6.flowi6_proto = sk.sk_protocol;
    fl6.saddr.copy_from(sk.v6_saddr);
    fl6.daddr.copy_from(sk.skc_v6_daddr);
    const r = ip6_route_output(net, fl6);
    if (typeof r === 'number') {
      sk.sk_dst_cache = null;
      net.mib.ipv6.Ip6OutNoRoutes++;
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_IP_OUTNOROUTES);
      return -EHOSTUNREACH;
    }
    rt = r;
    sk.sk_dst_cache = rt;
  }
  ip6_push_header(skb, sk.tclass, 0, sk.sk_protocol, ip6_hoplimit(net, sk, sk.skc_v6_daddr), sk.v6_saddr, sk.skc_v6_daddr);
  if (skb.len > rt6_mtu(rt)) {
    // ip6_xmit refuses it itself (ipv6_local_error), with no ICMP.
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_PKT_TOO_BIG);
    return -EMSGSIZE;
  }
  skb.mark = sk.sk_mark;
  skb.priority = sk.sk_priority;
  if (skb.sk === null) skb.sk = sk;
  return ip6_local_out(net, skb, rt, true);
}

/** ip6_local_out -> ip6_output: Ip6OutRequests, the MTU check, then ip6_finish_output2. */
export function ip6_local_out(net: Net, skb: SkBuff, rt: Rt6Info, mc_loop: boolean): number {
  const mib = net.mib.ipv6;
  mib.Ip6OutRequests++;
  skb.dev = rt.dst_dev;
  const mtu = rt6_mtu(rt);
  if (skb.len > mtu) {
    // ip6_fragment's fail_toobig: Packet Too Big to the sender (ourselves: the socket learns the MTU).
    icmpv6_send(skb, ICMPV6.ICMPV6_PKT_TOOBIG, 0, mtu);
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_PKT_TOO_BIG);
    return -EMSGSIZE;
  }
  return ip6_finish_output2(net, skb, rt, mc_loop);
}

/**
 * ip6_finish_output2: multicast maps to 33:33:xx:xx:xx:xx directly; unicast goes through the
 * neighbour of the next hop; devices without a link header skip both.
 */
function ip6_finish_output2(net: Net, skb: SkBuff, rt: Rt6Info, mc_loop: boolean): number {
  const dev = rt.dst_dev;
  const mib = net.mib.ipv6;
  mib.Ip6OutTransmits++;
  mib.Ip6OutOctets += skb.len;
  skb.dev = dev;
  const nh = skb.network_header;
  const v = skb.view;
  let rc: number;
  if (dev.hard_header_len === 0) {
    rc = dev_queue_xmit(skb);
  } else if ((dev.flags & (IFF.IFF_NOARP | IFF.IFF_POINTOPOINT)) !== 0) {
    // ndisc_constructor's NUD_NOARP entries: a NOARP device addresses frames to itself, a point-to-point
    // one to its broadcast address; nothing is resolved.
    eth_header(skb, dev, ETH_P_IPV6, (dev.flags & IFF.IFF_NOARP) !== 0 ? dev.dev_addr : dev.broadcast);
    rc = dev_queue_xmit(skb);
  } else if (skb.head[nh + 24] === 0xff) {
    // A group this host joined hears its own packet too (sk_mc_loop), as a copy received on dev.
    if (mc_loop && ipv6_chk_mcast_addr(dev, ip6_daddr_tmp.set(v.getUint32(nh + 24), v.getUint32(nh + 28), v.getUint32(nh + 32), v.getUint32(nh + 36)))) {
      dev_loopback_xmit(net, skb_copy(skb));
    }
    // ipv6_eth_mc_map: 33:33 and the group's last 32 bits.
    const h = skb_push(skb, 14);
    const b = skb.head;
    b[h] = 0x33; b[h + 1] = 0x33;
    b.set(b.subarray(nh + 36, nh + 40), h + 2);
    b.set(dev.dev_addr, h + 6);
    b[h + 12] = 0x86; b[h + 13] = 0xdd;
    skb.mac_header = h;
    rc = dev_queue_xmit(skb);
  } else {
    const daddr = ip6_daddr_tmp.set(v.getUint32(nh + 24), v.getUint32(nh + 28), v.getUint32(nh + 32), v.getUint32(nh + 36));
    const n = __neigh_lookup6(net.ipv6.nd_tbl, rt6_nexthop(rt, daddr), dev, true);
    if (n === undefined) {
      // ip6_finish_output2: the table is full (gc_thresh3) and nothing could be collected.
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NEIGH_CREATEFAIL);
      return -ENOBUFS;
    }
    sock_confirm_neigh(skb, n);
    rc = neigh_output(n, skb);
  }
  return rc !== NET_XMIT_SUCCESS ? -ENOBUFS : 0;
}

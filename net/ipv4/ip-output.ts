// net/ipv4/ip_output.c: the IPv4 header on locally generated datagrams (ID, TTL, DF, checksum),
// routing, the MTU check, the neighbour, the device. Counters where Linux counts them: OutRequests
// in ip_output, OutTransmits and OutOctets in ip_finish_output2, OutNoRoutes when no route,
// OutDiscards when a UDP/ICMP datagram is refused below (ip_send_skb), FragFails over the MTU.
//
// No fragmentation: a datagram bigger than the path MTU fails with -EMSGSIZE whether or not DF is
// set (Linux would fragment one without DF). The transports here size their segments to the MTU
// (TCP's MSS, UDP's EMSGSIZE check), so only an oversized UDP datagram without DF differs.
import {
  ETH_P_IP, SKB_DROP_REASONS, kfree_skb_reason, skb_copy, skb_push, skb_reset_network_header, type SkBuff,
} from '../core/skbuff.ts';
import type { Net } from '../core/net-namespace.ts';
import type { Sock } from '../core/sock.ts';
import { Flowi4 } from '../core/flow.ts';
import { IPPROTO_TCP } from '../core/socket-constants.ts';
import { csum_fold, csum_partial } from '../core/checksum.ts';
import { eth_header } from '../ethernet/eth.ts';
import { dev_add_pack, dev_queue_xmit, NET_XMIT_SUCCESS } from '../core/dev.ts';
import { IFF } from '../core/netdevice.ts';
import { __neigh_lookup4, neigh_output, sock_confirm_neigh } from '../core/neighbour.ts';
import { jhash3words } from '../../bpf-vm/maps/jhash.ts';
import { RTCF, RTN, Rtable, ip_route_output_key, ipv4_is_multicast, rt_mtu, rt_nexthop, rt_valid } from './route.ts';
import { EHOSTUNREACH, EMSGSIZE, ENETUNREACH, ENOBUFS } from './ip-errno.ts';
import { ip_rcv } from './ip-input.ts';
import { dev_loopback_xmit } from '../core/loopback.ts';
import { arp_init, arp_rcv } from './arp.ts';
import { ICMP, icmp_init, icmp_send } from './icmp.ts';

export interface IpXmitOpts {
  ttl?: number;
  tos?: number;
  oif?: number;
  df?: boolean;
  mark?: number;
}

/** IP_DF / IP_MF / IP_OFFSET of frag_off (host order). */
export const IP_DF = 0x4000;
export const IP_MF = 0x2000;
export const IP_OFFSET = 0x1fff;
export const IPHDR_LEN = 20;

/** IP_IDENTS_SZ: the ID counters __ip_select_ident spreads flows over. */
const IP_IDENTS_SZ = 2048;

/** ip_init (with arp_init and icmp_init): ETH_P_IP and ETH_P_ARP handlers, ICMP in inet_protos, the ID state. */
export function ip_init(net: Net): void {
  const st = net.ipv4;
  st.ip_idents = new Uint32Array(IP_IDENTS_SZ);
  st.ip_tstamps = new Uint32Array(IP_IDENTS_SZ);
  st.ip_id_key = net.boot.random.get_random_u32() | 0;
  for (let i = 0; i < IP_IDENTS_SZ; i++) st.ip_idents[i] = net.boot.random.get_random_u32();
  dev_add_pack(net, { type: ETH_P_IP, dev: null, func: (skb, dev) => ip_rcv(skb, dev) });
  arp_init(net);
  dev_add_pack(net, { type: 0x0806, dev: null, func: (skb, dev) => arp_rcv(skb, dev) });
  icmp_init(net);
}

/**
 * __ip_select_ident: an ID from the counter this (daddr, saddr, protocol) hashes to, advanced by
 * a random amount for the time since its last use, so IDs are not a global sequence an observer
 * could count. (The kernel hashes with siphash; this uses jhash with a per-netns key.)
 */
export function __ip_select_ident(net: Net, daddr: number, saddr: number, protocol: number, segs: number): number {
  const st = net.ipv4;
  const idents = st.ip_idents!;
  const tstamps = st.ip_tstamps!;
  const bucket = (jhash3words(daddr | 0, saddr | 0, protocol, st.ip_id_key) >>> 0) & (IP_IDENTS_SZ - 1);
  const now = net.boot.clock.get_jiffies_64() >>> 0;
  const old = tstamps[bucket]!;
  let delta = 0;
  if (old !== now) {
    tstamps[bucket] = now;
    delta = net.boot.random.get_random_u32_below(((now - old) >>> 0) || 1);
  }
  const id = (idents[bucket]! + delta) >>> 0;
  idents[bucket] = (id + segs) >>> 0;
  return id & 0xffff;
}

/** ip_select_ident_segs: DF datagrams of a connected socket count inet_id; other DF ones carry 0. */
function ip_select_ident(net: Net, sk: Sock | null, df: boolean, daddr: number, saddr: number, protocol: number): number {
  if (df) {
    if (sk !== null && sk.skc_daddr !== 0) {
      const id = sk.inet_id & 0xffff;
      sk.inet_id = (sk.inet_id + 1) & 0xffff;
      return id;
    }
    return 0;
  }
  return __ip_select_ident(net, daddr, saddr, protocol, 1);
}

/** ip_send_check: the header checksum over ihl words. */
export function ip_send_check(b: Uint8Array, off: number): void {
  b[off + 10] = 0;
  b[off + 11] = 0;
  const ihl = b[off]! & 0x0f;
  const c = csum_fold(csum_partial(b, off, ihl * 4, 0));
  b[off + 10] = c >>> 8;
  b[off + 11] = c & 0xff;
}

/** ip_select_ttl: the socket's IP_TTL, else 1 for multicast, else net.ipv4.ip_default_ttl. */
function ip_select_ttl(net: Net, sk: Sock | null, daddr: number): number {
  if (sk !== null && sk.uc_ttl >= 0) return sk.uc_ttl;
  return ipv4_is_multicast(daddr) ? 1 : net.ipv4.sysctl_ip_default_ttl;
}

/** Pushes a 20-byte header in front of skb.data (the transport header). */
function ip_push_header(skb: SkBuff, tos: number, id: number, df: boolean, ttl: number, protocol: number, saddr: number, daddr: number): void {
  skb.transport_header = skb.data;
  const h = skb_push(skb, IPHDR_LEN);
  skb_reset_network_header(skb);
  const v = skb.view;
  v.setUint8(h, 0x45);
  v.setUint8(h + 1, tos & 0xff);
  v.setUint16(h + 2, skb.len);
  v.setUint16(h + 4, id);
  v.setUint16(h + 6, df ? IP_DF : 0);
  v.setUint8(h + 8, ttl);
  v.setUint8(h + 9, protocol);
  v.setUint32(h + 12, saddr >>> 0);
  v.setUint32(h + 16, daddr >>> 0);
  ip_send_check(skb.head, h);
  skb.protocol = ETH_P_IP;
}

const fl4_tmp = new Flowi4();

/**
 * ip_build_and_send_pkt: skb.data at a complete transport header. Routes (-ENETUNREACH, counted
 * OutNoRoutes), fills a 0 saddr from the route, pushes the header and sends. Consumes the skb.
 */
export function ip_build_and_send_pkt(skb: SkBuff, net: Net, sk: Sock | null, saddr: number, daddr: number, protocol: number, opts?: IpXmitOpts): number {
  const fl4 = fl4_tmp;
  fl4.flowi4_oif = opts?.oif ?? sk?.skc_bound_dev_if ?? 0;
  fl4.flowi4_mark = opts?.mark ?? sk?.sk_mark ?? 0;
  fl4.flowi4_tos = opts?.tos ?? sk?.tos ?? 0;
  fl4.flowi4_proto = protocol;
  fl4.saddr = saddr >>> 0;
  fl4.daddr = daddr >>> 0;
  const rt = ip_route_output_key(net, fl4);
  if (typeof rt === 'number') {
    if (rt === -ENETUNREACH) net.mib.ip.OutNoRoutes++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_IP_OUTNOROUTES);
    return rt;
  }
  const src = fl4.saddr;
  const df = opts?.df ?? false;
  const ttl = opts?.ttl ?? ip_select_ttl(net, sk, daddr);
  const id = ip_select_ident(net, sk, df, daddr, src, protocol);
  ip_push_header(skb, opts?.tos ?? sk?.tos ?? 0, id, df, ttl, protocol, src, daddr);
  skb.mark = fl4.flowi4_mark;
  skb.priority = sk?.sk_priority ?? 0;
  if (sk !== null && skb.sk === null) skb.sk = sk;
  const err = ip_local_out(net, skb, rt);
  // ip_send_skb (UDP, ICMP): a datagram the layers below refused is an OutDiscard. TCP's
  // replies (ip_build_and_send_pkt proper) are not counted.
  if (err !== 0 && protocol !== IPPROTO_TCP) net.mib.ip.OutDiscards++;
  return err;
}

/**
 * ip_queue_xmit (__ip_queue_xmit): TCP's. The socket's cached route (sk_dst_cache) while valid,
 * else a new one (no route: OutNoRoutes, -EHOSTUNREACH as the kernel returns). DF set, ID from
 * inet_id. Consumes the skb.
 */
export function ip_queue_xmit(sk: Sock, skb: SkBuff): number {
  const net = sk.skc_net;
  let rt = sk.sk_dst_cache instanceof Rtable ? sk.sk_dst_cache : null;
  if (rt === null || !rt_valid(net, rt)) {
    const fl4 = fl4_tmp;
    fl4.flowi4_oif = sk.skc_bound_dev_if;
    fl4.flowi4_mark = sk.sk_mark;
    fl4.flowi4_tos = sk.tos;
    fl4.flowi4_proto = sk.sk_protocol;
    fl4.saddr = sk.inet_saddr >>> 0;
    fl4.daddr = sk.skc_daddr >>> 0;
    const r = ip_route_output_key(net, fl4);
    if (typeof r === 'number') {
      sk.sk_dst_cache = null;
      net.mib.ip.OutNoRoutes++;
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_IP_OUTNOROUTES);
      return -EHOSTUNREACH;
    }
    rt = r;
    sk.sk_dst_cache = rt;
  }
  const daddr = sk.skc_daddr >>> 0;
  const id = ip_select_ident(net, sk, true, daddr, sk.inet_saddr, sk.sk_protocol);
  ip_push_header(skb, sk.tos, id, true, ip_select_ttl(net, sk, daddr), sk.sk_protocol, sk.inet_saddr, daddr);
  skb.mark = sk.sk_mark;
  skb.priority = sk.sk_priority;
  if (skb.sk === null) skb.sk = sk;
  return ip_local_out(net, skb, rt);
}

/**
 * ip_local_out -> dst_output -> ip_output: skb.data at a complete IPv4 header. OutRequests here;
 * then ip_finish_output. Consumes the skb.
 */
export function ip_local_out(net: Net, skb: SkBuff, rt: Rtable): number {
  net.mib.ip.OutRequests++;
  skb.dev = rt.dst_dev;
  return ip_finish_output(net, skb, rt);
}

/**
 * ip_finish_output: the MTU check (no fragmentation, see the file comment). A DF datagram over
 * the MTU is refused as ip_fragment refuses it: FragFails, and fragmentation needed with the MTU
 * to its sender (ourselves, so the socket's err_handler learns the path MTU).
 */
function ip_finish_output(net: Net, skb: SkBuff, rt: Rtable): number {
  const mtu = rt_mtu(rt);
  if (skb.len > mtu) {
    net.mib.ip.FragFails++;
    if ((skb.view.getUint16(skb.network_header + 6) & IP_DF) !== 0) {
      icmp_send(skb, ICMP.ICMP_DEST_UNREACH, ICMP.ICMP_FRAG_NEEDED, mtu);
    }
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_PKT_TOO_BIG);
    return -EMSGSIZE;
  }
  return ip_finish_output2(net, skb, rt);
}

/**
 * ip_finish_output2: the neighbour for the next hop (created on first use), or straight to the
 * device when it has no link header (lo) or does no ARP. OutTransmits/OutOctets count every
 * datagram handed on, as the kernel counts them before neigh_output.
 */
function ip_finish_output2(net: Net, skb: SkBuff, rt: Rtable): number {
  const dev = rt.dst_dev;
  const mib = net.mib;
  if (rt.rt_type === RTN.RTN_MULTICAST) mib.ipext.OutMcastPkts++;
  else if (rt.rt_type === RTN.RTN_BROADCAST) mib.ipext.OutBcastPkts++;
  mib.ip.OutTransmits++;
  mib.ipext.OutOctets += skb.len;
  skb.dev = dev;
  let rc: number;
  if (dev.hard_header_len === 0) {
    rc = dev_queue_xmit(skb);
  } else if ((dev.flags & (IFF.IFF_NOARP | IFF.IFF_POINTOPOINT)) !== 0) {
    // arp_constructor's NUD_NOARP entries: a NOARP device addresses frames to itself, a point-to-point
    // one to its broadcast address; nothing is resolved.
    eth_header(skb, dev, ETH_P_IP, (dev.flags & IFF.IFF_NOARP) !== 0 ? dev.dev_addr : dev.broadcast);
    rc = dev_queue_xmit(skb);
  } else if ((rt.rt_flags & (RTCF.RTCF_BROADCAST | RTCF.RTCF_MULTICAST)) !== 0) {
    // ip_mc_output: a broadcast also comes back to this host's own sockets.
    if ((rt.rt_flags & RTCF.RTCF_BROADCAST) !== 0) dev_loopback_xmit(net, skb_copy(skb));
    rc = ip_output_multicast_frame(skb, rt);
  } else {
    const daddr = skb.view.getUint32(skb.network_header + 16);
    const n = __neigh_lookup4(net.ipv4.arp_tbl, rt_nexthop(rt, daddr), dev, true);
    if (n === undefined) {
      // ip_finish_output2: the table is full (gc_thresh3) and nothing could be collected.
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NEIGH_CREATEFAIL);
      return -ENOBUFS;
    }
    sock_confirm_neigh(skb, n);
    rc = neigh_output(n, skb);
  }
  // net_xmit_errno: a device or queue drop is -ENOBUFS to the sender.
  return rc !== NET_XMIT_SUCCESS ? -ENOBUFS : 0;
}

/** Broadcast and multicast frames map to a link address without resolution (arp_mc_map). */
function ip_output_multicast_frame(skb: SkBuff, rt: Rtable): number {
  const daddr = skb.view.getUint32(skb.network_header + 16);
  const h = skb_push(skb, 14);
  const b = skb.head;
  if ((rt.rt_flags & RTCF.RTCF_BROADCAST) !== 0) {
    b.fill(0xff, h, h + 6);
  } else {
    // ip_eth_mc_map: 01:00:5e and the group's low 23 bits.
    b[h] = 0x01; b[h + 1] = 0x00; b[h + 2] = 0x5e;
    b[h + 3] = (daddr >>> 16) & 0x7f; b[h + 4] = (daddr >>> 8) & 0xff; b[h + 5] = daddr & 0xff;
  }
  b.set(rt.dst_dev.dev_addr, h + 6);
  b[h + 12] = 0x08;
  b[h + 13] = 0x00;
  skb.mac_header = h;
  return dev_queue_xmit(skb);
}

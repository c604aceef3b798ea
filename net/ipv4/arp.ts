// net/ipv4/arp.c: address resolution for IPv4 over Ethernet (RFC 826) as Linux runs it. A
// request for one of our addresses (as arp_ignore allows) is answered and teaches us the asker
// (STALE); a reply for an
// entry we have (or are resolving) makes it REACHABLE. Probes (arp_solicit) are broadcast while
// INCOMPLETE and unicast to the known address while PROBE. An entry that fails reports each
// waiting datagram to its sender as ICMP host unreachable (arp_error_report).
import {
  ETH_P_ARP, ETH_P_IP, MAX_HEADER, PACKET_HOST, PACKET_OTHERHOST, PACKET_TYPES, SKB_DROP_REASONS, alloc_skb, consume_skb,
  kfree_skb_reason, pskb_may_pull, skb_put, skb_reserve, type SkBuff,
} from '../core/skbuff.ts';
import { NET_RX_DROP, NET_RX_SUCCESS, dev_net, dev_queue_xmit } from '../core/dev.ts';
import { ARPHRD, IFF, type NetDevice } from '../core/netdevice.ts';
import type { Net } from '../core/net-namespace.ts';
import {
  NUD, NEIGH_UPDATE, __neigh_lookup4, neigh_event_ns4, neigh_table_init, neigh_update, type Neighbour,
} from '../core/neighbour.ts';
import { HZ } from '../core/clock.ts';
import { eth_header } from '../ethernet/eth.ts';
import { RTN, RT_SCOPE, ipv4_is_loopback, ipv4_is_multicast } from './route.ts';
import { inet_addr_type, inet_select_addr_scope, __in_dev_get } from './devinet.ts';
import { ICMP, icmp_send } from './icmp.ts';

/** ARPOP_* (include/uapi/linux/if_arp.h). */
export const ARPOP = { ARPOP_REQUEST: 1, ARPOP_REPLY: 2 } as const;
/** arp_hdr_len for Ethernet/IPv4: 8 + 2 * (6 + 4). */
export const ARP_HDR_LEN = 28;

/** arp_init: arp_tbl's operations and its randomized reachable time. */
export function arp_init(net: Net): void {
  neigh_table_init(net.ipv4.arp_tbl, { solicit: arp_solicit, error_report: arp_error_report });
}

/**
 * arp_create + arp_xmit: one ARP packet. dest_hw null: broadcast; target_hw null: zeros (a
 * request's unknown target).
 */
export function arp_send(net: Net, type: number, dest_ip: number, dev: NetDevice, src_ip: number, dest_hw: Uint8Array | null, target_hw: Uint8Array | null): void {
  const skb = alloc_skb(MAX_HEADER + ARP_HDR_LEN);
  skb_reserve(skb, MAX_HEADER);
  const o = skb_put(skb, ARP_HDR_LEN);
  const b = skb.head;
  const v = skb.view;
  v.setUint16(o, ARPHRD.ARPHRD_ETHER);
  v.setUint16(o + 2, ETH_P_IP);
  b[o + 4] = 6;
  b[o + 5] = 4;
  v.setUint16(o + 6, type);
  b.set(dev.dev_addr, o + 8);
  v.setUint32(o + 14, src_ip >>> 0);
  if (target_hw !== null) b.set(target_hw.subarray(0, 6), o + 18);
  else b.fill(0, o + 18, o + 24);
  v.setUint32(o + 24, dest_ip >>> 0);
  skb.network_header = o;
  skb.protocol = ETH_P_ARP;
  skb.dev = dev;
  eth_header(skb, dev, ETH_P_ARP, dest_hw);
  if (type === ARPOP.ARPOP_REQUEST) net.mib.arp.OutRequests++;
  else net.mib.arp.OutReplies++;
  dev_queue_xmit(skb);
}

/**
 * arp_solicit: a probe for n. The source is the waiting datagram's when it is ours (arp_announce
 * 0), else the device's address for the target. Unicast to the cached address for the first
 * ucast_probes of a PROBE, broadcast otherwise.
 */
function arp_solicit(n: Neighbour, skb: SkBuff | null): void {
  const dev = n.dev;
  const net = dev_net(dev);
  const target = n.key4;
  let saddr = 0;
  // arp_announce 0: any local address, the waiting datagram's; 1: only one on the target's subnet
  // of this device; 2: always the device's best address for the target.
  const announce = Math.max(net.ipv4.sysctl_arp_announce, __in_dev_get(dev)?.cnf.arp_announce ?? 0);
  if (skb !== null && skb.network_header >= 0 && announce < 2) {
    const s = skb.view.getUint32(skb.network_header + 12);
    if (inet_addr_type(net, s) === RTN.RTN_LOCAL && (announce === 0 || inet_ifa_match(dev, s, target))) saddr = s;
  }
  if (saddr === 0) saddr = inet_select_addr_scope(dev, target, RT_SCOPE.RT_SCOPE_LINK);
  const p = n.tbl.parms;
  let probes = n.probes - p.ucast_probes;
  let dst_hw: Uint8Array | null = null;
  if (probes < 0) {
    dst_hw = n.ha;
  } else {
    probes -= p.app_probes;
    // app_probes would ask a user-space daemon (neigh_app_ns); none here.
    if (probes < 0) return;
  }
  arp_send(net, ARPOP.ARPOP_REQUEST, target, dev, saddr, dst_hw, null);
}

/** arp_error_report: dst_link_failure tells the sender (host unreachable); the datagram is dropped. */
function arp_error_report(_n: Neighbour, skb: SkBuff): void {
  icmp_send(skb, ICMP.ICMP_DEST_UNREACH, ICMP.ICMP_HOST_UNREACH, 0);
  kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NEIGH_FAILED);
}

/**
 * arp_rcv: the ETH_P_ARP handler. Devices that do no ARP, frames for another host and looped
 * frames are consumed unread; short or malformed packets are dropped (Arp InErrors).
 */
export function arp_rcv(skb: SkBuff, dev: NetDevice): number {
  const net = dev_net(dev);
  if ((dev.flags & IFF.IFF_NOARP) !== 0 || skb.pkt_type === PACKET_OTHERHOST || skb.pkt_type === PACKET_TYPES.PACKET_LOOPBACK) {
    consume_skb(skb);
    return NET_RX_SUCCESS;
  }
  if (!pskb_may_pull(skb, ARP_HDR_LEN)) {
    net.mib.arp.InErrors++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_PKT_TOO_SMALL);
    return NET_RX_DROP;
  }
  const b = skb.head;
  const o = skb.data;
  if (b[o + 4] !== dev.dev_addr.length || b[o + 5] !== 4) {
    net.mib.arp.InErrors++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NOT_SPECIFIED);
    return NET_RX_DROP;
  }
  return arp_process(net, skb, dev);
}

/** tip is an address of dev on the same subnet as sip (inet_confirm_addr's scope check, reduced). */
function inet_ifa_match(dev: NetDevice, addr: number, other: number): boolean {
  const in_dev = __in_dev_get(dev);
  if (in_dev === null) return false;
  for (const ifa of in_dev.ifa_list) {
    if (ifa.ifa_local === addr >>> 0 && ((addr ^ other) & ifa.ifa_mask) === 0) return true;
  }
  return false;
}

/**
 * arp_ignore: 0 answers for any local address; 1 only for an address of the receiving device;
 * 2 also needs the asker on that address's subnet. (3 and 8 are not modelled: treated as 2.)
 */
function arp_ignore(net: Net, dev: NetDevice, sip: number, tip: number): boolean {
  const mode = Math.max(net.ipv4.sysctl_arp_ignore, __in_dev_get(dev)?.cnf.arp_ignore ?? 0);
  if (mode === 0) return false;
  const in_dev = __in_dev_get(dev);
  if (in_dev === null) return true;
  for (const ifa of in_dev.ifa_list) {
    if (ifa.ifa_local !== tip >>> 0) continue;
    return mode >= 2 && ((sip ^ tip) & ifa.ifa_mask) !== 0;
  }
  return true;
}

function arp_process(net: Net, skb: SkBuff, dev: NetDevice): number {
  const b = skb.head;
  const v = skb.view;
  const o = skb.data;
  const in_dev = __in_dev_get(dev);
  const hrd = v.getUint16(o);
  const pro = v.getUint16(o + 2);
  const op = v.getUint16(o + 6);
  if (in_dev === null || hrd !== ARPHRD.ARPHRD_ETHER || pro !== ETH_P_IP || (op !== ARPOP.ARPOP_REQUEST && op !== ARPOP.ARPOP_REPLY)) {
    net.mib.arp.InErrors++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NOT_SPECIFIED);
    return NET_RX_DROP;
  }
  const sha = b.slice(o + 8, o + 14);
  const sip = v.getUint32(o + 14);
  const tip = v.getUint32(o + 24);
  if (op === ARPOP.ARPOP_REQUEST) net.mib.arp.InRequests++;
  else net.mib.arp.InReplies++;
  if (ipv4_is_multicast(tip) || ipv4_is_loopback(tip)) {
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NOT_SPECIFIED);
    return NET_RX_DROP;
  }
  // RFC 5227 probe (duplicate address detection): sender 0.0.0.0; answer if the address is ours.
  if (sip === 0) {
    if (op === ARPOP.ARPOP_REQUEST && inet_addr_type(net, tip) === RTN.RTN_LOCAL) {
      arp_send(net, ARPOP.ARPOP_REPLY, sip, dev, tip, sha, sha);
    }
    consume_skb(skb);
    return NET_RX_SUCCESS;
  }
  if (op === ARPOP.ARPOP_REQUEST && inet_addr_type(net, tip) === RTN.RTN_LOCAL && !ipv4_is_multicast(sip) && !arp_ignore(net, in_dev.dev, sip, tip)) {
    // For us: learn the asker (it will talk to us next) and answer (arp_ignore 0: any local
    // address). As arp_process, no entry (a full table) means no reply.
    if (neigh_event_ns4(net.ipv4.arp_tbl, sha, sip, dev) !== undefined) arp_send(net, ARPOP.ARPOP_REPLY, sip, dev, tip, sha, sha);
    consume_skb(skb);
    return NET_RX_SUCCESS;
  }
  // Anything else only refreshes an entry we already have (arp_accept 0 creates none).
  const n = __neigh_lookup4(net.ipv4.arp_tbl, sip, dev, false);
  if (n !== undefined) {
    const is_garp = op === ARPOP.ARPOP_REQUEST && tip === sip;
    const now = net.boot.clock.get_jiffies_64();
    const locktime = Math.ceil((n.tbl.parms.locktime_ms * HZ) / 1000);
    const override = now > n.updated + locktime || is_garp;
    const state = op !== ARPOP.ARPOP_REPLY || skb.pkt_type !== PACKET_HOST ? NUD.NUD_STALE : NUD.NUD_REACHABLE;
    neigh_update(n, sha, state, override ? NEIGH_UPDATE.NEIGH_UPDATE_F_OVERRIDE : 0);
  }
  consume_skb(skb);
  return NET_RX_SUCCESS;
}

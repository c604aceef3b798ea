// net/ipv6/ndisc.c: neighbour discovery (RFC 4861) for nd_tbl. Solicitations go to the target's
// solicited-node group (multicast while INCOMPLETE) or to its known address (PROBE) with our
// link-layer address as an option; a solicitation for one of our addresses teaches us the asker
// (STALE) and is answered with an advertisement (solicited, override when it was multicast,
// target link-layer address included for a multicast one); an advertisement updates an entry we
// have. Every ND message must arrive with hop limit 255 (it cannot have crossed a router).
import {
  MAX_HEADER, SKB_DROP_REASONS, alloc_skb, kfree_skb_reason, skb_put, skb_reserve, type SkBuff,
} from '../core/skbuff.ts';
import type { NetDevice } from '../core/netdevice.ts';
import type { Net } from '../core/net-namespace.ts';
import { In6Addr, ipv6_addr_any, type ReadonlyIn6Addr } from '../core/in6-addr.ts';
import { IPPROTO_ICMPV6 } from '../core/socket-constants.ts';
import {
  NUD, NEIGH_UPDATE, __neigh_lookup6, neigh_lookup6, neigh_table_init, neigh_update, type Neighbour,
} from '../core/neighbour.ts';
import { dev_net } from '../core/dev.ts';
import { addrconf_addr_solict_mult, ipv6_addr_is_multicast, ipv6_addr_is_solict_mult, ipv6_dev_get_saddr, ipv6_get_ifaddr } from './addrconf.ts';
import { ICMPV6, icmp6_out_count, icmpv6_csum, icmpv6_send } from './icmp.ts';
import { ip6_build_and_send_pkt } from './ip6-output.ts';

/** ND option types (ND_OPT_*). */
export const ND_OPT = { ND_OPT_SOURCE_LL_ADDR: 1, ND_OPT_TARGET_LL_ADDR: 2, ND_OPT_PREFIX_INFO: 3, ND_OPT_REDIRECT_HDR: 4, ND_OPT_MTU: 5, ND_OPT_NONCE: 14 } as const;

/** struct nd_msg: the ICMPv6 header and the target. */
const ND_MSG_LEN = 24;
/** The Ethernet link-layer address option: type, length 1 (8 bytes), 6 bytes of address. */
const ND_LLA_OPT_LEN = 8;
const NA_FLAG_ROUTER = 0x80000000;
const NA_FLAG_SOLICITED = 0x40000000;
const NA_FLAG_OVERRIDE = 0x20000000;

/** ff02::1, where unsolicited advertisements go. */
export const in6addr_linklocal_allnodes: ReadonlyIn6Addr = new In6Addr(0xff020000, 0, 0, 1);

export function ndisc_init(net: Net): void {
  neigh_table_init(net.ipv6.nd_tbl, { solicit: ndisc_solicit, error_report: ndisc_error_report });
}

/** Builds and sends one ND message (ndisc_send_skb): hop limit 255, checksummed. */
function ndisc_send(dev: NetDevice, type: number, flags: number, target: ReadonlyIn6Addr, saddr: ReadonlyIn6Addr, daddr: ReadonlyIn6Addr, optType: number): void {
  const net = dev_net(dev);
  const len = ND_MSG_LEN + (optType !== 0 ? ND_LLA_OPT_LEN : 0);
  const skb = alloc_skb(MAX_HEADER + len);
  skb_reserve(skb, MAX_HEADER);
  const o = skb_put(skb, len);
  const v = skb.view;
  v.setUint8(o, type);
  v.setUint8(o + 1, 0);
  v.setUint16(o + 2, 0);
  v.setUint32(o + 4, flags >>> 0);
  v.setUint32(o + 8, target.w0); v.setUint32(o + 12, target.w1); v.setUint32(o + 16, target.w2); v.setUint32(o + 20, target.w3);
  if (optType !== 0) {
    v.setUint8(o + 24, optType);
    v.setUint8(o + 25, 1);
    skb.head.set(dev.dev_addr.subarray(0, 6), o + 26);
  }
  v.setUint16(o + 2, icmpv6_csum(skb.head, o, len, saddr, daddr));
  icmp6_out_count(net, type);
  ip6_build_and_send_pkt(skb, net, null, saddr, daddr, IPPROTO_ICMPV6, { hop_limit: 255, oif: dev.ifindex, mc_loop: false });
}

/** ndisc_send_ns: a solicitation for target, to daddr, from saddr (or the route's choice). */
export function ndisc_send_ns(dev: NetDevice, target: ReadonlyIn6Addr, daddr: ReadonlyIn6Addr, saddr: ReadonlyIn6Addr | null): void {
  const net = dev_net(dev);
  const src = new In6Addr();
  if (saddr !== null) src.copy_from(saddr);
  else if (ipv6_dev_get_saddr(net, dev, daddr, src) !== 0) return;
  // A DAD probe (from ::) must carry no source link-layer address.
  ndisc_send(dev, ICMPV6.NDISC_NEIGHBOUR_SOLICITATION, 0, target, src, daddr, ipv6_addr_any(src) ? 0 : ND_OPT.ND_OPT_SOURCE_LL_ADDR);
}

/** ndisc_send_na: an advertisement of our address target to daddr. */
export function ndisc_send_na(dev: NetDevice, daddr: ReadonlyIn6Addr, target: ReadonlyIn6Addr, router: boolean, solicited: boolean, override: boolean, inc_opt: boolean): void {
  const flags = (router ? NA_FLAG_ROUTER : 0) | (solicited ? NA_FLAG_SOLICITED : 0) | (override ? NA_FLAG_OVERRIDE : 0);
  ndisc_send(dev, ICMPV6.NDISC_NEIGHBOUR_ADVERTISEMENT, flags, target, target, daddr, inc_opt ? ND_OPT.ND_OPT_TARGET_LL_ADDR : 0);
}

/**
 * ndisc_solicit: a probe for n, from the waiting packet's source when it is ours. Unicast to the
 * known address during PROBE, to the solicited-node group otherwise.
 */
function ndisc_solicit(n: Neighbour, skb: SkBuff | null): void {
  const dev = n.dev;
  const net = dev_net(dev);
  let saddr: In6Addr | null = null;
  if (skb !== null && skb.network_header >= 0) {
    const v = skb.view;
    const nh = skb.network_header;
    const s = new In6Addr(v.getUint32(nh + 8), v.getUint32(nh + 12), v.getUint32(nh + 16), v.getUint32(nh + 20));
    if (ipv6_get_ifaddr(net, s, dev) !== null) saddr = s;
  }
  const p = n.tbl.parms;
  let probes = n.probes - p.ucast_probes;
  if (probes < 0) {
    ndisc_send_ns(dev, n.key6, n.key6, saddr);
  } else if ((probes -= p.app_probes) < 0) {
    // neigh_app_ns: a user-space resolver; none here.
  } else {
    ndisc_send_ns(dev, n.key6, addrconf_addr_solict_mult(n.key6, new In6Addr()), saddr);
  }
}

/** ndisc_error_report: address unreachable to the sender of each waiting packet. */
function ndisc_error_report(_n: Neighbour, skb: SkBuff): void {
  icmpv6_send(skb, ICMPV6.ICMPV6_DEST_UNREACH, ICMPV6.ICMPV6_ADDR_UNREACH, 0);
  kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NEIGH_FAILED);
}

interface NdOpts {
  src_lladdr: number;
  tgt_lladdr: number;
}

/**
 * ndisc_parse_options: every option has a nonzero length that fits; the link-layer ones are
 * kept (their offset, -1 if absent). False for a malformed list.
 */
function ndisc_parse_options(skb: SkBuff, off: number, end: number, out: NdOpts): boolean {
  const b = skb.head;
  out.src_lladdr = out.tgt_lladdr = -1;
  while (off < end) {
    if (end - off < 2) return false;
    const l = b[off + 1]! * 8;
    if (l === 0 || l > end - off) return false;
    const t = b[off]!;
    if (t === ND_OPT.ND_OPT_SOURCE_LL_ADDR || t === ND_OPT.ND_OPT_TARGET_LL_ADDR) {
      // A duplicate is ignored (the first one counts), as the kernel does.
      if (t === ND_OPT.ND_OPT_SOURCE_LL_ADDR && out.src_lladdr < 0) out.src_lladdr = off;
      if (t === ND_OPT.ND_OPT_TARGET_LL_ADDR && out.tgt_lladdr < 0) out.tgt_lladdr = off;
    }
    off += l;
  }
  return true;
}

/** ndisc_opt_addr_data: the 6-byte address of an Ethernet link-layer option, or null if too short. */
function ndisc_opt_addr(skb: SkBuff, opt: number): Uint8Array | null {
  if (skb.head[opt + 1]! * 8 < 8) return null;
  return skb.head.slice(opt + 2, opt + 8);
}

const ndopts: NdOpts = { src_lladdr: -1, tgt_lladdr: -1 };

/**
 * ndisc_rcv: skb.data at the ICMPv6 header. Returns a drop reason (SKB_CONSUMED when handled);
 * icmpv6_rcv frees the skb.
 */
export function ndisc_rcv(net: Net, skb: SkBuff): number {
  const b = skb.head;
  const nh = skb.network_header;
  if (nh + 40 !== skb.data) {
    // ndisc_suppress_frag_ndisc: ND inside extension headers (a fragment) is refused.
    if (b[nh + 6] === 44) return SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_NDISC_FRAG;
  }
  if (b[nh + 7] !== 255) return SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_NDISC_HOP_LIMIT;
  if (b[skb.data + 1] !== 0) return SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_NDISC_BAD_CODE;
  switch (b[skb.data]!) {
    case ICMPV6.NDISC_NEIGHBOUR_SOLICITATION:
      return ndisc_recv_ns(net, skb);
    case ICMPV6.NDISC_NEIGHBOUR_ADVERTISEMENT:
      return ndisc_recv_na(net, skb);
    default:
      // Router solicitation/advertisement and redirects: a host without autoconfiguration ignores them.
      return SKB_DROP_REASONS.SKB_CONSUMED;
  }
}

function read6(skb: SkBuff, off: number): In6Addr {
  const v = skb.view;
  return new In6Addr(v.getUint32(off), v.getUint32(off + 4), v.getUint32(off + 8), v.getUint32(off + 12));
}

function ndisc_recv_ns(net: Net, skb: SkBuff): number {
  const dev = skb.dev!;
  if (skb.len < ND_MSG_LEN) return SKB_DROP_REASONS.SKB_DROP_REASON_PKT_TOO_SMALL;
  const saddr = read6(skb, skb.network_header + 8);
  const daddr = read6(skb, skb.network_header + 24);
  const target = read6(skb, skb.data + 8);
  const dad = ipv6_addr_any(saddr);
  if (ipv6_addr_is_multicast(target)) return SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_NDISC_BAD_OPTIONS;
  // RFC 4861 7.1.1: duplicate address detection goes to the solicited-node group.
  if (dad && !ipv6_addr_is_solict_mult(daddr)) return SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_NDISC_BAD_OPTIONS;
  if (!ndisc_parse_options(skb, skb.data + ND_MSG_LEN, skb.data + skb.len, ndopts)) return SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_NDISC_BAD_OPTIONS;
  let lladdr: Uint8Array | null = null;
  if (ndopts.src_lladdr >= 0) {
    lladdr = ndisc_opt_addr(skb, ndopts.src_lladdr);
    if (lladdr === null) return SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_NDISC_BAD_OPTIONS;
    // RFC 4861 7.1.1: a DAD probe carries no source link-layer address.
    if (dad) return SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_NDISC_BAD_OPTIONS;
  }
  const inc = ipv6_addr_is_multicast(daddr);
  const ifp = ipv6_get_ifaddr(net, target, dev);
  if (ifp === null) return SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_NDISC_NS_OTHERHOST;
  if (dad) {
    // Someone probes for our address: defend it to all nodes.
    ndisc_send_na(dev, in6addr_linklocal_allnodes, target, false, false, true, true);
    return SKB_DROP_REASONS.SKB_CONSUMED;
  }
  const tbl = net.ipv6.nd_tbl;
  if (inc) tbl.stats.rcv_probes_mcast++;
  else tbl.stats.rcv_probes_ucast++;
  const n = __neigh_lookup6(tbl, saddr, dev, !inc || lladdr !== null);
  if (n !== undefined) {
    neigh_update(n, lladdr, NUD.NUD_STALE, NEIGH_UPDATE.NEIGH_UPDATE_F_WEAK_OVERRIDE | NEIGH_UPDATE.NEIGH_UPDATE_F_OVERRIDE);
    ndisc_send_na(dev, saddr, target, false, true, inc, inc);
  }
  return SKB_DROP_REASONS.SKB_CONSUMED;
}

function ndisc_recv_na(net: Net, skb: SkBuff): number {
  const dev = skb.dev!;
  if (skb.len < ND_MSG_LEN) return SKB_DROP_REASONS.SKB_DROP_REASON_PKT_TOO_SMALL;
  const daddr = read6(skb, skb.network_header + 24);
  const target = read6(skb, skb.data + 8);
  const flags = skb.view.getUint32(skb.data + 4);
  const solicited = (flags & NA_FLAG_SOLICITED) !== 0;
  const override = (flags & NA_FLAG_OVERRIDE) !== 0;
  if (ipv6_addr_is_multicast(target)) return SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_NDISC_BAD_OPTIONS;
  if (ipv6_addr_is_multicast(daddr) && solicited) return SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_NDISC_BAD_OPTIONS;
  if (!ndisc_parse_options(skb, skb.data + ND_MSG_LEN, skb.data + skb.len, ndopts)) return SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_NDISC_BAD_OPTIONS;
  let lladdr: Uint8Array | null = null;
  if (ndopts.tgt_lladdr >= 0) {
    lladdr = ndisc_opt_addr(skb, ndopts.tgt_lladdr);
    if (lladdr === null) return SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_NDISC_BAD_OPTIONS;
  }
  // Someone advertises our own address: DAD would fail it; we only ignore the message.
  if (ipv6_get_ifaddr(net, target, dev) !== null) return SKB_DROP_REASONS.SKB_CONSUMED;
  const n = neigh_lookup6(net.ipv6.nd_tbl, target, dev);
  if (n !== undefined && (n.nud_state & NUD.NUD_FAILED) === 0) {
    neigh_update(n, lladdr, solicited ? NUD.NUD_REACHABLE : NUD.NUD_STALE,
      NEIGH_UPDATE.NEIGH_UPDATE_F_WEAK_OVERRIDE | (override ? NEIGH_UPDATE.NEIGH_UPDATE_F_OVERRIDE : 0));
  }
  return SKB_DROP_REASONS.SKB_CONSUMED;
}

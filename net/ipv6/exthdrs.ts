// net/ipv6/exthdrs.c and reassembly.c's entry: the extension headers a destination processes.
// Hop-by-hop and destination options are walked TLV by TLV (padding checked as RFC 4942 asks,
// unknown options acted on by their two high bits, at most 8 non-padding options); a routing
// header with segments left is refused (parameter problem; type 0 is deprecated and nothing else
// is supported); a fragment header on a real fragment is dropped and counted (no reassembly), an
// atomic fragment (offset 0, no MF) is skipped as the kernel does.
//
// Each handler is called with transport_header at its header and returns the offset (from the
// network header) of the next-header byte to continue with, or -1 when it consumed the skb.
import { SKB_DROP_REASONS, kfree_skb_reason, pskb_may_pull, type SkBuff } from '../core/skbuff.ts';
import type { Net } from '../core/net-namespace.ts';
import { ICMPV6, icmpv6_send } from './icmp.ts';

/** NEXTHDR_* (include/net/ipv6.h). */
export const NEXTHDR = {
  NEXTHDR_HOP: 0, NEXTHDR_TCP: 6, NEXTHDR_UDP: 17, NEXTHDR_IPV6: 41, NEXTHDR_ROUTING: 43, NEXTHDR_FRAGMENT: 44,
  NEXTHDR_GRE: 47, NEXTHDR_ESP: 50, NEXTHDR_AUTH: 51, NEXTHDR_ICMP: 58, NEXTHDR_NONE: 59, NEXTHDR_DEST: 60,
  NEXTHDR_MOBILITY: 135,
} as const;

/** IPV6_TLV_* option types. */
export const IPV6_TLV = { IPV6_TLV_PAD1: 0, IPV6_TLV_PADN: 1, IPV6_TLV_ROUTERALERT: 5, IPV6_TLV_CALIPSO: 7, IPV6_TLV_JUMBO: 0xc2, IPV6_TLV_HAO: 0xc9 } as const;

/** IP6_DEFAULT_MAX_HBH_OPTS_CNT / IP6_DEFAULT_MAX_DST_OPTS_CNT. */
const MAX_OPTS_CNT = 8;
const IP6_MF = 0x0001;
const IP6_OFFSET = 0xfff8;

/** icmpv6_param_prob: a parameter problem at pos, and the packet dropped. */
function icmpv6_param_prob(skb: SkBuff, code: number, pos: number, reason: number): void {
  icmpv6_send(skb, ICMPV6.ICMPV6_PARAMPROB, code, pos);
  kfree_skb_reason(skb, reason);
}

/** ip6_tlvopt_unknown: the option type's two high bits say what to do with an unknown one. */
function ip6_tlvopt_unknown(skb: SkBuff, optoff: number): boolean {
  const b = skb.head;
  const nh = skb.network_header;
  switch (b[nh + optoff]! >>> 6) {
    case 0:
      return true;
    case 3:
      if (b[nh + 24] === 0xff) break;
      icmpv6_param_prob(skb, ICMPV6.ICMPV6_UNK_OPTION, optoff, SKB_DROP_REASONS.SKB_DROP_REASON_UNHANDLED_PROTO);
      return false;
    case 2:
      icmpv6_param_prob(skb, ICMPV6.ICMPV6_UNK_OPTION, optoff, SKB_DROP_REASONS.SKB_DROP_REASON_UNHANDLED_PROTO);
      return false;
    default:
      break;
  }
  kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_UNHANDLED_PROTO);
  return false;
}

/**
 * ip6_parse_tlv: the options of the header at transport_header. False when the skb was dropped
 * (malformed: IP_INHDR; an unknown option that says drop: UNHANDLED_PROTO).
 */
function ip6_parse_tlv(net: Net, hopbyhop: boolean, skb: SkBuff): boolean {
  const b = skb.head;
  const nh = skb.network_header;
  let off = skb.transport_header - nh;
  let len = (b[skb.transport_header + 1]! + 1) * 8;
  let tlv_count = 0;
  let padlen = 0;
  off += 2;
  len -= 2;
  while (len > 0) {
    const t = b[nh + off]!;
    if (t === IPV6_TLV.IPV6_TLV_PAD1) {
      if (++padlen > 7) return tlv_bad(skb);
      off++;
      len--;
      continue;
    }
    if (len < 2) return tlv_bad(skb);
    const optlen = b[nh + off + 1]! + 2;
    if (optlen > len) return tlv_bad(skb);
    if (t === IPV6_TLV.IPV6_TLV_PADN) {
      // RFC 2460: padding aligns to 8, so 7 bytes at most; RFC 4942: and only zeros.
      padlen += optlen;
      if (padlen > 7) return tlv_bad(skb);
      for (let i = 2; i < optlen; i++) if (b[nh + off + i] !== 0) return tlv_bad(skb);
    } else {
      if (++tlv_count > MAX_OPTS_CNT) return tlv_bad(skb);
      if (hopbyhop && t === IPV6_TLV.IPV6_TLV_ROUTERALERT) {
        if (b[nh + off + 1] !== 2) return tlv_bad(skb);
      } else if (hopbyhop && t === IPV6_TLV.IPV6_TLV_JUMBO) {
        if (!ipv6_hop_jumbo(net, skb, off)) return false;
      } else if (!ip6_tlvopt_unknown(skb, off)) {
        return false;
      }
      padlen = 0;
    }
    off += optlen;
    len -= optlen;
  }
  if (len === 0) return true;
  return tlv_bad(skb);
}

function tlv_bad(skb: SkBuff): false {
  kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_IP_INHDR);
  return false;
}

/** ipv6_hop_jumbo: a jumbogram; none can fit an skb here, so a well-formed one is truncated. */
function ipv6_hop_jumbo(net: Net, skb: SkBuff, optoff: number): boolean {
  const nh = skb.network_header;
  const v = skb.view;
  if (skb.head[nh + optoff + 1] !== 4 || (optoff & 3) !== 2) {
    icmpv6_param_prob(skb, ICMPV6.ICMPV6_HDR_FIELD, optoff + 1, SKB_DROP_REASONS.SKB_DROP_REASON_IP_INHDR);
    return false;
  }
  const pkt_len = v.getUint32(nh + optoff + 2);
  if (pkt_len <= 65535) {
    icmpv6_param_prob(skb, ICMPV6.ICMPV6_HDR_FIELD, optoff + 2, SKB_DROP_REASONS.SKB_DROP_REASON_IP_INHDR);
    return false;
  }
  if (v.getUint16(nh + 4) !== 0) {
    icmpv6_param_prob(skb, ICMPV6.ICMPV6_HDR_FIELD, optoff, SKB_DROP_REASONS.SKB_DROP_REASON_IP_INHDR);
    return false;
  }
  net.mib.ipv6.Ip6InTruncatedPkts++;
  kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_PKT_TOO_SMALL);
  return false;
}

/** The header at transport_header is all there (8 bytes, then its length). */
function exthdr_may_pull(skb: SkBuff): boolean {
  const off = skb.transport_header - skb.data;
  if (!pskb_may_pull(skb, off + 8)) return false;
  return pskb_may_pull(skb, off + (skb.head[skb.transport_header + 1]! + 1) * 8);
}

/**
 * ipv6_parse_hopopts: the hop-by-hop header right after the fixed header. The caller counts a
 * failure as Ip6InHdrErrors.
 */
export function ipv6_parse_hopopts(net: Net, skb: SkBuff): number {
  if (!exthdr_may_pull(skb)) {
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_BAD_EXTHDR);
    return -1;
  }
  const extlen = (skb.head[skb.transport_header + 1]! + 1) * 8;
  if (!ip6_parse_tlv(net, true, skb)) return -1;
  const nhoff = skb.transport_header - skb.network_header;
  skb.transport_header += extlen;
  return nhoff;
}

/** ipv6_destopt_rcv: destination options, skipped once checked. */
export function ipv6_destopt_rcv(net: Net, skb: SkBuff): number {
  if (!exthdr_may_pull(skb)) {
    net.mib.ipv6.Ip6InHdrErrors++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_BAD_EXTHDR);
    return -1;
  }
  const extlen = (skb.head[skb.transport_header + 1]! + 1) * 8;
  if (!ip6_parse_tlv(net, false, skb)) {
    net.mib.ipv6.Ip6InHdrErrors++;
    return -1;
  }
  const nhoff = skb.transport_header - skb.network_header;
  skb.transport_header += extlen;
  return nhoff;
}

/**
 * ipv6_rthdr_rcv: a routing header with no segments left is skipped; one with segments left
 * would make us a router for it, which needs a type we support: none (RH0 is deprecated, RFC
 * 5095), so a parameter problem points at its type.
 */
export function ipv6_rthdr_rcv(net: Net, skb: SkBuff): number {
  if (!exthdr_may_pull(skb)) {
    net.mib.ipv6.Ip6InHdrErrors++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_BAD_EXTHDR);
    return -1;
  }
  const b = skb.head;
  const th = skb.transport_header;
  if (b[skb.network_header + 24] === 0xff) {
    net.mib.ipv6.Ip6InAddrErrors++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_IP_INADDRERRORS);
    return -1;
  }
  if (b[th + 3] === 0) {
    const nhoff = th - skb.network_header;
    skb.transport_header += (b[th + 1]! + 1) * 8;
    return nhoff;
  }
  net.mib.ipv6.Ip6InHdrErrors++;
  icmpv6_param_prob(skb, ICMPV6.ICMPV6_HDR_FIELD, th + 2 - skb.network_header, SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_BAD_EXTHDR);
  return -1;
}

/**
 * ipv6_frag_rcv: a reassembly request. An atomic fragment is no fragment and goes on; a real one
 * fails (no reassembly here): Ip6ReasmReqds, Ip6ReasmFails, IP_FRAGMENT.
 */
export function ipv6_frag_rcv(net: Net, skb: SkBuff): number {
  const mib = net.mib.ipv6;
  mib.Ip6ReasmReqds++;
  if (!pskb_may_pull(skb, skb.transport_header - skb.data + 8)) {
    mib.Ip6InHdrErrors++;
    icmpv6_param_prob(skb, ICMPV6.ICMPV6_HDR_FIELD, skb.transport_header - skb.network_header, SKB_DROP_REASONS.SKB_DROP_REASON_IPV6_BAD_EXTHDR);
    return -1;
  }
  const th = skb.transport_header;
  const frag_off = skb.view.getUint16(th + 2);
  if ((frag_off & (IP6_OFFSET | IP6_MF)) === 0) {
    const nhoff = th - skb.network_header;
    skb.transport_header += 8;
    return nhoff;
  }
  mib.Ip6ReasmFails++;
  kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_IP_FRAGMENT);
  return -1;
}

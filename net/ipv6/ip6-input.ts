// net/ipv6/ip6_input.c: the IPv6 receive path. ip6_rcv_core checks the fixed header as Linux
// does (version, loopback and multicast addresses where RFC 4291 forbids them, payload length
// against what arrived, then trims the link padding) and the hop-by-hop header; the route decides
// local, multicast we joined, or not for us; ip6_protocol_deliver walks the extension headers
// (exthdrs.ts) to the transport, whose inet6_protos handler takes the skb, or answers parameter
// problem (unknown next header).
import {
  PACKET_OTHERHOST, SKB_DROP_REASONS, consume_skb, kfree_skb_reason, pskb_may_pull, skb_pull, skb_trim, type SkBuff,
} from '../core/skbuff.ts';
import { NET_RX_DROP, NET_RX_SUCCESS, dev_net } from '../core/dev.ts';
import { IFF, type NetDevice } from '../core/netdevice.ts';
import type { Net } from '../core/net-namespace.ts';
import { In6Addr } from '../core/in6-addr.ts';
import { inet6_protos } from '../ipv4/protocol.ts';
import {
  __in6_dev_get, ipv6_addr_is_multicast, ipv6_addr_loopback, ipv6_addr_mc_scope, ipv6_chk_addr, ipv6_chk_mcast_addr,
} from './addrconf.ts';
import { RTF, fib6_lookup } from './route.ts';
import { NEXTHDR, ipv6_destopt_rcv, ipv6_frag_rcv, ipv6_parse_hopopts, ipv6_rthdr_rcv } from './exthdrs.ts';
import { ICMPV6, icmpv6_send } from './icmp.ts';
import { ipv6_hdr_addr } from './ipv6-hdr-addr.ts';

const R = SKB_DROP_REASONS;
const saddr_tmp = new In6Addr();
const daddr_tmp = new In6Addr();

/** ipv6_rcv: the ETH_P_IPV6 handler. Owns the skb. */
export function ipv6_rcv(skb: SkBuff, dev: NetDevice): number {
  const net = dev_net(dev);
  const nhoff = ip6_rcv_core(skb, dev, net);
  if (nhoff < 0) return NET_RX_DROP;
  return ip6_rcv_finish(net, skb, dev, nhoff);
}

/**
 * ip6_rcv_core: returns the offset (from the network header) of the next-header byte to deliver
 * by (6, or the hop-by-hop header's), or -1 when the skb was dropped and counted.
 */
function ip6_rcv_core(skb: SkBuff, dev: NetDevice, net: Net): number {
  const mib = net.mib.ipv6;
  if (skb.pkt_type === PACKET_OTHERHOST) {
    kfree_skb_reason(skb, R.SKB_DROP_REASON_OTHERHOST);
    return -1;
  }
  mib.Ip6InReceives++;
  mib.Ip6InOctets += skb.len;
  const idev = __in6_dev_get(dev);
  if (idev === null || idev.cnf.disable_ipv6 !== 0) {
    mib.Ip6InDiscards++;
    kfree_skb_reason(skb, idev !== null ? R.SKB_DROP_REASON_IPV6DISABLED : R.SKB_DROP_REASON_NOT_SPECIFIED);
    return -1;
  }
  skb.cb.clear();
  skb.cb.iif = dev.ifindex;
  const h = skb.data;
  skb.network_header = h;
  if (!pskb_may_pull(skb, 40)) return hdr_err(skb, net, R.SKB_DROP_REASON_NOT_SPECIFIED);
  if (skb.head[h]! >>> 4 !== 6) return hdr_err(skb, net, R.SKB_DROP_REASON_UNHANDLED_PROTO);
  const saddr = ipv6_hdr_addr(skb.head, h + 8, saddr_tmp);
  const daddr = ipv6_hdr_addr(skb.head, h + 24, daddr_tmp);
  const loop = (dev.flags & IFF.IFF_LOOPBACK) !== 0;
  // RFC 4291 2.5.3: ::1 never arrives on a wire. 2.7: multicast scope 0 is reserved, scope 1
  // (interface-local) never leaves the node, and a multicast source is impossible.
  if ((ipv6_addr_loopback(saddr) || ipv6_addr_loopback(daddr)) && !loop) return hdr_err(skb, net, R.SKB_DROP_REASON_NOT_SPECIFIED);
  if (ipv6_addr_is_multicast(daddr) && ipv6_addr_mc_scope(daddr) === 0) return hdr_err(skb, net, R.SKB_DROP_REASON_NOT_SPECIFIED);
  if (ipv6_addr_is_multicast(daddr) && ipv6_addr_mc_scope(daddr) === 1 && !loop) return hdr_err(skb, net, R.SKB_DROP_REASON_NOT_SPECIFIED);
  if (ipv6_addr_is_multicast(saddr)) return hdr_err(skb, net, R.SKB_DROP_REASON_NOT_SPECIFIED);
  skb.transport_header = h + 40;
  const pkt_len = skb.view.getUint16(h + 4);
  const nexthdr = skb.head[h + 6]!;
  if (pkt_len !== 0 || nexthdr !== NEXTHDR.NEXTHDR_HOP) {
    if (pkt_len + 40 > skb.len) {
      mib.Ip6InTruncatedPkts++;
      kfree_skb_reason(skb, R.SKB_DROP_REASON_PKT_TOO_SMALL);
      return -1;
    }
    skb_trim(skb, pkt_len + 40);
  }
  if (nexthdr === NEXTHDR.NEXTHDR_HOP) {
    const nh = ipv6_parse_hopopts(net, skb);
    if (nh < 0) {
      mib.Ip6InHdrErrors++;
      return -1;
    }
    return nh;
  }
  return 6;
}

function hdr_err(skb: SkBuff, net: Net, reason: number): number {
  net.mib.ipv6.Ip6InHdrErrors++;
  kfree_skb_reason(skb, reason === R.SKB_DROP_REASON_NOT_SPECIFIED ? R.SKB_DROP_REASON_IP_INHDR : reason);
  return -1;
}

/**
 * ip6_rcv_finish + ip6_route_input: ours (or lo's), a multicast group we joined, or not for us:
 * with forwarding off a datagram for a reachable prefix is an address error (ip6_forward), one
 * with no route gets destination unreachable (ip6_pkt_drop).
 */
function ip6_rcv_finish(net: Net, skb: SkBuff, dev: NetDevice, nhoff: number): number {
  const daddr = ipv6_hdr_addr(skb.head, skb.network_header + 24, daddr_tmp);
  if (ipv6_addr_is_multicast(daddr)) {
    if ((dev.flags & IFF.IFF_LOOPBACK) === 0 && !ipv6_chk_mcast_addr(dev, daddr)) {
      kfree_skb_reason(skb, R.SKB_DROP_REASON_NOT_SPECIFIED);
      return NET_RX_DROP;
    }
    return ip6_input(net, skb, nhoff);
  }
  if ((dev.flags & IFF.IFF_LOOPBACK) !== 0) return ip6_input(net, skb, nhoff);
  const mib = net.mib.ipv6;
  const f = fib6_lookup(net, daddr);
  if (f !== undefined && (f.flags & RTF.RTF_LOCAL) !== 0) {
    // A link-local address is ours only on its own link.
    if ((daddr.w0 >>> 22) !== (0xfe80 >>> 6) || ipv6_chk_addr(net, daddr, dev)) return ip6_input(net, skb, nhoff);
  }
  if (f === undefined) {
    mib.Ip6InNoRoutes++;
    icmpv6_send(skb, ICMPV6.ICMPV6_DEST_UNREACH, ICMPV6.ICMPV6_NOROUTE, 0);
    kfree_skb_reason(skb, R.SKB_DROP_REASON_IP_INNOROUTES);
    return NET_RX_DROP;
  }
  // Forwarding is not modelled: with it off (the default) this is ip6_forward's refusal.
  mib.Ip6InAddrErrors++;
  kfree_skb_reason(skb, R.SKB_DROP_REASON_IP_INADDRERRORS);
  return NET_RX_DROP;
}

/**
 * ip6_input_finish / ip6_protocol_deliver_rcu: extension headers in turn, then the transport's
 * handler with skb.data at its header (Ip6InDelivers after it returns). An unknown next header:
 * Ip6InUnknownProtos and a parameter problem pointing at the byte that named it.
 */
function ip6_input(net: Net, skb: SkBuff, nhoff: number): number {
  const mib = net.mib.ipv6;
  for (;;) {
    const nexthdr = skb.head[skb.network_header + nhoff]!;
    let next: number;
    switch (nexthdr) {
      case NEXTHDR.NEXTHDR_DEST:
        next = ipv6_destopt_rcv(net, skb);
        break;
      case NEXTHDR.NEXTHDR_ROUTING:
        next = ipv6_rthdr_rcv(net, skb);
        break;
      case NEXTHDR.NEXTHDR_FRAGMENT:
        next = ipv6_frag_rcv(net, skb);
        break;
      case NEXTHDR.NEXTHDR_NONE:
        // Nothing follows: delivered to nobody, as the kernel's nodata handler does.
        mib.Ip6InDelivers++;
        consume_skb(skb);
        return NET_RX_SUCCESS;
      default: {
        if (!skb_pull(skb, skb.transport_header - skb.data)) {
          mib.Ip6InDiscards++;
          kfree_skb_reason(skb, R.SKB_DROP_REASON_NOT_SPECIFIED);
          return NET_RX_DROP;
        }
        const ipprot = nexthdr === NEXTHDR.NEXTHDR_HOP ? undefined : inet6_protos[nexthdr];
        if (ipprot !== undefined) {
          ipprot.handler(skb);
          mib.Ip6InDelivers++;
          return NET_RX_SUCCESS;
        }
        mib.Ip6InUnknownProtos++;
        icmpv6_send(skb, ICMPV6.ICMPV6_PARAMPROB, ICMPV6.ICMPV6_UNK_NEXTHDR, nhoff);
        kfree_skb_reason(skb, R.SKB_DROP_REASON_IP_NOPROTO);
        return NET_RX_DROP;
      }
    }
    if (next < 0) return NET_RX_DROP;
    nhoff = next;
  }
}

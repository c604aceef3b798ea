// net/ipv4/ip_input.c: the IPv4 receive path. ip_rcv_core checks the header as Linux does
// (version, ihl, checksum, tot_len against what arrived, then trims the link padding),
// ip_rcv_finish classifies by route (local, broadcast, not for us), ip_rcv_options checks options,
// ip_local_deliver drops fragments (no reassembly here: counted ReasmReqds/ReasmFails with
// IP_FRAGMENT) and ip_local_deliver_finish hands the datagram to inet_protos[protocol], or answers
// protocol unreachable. Every drop names its reason and bumps the counter Linux bumps.
import {
  PACKET_OTHERHOST, PACKET_TYPES, SKB_DROP_REASONS, kfree_skb_reason, pskb_may_pull, skb_pull, skb_trim, type SkBuff,
} from '../core/skbuff.ts';
import { NET_RX_DROP, NET_RX_SUCCESS, dev_net } from '../core/dev.ts';
import type { NetDevice } from '../core/netdevice.ts';
import type { Net } from '../core/net-namespace.ts';
import { ip_fast_csum } from '../core/checksum.ts';
import { inet_protos } from './protocol.ts';
import { RTN, ip_route_input_slow } from './route.ts';
import { inet_addr_type } from './devinet.ts';
import { EHOSTUNREACH, ENETUNREACH } from './ip-errno.ts';
import { ip_options_compile } from './ip-options.ts';
import { ICMP, icmp_send } from './icmp.ts';

const R = SKB_DROP_REASONS;
const IP_MF = 0x2000;
const IP_OFFSET = 0x1fff;

/**
 * skb_rtable(skb)->rt_type for a received datagram: the route type ip_rcv_finish found (RTN_LOCAL,
 * RTN_BROADCAST, RTN_MULTICAST; 0 before routing), for the transports to tell broadcast and
 * multicast deliveries apart. The skb carries no dst here, so the type rides in the upper half of
 * IPCB's flags word (cb.ip_flags), which the IP layer owns until it hands the skb up.
 */
export function skb_rt_type(skb: SkBuff): number {
  return skb.cb.ip_flags >>> 16;
}

function set_rt_type(skb: SkBuff, type: number): void {
  skb.cb.ip_flags = (skb.cb.ip_flags & 0xffff) | (type << 16);
}

/**
 * ip_rcv: the ETH_P_IP handler. Owns the skb; returns NET_RX_SUCCESS or NET_RX_DROP.
 */
export function ip_rcv(skb: SkBuff, dev: NetDevice): number {
  const net = dev_net(dev);
  if (!ip_rcv_core(skb, net)) return NET_RX_DROP;
  return ip_rcv_finish(net, skb, dev);
}

/**
 * ip_rcv_core: the header checks. On success the skb is trimmed to tot_len, transport_header set
 * past the options, IPCB cleared with iif; on failure it is freed and counted.
 */
function ip_rcv_core(skb: SkBuff, net: Net): boolean {
  const mib = net.mib;
  if (skb.pkt_type === PACKET_OTHERHOST) {
    // Frames for another MAC (a promiscuous device): not ours, not counted as received.
    kfree_skb_reason(skb, R.SKB_DROP_REASON_OTHERHOST);
    return false;
  }
  mib.ip.InReceives++;
  mib.ipext.InOctets += skb.len;
  let reason: number = R.SKB_DROP_REASON_NOT_SPECIFIED;
  const b = skb.head;
  const h = skb.data;
  skb.network_header = h;
  if (!pskb_may_pull(skb, 20)) return inhdr_error(skb, net, reason);
  const ihl = b[h]! & 0x0f;
  if (ihl < 5 || b[h]! >>> 4 !== 4) return inhdr_error(skb, net, reason);
  if (!pskb_may_pull(skb, ihl * 4)) return inhdr_error(skb, net, reason);
  if (ip_fast_csum(b, h, ihl) !== 0) {
    reason = R.SKB_DROP_REASON_IP_CSUM;
    mib.ipext.InCsumErrors++;
    return inhdr_error(skb, net, reason);
  }
  const len = (b[h + 2]! << 8) | b[h + 3]!;
  if (skb.len < len) {
    mib.ipext.InTruncatedPkts++;
    kfree_skb_reason(skb, R.SKB_DROP_REASON_PKT_TOO_SMALL);
    return false;
  }
  if (len < ihl * 4) return inhdr_error(skb, net, reason);
  // Link-layer padding (a 60-byte minimum Ethernet frame) is not part of the datagram.
  skb_trim(skb, len);
  skb.transport_header = h + ihl * 4;
  skb.cb.clear();
  skb.cb.iif = skb.skb_iif;
  return true;
}

function inhdr_error(skb: SkBuff, net: Net, reason: number): false {
  net.mib.ip.InHdrErrors++;
  kfree_skb_reason(skb, reason === R.SKB_DROP_REASON_NOT_SPECIFIED ? R.SKB_DROP_REASON_IP_INHDR : reason);
  return false;
}

/**
 * ip_rcv_finish (ip_rcv_finish_core + dst_input): the input route decides. Not for us with
 * forwarding off: InAddrErrors (ip_error). Martians: dropped. Options are checked after routing,
 * as the kernel does.
 */
function ip_rcv_finish(net: Net, skb: SkBuff, dev: NetDevice): number {
  const v = skb.view;
  const h = skb.network_header;
  const daddr = v.getUint32(h + 16);
  const saddr = v.getUint32(h + 12);
  // A copy of our own broadcast (dev_loopback_xmit) was routed on output: it is ours to deliver.
  const type = skb.pkt_type === PACKET_TYPES.PACKET_LOOPBACK ? inet_addr_type(net, daddr) : ip_route_input_slow(net, daddr, saddr, dev);
  if (type < 0) return ip_error(net, skb, type);
  set_rt_type(skb, type);
  if (type === RTN.RTN_MULTICAST) net.mib.ipext.InMcastPkts++;
  else if (type === RTN.RTN_BROADCAST) net.mib.ipext.InBcastPkts++;
  const ihl = skb.head[h]! & 0x0f;
  if (ihl > 5) {
    // ip_rcv_options: a malformed option is a header error (and a parameter problem to the
    // sender); a source route is refused unless accept_source_route.
    const err = ip_options_compile(skb);
    if (err < 0) {
      net.mib.ip.InHdrErrors++;
      kfree_skb_reason(skb, R.SKB_DROP_REASON_IP_INHDR);
      return NET_RX_DROP;
    }
    if (err > 0 && net.ipv4.sysctl_accept_source_route === 0) {
      kfree_skb_reason(skb, R.SKB_DROP_REASON_NOT_SPECIFIED);
      return NET_RX_DROP;
    }
  }
  return ip_local_deliver(net, skb);
}

/** ip_error: a datagram routing refused. */
function ip_error(net: Net, skb: SkBuff, err: number): number {
  let reason: number = R.SKB_DROP_REASON_NOT_SPECIFIED;
  if (net.ipv4.sysctl_ip_forward === 0) {
    if (err === -EHOSTUNREACH) {
      reason = R.SKB_DROP_REASON_IP_INADDRERRORS;
      net.mib.ip.InAddrErrors++;
    } else if (err === -ENETUNREACH) {
      reason = R.SKB_DROP_REASON_IP_INNOROUTES;
      net.mib.ipext.InNoRoutes++;
    }
  } else if (err === -ENETUNREACH) {
    // Forwarding on and no route: net unreachable to the sender (forwarding itself is not modelled).
    reason = R.SKB_DROP_REASON_IP_INNOROUTES;
    net.mib.ipext.InNoRoutes++;
    icmp_send(skb, ICMP.ICMP_DEST_UNREACH, ICMP.ICMP_NET_UNREACH, 0);
  } else if (err === -EHOSTUNREACH) {
    reason = R.SKB_DROP_REASON_IP_INADDRERRORS;
    net.mib.ip.InAddrErrors++;
  }
  kfree_skb_reason(skb, reason);
  return NET_RX_DROP;
}

/** ip_is_fragment: MF set or a nonzero offset. */
export function ip_is_fragment(skb: SkBuff): boolean {
  return (skb.view.getUint16(skb.network_header + 6) & (IP_MF | IP_OFFSET)) !== 0;
}

/**
 * ip_local_deliver: fragments would go to ip_defrag; this stack does not reassemble, so each is
 * counted as a reassembly request that failed and dropped with IP_FRAGMENT.
 */
export function ip_local_deliver(net: Net, skb: SkBuff): number {
  if (ip_is_fragment(skb)) {
    net.mib.ip.ReasmReqds++;
    net.mib.ip.ReasmFails++;
    kfree_skb_reason(skb, R.SKB_DROP_REASON_IP_FRAGMENT);
    return NET_RX_DROP;
  }
  return ip_local_deliver_finish(net, skb);
}

/**
 * ip_local_deliver_finish + ip_protocol_deliver_rcu: skb.data moves to the transport header and
 * the protocol's handler takes it (InDelivers after it returns). No handler: InUnknownProtos,
 * ICMP protocol unreachable, dropped with IP_NOPROTO.
 */
function ip_local_deliver_finish(net: Net, skb: SkBuff): number {
  skb_pull(skb, skb.transport_header - skb.data);
  const protocol = skb.head[skb.network_header + 9]!;
  const ipprot = inet_protos[protocol];
  if (ipprot !== undefined) {
    ipprot.handler(skb);
    net.mib.ip.InDelivers++;
    return NET_RX_SUCCESS;
  }
  net.mib.ip.InUnknownProtos++;
  icmp_send(skb, ICMP.ICMP_DEST_UNREACH, ICMP.ICMP_PROT_UNREACH, 0);
  kfree_skb_reason(skb, R.SKB_DROP_REASON_IP_NOPROTO);
  return NET_RX_DROP;
}

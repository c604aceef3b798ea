// drivers/net/loopback.c: `lo`, where output routes to local addresses lead. What it transmits it
// receives, but later: loopback_xmit queues the skb (netif_rx's backlog) and loopback_poll
// (process_backlog) passes it up, so a TCP exchange over lo never recurses inside the sender's
// call. lo has no link header (hard_header_len 0), so the IP layer neither resolves neighbours
// nor pushes a header for it, and the skb travels as it is (no copy, as the kernel's).
import { NetDevice, IFF, ARPHRD, NETDEV_TX_OK, type NetdevTx } from './netdevice.ts';
import { PACKET_HOST, PACKET_TYPES, SkBuffHead, __skb_dequeue, __skb_queue_tail, kfree_skb_reason, skb_orphan, SKB_DROP_REASONS, type SkBuff } from './skbuff.ts';
import { netif_receive_skb, register_netdevice } from './dev.ts';
import type { Net } from './net-namespace.ts';
import { inet_addr_add } from '../ipv4/devinet.ts';
import { ipv6_addr_add } from '../ipv6/addrconf.ts';
import { In6Addr } from './in6-addr.ts';

/** lo's MTU, as the kernel's (64 KiB). */
export const LOOPBACK_MTU = 65536;

export class LoopbackDevice extends NetDevice {
  /** The backlog: skbs transmitted and not yet received. */
  readonly backlog = new SkBuffHead();
  /** netdev_max_backlog: a full backlog drops (CPU_BACKLOG), as enqueue_to_backlog does. */
  max_backlog = 1000;
  /** Called when an skb is queued (an event loop that polls on demand listens here). */
  on_rx: (() => void) | null = null;

  constructor() {
    super({
      name: 'lo', mtu: LOOPBACK_MTU, type: ARPHRD.ARPHRD_LOOPBACK, flags: IFF.IFF_UP | IFF.IFF_LOOPBACK,
      ops: { ndo_start_xmit: loopback_xmit },
    });
  }
}

function loopback_xmit(skb: SkBuff, dev: NetDevice): NetdevTx {
  const lo = dev as LoopbackDevice;
  // The sender's memory is given back now: the packet is the receiver's from here.
  skb_orphan(skb);
  if (lo.backlog.qlen >= lo.max_backlog) {
    lo.stats.rx_dropped++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_CPU_BACKLOG);
    return NETDEV_TX_OK;
  }
  skb.pkt_type = PACKET_HOST;
  __skb_queue_tail(lo.backlog, skb);
  lo.on_rx?.();
  return NETDEV_TX_OK;
}

/**
 * loopback_init (loopback_net_init): registers `lo` in net (ifindex 1 when first), with 127.0.0.1/8
 * and ::1/128, and makes it net.loopback_dev.
 */
export function loopback_init(net: Net): LoopbackDevice {
  const lo = new LoopbackDevice();
  register_netdevice(net, lo);
  net.loopback_dev = lo;
  inet_addr_add(lo, 0x7f000001, 8);
  ipv6_addr_add(lo, new In6Addr(0, 0, 0, 1), 128);
  return lo;
}

/**
 * dev_loopback_xmit: a copy of what dev sends comes back in as if received on dev (pkt_type
 * PACKET_LOOPBACK), through the backlog like lo's own traffic. Broadcasts a host sends reach its
 * own sockets this way (ip_mc_output). skb is the caller's copy, data at the network header.
 */
export function dev_loopback_xmit(net: Net, skb: SkBuff): void {
  const lo = net.loopback_dev;
  if (!(lo instanceof LoopbackDevice) || lo.backlog.qlen >= lo.max_backlog) {
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_CPU_BACKLOG);
    return;
  }
  skb_orphan(skb);
  skb.pkt_type = PACKET_TYPES.PACKET_LOOPBACK;
  __skb_queue_tail(lo.backlog, skb);
  lo.on_rx?.();
}

/**
 * process_backlog for lo: receives up to budget queued skbs through the stack. Returns how many.
 * A dev that is not a LoopbackDevice has nothing queued.
 */
export function loopback_poll(dev: NetDevice, budget = 64): number {
  if (!(dev instanceof LoopbackDevice)) return 0;
  let n = 0;
  while (n < budget) {
    const skb = __skb_dequeue(dev.backlog);
    if (skb === null) break;
    if (skb.pkt_type === PACKET_TYPES.PACKET_LOOPBACK && skb.dev !== null) {
      // A dev_loopback_xmit copy: received on the device it was sent from.
      skb.dev.stats.rx_packets++;
      skb.dev.stats.rx_bytes += skb.len;
    } else {
      dev.stats.rx_packets++;
      dev.stats.rx_bytes += skb.len;
      skb.dev = dev;
    }
    skb.mac_header = skb.data;
    skb.network_header = skb.data;
    skb.transport_header = -1;
    skb.mac_len = 0;
    netif_receive_skb(skb);
    n++;
  }
  return n;
}

// struct net_device as the stacks see it: a name and ifindex in one netns, a link-layer address,
// the MTU, flags, counters, the driver's transmit entry (ndo_start_xmit) and the queue state a
// driver stops and wakes (netif_stop_queue / netif_wake_queue). The guest's virtio_net, the
// host's bridge port, a packetdrill tun and a test's wire are all NetDevices; the stack above
// cannot tell them apart, as in the kernel.
import { SkBuffHead, type SkBuff } from './skbuff.ts';
import type { Net } from './net-namespace.ts';
import { NetError } from './errors.ts';

/** netdev_tx_t */
export const NETDEV_TX = { NETDEV_TX_OK: 0, NETDEV_TX_BUSY: 0x10 } as const;
export const { NETDEV_TX_OK, NETDEV_TX_BUSY } = NETDEV_TX;
export type NetdevTx = (typeof NETDEV_TX)[keyof typeof NETDEV_TX];

/** include/uapi/linux/if.h, the flags this stack reads. */
export const IFF = {
  IFF_UP: 0x1,
  IFF_BROADCAST: 0x2,
  IFF_LOOPBACK: 0x8,
  IFF_POINTOPOINT: 0x10,
  IFF_NOARP: 0x80,
  IFF_PROMISC: 0x100,
  IFF_MULTICAST: 0x1000,
} as const;

/** include/uapi/linux/if_arp.h, dev->type. */
export const ARPHRD = { ARPHRD_ETHER: 1, ARPHRD_LOOPBACK: 772, ARPHRD_NONE: 0xfffe } as const;

export interface NetDeviceOps {
  /**
   * ndo_start_xmit: the driver takes the skb (it frees or keeps it) and returns NETDEV_TX_OK, or
   * returns NETDEV_TX_BUSY and leaves the skb to the caller (a full ring it should have stopped
   * the queue for).
   */
  ndo_start_xmit(skb: SkBuff, dev: NetDevice): NetdevTx;
}

/** struct rtnl_link_stats64, the counters `ip -s link` prints. */
export class NetDeviceStats {
  rx_packets = 0;
  tx_packets = 0;
  rx_bytes = 0;
  tx_bytes = 0;
  rx_errors = 0;
  tx_errors = 0;
  rx_dropped = 0;
  tx_dropped = 0;
  /** Frames the stack did not want (unknown ethertype), as rx_nohandler counts them. */
  rx_nohandler = 0;
}

/**
 * The tc hook points of a device (the clsact qdisc's ingress and egress, tcx). Each holds the
 * attached classifiers in order; empty means no tc processing, which sch_handle_ingress/egress
 * check first so a device without programs pays one length test. net/sched/cls-bpf.ts's
 * ClsactMiniq is the hook; sch_handle_ingress/egress act on its TC_ACT_* verdicts as the kernel does.
 */
export interface TcHook {
  /** Runs the classifiers on skb; returns a TC_ACT_* verdict. */
  run(skb: SkBuff): number;
}

export interface NetDeviceOptions {
  name: string;
  /** The link-layer address (6 bytes for Ethernet); none for a loopback or an L3 tun. */
  dev_addr?: Uint8Array;
  mtu?: number;
  flags?: number;
  type?: number;
  ops: NetDeviceOps;
}

export class NetDevice {
  name: string;
  ifindex = 0;
  /** The netns it is registered in (dev_net), set by register_netdevice. */
  nd_net: Net | null = null;
  readonly dev_addr: Uint8Array;
  readonly broadcast = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  mtu: number;
  flags: number;
  readonly type: number;
  /** hard_header_len: link header bytes dev_hard_header pushes (14 for Ethernet, 0 for an L3 device). */
  readonly hard_header_len: number;
  readonly netdev_ops: NetDeviceOps;
  readonly stats = new NetDeviceStats();
  /** netif_queue_stopped: the driver's ring is full; dev_queue_xmit queues on the qdisc until woken. */
  queue_stopped = false;
  /** txqueuelen: the qdisc's limit in packets (pfifo_fast's, 1000 by default). */
  tx_queue_len = 1000;
  /** The root qdisc (pfifo_fast without bands: one FIFO): what waits while the queue is stopped. */
  readonly qdisc = new SkBuffHead();
  /** Packets the qdisc dropped at its limit (tc -s qdisc's "dropped"), and requeues. */
  qdisc_drops = 0;
  /** On its netns's output_queue, waiting for net_tx_action (__QDISC_STATE_SCHED). */
  qdisc_scheduled = false;
  /** Called by netif_wake_queue, so a qdisc-less device's senders (TCP's write queue) can retry. */
  wake_callbacks: (() => void)[] = [];
  /** tc ingress/egress (sch_handle_ingress / sch_handle_egress). */
  readonly tc_ingress: TcHook[] = [];
  readonly tc_egress: TcHook[] = [];
  /** The protocol layers' per-device state: struct in_device and struct inet6_dev. */
  ip_ptr: unknown = null;
  ip6_ptr: unknown = null;

  constructor(o: NetDeviceOptions) {
    this.name = o.name;
    this.type = o.type ?? ARPHRD.ARPHRD_ETHER;
    this.dev_addr = o.dev_addr ?? new Uint8Array(this.type === ARPHRD.ARPHRD_ETHER ? 6 : 0);
    if (this.type === ARPHRD.ARPHRD_ETHER && this.dev_addr.length !== 6) {
      throw new NetError('EINVAL', `${o.name}: an Ethernet address has 6 bytes, not ${this.dev_addr.length}`);
    }
    this.mtu = o.mtu ?? 1500;
    if (!Number.isInteger(this.mtu) || this.mtu < 68 || this.mtu > 65536) throw new NetError('EINVAL', `${o.name}: MTU ${this.mtu}`);
    this.flags = o.flags ?? (IFF.IFF_UP | IFF.IFF_BROADCAST | IFF.IFF_MULTICAST);
    this.hard_header_len = this.type === ARPHRD.ARPHRD_ETHER ? 14 : 0;
    this.netdev_ops = o.ops;
  }
}

export function netif_running(dev: NetDevice): boolean {
  return (dev.flags & IFF.IFF_UP) !== 0;
}

export function netif_stop_queue(dev: NetDevice): void {
  dev.queue_stopped = true;
}

export function netif_queue_stopped(dev: NetDevice): boolean {
  return dev.queue_stopped;
}

/**
 * netif_wake_queue: the ring has room again. What the qdisc holds goes out at the next
 * net_tx_action (dev.ts), not inside this call, as the kernel raises NET_TX_SOFTIRQ rather than
 * calling the driver from its own completion path; then whoever waits to transmit is told.
 */
export function netif_wake_queue(dev: NetDevice): void {
  if (!dev.queue_stopped) return;
  dev.queue_stopped = false;
  if (dev.qdisc.qlen !== 0) __netif_schedule(dev);
  for (const cb of dev.wake_callbacks) cb();
}

/** __netif_schedule: puts the device on its netns's output_queue for net_tx_action. */
export function __netif_schedule(dev: NetDevice): void {
  if (dev.qdisc_scheduled || dev.nd_net === null) return;
  dev.qdisc_scheduled = true;
  dev.nd_net.dev_base.output_queue.push(dev);
}

export function netif_start_queue(dev: NetDevice): void {
  dev.queue_stopped = false;
}

// net/core/dev.c: devices registered in a netns, the receive entry every driver calls
// (netif_receive_skb) and the transmit entry every protocol calls (dev_queue_xmit), with the tc
// hook points (sch_handle_ingress / sch_handle_egress) and the packet taps (ptype_all: pcap
// capture) where the kernel has them. There is no receive backlog: a machine runs its receive
// path to completion on its one thread, as NAPI does. Transmit has one qdisc per device, a FIFO of
// txqueuelen packets (pfifo_fast without its bands): empty and with the driver's queue running,
// a packet goes straight to the driver (TCQ_F_CAN_BYPASS); while the driver has stopped its queue
// (a full ring) packets wait there, and net_tx_action sends them once the driver wakes the queue.
import {
  ETH_P_ALL, PACKET_OUTGOING, SKB_DROP_REASONS, __skb_dequeue, __skb_queue_head, __skb_queue_tail, kfree_skb_reason, type SkBuff,
} from './skbuff.ts';
import { NETDEV_TX_OK, netif_running, type NetDevice } from './netdevice.ts';
import type { Net } from './net-namespace.ts';
import { NetError } from './errors.ts';
import { TC_ACT_OK, TC_ACT_SHOT, TC_ACT_STOLEN, TC_ACT_REDIRECT } from '../sched/pkt-cls.ts';

/** NET_RX_SUCCESS / NET_RX_DROP, what netif_receive_skb returns. */
export const NET_RX = { NET_RX_SUCCESS: 0, NET_RX_DROP: 1 } as const;
export const { NET_RX_SUCCESS, NET_RX_DROP } = NET_RX;
/** NET_XMIT_*, what dev_queue_xmit returns (0 or a positive code). */
export const NET_XMIT = { NET_XMIT_SUCCESS: 0, NET_XMIT_DROP: 1, NET_XMIT_CN: 2 } as const;
export const { NET_XMIT_SUCCESS, NET_XMIT_DROP } = NET_XMIT;

/** struct packet_type: a protocol handler (ip_rcv, ipv6_rcv, arp_rcv) or a tap (ETH_P_ALL). */
export interface PacketType {
  readonly type: number;
  /** Only packets of this device, or every device when null. */
  readonly dev: NetDevice | null;
  /**
   * The handler owns the skb (frees or queues it) and returns NET_RX_*. A tap (ETH_P_ALL) does not
   * own it: it reads the bytes and returns; the kernel hands taps a clone.
   */
  func(skb: SkBuff, dev: NetDevice, pt: PacketType, orig_dev: NetDevice): number;
}

/** The per-netns device list and packet handlers (dev_base_head, ptype_base, ptype_all). */
export class NetDevBase {
  readonly by_index = new Map<number, NetDevice>();
  readonly by_name = new Map<string, NetDevice>();
  /** ifindex allocation: the kernel's next-free search from 1 (lo gets 1). */
  ifindex = 0;
  readonly ptype_base: PacketType[] = [];
  readonly ptype_all: PacketType[] = [];
  /** Frames no handler took (the sum of the devices' rx_nohandler). */
  rx_no_handler = 0;
  /** softnet_data.output_queue: devices whose qdisc has packets to send once woken. */
  readonly output_queue: NetDevice[] = [];
}

/** register_netdevice: gives the device an ifindex in net and makes it findable. */
export function register_netdevice(net: Net, dev: NetDevice): number {
  const base = net.dev_base;
  if (base.by_name.has(dev.name)) throw new NetError('EEXIST', `register_netdevice: ${dev.name} exists`);
  dev.ifindex = ++base.ifindex;
  dev.nd_net = net;
  base.by_index.set(dev.ifindex, dev);
  base.by_name.set(dev.name, dev);
  return 0;
}

export function unregister_netdevice(dev: NetDevice): void {
  const net = dev.nd_net;
  if (net === null) return;
  net.dev_base.by_index.delete(dev.ifindex);
  net.dev_base.by_name.delete(dev.name);
  dev.nd_net = null;
}

export function dev_get_by_index(net: Net, ifindex: number): NetDevice | undefined {
  return net.dev_base.by_index.get(ifindex);
}

export function dev_get_by_name(net: Net, name: string): NetDevice | undefined {
  return net.dev_base.by_name.get(name);
}

export function dev_net(dev: NetDevice): Net {
  if (dev.nd_net === null) throw new NetError('ENODEV', `${dev.name} is not registered`);
  return dev.nd_net;
}

/** dev_add_pack: registers a protocol handler or a tap in net. */
export function dev_add_pack(net: Net, pt: PacketType): void {
  (pt.type === ETH_P_ALL ? net.dev_base.ptype_all : net.dev_base.ptype_base).push(pt);
}

export function dev_remove_pack(net: Net, pt: PacketType): void {
  const list = pt.type === ETH_P_ALL ? net.dev_base.ptype_all : net.dev_base.ptype_base;
  const i = list.indexOf(pt);
  if (i >= 0) list.splice(i, 1);
}

/**
 * sch_handle_ingress: runs the device's tc ingress classifiers. Returns the skb to go on with, or
 * null if tc took it (SHOT: freed and counted; STOLEN/REDIRECT: the classifier owns it).
 */
export function sch_handle_ingress(skb: SkBuff, dev: NetDevice): SkBuff | null {
  for (const hook of dev.tc_ingress) {
    const act = hook.run(skb);
    if (act === TC_ACT_OK || act === -1) continue;
    if (act === TC_ACT_SHOT) {
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TC_INGRESS);
      return null;
    }
    if (act === TC_ACT_STOLEN || act === TC_ACT_REDIRECT) return null;
  }
  return skb;
}

/** sch_handle_egress: the same on transmit, before the driver. */
export function sch_handle_egress(skb: SkBuff, dev: NetDevice): SkBuff | null {
  for (const hook of dev.tc_egress) {
    const act = hook.run(skb);
    if (act === TC_ACT_OK || act === -1) continue;
    if (act === TC_ACT_SHOT) {
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TC_EGRESS);
      return null;
    }
    if (act === TC_ACT_STOLEN || act === TC_ACT_REDIRECT) return null;
  }
  return skb;
}

/**
 * netif_receive_skb: a driver passes up a frame whose skb->protocol and pkt_type eth_type_trans
 * set and whose data starts at the network header. Taps see it, tc ingress runs, then the handler
 * for its protocol. Returns NET_RX_SUCCESS or NET_RX_DROP; the skb is always consumed.
 */
export function netif_receive_skb(skb: SkBuff): number {
  const dev = skb.dev;
  if (dev === null) throw new NetError('EINVAL', 'netif_receive_skb: skb without a device');
  const base = dev_net(dev).dev_base;
  skb.skb_iif = dev.ifindex;
  if (skb.network_header < 0) skb.network_header = skb.data;
  if (skb.mac_header >= 0) skb.mac_len = skb.network_header - skb.mac_header;
  for (const pt of base.ptype_all) if (pt.dev === null || pt.dev === dev) pt.func(skb, dev, pt, dev);
  if (dev.tc_ingress.length !== 0) {
    const s = sch_handle_ingress(skb, dev);
    if (s === null) return NET_RX_DROP;
    skb = s;
  }
  const type = skb.protocol;
  const handlers = base.ptype_base;
  for (let i = 0; i < handlers.length; i++) {
    const pt = handlers[i]!;
    if (pt.type === type && (pt.dev === null || pt.dev === dev)) return pt.func(skb, dev, pt, dev);
  }
  dev.stats.rx_nohandler++;
  base.rx_no_handler++;
  kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_UNHANDLED_PROTO);
  return NET_RX_DROP;
}

/** dev_queue_xmit_nit: the taps see what leaves, as PACKET_OUTGOING. */
function dev_queue_xmit_nit(skb: SkBuff, dev: NetDevice, taps: PacketType[]): void {
  const saved = skb.pkt_type;
  skb.pkt_type = PACKET_OUTGOING;
  for (const pt of taps) if (pt.dev === null || pt.dev === dev) pt.func(skb, dev, pt, dev);
  skb.pkt_type = saved;
}

/** dev_hard_start_xmit: the taps, then the driver. A driver's BUSY is a drop (it should have stopped its queue). */
function dev_hard_start_xmit(skb: SkBuff, dev: NetDevice): number {
  const taps = dev.nd_net?.dev_base.ptype_all;
  if (taps !== undefined && taps.length !== 0) dev_queue_xmit_nit(skb, dev, taps);
  const len = skb.len;
  if (dev.netdev_ops.ndo_start_xmit(skb, dev) !== NETDEV_TX_OK) {
    dev.stats.tx_dropped++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_FULL_RING);
    return NET_XMIT_DROP;
  }
  dev.stats.tx_packets++;
  dev.stats.tx_bytes += len;
  return NET_XMIT_SUCCESS;
}

/**
 * dev_queue_xmit: skb->data is at the link header (dev_hard_header pushed it) and skb->dev is set.
 * tc egress runs; then the packet goes to the driver, or waits on the qdisc while the driver's
 * queue is stopped (dropped and counted when txqueuelen packets already wait). Returns
 * NET_XMIT_SUCCESS (sent or queued) or NET_XMIT_DROP.
 */
export function dev_queue_xmit(skb: SkBuff): number {
  const dev = skb.dev;
  if (dev === null) throw new NetError('EINVAL', 'dev_queue_xmit: skb without a device');
  if (skb.mac_header < 0) skb.mac_header = skb.data;
  if (dev.tc_egress.length !== 0) {
    const s = sch_handle_egress(skb, dev);
    if (s === null) return NET_XMIT_DROP;
    skb = s;
  }
  if (!netif_running(dev)) {
    dev.stats.tx_dropped++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_DEV_READY);
    return NET_XMIT_DROP;
  }
  const q = dev.qdisc;
  if (dev.queue_stopped || q.qlen !== 0) {
    if (q.qlen >= dev.tx_queue_len) {
      dev.qdisc_drops++;
      dev.stats.tx_dropped++;
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_QDISC_DROP);
      return NET_XMIT_DROP;
    }
    __skb_queue_tail(q, skb);
    if (!dev.queue_stopped) qdisc_run(dev);
    return NET_XMIT_SUCCESS;
  }
  return dev_hard_start_xmit(skb, dev);
}

/** qdisc_run: sends what the qdisc holds until it is empty or the driver stops its queue again. Returns packets sent. */
export function qdisc_run(dev: NetDevice): number {
  const q = dev.qdisc;
  let n = 0;
  while (!dev.queue_stopped) {
    const skb = __skb_dequeue(q);
    if (skb === null) break;
    dev_hard_start_xmit(skb, dev);
    n++;
  }
  return n;
}

/** dev_requeue_skb: puts a packet back at the head of the qdisc (a driver that took it back). */
export function dev_requeue_skb(skb: SkBuff, dev: NetDevice): void {
  __skb_queue_head(dev.qdisc, skb);
}

/**
 * net_tx_action (NET_TX_SOFTIRQ): runs the qdiscs of the devices netif_wake_queue scheduled.
 * The machine's loop calls it each round, after the drivers' completions. Returns packets sent.
 */
export function net_tx_action(net: Net): number {
  const oq = net.dev_base.output_queue;
  if (oq.length === 0) return 0;
  let n = 0;
  const devs = oq.splice(0, oq.length);
  for (const dev of devs) {
    dev.qdisc_scheduled = false;
    n += qdisc_run(dev);
  }
  return n;
}

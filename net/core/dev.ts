// net/core/dev.c: devices registered in a netns, the receive entry every driver calls
// (netif_receive_skb) and the transmit entry every protocol calls (dev_queue_xmit), with the tc
// hook points (sch_handle_ingress / sch_handle_egress) and the packet taps (ptype_all: pcap
// capture) where the kernel has them. There is no receive backlog: a machine runs its receive
// path to completion on its one thread, as NAPI does. Transmit has one qdisc per device, a FIFO of
// txqueuelen packets (pfifo_fast without its bands): empty and with the driver's queue running,
// a packet goes straight to the driver (TCQ_F_CAN_BYPASS); while the driver has stopped its queue
// (a full ring) packets wait there, and net_tx_action sends them once the driver wakes the queue.
// A tc redirect (skb_do_redirect) goes to another device's transmit path or, through netif_rx and
// a per-netns backlog, its receive path.
import {
  ETH_P_ALL, PACKET_HOST, PACKET_OUTGOING, SKB_DROP_REASONS, SkBuffHead, __skb_dequeue, __skb_queue_head, __skb_queue_tail, consume_skb,
  kfree_skb, kfree_skb_reason, skb_pull, skb_push, type SkBuff,
} from './skbuff.ts';
import { NETDEV_TX_OK, netif_running, type NetDevice } from './netdevice.ts';
import type { Net } from './net-namespace.ts';
import { NetError } from './errors.ts';
import { TC_ACT_OK, TC_ACT_QUEUED, TC_ACT_REDIRECT, TC_ACT_SHOT, TC_ACT_STOLEN, TC_ACT_TRAP, TC_ACT_UNSPEC } from '../sched/pkt-cls.ts';
import { eth_type_trans } from '../ethernet/eth.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';

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
  /** softnet_data.input_pkt_queue: what netif_rx queued (tc redirects to a receive path). */
  readonly backlog = new SkBuffHead();
  /** process_backlog is running (a packet it receives must not start another). */
  in_backlog = false;
  /** tc redirects that found no target, no link header, or too deep a recursion (dropped). */
  redirect_errors = 0;
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

/** BPF_F_* flags of bpf_redirect at tc (uapi bpf.h): deliver to the target's receive path. */
export const BPF_REDIRECT_FLAGS = { BPF_F_INGRESS: 1 } as const;
const { BPF_F_INGRESS } = BPF_REDIRECT_FLAGS;

/** XMIT_RECURSION_LIMIT: nested dev_queue_xmit calls (a redirect to another device's egress) before a drop. */
export const XMIT_RECURSION_LIMIT = 8;
let xmit_recursion = 0;

/**
 * struct bpf_redirect_info, the per-CPU place bpf_redirect leaves its target for skb_do_redirect
 * (net/core/filter.c keeps it there; here dev.ts, which performs the redirect). A classifier
 * returning TC_ACT_REDIRECT sets it (cls-bpf.ts copies the runner's env.redirect); one machine
 * processes one packet at a time, so one object per thread is the kernel's per-CPU one.
 */
export const bpf_redirect_info = { tgt_index: 0, flags: 0 };

/**
 * What the last sch_handle_ingress / sch_handle_egress that took the skb returns to its caller
 * (the kernel's `*ret`): NET_RX_SUCCESS for a redirect or a stolen packet, NET_RX_DROP for SHOT.
 */
let sch_ret = 0;

/**
 * sch_handle_ingress: runs the device's tc ingress classifiers (skb->data at the network header;
 * cls_bpf pushes the link header around each program). A hook's TC_ACT_UNSPEC or TC_ACT_OK hands
 * the packet to the next hook; the first other verdict is acted on as the kernel's
 * sch_handle_ingress does: REDIRECT goes through skb_do_redirect with the link header pushed back,
 * SHOT is freed as TC_INGRESS, STOLEN/QUEUED/TRAP are consumed; anything else (PIPE, RECLASSIFY)
 * continues up the stack. Returns the skb to go on with, or null if tc took it.
 */
export function sch_handle_ingress(skb: SkBuff, dev: NetDevice): SkBuff | null {
  const hooks = dev.tc_ingress;
  let act: number = TC_ACT_UNSPEC;
  for (let i = 0; i < hooks.length; i++) {
    act = hooks[i]!.run(skb);
    if (act !== TC_ACT_OK && act !== TC_ACT_UNSPEC) break;
  }
  switch (act) {
    case TC_ACT_REDIRECT:
      skb_push(skb, skb.mac_len);
      skb_do_redirect(skb);
      sch_ret = NET_RX_SUCCESS;
      return null;
    case TC_ACT_SHOT:
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TC_INGRESS);
      sch_ret = NET_RX_DROP;
      return null;
    case TC_ACT_STOLEN:
    case TC_ACT_QUEUED:
    case TC_ACT_TRAP:
      consume_skb(skb);
      sch_ret = NET_RX_SUCCESS;
      return null;
    default:
      return skb;
  }
}

/** sch_handle_egress: the same on transmit, before the qdisc (skb->data at the link header: no push). */
export function sch_handle_egress(skb: SkBuff, dev: NetDevice): SkBuff | null {
  const hooks = dev.tc_egress;
  let act: number = TC_ACT_UNSPEC;
  for (let i = 0; i < hooks.length; i++) {
    act = hooks[i]!.run(skb);
    if (act !== TC_ACT_OK && act !== TC_ACT_UNSPEC) break;
  }
  switch (act) {
    case TC_ACT_REDIRECT:
      skb_do_redirect(skb);
      sch_ret = NET_XMIT_SUCCESS;
      return null;
    case TC_ACT_SHOT:
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TC_EGRESS);
      sch_ret = NET_XMIT_DROP;
      return null;
    case TC_ACT_STOLEN:
    case TC_ACT_QUEUED:
    case TC_ACT_TRAP:
      consume_skb(skb);
      sch_ret = NET_XMIT_SUCCESS;
      return null;
    default:
      return skb;
  }
}

/**
 * skb_do_redirect: sends a packet tc redirected (skb->data at the link header) where
 * bpf_redirect_info says: the device with that ifindex in the same netns, into its receive path
 * (BPF_F_INGRESS: netif_rx, as __bpf_rx_skb) or its transmit path (dev_queue_xmit, as
 * __bpf_tx_skb). An unknown device, a packet without a link header, a device that is down, or
 * too deep a transmit recursion drop the packet. 0, or the kernel's negative errno.
 */
export function skb_do_redirect(skb: SkBuff): number {
  const ri = bpf_redirect_info;
  const src = skb.dev;
  const net = src !== null ? src.nd_net : null;
  const flags = ri.flags;
  const dev = net !== null ? net.dev_base.by_index.get(ri.tgt_index) : undefined;
  ri.tgt_index = 0;
  ri.flags = 0;
  if (dev === undefined || net === null) {
    if (net !== null) net.dev_base.redirect_errors++;
    kfree_skb(skb);
    return -ERRNO.EINVAL;
  }
  if (dev.hard_header_len !== 0) {
    // __bpf_redirect_common: a link-layer header must be there to hand on.
    if (skb.mac_header < 0 || skb.mac_header >= skb.network_header || skb.len === 0) {
      net.dev_base.redirect_errors++;
      kfree_skb(skb);
      return -ERRNO.ERANGE;
    }
  } else if (skb.network_header > skb.data) {
    // __bpf_redirect_no_mac: an L3 device takes the packet from its network header.
    skb_pull(skb, skb.network_header - skb.data);
  }
  return (flags & BPF_F_INGRESS) !== 0 ? __bpf_rx_skb(dev, skb) : __bpf_tx_skb(dev, skb);
}

/** __bpf_rx_skb: ____dev_forward_skb (the device must be up; priority cleared), eth_type_trans, netif_rx. */
function __bpf_rx_skb(dev: NetDevice, skb: SkBuff): number {
  if (!netif_running(dev)) {
    dev.stats.rx_dropped++;
    kfree_skb(skb);
    return NET_RX_DROP;
  }
  // skb_scrub_packet within one netns: the mark stays, the route goes (not cached on skbs here).
  skb.pkt_type = PACKET_HOST;
  skb.skb_iif = 0;
  skb.priority = 0;
  if (dev.hard_header_len !== 0) skb.protocol = eth_type_trans(skb, dev);
  else {
    skb.dev = dev;
    skb.network_header = skb.data;
    skb.mac_header = skb.data;
    skb.mac_len = 0;
  }
  return netif_rx(skb);
}

/** __bpf_tx_skb: dev_queue_xmit on the target, at most XMIT_RECURSION_LIMIT deep. */
function __bpf_tx_skb(dev: NetDevice, skb: SkBuff): number {
  if (xmit_recursion >= XMIT_RECURSION_LIMIT) {
    // "bpf: recursion limit reached on datapath, buggy bpf program?"
    const net = dev.nd_net;
    if (net !== null) net.dev_base.redirect_errors++;
    kfree_skb(skb);
    return -ERRNO.ENETDOWN;
  }
  skb.dev = dev;
  skb.tstamp = 0;
  xmit_recursion++;
  try {
    return dev_queue_xmit(skb);
  } finally {
    xmit_recursion--;
  }
}

/**
 * netif_rx: queues a packet for receive on its netns's backlog (softnet_data.input_pkt_queue),
 * processed by process_backlog: at the end of the netif_receive_skb that is running (a redirect
 * from tc ingress), or by net_tx_action, which the machines' loops call each round (a redirect
 * from tc egress: the sender's stack is not re-entered while it transmits, as the kernel defers
 * netif_rx to NET_RX_SOFTIRQ). Over net.core.netdev_max_backlog: dropped as CPU_BACKLOG.
 */
export function netif_rx(skb: SkBuff): number {
  const dev = skb.dev;
  const net = dev !== null ? dev.nd_net : null;
  if (dev === null || net === null) {
    kfree_skb(skb);
    return NET_RX_DROP;
  }
  const q = net.dev_base.backlog;
  // enqueue_to_backlog takes a packet while qlen <= netdev_max_backlog: the queue holds one more.
  if (q.qlen > net.core.sysctl_netdev_max_backlog) {
    dev.stats.rx_dropped++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_CPU_BACKLOG);
    return NET_RX_DROP;
  }
  __skb_queue_tail(q, skb);
  return NET_RX_SUCCESS;
}

/** process_backlog: receives up to `budget` packets netif_rx queued in net (netdev_budget, 300). Returns how many. */
export function process_backlog(net: Net, budget = 300): number {
  const base = net.dev_base;
  if (base.in_backlog) return 0;
  base.in_backlog = true;
  let n = 0;
  try {
    while (n < budget) {
      const skb = __skb_dequeue(base.backlog);
      if (skb === null) break;
      const dev = skb.dev;
      if (dev === null || dev.nd_net !== net) kfree_skb(skb);
      else __netif_receive_skb(skb, dev, base);
      n++;
    }
  } finally {
    base.in_backlog = false;
  }
  return n;
}

/**
 * netif_receive_skb: a driver passes up a frame whose skb->protocol and pkt_type eth_type_trans
 * set and whose data starts at the network header. Taps see it, tc ingress runs, then the handler
 * for its protocol. Returns NET_RX_SUCCESS or NET_RX_DROP; the skb is always consumed. What tc
 * redirected into a receive path meanwhile (netif_rx) is received before this returns.
 */
export function netif_receive_skb(skb: SkBuff): number {
  const dev = skb.dev;
  if (dev === null) throw new NetError('EINVAL', 'netif_receive_skb: skb without a device');
  const net = dev_net(dev);
  const base = net.dev_base;
  const ret = __netif_receive_skb(skb, dev, base);
  if (base.backlog.qlen !== 0 && !base.in_backlog) process_backlog(net);
  return ret;
}

/** __netif_receive_skb_core: taps, tc ingress, the protocol handler. */
function __netif_receive_skb(skb: SkBuff, dev: NetDevice, base: NetDevBase): number {
  skb.skb_iif = dev.ifindex;
  if (skb.network_header < 0) skb.network_header = skb.data;
  if (skb.mac_header >= 0) skb.mac_len = skb.network_header - skb.mac_header;
  for (const pt of base.ptype_all) if (pt.dev === null || pt.dev === dev) pt.func(skb, dev, pt, dev);
  if (dev.tc_ingress.length !== 0) {
    const s = sch_handle_ingress(skb, dev);
    if (s === null) return sch_ret;
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
    if (s === null) return sch_ret;
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
 * The machine's loop calls it each round, after the drivers' completions. Returns packets sent
 * (and received from the backlog).
 */
export function net_tx_action(net: Net): number {
  // The receive backlog (netif_rx from a tc redirect) is NET_RX_SOFTIRQ's, drained here because
  // this is the softirq the machines' loops already run every round.
  let n = net.dev_base.backlog.qlen !== 0 ? process_backlog(net) : 0;
  const oq = net.dev_base.output_queue;
  if (oq.length === 0) return n;
  const devs = oq.splice(0, oq.length);
  for (const dev of devs) {
    dev.qdisc_scheduled = false;
    n += qdisc_run(dev);
  }
  return n;
}

// drivers/net/veth.c: a pair of Ethernet devices, possibly in two netns (two machines' stacks in
// one test), where what one transmits the other receives. As veth does through the peer's NAPI,
// a frame is queued on the peer and received when the peer is polled, never inside the sender's
// call: a TCP exchange between two stacks would otherwise recurse once per segment. The queue is
// bounded (a full one drops, counted as the sender's tx_dropped via NETDEV_TX_BUSY's caller) and
// the frame is copied, so the sender may reuse its buffer, as a wire would.
import { NetDevice, NETDEV_TX_BUSY, NETDEV_TX_OK, type NetdevTx } from './netdevice.ts';
import { consume_skb, netdev_alloc_skb, skb_put, type SkBuff } from './skbuff.ts';
import { eth_type_trans } from '../ethernet/eth.ts';
import { netif_receive_skb } from './dev.ts';

export interface VethOptions {
  /** Frames a device holds before its peer polls; default 1024. */
  queue_len?: number;
  mtu?: number;
}

export class VethDevice extends NetDevice {
  peer: VethDevice | null = null;
  /** Frames waiting to be received by this device (copied bytes). */
  readonly rxq: Uint8Array[] = [];
  readonly queue_len: number;
  /** Called when a frame is queued for this device (a loop that polls on demand listens here). */
  on_rx: (() => void) | null = null;

  constructor(name: string, mac: Uint8Array, o: VethOptions = {}) {
    super({ name, dev_addr: mac, mtu: o.mtu ?? 1500, ops: { ndo_start_xmit: veth_xmit } });
    this.queue_len = o.queue_len ?? 1024;
  }
}

function veth_xmit(skb: SkBuff, dev: NetDevice): NetdevTx {
  const peer = (dev as VethDevice).peer;
  if (peer === null || peer.rxq.length >= peer.queue_len) return NETDEV_TX_BUSY;
  peer.rxq.push(skb.head.slice(skb.data, skb.tail));
  consume_skb(skb);
  peer.on_rx?.();
  return NETDEV_TX_OK;
}

/** veth_newlink: two devices, each the other's peer. */
export function veth_pair(a: VethDevice, b: VethDevice): void {
  a.peer = b;
  b.peer = a;
}

/**
 * veth_poll: receives up to budget queued frames through the stack (eth_type_trans, then
 * netif_receive_skb). Returns how many were received.
 */
export function veth_poll(dev: VethDevice, budget = 64): number {
  let n = 0;
  while (n < budget && dev.rxq.length !== 0) {
    const frame = dev.rxq.shift()!;
    const skb = netdev_alloc_skb(dev, frame.length);
    skb.head.set(frame, skb_put(skb, frame.length));
    dev.stats.rx_packets++;
    dev.stats.rx_bytes += frame.length;
    skb.protocol = eth_type_trans(skb, dev);
    netif_receive_skb(skb);
    n++;
  }
  return n;
}

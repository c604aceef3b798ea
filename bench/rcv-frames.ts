// What a driver does for each received frame, as the one-thread receive benchmarks replay it: an
// skb from the device, the frame's bytes copied in from a ring of pre-built frames, eth_type_trans,
// netif_receive_skb. Shared by bench/net-udp-rcv.ts (wall ns) and bench/net-flood-rcv.ts (CPU ns).
import { netif_receive_skb } from '../net/core/dev.ts';
import type { NetDevice } from '../net/core/netdevice.ts';
import { netdev_alloc_skb, skb_put } from '../net/core/skbuff.ts';
import { eth_type_trans } from '../net/ethernet/eth.ts';

/** Receives `n` frames of `len` bytes from `u8`, frame i at (i % frames) * stride (`frames` a power of two). */
export function receiveFrames(dev: NetDevice, u8: Uint8Array, len: number, stride: number, frames: number, n: number): void {
  const mask = frames - 1;
  for (let i = 0; i < n; i++) {
    const skb = netdev_alloc_skb(dev, len);
    const at = skb_put(skb, len);
    const off = (i & mask) * stride;
    const b = skb.head;
    for (let k = 0; k < len; k++) b[at + k] = u8[off + k]!;
    skb.protocol = eth_type_trans(skb, dev);
    netif_receive_skb(skb);
  }
}

// The send queue as XDP_TX uses it (struct send_queue, virtnet_xdp_xmit, free_old_xmit): a frame
// a program bounced leaves in the rx buffer it arrived in. The driver writes a zeroed
// virtio_net_hdr in the headroom just before the frame and queues that one buffer, device-readable,
// on the tx ring: no copy. The buffer comes back to the pool when the device has sent it.
// Tx interrupts stay off: completions are reclaimed at every NAPI poll and whenever the ring is
// full, so nothing ever waits for a tx interrupt. (Under EVENT_IDX "off" is a used_event 0x8888
// ahead of where it was set, so the device may still interrupt once per 64K completions: a
// spurious wake-up the run loop shrugs off, as Linux's does.)
import type { DriverQueue, GuestMemory } from '../../virtio/index.ts';
import { netif_queue_stopped, netif_start_queue, netif_stop_queue, netif_wake_queue, type NetDevice } from '../../net/core/netdevice.ts';
import { brokenQueue } from './errors.ts';
import type { RxBufferPool } from './rx-buffers.ts';
import type { VirtnetStats } from './stats.ts';

/** MAX_SKB_FRAGS: the most fragments one skb can have, so the most descriptors one packet can take. */
export const MAX_SKB_FRAGS = 17;
/** virtio_net stops the queue when fewer descriptors than this are left (room for one more worst-case packet). */
export const VIRTNET_TX_STOP_THRESHOLD = 2 + MAX_SKB_FRAGS;

export class SendQueue {
  /** Frames added since the last flush (XDP_TX: the VIRTIO_XDP_TX bit of virtnet_poll; the stack's while kicks are deferred). */
  private pending = 0;
  /** The stack's device (eth0) when a stack is attached: free_old_xmit wakes its queue. */
  netdev: NetDevice | undefined = undefined;
  /**
   * Set while the NAPI poll runs: the stack's transmits (ACKs sent from netif_receive_skb) wait for
   * the poll's one flush, as xmit_more batches them; outside the poll each transmit kicks.
   */
  deferKick = false;
  /** Bytes queued per buffer, for tx_bytes at completion. */
  private readonly sentLen: Uint32Array;

  constructor(
    readonly vq: DriverQueue<number>,
    private readonly mem: GuestMemory,
    private readonly pool: RxBufferPool,
    private readonly stats: VirtnetStats,
    private readonly notify: () => void,
  ) {
    this.sentLen = new Uint32Array(pool.count);
    vq.disableCb();
  }

  /**
   * Queues buffer `idx`, whose frame is [data, data+len) after the program ran, on the tx ring.
   * False when the ring stays full after reclaiming: the caller keeps the buffer (the frame is
   * dropped, tx_xdp_tx_drops), as virtnet_xdp_xmit returns fewer frames sent than asked.
   */
  virtnet_xdp_xmit(idx: number, data: number, len: number): boolean {
    const hdrLen = this.pool.hdrLen;
    const hdr = data - hdrLen;
    // Zeroed header: no offloads, and num_buffers 0 as the spec asks of a transmitted header.
    const u8 = this.mem.u8;
    for (let i = 0; i < hdrLen; i++) u8[hdr + i] = 0;
    const vq = this.vq;
    if (vq.addBuf(hdr, hdrLen + len, false, idx) < 0) {
      // Reclaim only: waking the stack's queue from inside the rx loop would run its senders
      // here; the poll's cleantx wakes it.
      this.__free_old_xmit();
      if (vq.addBuf(hdr, hdrLen + len, false, idx) < 0) {
        this.stats.tx_xdp_tx_drops++;
        return false;
      }
    }
    this.sentLen[idx] = len;
    this.pending++;
    this.stats.tx_xdp_tx++;
    return true;
  }

  /** Publishes the frames queued since the last flush and kicks once if the device asks for it. */
  flush(): void {
    if (this.pending === 0) return;
    this.pending = 0;
    if (this.vq.kickPrepare()) {
      this.stats.tx_kicks++;
      this.notify();
    } else {
      this.stats.tx_kicks_suppressed++;
    }
  }

  /**
   * xmit_skb for a frame of the stack: the `len` bytes at `src[off]` are copied into a free
   * buffer behind a zeroed virtio_net_hdr (no offload was negotiated, so no checksum or GSO to
   * ask for) and queued device-readable. The copy stands for the skb's pages the kernel would map:
   * the stack's buffers are not guest memory here. 0 when queued; -1 when the ring (or the pool)
   * has no room; -2 when the frame is larger than a buffer.
   */
  xmit_skb(src: Uint8Array, off: number, len: number): number {
    const pool = this.pool;
    const hdrLen = pool.hdrLen;
    if (len > pool.descLen - hdrLen) return -2;
    const vq = this.vq;
    if (vq.numFree < 1) return -1;
    const idx = pool.get();
    if (idx < 0) return -1;
    const hdr = pool.hdrAddr(idx);
    const u8 = this.mem.u8;
    for (let i = 0; i < hdrLen; i++) u8[hdr + i] = 0;
    if (len <= 128) for (let i = 0; i < len; i++) u8[hdr + hdrLen + i] = src[off + i]!;
    else u8.set(src.subarray(off, off + len), hdr + hdrLen);
    vq.addBuf(hdr, hdrLen + len, false, idx);
    this.sentLen[idx] = len;
    this.pending++;
    return 0;
  }

  /** Returns every buffer the device has finished sending to the pool; wakes a stopped queue that has room again. */
  free_old_xmit(): number {
    const n = this.__free_old_xmit();
    const dev = this.netdev;
    // virtnet_poll_cleantx: room for a worst-case packet again (reclaimed now or earlier, by
    // XDP_TX), so the stack may send.
    if (dev !== undefined && netif_queue_stopped(dev) && this.vq.numFree >= VIRTNET_TX_STOP_THRESHOLD) {
      this.vq.disableCb();
      this.stats.tx_queue_wakes++;
      netif_wake_queue(dev);
    }
    return n;
  }

  /** The completions alone, no wake-up (inside start_xmit, where a wake callback must not re-enter). */
  __free_old_xmit(): number {
    const vq = this.vq;
    const s = this.stats;
    let n = 0;
    for (let idx = vq.getBuf(); idx !== undefined; idx = vq.getBuf()) {
      s.tx_packets++;
      s.tx_bytes += this.sentLen[idx]!;
      this.pool.put(idx);
      n++;
    }
    if (vq.broken !== null) throw brokenQueue(vq.broken);
    return n;
  }

  /**
   * check_sq_full_and_disable: after queueing, stop the stack's queue when another worst-case
   * packet might not fit, and ask for a tx interrupt once about 3/4 of what is in flight has been
   * sent (virtqueue_enable_cb_delayed), since tx interrupts are otherwise off. If that many were
   * already sent, reclaim now and restart the queue at once.
   */
  check_sq_full_and_disable(dev: NetDevice): void {
    const vq = this.vq;
    if (vq.numFree >= VIRTNET_TX_STOP_THRESHOLD) return;
    netif_stop_queue(dev);
    this.stats.tx_queue_stops++;
    if (!vq.enableCbDelayed()) {
      this.__free_old_xmit();
      if (vq.numFree >= VIRTNET_TX_STOP_THRESHOLD) {
        // netif_start_subqueue: the sender is still in its transmit call, nobody waits yet.
        netif_start_queue(dev);
        vq.disableCb();
      }
    }
  }

  /** A stopped queue whose completions have arrived (the idle loop's re-check: an Atomics load). */
  txWakePending(): boolean {
    return this.netdev !== undefined && this.netdev.queue_stopped && (this.vq.numFree >= VIRTNET_TX_STOP_THRESHOLD || this.vq.pendingUsed() > 0);
  }

  /** Frames on the tx ring the device has not completed yet. */
  get inflight(): number {
    return this.vq.outstanding;
  }
}

// The send queue as XDP_TX uses it (struct send_queue, virtnet_xdp_xmit, free_old_xmit): a frame
// a program bounced leaves in the rx buffer it arrived in. The driver writes a zeroed
// virtio_net_hdr in the headroom just before the frame and queues that one buffer, device-readable,
// on the tx ring: no copy. The buffer comes back to the pool when the device has sent it.
// Tx interrupts stay off: completions are reclaimed at every NAPI poll and whenever the ring is
// full, so nothing ever waits for a tx interrupt. (Under EVENT_IDX "off" is a used_event 0x8888
// ahead of where it was set, so the device may still interrupt once per 64K completions: a
// spurious wake-up the run loop shrugs off, as Linux's does.)
import type { DriverQueue, GuestMemory } from '../../virtio/index.ts';
import { brokenQueue } from './errors.ts';
import type { RxBufferPool } from './rx-buffers.ts';
import type { VirtnetStats } from './stats.ts';

export class SendQueue {
  /** XDP_TX frames added since the last flush (the VIRTIO_XDP_TX bit of virtnet_poll). */
  private pending = 0;
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
      this.free_old_xmit();
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

  /** Returns every buffer the device has finished sending to the pool. */
  free_old_xmit(): number {
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

  /** Frames on the tx ring the device has not completed yet. */
  get inflight(): number {
    return this.vq.outstanding;
  }
}

// The tap's producer side, in the host worker: packets heading for the guest enter the queue's
// tx_ring here. tun_net_xmit takes one skb at a time from the host stack (a bridge, a route) and
// wakes vhost for each; tun_xdp_xmit takes a bulk of frames XDP_REDIRECTed into the tap (the
// devmap's bulk queue, sent whenever 16 are queued) and wakes vhost only when the caller says
// XDP_XMIT_FLUSH, which the devmap says once, at the end of the NAPI poll (xdp_do_flush). That
// difference is the RFC's Case 1 vs Case 2 (offload-rfc.md, "Why Case 2 is slow").
import { FlowDissector, reciprocal_scale } from './flow-dissector.ts';
import { META_STRIDE, SKB_HEAD_WORDS } from './frame-pool.ts';
import type { PagePool } from './page-pool.ts';
import type { PtrRing } from './ptr-ring.ts';
import { SKB, SKB_KIND } from './skbuff.ts';
import type { SockWait } from './sock-wait.ts';

/** ndo_xdp_xmit's flags (include/net/xdp.h). */
export const XDP_XMIT = {
  /** The last bulk of a NAPI poll: wake the consumer (tun's __tun_xdp_flush_tfile). */
  XDP_XMIT_FLUSH: 1 << 0,
} as const;

export interface TunXmitOptions {
  /** The queue's tx_ring, producer side. */
  ring: PtrRing;
  /** The vhost worker's wake-up. */
  wait: SockWait;
  /** The frames' owner: a frame the tap cannot queue goes back to it. */
  pool: PagePool;
  /** The tap's queues (tun->numqueues), which tun_select_queue spreads flows over. This producer feeds queue 0. */
  numqueues?: number;
  /** The flow hash's seed (hashrnd); random by default, as per boot. */
  hashrnd?: number;
}

export interface TunXmitStats {
  tx_packets: number;
  tx_bytes: number;
  tx_dropped: number;
  drop_full_ring: number;
  drop_no_queue: number;
  net_xmit_calls: number;
  xdp_xmit_calls: number;
  xdp_xmit_frames: number;
  wakeups: number;
  wakeups_coalesced: number;
  /** Wake-ups that found vhost asleep and notified it (the expensive kind). */
  wakeups_notified: number;
  /** Time spent waking vhost (inside Atomics.notify), microseconds. */
  notify_us: number;
}

export class TunXmit {
  readonly ring: PtrRing;
  readonly wait: SockWait;
  readonly pool: PagePool;
  readonly numqueues: number;
  readonly flows: FlowDissector;
  private readonly meta: Uint32Array;
  private readonly skb: Int32Array;
  private readonly u8: Uint8Array;
  private readonly frameSize: number;

  /**
   * Frames accepted into tx_ring, and their bytes. (The kernel counts tx_packets when the reader
   * takes a packet; here the consumer side counts what it hands over separately.)
   */
  tx_packets = 0;
  tx_bytes = 0;
  /** Frames refused, all reasons; then by reason (SKB_DROP_REASON_FULL_RING, and an skb for a queue this tap lacks). */
  tx_dropped = 0;
  drop_full_ring = 0;
  drop_no_queue = 0;
  net_xmit_calls = 0;
  xdp_xmit_calls = 0;
  xdp_xmit_frames = 0;

  constructor(opts: TunXmitOptions) {
    this.ring = opts.ring;
    this.wait = opts.wait;
    this.pool = opts.pool;
    this.numqueues = opts.numqueues ?? 1;
    this.flows = new FlowDissector(opts.hashrnd);
    const fp = opts.pool.pool;
    this.meta = fp.meta;
    this.skb = fp.skb;
    this.u8 = fp.u8;
    this.frameSize = fp.frameSize;
  }

  /**
   * ndo_select_queue (tun_automq_select_queue): the queue for skb h, from the symmetric flow hash
   * of its frame scaled onto the queues. The kernel would prefer a queue its flow table learned
   * from the guest's transmits; it learns only with more than one queue, and this tap has one.
   */
  tun_select_queue(h: number): number {
    const meta = this.meta;
    const hash = this.flows.hashSymmetric(this.u8, h * this.frameSize + meta[META_STRIDE * h]!, meta[META_STRIDE * h + 1]!);
    return reciprocal_scale(hash, this.numqueues);
  }

  /** One skb (frame handle) from the host stack: queue it, publish, wake vhost. */
  tun_net_xmit(h: number): boolean {
    this.net_xmit_calls++;
    if (this.skb[h * SKB_HEAD_WORDS + SKB.QUEUE_MAPPING]! >= this.numqueues) {
      // tun->tfiles[txq] is NULL: dropped.
      this.tx_dropped++;
      this.drop_no_queue++;
      this.pool.free(h);
      return false;
    }
    if (!this.ring.produce(h)) {
      this.tx_dropped++;
      this.drop_full_ring++;
      this.pool.free(h);
      return false;
    }
    // Visible before the wake-up, which must find it (see sock-wait.ts).
    this.ring.publishProduced();
    this.tx_packets++;
    this.tx_bytes += this.meta[META_STRIDE * h + 1]!;
    this.wait.wake();
    return true;
  }

  /**
   * ndo_xdp_xmit: `n` frames from `handles`, published together (the kernel's ptr_ring makes each
   * entry visible as it is produced). Frames that do not fit are freed and counted. vhost is woken
   * only with XDP_XMIT_FLUSH, even when this bulk found the ring full: the bulks sent before it in
   * the same poll wait for that wake-up. Returns how many were queued.
   */
  tun_xdp_xmit(handles: Uint32Array, n: number, flags: number): number {
    this.xdp_xmit_calls++;
    this.xdp_xmit_frames += n;
    const ring = this.ring, meta = this.meta, skb = this.skb;
    let sent = 0, bytes = 0;
    for (let i = 0; i < n; i++) {
      const h = handles[i]!;
      // tun_xdp_to_ptr: the entry says it is an xdp_frame, not an skb.
      skb[h * SKB_HEAD_WORDS + SKB.KIND] = SKB_KIND.XDP_FRAME;
      if (ring.produce(h)) {
        sent++;
        bytes += meta[META_STRIDE * h + 1]!;
      } else {
        this.tx_dropped++;
        this.drop_full_ring++;
        this.pool.free(h);
      }
    }
    if (sent > 0) {
      ring.publishProduced();
      this.tx_packets += sent;
      this.tx_bytes += bytes;
    }
    if ((flags & XDP_XMIT.XDP_XMIT_FLUSH) !== 0) this.wait.wake();
    return sent;
  }

  /** Frames published in tx_ring and not yet taken by the consumer (Atomics loads: not for the data path). */
  queued(): number {
    return this.ring.count();
  }

  stats(): TunXmitStats {
    return {
      tx_packets: this.tx_packets, tx_bytes: this.tx_bytes, tx_dropped: this.tx_dropped, drop_full_ring: this.drop_full_ring, drop_no_queue: this.drop_no_queue,
      net_xmit_calls: this.net_xmit_calls, xdp_xmit_calls: this.xdp_xmit_calls, xdp_xmit_frames: this.xdp_xmit_frames,
      wakeups: this.wait.wakeups, wakeups_coalesced: this.wait.wakeups_coalesced, wakeups_notified: this.wait.wakeups_notified, notify_us: this.wait.notify_us,
    };
  }
}

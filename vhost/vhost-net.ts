// vhost_net (drivers/vhost/net.c) for one queue pair: handle_rx moves packets from the tap into
// the guest's receive queue, handle_tx moves the guest's transmit queue into the tap's Rx path.
// Both run on the vhost worker; notifications from the guest are disabled while they run and
// re-enabled (and re-checked) only when they run out of work.
import {
  DeviceQueue, FeatureSet, VIRTIO_F, VIRTIO_NET_HDR_F, VIRTIO_NET_HDR_V1_SIZE, VQ_EMPTY,
  type GuestMemory, type RingError, type SplitRingLayout, SplitRing,
} from '../virtio/index.ts';
import type { PtrRingConsumer, RxIovIter, TapSocket } from './tap-socket.ts';
import { VHOST_RX_PATH_CODE, VHOST_RX_PATH_DEFAULT, type VhostRxPath } from './rx-path.ts';

/** Packets and bytes after which a handler yields to the other (VHOST_NET_PKT_WEIGHT / VHOST_NET_WEIGHT). */
export const VHOST_NET_PKT_WEIGHT = 256;
export const VHOST_NET_WEIGHT = 0x80000;
/** tun's MAX_TAP_BATCH: how many frames one recvmsg hands over. */
export const VHOST_NET_BATCH = 64;

export interface VhostNetQueues {
  rx: SplitRingLayout;
  tx: SplitRingLayout;
  features: { lo: number; hi: number };
  /** VHOST_SET_VRING_BASE for both queues. */
  base?: { lastAvailIdx: number; usedIdx: number };
}

export interface VhostNetStats {
  rx_packets: number; rx_bytes: number; rx_batches: number;
  /** Calls of the tap's recvmsg that returned frames (one per batch after the RFC, one per frame before it). */
  rx_recvmsg: number;
  /** Looks into an empty tap (vhost_net_buf_produce finding nothing: a ring read before the RFC, a recvmsg call after). */
  rx_empty_polls: number;
  /** VHOST_RX_PATH_CODE of the path handle_rx takes (0 until a queue pair is started). */
  rx_path: number;
  rx_no_buffer: number; rx_too_big: number;
  tx_packets: number; tx_bytes: number; tx_bad_chain: number; tx_bad_hdr: number;
  guest_interrupts: number; guest_interrupts_suppressed: number;
  [k: string]: number;
}

const NEEDS_CSUM = VIRTIO_NET_HDR_F.VIRTIO_NET_HDR_F_NEEDS_CSUM;

/** The virtio_net_hdr_v1 vhost writes in front of every received frame: all zero, num_buffers 1. */
const RX_HDR = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0);

export function emptyVhostNetStats(): VhostNetStats {
  return {
    rx_packets: 0, rx_bytes: 0, rx_batches: 0, rx_recvmsg: 0, rx_empty_polls: 0, rx_path: 0, rx_no_buffer: 0, rx_too_big: 0,
    tx_packets: 0, tx_bytes: 0, tx_bad_chain: 0, tx_bad_hdr: 0, guest_interrupts: 0, guest_interrupts_suppressed: 0,
  };
}

export interface VhostNetOptions {
  /** How handle_rx reads the tap (vhost/rx-path.ts); default the RFC's tap recvmsg. */
  rxPath?: VhostRxPath;
}

export class VhostNet implements RxIovIter {
  readonly rxq: DeviceQueue;
  readonly txq: DeviceQueue;
  readonly hdrLen = VIRTIO_NET_HDR_V1_SIZE;
  readonly stats: VhostNetStats = emptyVhostNetStats();
  /** The broken ring, if the guest corrupted one: both handlers stop (the device needs a reset). */
  broken: RingError | undefined;
  /** handle_rx stopped because the guest gave no buffers; it waits for an rx kick. */
  rxWaitingForBuffers = false;

  private readonly mem: GuestMemory;
  private readonly g32: Int32Array;
  private readonly g8: Uint8Array;
  /** vhost_net_buf: frames taken from the tap that still wait for guest buffers. */
  private readonly rxbuf = new Uint32Array(VHOST_NET_BATCH);
  private rxHead = 0;
  private rxTail = 0;
  readonly rxPath: VhostRxPath;
  /** Before the RFC: the tap's tx_ring, held by vhost since VHOST_NET_SET_BACKEND (get_tap_ptr_ring). */
  private readonly txRing: PtrRingConsumer | undefined;

  constructor(mem: GuestMemory, queues: VhostNetQueues, readonly tap: TapSocket, private readonly signalGuest: () => void, opts: VhostNetOptions = {}) {
    this.mem = mem;
    this.rxPath = opts.rxPath ?? VHOST_RX_PATH_DEFAULT;
    this.stats.rx_path = VHOST_RX_PATH_CODE[this.rxPath];
    this.txRing = this.rxPath === 'ptr_ring' ? tap.txRing() : undefined;
    const f = FeatureSet.fromHalves(queues.features.lo, queues.features.hi);
    const eventIdx = f.has(VIRTIO_F.VIRTIO_RING_F_EVENT_IDX);
    const indirect = f.has(VIRTIO_F.VIRTIO_RING_F_INDIRECT_DESC);
    const onBroken = (e: RingError): void => { this.broken ??= e; };
    const base = queues.base;
    this.rxq = new DeviceQueue(mem, new SplitRing(mem, queues.rx), { name: 'rx', eventIdx, indirect, onBroken, ...(base ? { base } : {}) });
    this.txq = new DeviceQueue(mem, new SplitRing(mem, queues.tx), { name: 'tx', eventIdx, indirect, onBroken, ...(base ? { base } : {}) });
    this.g8 = mem.u8;
    this.g32 = new Int32Array(mem.buffer, mem.byteOffset, mem.size >>> 2);
  }

  /** Frames held between the tap and the guest (for the run's accounting). */
  get rxHeld(): number {
    return this.rxTail - this.rxHead;
  }

  /**
   * handle_rx: until the tap is empty, the guest is out of buffers or the weight is spent.
   * Returns the packets delivered (0: nothing to do). One loop for both of rx-path.ts' paths: vhost
   * refills its buffer (vhost_net_buf_produce) from the ring itself before the RFC or from the
   * tap's recvmsg after it, peeks the head's length, takes a guest buffer for it, and the frame is
   * copied: by the tap's recvmsg with the head as msg_control before the RFC (tun_put_user), by
   * vhost after it. Same weights, same out-of-buffers handling, same order on both.
   */
  handleRx(): number {
    if (this.broken) return 0;
    const rxq = this.rxq;
    const tap = this.tap;
    const rxbuf = this.rxbuf;
    const ring = this.txRing;
    rxq.disableNotify();
    let pkts = 0;
    let bytes = 0;
    while (pkts < VHOST_NET_PKT_WEIGHT && bytes < VHOST_NET_WEIGHT) {
      if (this.rxHead === this.rxTail && !this.rxBufProduce(ring)) break;
      const h = rxbuf[this.rxHead]!;
      const len = tap.peekLen(h);
      const head = rxq.pop();
      if (head === VQ_EMPTY) {
        // Out of guest buffers: ask for a kick, and re-check in case buffers came meanwhile.
        if (rxq.enableNotify()) { rxq.disableNotify(); continue; }
        this.rxWaitingForBuffers = true;
        this.stats.rx_no_buffer++;
        break;
      }
      if (typeof head !== 'number') { this.broken ??= head; break; }
      this.rxWaitingForBuffers = false;
      this.rxHead++;
      let written: number;
      if (ring !== undefined) {
        // vhost_net_buf_consume: the head goes back to the tap's recvmsg, which copies and frees it.
        written = tap.recvmsgPtr(h, this);
        this.stats.rx_recvmsg++;
      } else {
        written = this.copyToGuest(tap.dataOffset(h), len);
        tap.free(h);
      }
      rxq.push(head, written);
      if (written === 0) { this.stats.rx_too_big++; continue; }
      pkts++;
      bytes += len;
    }
    if (pkts > 0 || this.rxHead > 0) {
      tap.flushFrees();
      // Frames the offloaded program bounced (XDP_TX) may have gone to the host's backlog (the
      // RFC's path only: before it the tap runs no Tx-path program).
      if (ring === undefined) tap.flushTx?.();
      this.signal(rxq);
    }
    this.stats.rx_packets += pkts;
    this.stats.rx_bytes += bytes;
    return pkts;
  }

  /**
   * vhost_net_buf_produce: an empty buffer refilled, up to VHOST_NET_BATCH frames: from the tap's
   * ring itself before the RFC (ptr_ring_consume_batched), from the tap's recvmsg after it (where
   * the offloaded program runs). False: the tap had nothing.
   */
  private rxBufProduce(ring: PtrRingConsumer | undefined): boolean {
    this.rxHead = 0;
    this.rxTail = ring !== undefined ? ring.consumeBatched(this.rxbuf, VHOST_NET_BATCH) : this.tap.recvmsg(this.rxbuf);
    if (this.rxTail === 0) { this.stats.rx_empty_polls++; return false; }
    this.stats.rx_batches++;
    if (ring === undefined) this.stats.rx_recvmsg++;
    return true;
  }

  /** RxIovIter: tun_put_user's copy into the chain popped for the frame. */
  writeFrame(src: number, len: number): number {
    return this.copyToGuest(src, len);
  }

  /**
   * Writes a zeroed virtio_net_hdr_v1 (num_buffers = 1) and the frame into the popped chain's
   * writable segments. Returns the used length, or 0 when the chain is too small (the buffer is
   * then returned empty and the frame dropped, as vhost does with a truncated packet).
   */
  private copyToGuest(src: number, len: number): number {
    const c = this.rxq.chain;
    const total = this.hdrLen + len;
    if (c.readable !== 0 || c.writableBytes < total) return 0;
    const fU8 = this.tap.frameU8;
    const g8 = this.g8;
    const dst = c.addr[0]!;
    if (c.count === 1 && (dst & 3) === 0 && (src & 3) === 0) {
      // The common case: one buffer, word-aligned. No views, no per-packet allocation.
      const g32 = this.g32;
      const f32 = this.tap.frameI32;
      const d = dst >>> 2;
      g32[d] = 0;
      g32[d + 1] = 0;
      g32[d + 2] = 1 << 16; // csum_offset 0, num_buffers 1
      const words = len >>> 2;
      const s = src >>> 2;
      const dd = d + 3;
      for (let i = 0; i < words; i++) g32[dd + i] = f32[s + i]!;
      for (let i = words << 2; i < len; i++) g8[dst + 12 + i] = fU8[src + i]!;
      return total;
    }
    // Scatter over the chain's segments, byte by byte where they split.
    const hdr = RX_HDR;
    let seg = 0;
    let segOff = 0;
    for (let i = 0; i < total; i++) {
      while (segOff >= c.len[seg]!) { seg++; segOff = 0; }
      g8[c.addr[seg]! + segOff] = i < this.hdrLen ? hdr[i]! : fU8[src + i - this.hdrLen]!;
      segOff++;
    }
    return total;
  }

  /**
   * handle_tx: every available chain: skip the header, hand the frame to the tap's Rx path,
   * return the buffer. Returns the packets sent (0: nothing to do).
   */
  handleTx(): number {
    if (this.broken) return 0;
    const txq = this.txq;
    txq.disableNotify();
    const badBefore = this.stats.tx_bad_chain + this.stats.tx_bad_hdr;
    let pkts = 0;
    let bytes = 0;
    while (pkts < VHOST_NET_PKT_WEIGHT && bytes < VHOST_NET_WEIGHT) {
      const head = txq.pop();
      if (head === VQ_EMPTY) break;
      if (typeof head !== 'number') { this.broken ??= head; break; }
      const c = txq.chain;
      // A transmit chain is device-readable only: header then frame, in one or more segments.
      if (c.writableBytes !== 0 || c.readableBytes <= this.hdrLen) {
        this.stats.tx_bad_chain++;
        txq.push(head, 0);
        continue;
      }
      // tun_get_user's virtio_net_hdr_to_skb: no offload was negotiated (neither CSUM nor a GSO
      // feature), so a header asking for a checksum or segmentation is invalid (-EINVAL): dropped.
      if (c.len[0]! >= 2 && ((this.g8[c.addr[0]!]! & NEEDS_CSUM) !== 0 || this.g8[c.addr[0]! + 1] !== 0)) {
        this.stats.tx_bad_hdr++;
        txq.push(head, 0);
        continue;
      }
      const len = c.readableBytes - this.hdrLen;
      if (c.count === 1) this.tap.sendmsg(this.g8, c.addr[0]! + this.hdrLen, len);
      else this.tap.sendmsg(this.gather(c), 0, len);
      txq.push(head, 0);
      pkts++;
      bytes += len;
    }
    if (pkts > 0) this.tap.flushTx?.();
    if (pkts > 0 || this.stats.tx_bad_chain + this.stats.tx_bad_hdr !== badBefore) this.signal(txq);
    this.stats.tx_packets += pkts;
    this.stats.tx_bytes += bytes;
    return pkts;
  }

  private gather(c: DeviceQueue['chain']): Uint8Array {
    const out = new Uint8Array(c.readableBytes - this.hdrLen);
    let skip = this.hdrLen;
    let o = 0;
    for (let s = 0; s < c.readable; s++) {
      let a = c.addr[s]!;
      let l = c.len[s]!;
      const k = Math.min(skip, l);
      a += k; l -= k; skip -= k;
      if (l > 0) { out.set(this.mem.u8.subarray(a, a + l), o); o += l; }
    }
    return out;
  }

  /** vhost_signal: publish used entries, interrupt the guest unless it suppressed it. */
  private signal(q: DeviceQueue): void {
    if (q.shouldNotify()) {
      this.stats.guest_interrupts++;
      this.signalGuest();
    } else this.stats.guest_interrupts_suppressed++;
  }

  /** Something to do right now (the re-check before sleeping, and the busy-poll test). */
  hasWork(): boolean {
    if (this.broken) return false;
    if (this.txq.hasAvail()) return true;
    if (this.rxWaitingForBuffers) return this.rxq.hasAvail();
    return this.rxHead !== this.rxTail || this.tap.hasPending();
  }

  /** Before sleeping: let the guest kick again, and say whether work slipped in meanwhile. */
  enableNotify(): boolean {
    if (this.broken) return false;
    let more = this.txq.enableNotify();
    if (this.rxWaitingForBuffers) more = this.rxq.enableNotify() || more;
    return more || this.hasWork();
  }
}

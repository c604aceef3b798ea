// The receive queue (struct receive_queue): try_fill_recv keeps the rx ring full of buffers from
// the pool, virtnet_receive takes used buffers (receive_buf / receive_mergeable) and, with a native
// XDP program attached, runs it in place on guest memory, acting on the verdict:
//   XDP_PASS     the (possibly adjusted) frame goes to the guest stack, the buffer back to the pool
//   XDP_TX       the buffer itself goes on the tx queue (SendQueue.virtnet_xdp_xmit), no copy
//   XDP_DROP     buffer back to the pool
//   XDP_ABORTED  likewise, counted apart (trace_xdp_exception), as are actions the driver does not know
//   XDP_REDIRECT this driver has no redirect target: counted and dropped
import { type DriverQueue, type GuestMemory, VIRTIO_NET_HDR_V1_SIZE } from '../../virtio/index.ts';
import { XDP_ACTION, type XdpProgramRunner } from '../../bpf-vm/index.ts';
import { brokenQueue } from './errors.ts';
import { VIRTIO_XDP_HEADROOM, type RxBufferPool } from './rx-buffers.ts';
import type { VirtnetStats } from './stats.ts';
import type { SendQueue } from './xmit.ts';
import type { NetDevice } from '../../net/core/netdevice.ts';
import { virtnet_receive_skb } from './start-xmit.ts';

/**
 * The guest stack's entry (netif_receive_skb): the frame is [gpa, gpa+len) of `mem`, valid only
 * during the call (the buffer goes back to the ring right after).
 */
export type NetifReceive = (mem: Uint8Array, gpa: number, len: number) => void;

/** trace_xdp_exception: a program returned XDP_ABORTED or an action the driver does not know. */
export type XdpExceptionTrace = (action: number, frameLen: number) => void;

const XDP_ABORTED = XDP_ACTION.XDP_ABORTED;
const XDP_DROP = XDP_ACTION.XDP_DROP;
const XDP_PASS = XDP_ACTION.XDP_PASS;
const XDP_TX = XDP_ACTION.XDP_TX;
const XDP_REDIRECT = XDP_ACTION.XDP_REDIRECT;
// Module-level copies: an imported binding read per packet costs an accessor call under tsx.
const HDR_V1_SIZE = VIRTIO_NET_HDR_V1_SIZE;
const XDP_HEADROOM = VIRTIO_XDP_HEADROOM;

export interface ReceiveQueueOptions {
  /** VIRTIO_NET_F_MRG_RXBUF: the header's num_buffers is meaningful. */
  mergeable: boolean;
  netifReceive?: NetifReceive;
  traceXdpException?: XdpExceptionTrace;
}

export class ReceiveQueue {
  /** A capture point in the guest (`vxo run --pcap-at guest`): frames as the driver receives them, before XDP. */
  capture: ((u8: Uint8Array, off: number, len: number) => void) | undefined = undefined;
  /** The native (driver-mode) XDP program, or undefined. */
  xdpProg: XdpProgramRunner | undefined;
  /**
   * The guest stack's device (virtnet_netdev): delivered frames go up as skbs through
   * netif_receive_skb. Without one they are counted as delivered and end here (the XDP benchmarks).
   */
  netdev: NetDevice | undefined = undefined;
  private readonly u8: Uint8Array;
  private readonly mergeable: boolean;
  private readonly netifReceive: NetifReceive | undefined;
  private readonly traceXdpException: XdpExceptionTrace | undefined;

  constructor(
    readonly vq: DriverQueue<number>,
    mem: GuestMemory,
    private readonly pool: RxBufferPool,
    private readonly sq: SendQueue,
    private readonly stats: VirtnetStats,
    private readonly notify: () => void,
    opts: ReceiveQueueOptions,
  ) {
    this.u8 = mem.u8;
    this.mergeable = opts.mergeable;
    this.netifReceive = opts.netifReceive;
    this.traceXdpException = opts.traceXdpException;
  }

  /**
   * Adds free buffers until the ring is full or the pool is empty, publishes them with one index
   * store and kicks if the device asks for it. Returns the buffers added. A pool running dry is
   * not an error: XDP_TX holds buffers until the device sends them, and the next poll (after
   * free_old_xmit) tops the ring up again.
   */
  try_fill_recv(): number {
    const vq = this.vq;
    const pool = this.pool;
    let added = 0;
    while (vq.numFree > 0) {
      const idx = pool.get();
      if (idx < 0) {
        this.stats.rx_refill_short++;
        break;
      }
      vq.addBuf(pool.hdrAddr(idx), pool.descLen, true, idx);
      added++;
    }
    if (added === 0) return 0;
    this.stats.rx_refills += added;
    if (vq.kickPrepare()) {
      this.stats.rx_kicks++;
      this.notify();
    } else {
      this.stats.rx_kicks_suppressed++;
    }
    return added;
  }

  /** Takes up to `budget` frames off the ring and returns how many (XDP_TX frames wait in the SendQueue for its flush). */
  virtnet_receive(budget: number): number {
    const vq = this.vq;
    let received = 0;
    while (received < budget) {
      const idx = vq.getBuf();
      if (idx === undefined) break;
      this.receive_buf(idx, vq.lastLen);
      received++;
    }
    if (vq.broken !== null) throw brokenQueue(vq.broken);
    return received;
  }

  private receive_buf(idx: number, len: number): void {
    const s = this.stats;
    const pool = this.pool;
    const u8 = this.u8;
    const hdrLen = pool.hdrLen;
    s.rx_buffers++;
    s.rx_frames++;
    // The device wrote `len` bytes from the header on; trust none beyond the buffer we offered.
    if (len < hdrLen || len > pool.descLen) {
      s.rx_length_errors++;
      pool.put(idx);
      return;
    }
    const hdr = pool.hdrAddr(idx);
    if (this.mergeable && hdrLen === HDR_V1_SIZE) {
      const numBuf = u8[hdr + 10]! | (u8[hdr + 11]! << 8);
      if (numBuf !== 1) {
        this.dropMergeable(idx, numBuf);
        return;
      }
    }
    const frame = hdr + hdrLen;
    const frameLen = len - hdrLen;
    this.capture?.(u8, frame, frameLen);
    // Read before a program runs: adjust_head may write over the header.
    const hdrFlags = u8[hdr]!;
    const prog = this.xdpProg;
    if (prog === undefined) {
      this.deliver(frame, frameLen, hdrFlags);
      pool.put(idx);
      return;
    }
    // Linux refuses GSO frames under XDP (receive_small_xdp: "if (unlikely(hdr->hdr.gso_type))").
    if (u8[hdr + 1] !== 0) {
      s.rx_drops++;
      pool.put(idx);
      return;
    }
    s.rx_xdp_packets++;
    const xdp = prog.xdp;
    // The program sees the frame in place: hard start at the buffer, headroom up to the frame
    // (the header lies inside it, as in Linux where data - hdr_len is the header).
    xdp.prepare(u8, pool.bufAddr(idx), pool.truesize, XDP_HEADROOM + hdrLen, frameLen);
    const act = prog.run();
    switch (act) {
      case XDP_DROP:
        s.rx_xdp_drops++;
        pool.put(idx);
        return;
      case XDP_TX:
        s.rx_xdp_tx++;
        if (!this.sq.virtnet_xdp_xmit(idx, xdp.data, xdp.dataEnd - xdp.data)) pool.put(idx);
        return;
      case XDP_PASS:
        this.deliver(xdp.data, xdp.dataEnd - xdp.data, hdrFlags);
        pool.put(idx);
        return;
      case XDP_REDIRECT:
        s.rx_xdp_redirects++;
        pool.put(idx);
        return;
      case XDP_ABORTED:
      default:
        s.rx_xdp_aborted++;
        this.traceXdpException?.(act, frameLen);
        pool.put(idx);
        return;
    }
  }

  private deliver(gpa: number, len: number, hdrFlags: number): void {
    this.stats.rx_packets++;
    this.stats.rx_bytes += len;
    this.netifReceive?.(this.u8, gpa, len);
    const dev = this.netdev;
    if (dev !== undefined) virtnet_receive_skb(dev, this.u8, gpa, len, hdrFlags);
  }

  /**
   * A frame spread over several buffers: every buffer of this driver holds a whole MTU frame, so
   * a device that splits one is misbehaving; the frame is dropped with all its buffers (the err
   * path of receive_mergeable). num_buffers 0 is a malformed header.
   */
  private dropMergeable(idx: number, numBuf: number): void {
    const s = this.stats;
    this.pool.put(idx);
    if (numBuf === 0) {
      s.rx_length_errors++;
      return;
    }
    s.rx_drops++;
    for (let k = 1; k < numBuf; k++) {
      const extra = this.vq.getBuf();
      // "rx error: %d buffers missing": the rest never came; a later frame is not eaten for it.
      if (extra === undefined) break;
      s.rx_buffers++;
      this.pool.put(extra);
    }
  }
}

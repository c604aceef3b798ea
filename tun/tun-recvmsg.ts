// The tap's consumer side, in the vhost worker: vhost_net no longer reads tx_ring itself but calls
// the tap's recvmsg, which takes up to MAX_TAP_BATCH frames and runs the offloaded program on each
// in process context (the vhost thread), in place in the shared frame. Only XDP_PASS frames go back
// to vhost for copying into the guest; the rest never cross into the guest (offload-rfc.md,
// "Host data path").
//
// The ring holds xdp_frames (Case 1, tun_xdp_xmit) and skbs (Case 2, tun_net_xmit). An xdp_frame
// already has XDP_PACKET_HEADROOM in front of its data. An skb from the stack has what its NIC left
// (NET_SKB_PAD), so the program runs on it the generic way (netif_receive_generic_xdp): the head is
// expanded to XDP_PACKET_HEADROOM first, which copies the data (pskb_expand_head; here the frame
// has the room, so the data moves within it).
import { XDP_ACTION, XDP_PACKET_HEADROOM, type XdpProgramRunner } from '../bpf-vm/index.ts';
import { TunError } from './errors.ts';
import { bindXdpToPool, META_STRIDE, SKB_HEAD_WORDS, SKB_SHARED_INFO_SIZE, type FramePool } from './frame-pool.ts';
import type { PagePoolRemote } from './page-pool.ts';
import type { PtrRing } from './ptr-ring.ts';
import { SKB, SKB_KIND } from './skbuff.ts';
import type { TunRx } from './tun-rx.ts';

const { XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT } = XDP_ACTION;

/** vhost_net's VHOST_NET_BATCH / tun's TUN_MSG_PTR batch: frames taken per recvmsg. */
export const MAX_TAP_BATCH = 64;
/** Batch-size histogram buckets: [1], [2,3], [4,7], ..., [64, 127] (floor(log2(n))). */
export const BATCH_HIST_BUCKETS = 7;

export interface TunRecvOptions {
  /** The queue's tx_ring, consumer side. */
  ring: PtrRing;
  pool: FramePool;
  /** This worker's way to give frames back to the pool's owner. */
  remote: PagePoolRemote;
  /** The tap's Rx path, where XDP_TX frames go. */
  rx: TunRx;
  /** The tap's ifindex, which programs read as xdp_md.ingress_ifindex (tfile->xdp_rxq). */
  ifindex?: number;
}

export interface TunRecvStats {
  tx_packets: number;
  tx_bytes: number;
  tx_dropped: number;
  xdp_pass: number;
  xdp_drop: number;
  xdp_aborted: number;
  xdp_tx: number;
  xdp_redirect: number;
  xdp_unknown: number;
  xdp_generic: number;
  xdp_generic_expand: number;
  xdp_generic_copied_bytes: number;
  consumed: number;
  batches: number;
  read_ptr: number;
  batch_hist: number[];
}

export class TunRecv {
  readonly ring: PtrRing;
  readonly pool: FramePool;
  readonly remote: PagePoolRemote;
  readonly rx: TunRx;
  readonly ifindex: number;
  private readonly batch = new Uint32Array(MAX_TAP_BATCH);
  private prog: XdpProgramRunner | undefined = undefined;

  /** Frames handed to vhost for the guest (XDP_PASS, or every frame without a program), and bytes. */
  tx_packets = 0;
  tx_bytes = 0;
  /** Frames the offloaded program kept from the guest and freed: DROP, ABORTED/unknown, REDIRECT. */
  tx_dropped = 0;
  /** The offloaded program's verdicts. Unknown actions are also counted as aborted. */
  xdp_pass = 0;
  xdp_drop = 0;
  xdp_aborted = 0;
  xdp_tx = 0;
  /** XDP_REDIRECT is not supported in the Tx path (as in the RFC): dropped. */
  xdp_redirect = 0;
  xdp_unknown = 0;
  /** skbs the program ran on the generic way; of those, heads expanded (a copy of the data each), and the bytes copied. */
  xdp_generic = 0;
  xdp_generic_expand = 0;
  xdp_generic_copied_bytes = 0;
  /** Frames taken from tx_ring, and recvmsg calls that took any. */
  consumed = 0;
  batches = 0;
  /** Frames vhost took from tx_ring itself and handed back through tun_do_read_ptr (the path before the RFC). */
  read_ptr = 0;
  readonly batch_hist = new Float64Array(BATCH_HIST_BUCKETS);

  constructor(opts: TunRecvOptions) {
    this.ring = opts.ring;
    this.pool = opts.pool;
    this.remote = opts.remote;
    this.rx = opts.rx;
    this.ifindex = opts.ifindex ?? 0;
  }

  /** TUNSETOFFLOADEDXDP: the offloaded program (built by the caller), or undefined to detach. */
  attachOffloaded(runner: XdpProgramRunner | undefined): void {
    if (runner !== undefined) bindXdpToPool(runner, this.pool, this.ifindex);
    this.prog = runner;
  }

  get offloaded(): XdpProgramRunner | undefined {
    return this.prog;
  }

  /**
   * Takes up to MAX_TAP_BATCH frames, runs the offloaded program on each, and writes the handles
   * of the frames for the guest to `out` (at least MAX_TAP_BATCH long); returns how many. Those
   * frames now belong to the caller, which gives them back with `remote.free()` + `remote.flush()`
   * once copied. Frames the program dropped are already back (flushed here).
   */
  tun_recvmsg(out: Uint32Array): number {
    if (out.length < MAX_TAP_BATCH) throw new TunError('EINVAL', `tun_recvmsg: out has ${out.length} slots, needs ${MAX_TAP_BATCH}`);
    const prog = this.prog;
    const meta = this.pool.meta;
    if (prog === undefined) {
      const n = this.ring.consumeBatched(out, MAX_TAP_BATCH);
      if (n === 0) return 0;
      this.account(n);
      if (this.capture) this.captureBatch(out, n);
      let bytes = 0;
      for (let i = 0; i < n; i++) bytes += meta[META_STRIDE * out[i]! + 1]!;
      this.tx_packets += n;
      this.tx_bytes += bytes;
      return n;
    }
    const batch = this.batch;
    const n = this.ring.consumeBatched(batch, MAX_TAP_BATCH);
    if (n === 0) return 0;
    this.account(n);
    if (this.capture) this.captureBatch(batch, n);
    const xdp = prog.xdp, fs = this.pool.frameSize, remote = this.remote, skb = this.pool.skb;
    let passed = 0, bytes = 0, drop = 0;
    for (let i = 0; i < n; i++) {
      const h = batch[i]!;
      const m = META_STRIDE * h, start = h * fs;
      if (skb[h * SKB_HEAD_WORDS + SKB.KIND] === SKB_KIND.SKB && !this.generic_xdp_prepare(h)) {
        this.other(XDP_ABORTED);
        remote.free(h);
        continue;
      }
      xdp.reset(start, meta[m]!, meta[m + 1]!);
      const act = prog.run();
      if (act === XDP_PASS) {
        // The program may have moved the head or the tail: the frame's meta follows.
        const len = xdp.dataEnd - xdp.data;
        meta[m] = xdp.data - start;
        meta[m + 1] = len;
        bytes += len;
        out[passed++] = h;
      } else if (act === XDP_DROP) {
        drop++;
        remote.free(h);
      } else if (act === XDP_TX) {
        meta[m] = xdp.data - start;
        meta[m + 1] = xdp.dataEnd - xdp.data;
        this.xdp_tx++;
        this.rx.tun_xdp_tx(h);
      } else {
        this.other(act);
        remote.free(h);
      }
    }
    this.xdp_drop += drop;
    this.tx_dropped += drop;
    this.xdp_pass += passed;
    this.tx_packets += passed;
    this.tx_bytes += bytes;
    remote.flush();
    return passed;
  }

  /**
   * tun_do_read with a pointer (msg_control), the path before the RFC: vhost_net took `h` from
   * tx_ring itself (vhost_net_buf_produce) and hands it back one at a time; the tap puts it to user
   * (the caller copies `length` bytes from the frame into the guest's buffers, then frees it) and
   * counts it. No program runs here: before the RFC the tap's Tx path had none. Returns the length.
   */
  tun_do_read_ptr(h: number): number {
    const m = META_STRIDE * h;
    const len = this.pool.meta[m + 1]!;
    if (this.capture) this.capture(this.pool.u8, h * this.pool.frameSize + this.pool.meta[m]!, len);
    this.tx_packets++;
    this.tx_bytes += len;
    this.read_ptr++;
    return len;
  }

  /** A capture point on the tap (`vxo run --pcap-at tap`): frames as the tap's queue hands them over, before any program. */
  capture: ((u8: Uint8Array, off: number, len: number) => void) | undefined = undefined;

  private captureBatch(hs: Uint32Array, n: number): void {
    const meta = this.pool.meta, fs = this.pool.frameSize;
    for (let i = 0; i < n; i++) {
      const h = hs[i]!;
      this.capture!(this.pool.u8, h * fs + meta[META_STRIDE * h]!, meta[META_STRIDE * h + 1]!);
    }
  }

  /** Consumer-side check for published frames (one Atomics.load only when the cache says empty). */
  hasData(): boolean {
    return !this.ring.empty();
  }

  /** Frames published in tx_ring and not yet taken (Atomics loads: not for the data path). */
  queued(): number {
    return this.ring.count();
  }

  stats(): TunRecvStats {
    return {
      tx_packets: this.tx_packets, tx_bytes: this.tx_bytes, tx_dropped: this.tx_dropped, xdp_pass: this.xdp_pass,
      xdp_drop: this.xdp_drop, xdp_aborted: this.xdp_aborted, xdp_tx: this.xdp_tx, xdp_redirect: this.xdp_redirect,
      xdp_unknown: this.xdp_unknown, xdp_generic: this.xdp_generic, xdp_generic_expand: this.xdp_generic_expand,
      xdp_generic_copied_bytes: this.xdp_generic_copied_bytes, consumed: this.consumed, batches: this.batches, read_ptr: this.read_ptr, batch_hist: Array.from(this.batch_hist),
    };
  }

  /**
   * netif_receive_generic_xdp's head check: an skb with less than XDP_PACKET_HEADROOM in front of
   * its data gets its head expanded (the data copied further in). False when it cannot be (the
   * kernel's pskb_expand_head failing: the frame is dropped).
   */
  private generic_xdp_prepare(h: number): boolean {
    this.xdp_generic++;
    const meta = this.pool.meta, m = META_STRIDE * h;
    const headroom = meta[m]!, len = meta[m + 1]!;
    if (headroom >= XDP_PACKET_HEADROOM) return true;
    if (XDP_PACKET_HEADROOM + len + SKB_SHARED_INFO_SIZE > this.pool.frameSize) return false;
    const start = h * this.pool.frameSize;
    this.pool.u8.copyWithin(start + XDP_PACKET_HEADROOM, start + headroom, start + headroom + len);
    meta[m] = XDP_PACKET_HEADROOM;
    this.xdp_generic_expand++;
    this.xdp_generic_copied_bytes += len;
    return true;
  }

  private account(n: number): void {
    this.consumed += n;
    this.batches++;
    this.batch_hist[31 - Math.clz32(n)]!++;
  }

  private other(act: number): void {
    this.tx_dropped++;
    if (act === XDP_REDIRECT) this.xdp_redirect++;
    else {
      this.xdp_aborted++;
      if (act !== XDP_ABORTED) this.xdp_unknown++;
    }
  }
}

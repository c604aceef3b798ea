// The tap's Rx path, towards the host: packets the guest sends (vhost copies each out of guest
// memory and hands it over, tun_get_user / tun_sendmsg) and frames the offloaded Tx-path program
// bounced with XDP_TX. The tap's own XDP program runs first (tun_xdp_one / tun_build_skb); in the
// benchmark it is rx_drop, which drops the bounced frames so they never load the host stack.
// Runs in the vhost worker, synchronously: each packet is finished before the next arrives.
import { XDP_ACTION, type XdpProgramRunner } from '../bpf-vm/index.ts';
import { TunError } from './errors.ts';
import { bindXdpToPool, FRAME, META_STRIDE, type FramePool } from './frame-pool.ts';
import type { PagePoolRemote } from './page-pool.ts';
import type { SoftnetBacklog } from './backlog.ts';

const { XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT } = XDP_ACTION;

export interface TunRxOptions {
  pool: FramePool;
  /** Where frames bounced from the Tx path go back to the pool (the vhost worker's remote). */
  remote: PagePoolRemote;
  /** Which of the pool's scratch frames this Rx path copies guest packets into. */
  scratch?: number;
  /** The tap's ifindex, which programs read as xdp_md.ingress_ifindex. */
  ifindex?: number;
}

/** A packet the host stack receives: the caller reads it synchronously (it is freed right after). */
export type NetifRx = (u8: Uint8Array, offset: number, len: number) => void;

export interface TunRxStats {
  from_guest: number;
  from_xdp_tx: number;
  rx_packets: number;
  rx_bytes: number;
  rx_dropped: number;
  xdp_pass: number;
  xdp_drop: number;
  xdp_aborted: number;
  xdp_tx: number;
  xdp_redirect: number;
  xdp_unknown: number;
}

export class TunRx {
  readonly pool: FramePool;
  readonly remote: PagePoolRemote;
  /** The scratch frame guest packets are copied into. */
  readonly scratchHandle: number;
  /** Byte offset in pool.u8 (and pool.i32 word offset * 4) where a guest packet must be copied. */
  readonly scratchData: number;
  readonly ifindex: number;
  private readonly maxData: number;
  private prog: XdpProgramRunner | undefined = undefined;
  /** Packets that pass are handed here (optional: the host stack's receive). */
  netif_rx: NetifRx | undefined = undefined;
  /**
   * The host worker's backlog (backlog.ts): with one, packets that pass are queued there for the
   * host's bridge and stack (netif_rx), and tun_flush() publishes them once per batch. Without
   * one they end here, counted as delivered (the XDP benchmarks).
   */
  backlog: SoftnetBacklog | undefined = undefined;

  /** Packets entering the Rx path, by source. */
  from_guest = 0;
  from_xdp_tx = 0;
  /** Delivered to the host stack (the kernel's rx_packets/rx_bytes). */
  rx_packets = 0;
  rx_bytes = 0;
  /** Not delivered, every reason: XDP_DROP, XDP_ABORTED or unknown, XDP_TX, XDP_REDIRECT. */
  rx_dropped = 0;
  /** The Rx program's verdicts; unknown actions also count as aborted. */
  xdp_pass = 0;
  xdp_drop = 0;
  xdp_aborted = 0;
  xdp_tx = 0;
  xdp_redirect = 0;
  xdp_unknown = 0;

  constructor(opts: TunRxOptions) {
    this.pool = opts.pool;
    this.remote = opts.remote;
    this.scratchHandle = opts.pool.scratchHandle(opts.scratch ?? 0);
    this.scratchData = opts.pool.frameStart(this.scratchHandle) + FRAME.HEADROOM;
    this.maxData = opts.pool.maxData;
    this.ifindex = opts.ifindex ?? 0;
  }

  /** The tap's Rx-path XDP program (built by the caller), or undefined to detach. */
  attach(runner: XdpProgramRunner | undefined): void {
    if (runner !== undefined) bindXdpToPool(runner, this.pool, this.ifindex);
    this.prog = runner;
  }

  get program(): XdpProgramRunner | undefined {
    return this.prog;
  }

  /**
   * A packet from the guest, already copied to `scratchData` (len bytes). Returns the verdict
   * (XDP_PASS when no program is attached).
   */
  tun_get_user(len: number): number {
    if (!(len >= 0 && len <= this.maxData)) throw new TunError('EINVAL', `tun_get_user: ${len} bytes do not fit a frame (${this.maxData})`);
    this.from_guest++;
    const h = this.scratchHandle;
    return this.receive(h * this.pool.frameSize, FRAME.HEADROOM, len);
  }

  /**
   * tun_get_user without a program on the Rx path and with a backlog: the guest's packet goes
   * from guest memory straight into the backlog (the one copy the kernel makes, into the skb),
   * with no stop in the scratch frame a program would need. Counted as tun_get_user counts.
   */
  tun_get_user_direct(src: Uint8Array, off: number, len: number): void {
    if (!(len >= 0 && len <= this.maxData)) throw new TunError('EINVAL', `tun_get_user: ${len} bytes do not fit a frame (${this.maxData})`);
    this.from_guest++;
    this.rx_packets++;
    this.rx_bytes += len;
    this.backlog?.enqueue_to_backlog(src, off, len);
  }

  /**
   * A frame the Tx-path program bounced (XDP_TX), still in the pool: runs the Rx program on it
   * in place, then gives the frame back through the remote (the caller flushes the remote).
   */
  tun_xdp_tx(h: number): number {
    this.from_xdp_tx++;
    const meta = this.pool.meta;
    const act = this.receive(h * this.pool.frameSize, meta[META_STRIDE * h]!, meta[META_STRIDE * h + 1]!);
    this.remote.free(h);
    return act;
  }

  private receive(start: number, headroom: number, len: number): number {
    const prog = this.prog;
    let act: number = XDP_PASS;
    let off = start + headroom;
    if (prog !== undefined) {
      const xdp = prog.xdp;
      xdp.reset(start, headroom, len);
      act = prog.run();
      off = xdp.data;
      len = xdp.dataEnd - off;
    }
    switch (act) {
      case XDP_PASS:
        if (prog !== undefined) this.xdp_pass++;
        this.rx_packets++;
        this.rx_bytes += len;
        if (this.backlog !== undefined) this.backlog.enqueue_to_backlog(this.pool.u8, off, len);
        if (this.netif_rx !== undefined) this.netif_rx(this.pool.u8, off, len);
        return act;
      case XDP_DROP: this.xdp_drop++; break;
      case XDP_TX: this.xdp_tx++; break;
      case XDP_REDIRECT: this.xdp_redirect++; break;
      case XDP_ABORTED: this.xdp_aborted++; break;
      default: this.xdp_aborted++; this.xdp_unknown++; break;
    }
    this.rx_dropped++;
    return act;
  }

  /** The end of a batch (vhost's handle_tx or recvmsg): queued packets become visible to the host, which is woken once. */
  tun_flush(): void {
    this.backlog?.flush();
  }

  stats(): TunRxStats {
    return {
      from_guest: this.from_guest, from_xdp_tx: this.from_xdp_tx, rx_packets: this.rx_packets, rx_bytes: this.rx_bytes,
      rx_dropped: this.rx_dropped, xdp_pass: this.xdp_pass, xdp_drop: this.xdp_drop, xdp_aborted: this.xdp_aborted,
      xdp_tx: this.xdp_tx, xdp_redirect: this.xdp_redirect, xdp_unknown: this.xdp_unknown,
    };
  }
}

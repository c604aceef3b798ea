// The host NIC's receive path, one NAPI poll at a time: take a buffer from the page pool for each
// frame on the wire (pktgen is the other end), run the NIC's XDP program on it in place, and act on
// the verdict: REDIRECT into a device's bulk queue (flushed when 16 are queued and at the end of
// the poll, xdp_do_flush), PASS up the stack as an skb (to the bridge in Case 2), DROP/ABORTED
// freed, TX counted and freed (this NIC has no wire back). No buffer means the frame is lost on the
// wire (rx_missed_errors).
//
// Like the kernel's drivers, the NIC leaves XDP_PACKET_HEADROOM in front of each frame only while
// an XDP program is attached; without one it leaves NET_SKB_PAD, what an skb needs. Every frame
// going up the stack becomes an skb (build_skb, eth_type_trans) on its way to netif_receive_skb,
// where the NIC's tc ingress hook (tc.ts) runs before the upper device takes it.
import { XDP_ACTION, type XdpProgramRunner } from '../../bpf-vm/index.ts';
import { build_skb, ETH_HLEN, FRAME, META_STRIDE, NET_SKB_PAD, SKB, SKB_HEAD_WORDS, type PagePool } from '../../tun/index.ts';
import { eth_type_trans, macHalves, type MacHalves } from './eth.ts';
import { HostNetError } from './errors.ts';
import type { NetDevice, NetDevices } from './netdev.ts';
import type { HostTcDev } from './tc.ts';
import { parseMac, type Pktgen } from './pktgen.ts';
import { XdpBulkQueue } from './xdp-bulk-queue.ts';

const { XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT } = XDP_ACTION;

/** NAPI's default weight. */
export const NAPI_POLL_WEIGHT = 64;

export interface NicOptions {
  name?: string;
  ifindex: number;
  /** The frames' owner (the host worker). */
  pool: PagePool;
  /** The other end of the wire. */
  wire: Pktgen;
  /** Where redirect targets are found. */
  devices: NetDevices;
  program?: XdpProgramRunner;
  budget?: number;
  /** The NIC's own address ("aa:bb:cc:dd:ee:ff"): frames for other addresses are PACKET_OTHERHOST. */
  mac?: string;
}

/** The NIC's address unless told otherwise (locally administered). */
export const NIC_DEFAULT_MAC = '02:00:00:00:01:01';

export interface NicStats {
  rx_packets: number;
  rx_bytes: number;
  rx_missed: number;
  rx_length_errors: number;
  xdp_pass: number;
  xdp_drop: number;
  xdp_aborted: number;
  xdp_tx: number;
  xdp_redirect: number;
  xdp_unknown: number;
  redirect_err: number;
  stack_delivered: number;
  tx_packets: number;
  tx_bytes: number;
  polls: number;
  bulk_flushes: number;
}

/** Where XDP_PASS frames go as skbs: netif_receive_skb, which takes ownership of the skb. */
export type NetifReceive = (h: number) => void;

export class Nic implements NetDevice {
  readonly name: string;
  readonly ifindex: number;
  readonly pool: PagePool;
  readonly wire: Pktgen;
  readonly devices: NetDevices;
  readonly budget: number;
  readonly mtu = 1500;
  readonly mac: MacHalves;
  /** The upper device (a bridge port's input), or undefined: the frame is delivered locally and freed. */
  stack: NetifReceive | undefined = undefined;
  /** The NIC's clsact hooks (HostNet.enableTc). */
  tc: HostTcDev | undefined = undefined;
  private prog: XdpProgramRunner | undefined = undefined;
  private readonly bqs: (XdpBulkQueue | undefined)[] = [];
  private readonly flushList: XdpBulkQueue[] = [];

  /** Frames received into a buffer, and their bytes. */
  rx_packets = 0;
  rx_bytes = 0;
  /** Frames lost for lack of a buffer (rx_missed_errors / "no buffer"). */
  rx_missed = 0;
  /** Frames longer than a buffer's data room (only replayed captures can be): dropped. */
  rx_length_errors = 0;
  /** The program's verdicts; unknown actions are also counted as aborted. */
  xdp_pass = 0;
  xdp_drop = 0;
  xdp_aborted = 0;
  xdp_tx = 0;
  xdp_redirect = 0;
  xdp_unknown = 0;
  /** Redirects that found no device (or one without ndo_xdp_xmit, or a broadcast): dropped. */
  redirect_err = 0;
  /** PASS frames with no upper device: delivered to the local stack and freed. */
  stack_delivered = 0;
  /** A packet capture point on the wire side (`vxo run --pcap-at nic`): sees every frame received. */
  capture: ((u8: Uint8Array, off: number, len: number) => void) | undefined = undefined;
  /** Frames sent on the wire by the stack (ndo_start_xmit): counted and freed, nobody listens. */
  tx_packets = 0;
  tx_bytes = 0;
  polls = 0;

  constructor(opts: NicOptions) {
    this.name = opts.name ?? 'eth0';
    this.ifindex = opts.ifindex;
    this.pool = opts.pool;
    this.wire = opts.wire;
    this.devices = opts.devices;
    this.budget = opts.budget ?? NAPI_POLL_WEIGHT;
    if (!Number.isInteger(this.budget) || this.budget < 1) throw new HostNetError('EINVAL', `napi budget ${this.budget}`);
    this.mac = macHalves(parseMac(opts.mac ?? NIC_DEFAULT_MAC));
    if (opts.program) this.attach(opts.program);
  }

  /** The NIC's XDP program (native mode), or undefined to detach. */
  attach(runner: XdpProgramRunner | undefined): void {
    if (runner !== undefined) {
      const p = this.pool.pool;
      runner.xdp.prepare(p.u8, 0, p.frameSize, FRAME.HEADROOM, 0);
      runner.xdp.ingressIfindex = this.ifindex;
    }
    this.prog = runner;
  }

  get program(): XdpProgramRunner | undefined {
    return this.prog;
  }

  /** One NAPI poll: up to `budget` frames from the wire. Returns how many arrived (missed included). */
  napi_poll(budget: number = this.budget): number {
    this.polls++;
    const wire = this.wire;
    const n = wire.quota(budget);
    if (n === 0) return 0;
    const pool = this.pool, fp = pool.pool;
    const u8 = fp.u8, i32 = fp.i32, meta = fp.meta, fs = fp.frameSize, maxData = fp.maxData;
    const prog = this.prog;
    const xdp = prog?.xdp;
    const headroom = prog === undefined ? NET_SKB_PAD : FRAME.HEADROOM;
    let got = 0, bytes = 0;
    for (let i = 0; i < n; i++) {
      const h = pool.alloc();
      if (h < 0) {
        wire.skip();
        this.rx_missed++;
        continue;
      }
      const start = h * fs;
      const len = wire.fill(u8, i32, start + headroom);
      this.capture?.(u8, start + headroom, len);
      if (len > maxData) {
        // A replayed frame longer than a buffer holds: dropped like a frame over the MTU.
        this.rx_length_errors++;
        pool.free(h);
        continue;
      }
      got++;
      bytes += len;
      if (prog === undefined || xdp === undefined) {
        this.pass(h, headroom, len);
        continue;
      }
      xdp.reset(start, FRAME.HEADROOM, len);
      const act = prog.run();
      // The program may have moved the head or the tail: the frame's meta follows.
      meta[META_STRIDE * h] = xdp.data - start;
      meta[META_STRIDE * h + 1] = xdp.dataEnd - xdp.data;
      if (act === XDP_REDIRECT) this.redirect(h, prog);
      else if (act === XDP_DROP) {
        this.xdp_drop++;
        pool.free(h);
      } else if (act === XDP_PASS) {
        this.xdp_pass++;
        this.pass(h, meta[META_STRIDE * h]!, meta[META_STRIDE * h + 1]!);
      } else if (act === XDP_TX) {
        this.xdp_tx++;
        pool.free(h);
      } else {
        this.xdp_aborted++;
        if (act !== XDP_ABORTED) this.xdp_unknown++;
        pool.free(h);
      }
    }
    this.rx_packets += got;
    this.rx_bytes += bytes;
    this.xdp_do_flush();
    return n;
  }

  /** xdp_do_flush: every bulk queue that got frames in this poll goes out. */
  xdp_do_flush(): void {
    const list = this.flushList;
    for (let i = 0; i < list.length; i++) {
      const bq = list[i]!;
      bq.flush();
      bq.listed = false;
    }
    list.length = 0;
  }

  /** ndo_start_xmit: the stack sends a frame out of this NIC. The wire has no listener: counted and freed. */
  ndo_start_xmit(h: number): void {
    this.tx_packets++;
    this.tx_bytes += this.pool.pool.meta[META_STRIDE * h + 1]!;
    this.pool.free(h);
  }

  /** Frames waiting in bulk queues (0 after every poll). */
  bulkQueued(): number {
    let n = 0;
    for (const bq of this.bqs) n += bq?.count ?? 0;
    return n;
  }

  stats(): NicStats {
    let flushes = 0;
    for (const bq of this.bqs) flushes += bq?.flushes ?? 0;
    return {
      rx_packets: this.rx_packets, rx_bytes: this.rx_bytes, rx_missed: this.rx_missed, rx_length_errors: this.rx_length_errors, xdp_pass: this.xdp_pass,
      xdp_drop: this.xdp_drop, xdp_aborted: this.xdp_aborted, xdp_tx: this.xdp_tx, xdp_redirect: this.xdp_redirect,
      xdp_unknown: this.xdp_unknown, redirect_err: this.redirect_err, stack_delivered: this.stack_delivered,
      tx_packets: this.tx_packets, tx_bytes: this.tx_bytes, polls: this.polls, bulk_flushes: flushes,
    };
  }

  /** The frame goes up as an skb: built around the data, its MAC header taken off. */
  private pass(h: number, headroom: number, len: number): void {
    const pool = this.pool, fp = pool.pool;
    if (len < ETH_HLEN) {
      // Shorter than its own Ethernet header (only a replayed capture or a program's tail can be).
      this.rx_length_errors++;
      pool.free(h);
      return;
    }
    build_skb(fp, h, headroom, len);
    this.tc?.tc.state.reset(h);
    this.netif_receive_skb(h);
  }

  /**
   * An skb arriving on this NIC, data at its MAC header (a frame the NIC built, or one tc
   * redirected here with BPF_F_INGRESS): eth_type_trans, tc ingress, then the upper device.
   */
  netif_receive_skb(h: number): void {
    const fp = this.pool.pool;
    eth_type_trans(fp, h, this.ifindex, this.mac);
    fp.skb[h * SKB_HEAD_WORDS + SKB.SKB_IIF] = this.ifindex;
    const tc = this.tc;
    if (tc !== undefined && tc.ingressActive && !tc.sch_handle_ingress(h)) return;
    const stack = this.stack;
    if (stack !== undefined) {
      stack(h);
      return;
    }
    this.stack_delivered++;
    this.pool.free(h);
  }

  private redirect(h: number, prog: XdpProgramRunner): void {
    const r = prog.env.redirect;
    const ifindex = r.ifindex;
    let bq = this.bqs[ifindex];
    // The cached queue is checked against the registry, so an unregistered device gets nothing more.
    if (bq === undefined || bq.dev !== this.devices.get(ifindex) || r.broadcast) bq = this.bulkQueue(ifindex, r.broadcast);
    if (bq === undefined) {
      this.redirect_err++;
      this.pool.free(h);
      return;
    }
    this.xdp_redirect++;
    bq.enqueue(h);
    if (!bq.listed) {
      bq.listed = true;
      this.flushList.push(bq);
    }
  }

  /** The bulk queue towards `ifindex`, made on first use; undefined when there is no such target. */
  private bulkQueue(ifindex: number, broadcast: boolean): XdpBulkQueue | undefined {
    // BPF_F_BROADCAST (every device of the map) is not something the benchmark uses.
    if (broadcast || ifindex === 0) return undefined;
    const dev = this.devices.get(ifindex);
    if (dev === undefined || dev.ndo_xdp_xmit === undefined) {
      if (this.bqs[ifindex] !== undefined) this.bqs[ifindex] = undefined;
      return undefined;
    }
    const bq = new XdpBulkQueue(dev, dev.ndo_xdp_xmit.bind(dev));
    while (this.bqs.length <= ifindex) this.bqs.push(undefined);
    this.bqs[ifindex] = bq;
    return bq;
  }
}

// The probed device (struct virtnet_info): one receive/send queue pair, the control queue, the
// packet buffer pool, the negotiated features and the counters. virtnet_poll is the NAPI poll the
// guest's run loop calls after an interrupt; send() is the control channel the guest BPF layer
// uses. Built by virtnet_probe (probe.ts).
import {
  type FeatureSet, type GuestMemory, type PageAllocator, VIRTIO_CONFIG_S,
} from '../../virtio/index.ts';
import type { XdpProgramRunner } from '../../bpf-vm/index.ts';
import type { ControlVq, CtrlChannel, CtrlReply } from './ctrl.ts';
import { VirtnetError } from './errors.ts';
import type { ReceiveQueue } from './receive.ts';
import type { RxBufferPool } from './rx-buffers.ts';
import type { VirtnetStats, VirtnetStatsRecord } from './stats.ts';
import type { VirtioPciModernDevice } from './virtio-pci-modern.ts';
import type { SendQueue } from './xmit.ts';

/** NAPI's default weight: frames per poll before the poll must yield. */
export const NAPI_POLL_WEIGHT = 64;

/** What a NAPI poll reports: 'done' (callbacks re-enabled, an interrupt will come) or 'more' (poll again). */
export const NAPI = { DONE: 'done', MORE: 'more' } as const;
export type NapiResult = (typeof NAPI)[keyof typeof NAPI];

/** Everything virtnet_probe assembled. */
export interface VirtnetParts {
  mem: GuestMemory;
  pages: PageAllocator;
  dev: VirtioPciModernDevice;
  deviceFeatures: FeatureSet;
  features: FeatureSet;
  mac: Uint8Array;
  mtu: number;
  /** VIRTIO_NET_S_* from config space at probe (undefined without VIRTIO_NET_F_STATUS). */
  linkStatus: number | undefined;
  hdrLen: number;
  pool: RxBufferPool;
  rq: ReceiveQueue;
  sq: SendQueue;
  cvq: ControlVq | undefined;
  stats: VirtnetStats;
  /** Guest pages the probe allocated (rings, pool), released by virtnet_remove. */
  allocations: number[];
}

export class VirtnetDriver implements CtrlChannel {
  readonly mem: GuestMemory;
  readonly dev: VirtioPciModernDevice;
  /** What the device offered, and what both sides agreed on (FEATURES_OK). */
  readonly deviceFeatures: FeatureSet;
  readonly features: FeatureSet;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly linkStatus: number | undefined;
  readonly hdrLen: number;
  readonly pool: RxBufferPool;
  readonly rq: ReceiveQueue;
  readonly sq: SendQueue;
  readonly cvq: ControlVq | undefined;
  readonly stats: VirtnetStats;
  /** Frames the last virtnet_poll processed. */
  lastWork = 0;
  private readonly pages: PageAllocator;
  private readonly allocations: number[];
  /** virtqueue_enable_cb_prepare's answer at the last NAPI completion (virtqueue_poll's argument). */
  private napiOpaque = 0;
  private removed = false;

  constructor(p: VirtnetParts) {
    this.mem = p.mem;
    this.pages = p.pages;
    this.dev = p.dev;
    this.deviceFeatures = p.deviceFeatures;
    this.features = p.features;
    this.mac = p.mac;
    this.mtu = p.mtu;
    this.linkStatus = p.linkStatus;
    this.hdrLen = p.hdrLen;
    this.pool = p.pool;
    this.rq = p.rq;
    this.sq = p.sq;
    this.cvq = p.cvq;
    this.stats = p.stats;
    this.allocations = p.allocations;
  }

  /**
   * One NAPI poll (virtnet_poll): reclaim sent tx buffers, take up to `budget` frames (running
   * the XDP program on each), refill and kick rx, flush XDP_TX with one kick, and under budget
   * re-enable rx callbacks and re-check (virtqueue_napi_complete). Throws EIO when the device
   * broke a ring.
   */
  virtnet_poll(budget: number = NAPI_POLL_WEIGHT): NapiResult {
    const rq = this.rq;
    const vq = rq.vq;
    this.stats.napi_polls++;
    // What the stack sends during the poll (replies from netif_receive_skb, a sender woken by
    // cleantx) rides on the poll's one tx kick below.
    const sq = this.sq;
    sq.deferKick = true;
    let received: number;
    try {
      // virtnet_poll_cleantx: buffers the device sent feed this poll's refill (and may wake the stack's queue).
      sq.free_old_xmit();
      // What skb_recv_done does before scheduling NAPI: no interrupts while we poll.
      vq.disableCb();
      received = rq.virtnet_receive(budget);
    } finally {
      sq.deferKick = false;
    }
    this.lastWork = received;
    if (vq.numFree > 0) rq.try_fill_recv();
    this.sq.flush();
    if (received >= budget) return NAPI.MORE;
    this.stats.napi_complete++;
    this.napiOpaque = vq.enableCbPrepare();
    if (vq.poll(this.napiOpaque)) {
      // Buffers landed between the last getBuf and the re-enable: the interrupt for them may
      // never come, so poll again rather than sleep.
      this.stats.napi_repoll++;
      vq.disableCb();
      return NAPI.MORE;
    }
    return NAPI.DONE;
  }

  /**
   * virtqueue_poll on rx after a 'done' poll: true when used buffers arrived since callbacks were
   * re-enabled. The run loop calls it after arming the interrupt doorbell, before sleeping.
   */
  virtqueue_poll(): boolean {
    return this.rq.vq.poll(this.napiOpaque) || this.sq.txWakePending();
  }

  /** XDP_SETUP_PROG (virtnet_xdp_set): attach a native program, or detach with undefined. Returns the old one. */
  virtnet_xdp_set(prog: XdpProgramRunner | undefined): XdpProgramRunner | undefined {
    if (this.removed) throw new VirtnetError('ENODEV', 'device removed');
    const old = this.rq.xdpProg;
    this.rq.xdpProg = prog;
    return old;
  }

  /** The attached native program, if any (the offload path refuses to coexist with one). */
  get xdpProg(): XdpProgramRunner | undefined {
    return this.rq.xdpProg;
  }

  /** The control channel (CtrlChannel): one synchronous command. */
  send(cls: number, cmd: number, data: Uint8Array, resultLen: number): CtrlReply {
    return this.virtnet_send_command(cls, cmd, data, resultLen);
  }

  virtnet_send_command(cls: number, cmd: number, data: Uint8Array, resultLen: number): CtrlReply {
    if (this.removed) throw new VirtnetError('ENODEV', 'device removed');
    if (this.cvq === undefined) throw new VirtnetError('EOPNOTSUPP', 'VIRTIO_NET_F_CTRL_VQ was not negotiated');
    return this.cvq.virtnet_send_command(cls, cmd, data, resultLen);
  }

  /** Every counter as a flat record. */
  virtnet_get_stats(): VirtnetStatsRecord {
    return this.stats.toRecord();
  }

  /** True when the device flagged NEEDS_RESET or FAILED (a register read: not for the packet path). */
  virtnet_needs_reset(): boolean {
    const s = this.dev.vp_modern_get_status();
    return (s & (VIRTIO_CONFIG_S.VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S.VIRTIO_CONFIG_S_FAILED)) !== 0;
  }

  /**
   * virtnet_remove: reset the device (it stops using the rings), take every buffer back and
   * release the guest pages of rings, buffers and control buffer.
   */
  virtnet_remove(): void {
    if (this.removed) return;
    this.removed = true;
    this.dev.vp_modern_set_status(0);
    for (const idx of this.rq.vq.detachUnused()) this.pool.put(idx);
    for (const idx of this.sq.vq.detachUnused()) this.pool.put(idx);
    this.cvq?.vq.detachUnused();
    this.cvq?.release();
    for (const gpa of this.allocations) this.pages.freeRange(gpa);
    this.allocations.length = 0;
  }
}

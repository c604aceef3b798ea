// The virtio-net device model (QEMU's hw/net/virtio-net.c): feature bits, config space, queue
// setup through virtio-pci, and the control virtqueue. The data queues are handed to vhost at
// DRIVER_OK (vhost_net_start) and taken back at reset; QEMU itself only serves the control queue.
import {
  DeviceQueue, FeatureSet, VIRTIO_F, VIRTIO_NET_ACK, VIRTIO_NET_CONFIG, VIRTIO_NET_CTRL,
  VIRTIO_NET_CTRL_MQ_CMD, VIRTIO_NET_CTRL_RX_CMD, VIRTIO_NET_CTRL_MAC_CMD, VIRTIO_NET_F, VIRTIO_NET_S,
  VQ_EMPTY, completeCtrlCommand, parseCtrlCommand, type GuestMemory, type SplitRingLayout, type VirtioPciCap, type VirtioPciRegs,
} from '../../virtio/index.ts';
import { VirtioPciCommon, type VirtQueueConfig } from './virtio-pci-common.ts';

/** What a control-queue class handler answers: the ack and an optional command-specific result. */
export interface CtrlOutcome {
  ack: number;
  result?: Uint8Array;
}

/** A handler for one control class (e.g. the offload RFC's EBPF class). Must not throw. */
export interface CtrlClassHandler {
  /** `resultCapacity`: bytes the guest gave for the result, so a handler never does what it cannot report. */
  handle(cmd: number, data: Uint8Array, resultCapacity: number): CtrlOutcome;
  /** Device reset: drop all state. */
  reset?(): void;
}

export interface VirtioNetOptions {
  mac?: readonly number[];
  mtu?: number;
  /** Descriptors per queue the device allows (QEMU's rx/tx_queue_size, default 256). */
  queueSize?: number;
  /** Bits offered besides the defaults below (e.g. vxo's offload bit). */
  extraFeatures?: readonly number[];
  /** Bits removed from the defaults (to test a driver against a lesser device). */
  withoutFeatures?: readonly number[];
}

/** What vhost needs to take over the data queues (vhost_net_start / VHOST_SET_VRING_ADDR). */
export interface DataQueues {
  rx: SplitRingLayout;
  tx: SplitRingLayout;
  features: { lo: number; hi: number };
  /** VHOST_SET_VRING_BASE: a freshly enabled queue starts at index 0 on both rings. */
  base: { lastAvailIdx: number; usedIdx: number };
}

export const VIRTIO_NET_DEFAULT_FEATURES: readonly number[] = [
  VIRTIO_F.VIRTIO_F_VERSION_1, VIRTIO_F.VIRTIO_RING_F_EVENT_IDX, VIRTIO_F.VIRTIO_RING_F_INDIRECT_DESC,
  VIRTIO_NET_F.VIRTIO_NET_F_MAC, VIRTIO_NET_F.VIRTIO_NET_F_STATUS, VIRTIO_NET_F.VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F.VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F.VIRTIO_NET_F_MTU, VIRTIO_NET_F.VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F.VIRTIO_NET_F_CTRL_MAC_ADDR,
];

/** Queue indices of a single queue pair device: receiveq1, transmitq1, controlq. */
export const VIRTIO_NET_QUEUE = { RX: 0, TX: 1, CTRL: 2 } as const;

export class VirtioNet implements VirtioPciRegs {
  readonly pci: VirtioPciCommon;
  readonly mac: Uint8Array;
  readonly mtu: number;
  ctrl: DeviceQueue | undefined;
  /** Called at DRIVER_OK with the data queues for vhost; throwing puts the device in NEEDS_RESET. */
  onStart: ((q: DataQueues) => void) | undefined;
  /** Called at reset, before the queues are forgotten (vhost_net_stop). */
  onStop: (() => void) | undefined;
  private readonly handlers = new Map<number, CtrlClassHandler>();
  promisc = true;
  allmulti = false;
  readonly stats = { ctrl_commands: 0, ctrl_ok: 0, ctrl_err: 0, ctrl_malformed: 0, ctrl_unknown_class: 0 };

  constructor(readonly mem: GuestMemory, opts: VirtioNetOptions = {}) {
    this.mac = Uint8Array.from(opts.mac ?? [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    this.mtu = opts.mtu ?? 1500;
    const drop = new Set(opts.withoutFeatures ?? []);
    const bits = [...VIRTIO_NET_DEFAULT_FEATURES, ...(opts.extraFeatures ?? [])].filter((b) => !drop.has(b));
    const qs = opts.queueSize ?? 256;
    const ctrlVq = bits.includes(VIRTIO_NET_F.VIRTIO_NET_F_CTRL_VQ);
    this.pci = new VirtioPciCommon(mem, FeatureSet.of(...bits), ctrlVq ? [qs, qs, 64] : [qs, qs], {
      readConfig: (off, size) => this.readConfig(off, size),
      driverOk: (queues, features) => this.start(queues, features),
      reset: () => this.reset(),
    });
  }

  /** Registers the handler of one control class (VIRTIO_NET_CTRL_EBPF for the offload). */
  setCtrlHandler(cls: number, h: CtrlClassHandler): void {
    this.handlers.set(cls, h);
  }

  read(cap: VirtioPciCap, offset: number, size: 1 | 2 | 4): number { return this.pci.read(cap, offset, size); }
  write(cap: VirtioPciCap, offset: number, size: 1 | 2 | 4, value: number): void { this.pci.write(cap, offset, size, value); }

  get features(): FeatureSet { return this.pci.status.negotiated; }

  private readConfig(off: number, size: number): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v << 8) | this.configByte(off + i);
    return v >>> 0;
  }

  private configByte(o: number): number {
    if (o >= VIRTIO_NET_CONFIG.mac && o < VIRTIO_NET_CONFIG.mac + 6) return this.mac[o]!;
    if (o === VIRTIO_NET_CONFIG.status) return VIRTIO_NET_S.VIRTIO_NET_S_LINK_UP;
    if (o === VIRTIO_NET_CONFIG.max_virtqueue_pairs) return 1;
    if (o === VIRTIO_NET_CONFIG.mtu) return this.mtu & 0xff;
    if (o === VIRTIO_NET_CONFIG.mtu + 1) return this.mtu >>> 8;
    return 0;
  }

  private start(queues: readonly VirtQueueConfig[], features: FeatureSet): void {
    const rx = queues[VIRTIO_NET_QUEUE.RX];
    const tx = queues[VIRTIO_NET_QUEUE.TX];
    const ctrl = queues[VIRTIO_NET_QUEUE.CTRL];
    const eventIdx = features.has(VIRTIO_F.VIRTIO_RING_F_EVENT_IDX);
    const indirect = features.has(VIRTIO_F.VIRTIO_RING_F_INDIRECT_DESC);
    if (ctrl?.enabled) this.ctrl = new DeviceQueue(this.mem, this.pci.ring(VIRTIO_NET_QUEUE.CTRL), { name: 'ctrl', eventIdx, indirect, base: { lastAvailIdx: 0, usedIdx: 0 } });
    if (rx?.enabled && tx?.enabled) {
      this.onStart?.({
        rx: { size: rx.size, desc: rx.desc, avail: rx.avail, used: rx.used },
        tx: { size: tx.size, desc: tx.desc, avail: tx.avail, used: tx.used },
        features: { lo: features.lo, hi: features.hi },
        base: { lastAvailIdx: 0, usedIdx: 0 },
      });
    }
  }

  private reset(): void {
    this.onStop?.();
    this.ctrl = undefined;
    this.promisc = true;
    this.allmulti = false;
    for (const h of this.handlers.values()) h.reset?.();
  }

  /**
   * virtio_net_handle_ctrl: answers every pending command. Returns true when the driver should
   * get an interrupt. A malformed chain is answered (ERR when there is an ack byte) and counted;
   * a broken ring stops the queue and sets NEEDS_RESET.
   */
  handleCtrl(): boolean {
    const q = this.ctrl;
    if (!q) return false;
    let done = 0;
    for (;;) {
      const head = q.pop();
      if (head === VQ_EMPTY) {
        // Ask for the next kick (virtqueue_pop moves avail_event along under EVENT_IDX), then
        // re-check: a command published meanwhile would otherwise wait for a kick never sent.
        if (q.enableNotify()) continue;
        break;
      }
      if (typeof head !== 'number') {
        this.pci.lastError = head;
        this.pci.status.setNeedsReset();
        break;
      }
      q.push(head, this.answer(q));
      done++;
    }
    if (done === 0) return false;
    q.flush();
    return q.shouldNotify();
  }

  private answer(q: DeviceQueue): number {
    this.stats.ctrl_commands++;
    const c = parseCtrlCommand(this.mem, q.chain);
    if (c instanceof Error) {
      this.stats.ctrl_malformed++;
      // Without a header the command cannot be acted on; if there is a writable byte, say ERR.
      for (let i = 0; i < q.chain.count; i++) {
        if (q.chain.writable[i] && q.chain.len[i]! > 0) { this.mem.u8[q.chain.addr[i]!] = VIRTIO_NET_ACK.VIRTIO_NET_ERR; return 1; }
      }
      return 0;
    }
    const out = this.dispatch(c.cls, c.cmd, c.data, c.resultCapacity);
    if (out.ack === VIRTIO_NET_ACK.VIRTIO_NET_OK) this.stats.ctrl_ok++;
    else this.stats.ctrl_err++;
    const used = completeCtrlCommand(this.mem, c, out.ack, out.result);
    return typeof used === 'number' ? used : 1;
  }

  /** One command, by class; also the entry for in-process callers that have no virtqueue. */
  dispatch(cls: number, cmd: number, data: Uint8Array, resultCapacity = Infinity): CtrlOutcome {
    const OK = { ack: VIRTIO_NET_ACK.VIRTIO_NET_OK };
    const ERR = { ack: VIRTIO_NET_ACK.VIRTIO_NET_ERR };
    const h = this.handlers.get(cls);
    if (h) {
      try {
        return h.handle(cmd, data, resultCapacity);
      } catch {
        return ERR;
      }
    }
    switch (cls) {
      case VIRTIO_NET_CTRL.VIRTIO_NET_CTRL_RX:
        if (data.length !== 1 || data[0]! > 1) return ERR;
        if (cmd === VIRTIO_NET_CTRL_RX_CMD.VIRTIO_NET_CTRL_RX_PROMISC) { this.promisc = data[0] === 1; return OK; }
        if (cmd === VIRTIO_NET_CTRL_RX_CMD.VIRTIO_NET_CTRL_RX_ALLMULTI) { this.allmulti = data[0] === 1; return OK; }
        return ERR;
      case VIRTIO_NET_CTRL.VIRTIO_NET_CTRL_MAC:
        if (cmd === VIRTIO_NET_CTRL_MAC_CMD.VIRTIO_NET_CTRL_MAC_ADDR_SET && data.length === 6) { this.mac.set(data); return OK; }
        return ERR;
      case VIRTIO_NET_CTRL.VIRTIO_NET_CTRL_MQ:
        // One queue pair: setting 1 pair is the only valid request.
        if (cmd === VIRTIO_NET_CTRL_MQ_CMD.VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET && data.length === 2 && data[0] === 1 && data[1] === 0) return OK;
        return ERR;
      default:
        this.stats.ctrl_unknown_class++;
        return ERR;
    }
  }
}

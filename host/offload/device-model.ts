// The offload device in-process, for users' own tests (issue 6, "For users' own tests"): guest
// memory, the virtio-net device model (VirtioNet) with the EBPF class handler (VirtioNetEbpf)
// installed as the qemu worker installs it, and a minimal guest driver that probes the device
// through its virtio-pci registers and sets up the control virtqueue as virtnet_probe does. No
// workers, no threads: submit() lays a command out in guest memory (buildCtrlCommand), adds it to
// the control virtqueue, "kicks" the device by running its control-queue handler (QEMU's
// virtio_net_handle_ctrl) and reads the answer back from the used ring, so every command takes
// the real path: descriptor chain, parse, dispatch by class, result buffer, ack.
//
//   const dev = createDeviceModel();
//   const r = dev.submit(ebpfCmd.createMap({ mapType: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 }));
//   r.ok, r.errno, r.code, r.data, r.handle
//
// The host side stays reachable: show() (bpftool-like), hostMap(handle), program, runXdp(frame)
// (the attached program on one frame, as the tap's Tx path runs it).
import {
  BPF_PSEUDO_LD, bpfProgTestRun, encodeInsns, errnoName, type EngineName, type ProgramSpec,
} from '../../bpf-vm/index.ts';
import {
  allocSplitRing, buildCtrlCommand, ctrlCommandBytes, decodeEbpfHandle, DriverQueue, FeatureSet, GuestMemory, negotiateFeatures,
  PageAllocator, readCtrlReply, readEbpfReply, SplitRing, VIRTIO_CONFIG_S, VIRTIO_F, VIRTIO_NET_CTRL_EBPF, VIRTIO_NET_F,
  VIRTIO_NET_F_VXO, VIRTIO_PCI_CAP, VIRTIO_PCI_COMMON,
  type EbpfCtrlRequest, type EbpfReply,
} from '../../virtio/index.ts';
import { VIRTIO_NET_QUEUE, VirtioNet, type VirtioNetOptions } from '../qemu/virtio-net.ts';
import type { HostMap } from './map-table.ts';
import type { OffloadedProgram } from './offloaded-program.ts';
import type { OffloadShow } from './show.ts';
import { VirtioNetEbpf, type OffloadListener, type VirtioNetEbpfOptions } from './virtio-net-ebpf.ts';

export interface DeviceModelOptions {
  /** Guest memory in bytes (default 1 MiB: the control queue and its command buffer). */
  memBytes?: number;
  /** The EBPF class's options: limits (maxMaps, maxMapBytes, maxInsns), exposeHostFds, metadata, allQueues, ... */
  offload?: Omit<VirtioNetEbpfOptions, 'listener'>;
  /** Told when a program is attached to or detached from the tap (TUNSETOFFLOADEDXDP). */
  listener?: OffloadListener;
  /** The virtio-net device's own options (MAC, MTU, queue sizes, features withheld). */
  device?: VirtioNetOptions;
  /** Control virtqueue size the driver asks for (default 64, QEMU's; at most what the device allows). */
  ctrlQueueSize?: number;
  /** Accept VIRTIO_NET_F_VXO_EBPF_META when the device offers it (default true). */
  metadata?: boolean;
}

/** The device's answer to one command, as the driver reads it from guest memory. */
export interface DeviceReply {
  /** VIRTIO_NET_OK and an errno of 0. */
  ok: boolean;
  /** The ack byte: VIRTIO_NET_OK (0) or VIRTIO_NET_ERR (1). */
  ack: number;
  /** 0, or the Linux errno the device gave for VIRTIO_NET_ERR. */
  errno: number;
  /** errno by name ('EBADF', 'ENOENT', ...), undefined when errno is 0. */
  code: string | undefined;
  /** The result's data: the handle (CREATE_MAP), the value (LOOKUP_ELEM), a key (GET_FIRST/NEXT), or the reason of a refusal. */
  data: Uint8Array;
  /** CREATE_MAP's map handle (undefined unless data is exactly one le32). */
  handle: number | undefined;
  /** data as UTF-8: the reason of a refusal, or the host verifier's log. */
  text: string;
  /** The whole decoded reply (readEbpfReply): truncation, a malformed result. */
  reply: EbpfReply;
  /** The length the device wrote in the used ring (1 for the ack + result bytes). */
  usedLen: number;
}

/** One frame through the attached program (BPF_PROG_TEST_RUN-like). */
export interface XdpRunResult {
  /** The XDP action: XDP_ABORTED 0, XDP_DROP 1, XDP_PASS 2, XDP_TX 3, XDP_REDIRECT 4. */
  action: number;
  /** The frame as the program left it (data_meta to data_end). */
  frame: Uint8Array;
}

/** Why the device model could not do what was asked (a refused command is an answer, not this). */
export class DeviceModelError extends Error {
  constructor(readonly code: 'EIO' | 'ENODEV' | 'ENOENT' | 'EINVAL', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeviceModelError';
  }
}

/** Queue size QEMU gives the control virtqueue. */
const CTRL_QUEUE_SIZE = 64;
const C = VIRTIO_PCI_COMMON;
const S = VIRTIO_CONFIG_S;

/**
 * A virtio-net device with XDP offload and its control virtqueue, in one thread. Create it with
 * createDeviceModel(). Every method is synchronous; submit() never throws for a refused command
 * (that is an answer), only DeviceModelError EIO for a device that does not answer at all.
 */
export class DeviceModel {
  /** Guest memory: the control virtqueue and the command buffer live here. */
  readonly mem: GuestMemory;
  /** The virtio-net device model (QEMU's side): registers, control queue, class dispatch. */
  readonly net: VirtioNet;
  /** The EBPF class handler: host maps, the offloaded program, limits. */
  readonly ebpf: VirtioNetEbpf;
  /** The features the driver and the device agreed on. */
  readonly features: FeatureSet;
  /** The driver's side of the control virtqueue. */
  readonly ctrlq: DriverQueue<number>;
  readonly stats = { commands: 0, kicks: 0 };

  private readonly pages: PageAllocator;
  private buf = 0;
  private capacity = 0;
  private token = 0;

  /** @internal use createDeviceModel(). */
  constructor(o: { mem: GuestMemory; pages: PageAllocator; net: VirtioNet; ebpf: VirtioNetEbpf; features: FeatureSet; ctrlq: DriverQueue<number> }) {
    this.mem = o.mem;
    this.pages = o.pages;
    this.net = o.net;
    this.ebpf = o.ebpf;
    this.features = o.features;
    this.ctrlq = o.ctrlq;
  }

  /**
   * Sends one class-EBPF command (an ebpfCmd builder's request, or one made by hand for a malformed
   * payload) over the control virtqueue and returns the device's answer.
   */
  submit(req: EbpfCtrlRequest): DeviceReply {
    const raw = this.send(req.cls, req.cmd, req.data, req.resultLen);
    const reply = readEbpfReply(raw);
    const errno = reply.errno;
    return {
      ok: reply.ok,
      ack: reply.ack,
      errno,
      code: errno === 0 ? undefined : errnoName(errno),
      data: reply.data,
      handle: reply.ok ? decodeEbpfHandle(reply.data) : undefined,
      text: new TextDecoder().decode(reply.data),
      reply,
      usedLen: raw.usedLen,
    };
  }

  /**
   * Any control command, raw: {class, command, data} with `resultLen` bytes of result room; returns
   * the ack and the result bytes the device wrote. Shaped like guest/bpf's CtrlChannel, so the
   * guest's BPF layer (VirtnetBpf) can run over this device model too.
   */
  send(cls: number, cmd: number, data: Uint8Array, resultLen: number): { ack: number; result: Uint8Array; usedLen: number } {
    const q = this.ctrlq;
    this.ensure(ctrlCommandBytes(data.length, resultLen));
    const req = buildCtrlCommand(this.mem, this.buf, this.capacity, cls, cmd, data, resultLen);
    const token = (this.token = (this.token + 1) >>> 0);
    if (q.add(req.out, req.in, token) < 0) throw new DeviceModelError('EIO', `control queue: no free descriptors${q.broken ? ` (${q.broken.message})` : ''}`);
    this.stats.commands++;
    if (q.kickPrepare()) this.stats.kicks++;
    // The kick: QEMU's virtio_net_handle_ctrl runs. (Suppressed kicks too: in one thread nobody
    // else would look at the queue.)
    this.net.handleCtrl();
    const got = q.getBuf();
    if (got === undefined) {
      const why = this.net.pci.lastError?.message ?? q.broken?.message;
      throw new DeviceModelError('EIO', `control queue: no answer to class ${cls} command ${cmd}${why ? ` (${why})` : ''}`);
    }
    if (got !== token) throw new DeviceModelError('EIO', `control queue: the device returned buffer ${got}, expected ${token}`);
    const usedLen = q.lastLen;
    return { ...readCtrlReply(this.mem, req, usedLen), usedLen };
  }

  /** What runs on the tap and what the device holds, like `bpftool prog show` / `map dump`. */
  show(opts: { dump?: boolean } = {}): OffloadShow {
    return this.ebpf.show(opts);
  }

  /** A host map by the handle CREATE_MAP returned (its `map` is a bpf-vm map: lookup/update/dump). */
  hostMap(handle: number): HostMap | undefined {
    return this.ebpf.hostMap(handle);
  }

  /** The program attached to the tap, if any. */
  get program(): OffloadedProgram | undefined {
    return this.ebpf.program;
  }

  /**
   * Runs the attached program once on `frame`, as the tap's Tx path would (same host maps, the
   * host verifier's result). Throws DeviceModelError ENOENT when nothing is attached.
   */
  runXdp(frame: Uint8Array, opts: { engine?: EngineName } = {}): XdpRunResult {
    const p = this.ebpf.program;
    if (p === undefined) throw new DeviceModelError('ENOENT', 'no program is offloaded');
    const r = bpfProgTestRun(p.program, { dataIn: frame, verify: p.verified, ...(opts.engine ? { engine: opts.engine } : {}) });
    return { action: r.retval, frame: r.dataOut };
  }

  private ensure(bytes: number): void {
    if (bytes <= this.capacity) return;
    if (this.capacity > 0) this.pages.freeRange(this.buf);
    const size = Math.max(bytes, 4096);
    this.buf = this.pages.alloc(size);
    this.capacity = Math.ceil(size / this.pages.pageSize) * this.pages.pageSize;
  }
}

/**
 * Creates the device and probes it: reset, ACKNOWLEDGE, DRIVER, features (VERSION_1, CTRL_VQ,
 * EVENT_IDX, the offload bits), FEATURES_OK, the control virtqueue (size, ring addresses,
 * enable), DRIVER_OK. The data queues stay disabled: nothing here moves packets.
 */
export function createDeviceModel(opts: DeviceModelOptions = {}): DeviceModel {
  const mem = GuestMemory.create(opts.memBytes ?? 1 << 20);
  const pages = new PageAllocator(mem);
  const meta = (opts.offload?.metadata ?? true) !== false;
  const offer = [VIRTIO_NET_F_VXO.VIRTIO_NET_F_VXO_EBPF_OFFLOAD, ...(meta ? [VIRTIO_NET_F_VXO.VIRTIO_NET_F_VXO_EBPF_META] : [])];
  const net = new VirtioNet(mem, { ...opts.device, extraFeatures: [...(opts.device?.extraFeatures ?? []), ...offer] });
  const ebpf = new VirtioNetEbpf({ ...opts.offload, ...(opts.listener ? { listener: opts.listener } : {}) });
  net.setCtrlHandler(VIRTIO_NET_CTRL_EBPF, ebpf);

  const pci = VIRTIO_PCI_CAP.COMMON;
  const rd = (off: number, size: 1 | 2 | 4): number => net.read(pci, off, size);
  const wr = (off: number, size: 1 | 2 | 4, v: number): void => net.write(pci, off, size, v);
  const fail = (why: string): never => {
    wr(C.VIRTIO_PCI_COMMON_STATUS, 1, rd(C.VIRTIO_PCI_COMMON_STATUS, 1) | S.VIRTIO_CONFIG_S_FAILED);
    throw new DeviceModelError('ENODEV', `device model probe: ${why}${net.pci.lastError ? ` (${net.pci.lastError.message})` : ''}`);
  };

  wr(C.VIRTIO_PCI_COMMON_STATUS, 1, 0);
  let status = S.VIRTIO_CONFIG_S_ACKNOWLEDGE;
  wr(C.VIRTIO_PCI_COMMON_STATUS, 1, status);
  status |= S.VIRTIO_CONFIG_S_DRIVER;
  wr(C.VIRTIO_PCI_COMMON_STATUS, 1, status);

  wr(C.VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
  const lo = rd(C.VIRTIO_PCI_COMMON_DF, 4);
  wr(C.VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
  const hi = rd(C.VIRTIO_PCI_COMMON_DF, 4);
  const wanted = FeatureSet.of(
    VIRTIO_F.VIRTIO_F_VERSION_1, VIRTIO_F.VIRTIO_RING_F_EVENT_IDX, VIRTIO_NET_F.VIRTIO_NET_F_CTRL_VQ,
    VIRTIO_NET_F_VXO.VIRTIO_NET_F_VXO_EBPF_OFFLOAD, ...((opts.metadata ?? true) ? [VIRTIO_NET_F_VXO.VIRTIO_NET_F_VXO_EBPF_META] : []),
  );
  const features = negotiateFeatures(FeatureSet.fromHalves(lo, hi), wanted);
  if (!features.has(VIRTIO_NET_F.VIRTIO_NET_F_CTRL_VQ)) fail('the device has no control virtqueue (VIRTIO_NET_F_CTRL_VQ)');
  wr(C.VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
  wr(C.VIRTIO_PCI_COMMON_GF, 4, features.lo);
  wr(C.VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
  wr(C.VIRTIO_PCI_COMMON_GF, 4, features.hi);
  status |= S.VIRTIO_CONFIG_S_FEATURES_OK;
  wr(C.VIRTIO_PCI_COMMON_STATUS, 1, status);
  if ((rd(C.VIRTIO_PCI_COMMON_STATUS, 1) & S.VIRTIO_CONFIG_S_FEATURES_OK) === 0) fail(`the device refused features ${features.toString()}`);

  // The control virtqueue (queue 2 with one queue pair), as init_vqs / vp_modern_find_vqs set it up.
  wr(C.VIRTIO_PCI_COMMON_Q_SELECT, 2, VIRTIO_NET_QUEUE.CTRL);
  const max = rd(C.VIRTIO_PCI_COMMON_Q_SIZE, 2);
  let size = Math.min(max, opts.ctrlQueueSize ?? CTRL_QUEUE_SIZE);
  while (size & (size - 1)) size &= size - 1;
  if (size < 1) fail('the control virtqueue has size 0');
  wr(C.VIRTIO_PCI_COMMON_Q_SIZE, 2, size);
  const layout = allocSplitRing(mem, pages, size);
  wr(C.VIRTIO_PCI_COMMON_Q_DESCLO, 4, layout.desc);
  wr(C.VIRTIO_PCI_COMMON_Q_AVAILLO, 4, layout.avail);
  wr(C.VIRTIO_PCI_COMMON_Q_USEDLO, 4, layout.used);
  wr(C.VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
  const eventIdx = features.has(VIRTIO_F.VIRTIO_RING_F_EVENT_IDX);
  const ctrlq = new DriverQueue<number>(mem, new SplitRing(mem, layout), { name: 'ctrlq', eventIdx, pages });
  status |= S.VIRTIO_CONFIG_S_DRIVER_OK;
  wr(C.VIRTIO_PCI_COMMON_STATUS, 1, status);
  if ((rd(C.VIRTIO_PCI_COMMON_STATUS, 1) & S.VIRTIO_CONFIG_S_NEEDS_RESET) !== 0 || net.ctrl === undefined) fail('DRIVER_OK did not bring up the control virtqueue');

  return new DeviceModel({ mem, pages, net, ebpf, features, ctrlq });
}

/**
 * A program of an object file (parseElf(...).programs[i]) as SET_OFFLOAD carries it: each map
 * reference an ld_imm64 with src_reg BPF_PSEUDO_MAP_FD (or BPF_PSEUDO_MAP_VALUE) whose imm is the
 * device's handle for that map, by the map's name in the object. This is what the guest driver's
 * verifier setup() hook produces. Throws DeviceModelError EINVAL for a map without a handle.
 */
export function offloadInsns(prog: ProgramSpec, handles: Readonly<Record<string, number>>): Uint8Array {
  const insns = prog.insns.map((i) => ({ ...i }));
  for (const ref of prog.references) {
    const handle = handles[ref.map];
    if (handle === undefined) throw new DeviceModelError('EINVAL', `${prog.name}: insn ${ref.insn} references map '${ref.map}', which has no handle`);
    const first = insns[ref.insn];
    const second = insns[ref.insn + 1];
    if (first === undefined || second === undefined || first.code !== 0x18) {
      throw new DeviceModelError('EINVAL', `${prog.name}: map reference at insn ${ref.insn} is not an ld_imm64`);
    }
    first.src = ref.kind === 'map' ? BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD : BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE;
    first.imm = handle | 0;
    second.imm = ref.kind === 'map' ? 0 : ref.offset;
  }
  return encodeInsns(insns);
}

/** A u32 key or value as map commands carry it (little-endian). */
export function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

/** A u64 value as map commands carry it (little-endian). */
export function u64le(n: number | bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(n)), true);
  return b;
}

/** Reads a little-endian u64 (a LOOKUP_ELEM answer of an 8-byte value). */
export function readU64le(b: Uint8Array): bigint {
  if (b.length < 8) throw new DeviceModelError('EINVAL', `${b.length} bytes, a u64 needs 8`);
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
}

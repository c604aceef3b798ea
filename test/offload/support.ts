// The offload tests' world in one thread: guest memory with a real control virtqueue, the guest's
// BPF layer and virtio_net BPF part as the driver side, and a small device-side loop that pops
// control chains, hands class EBPF to the host device and completes them (what the qemu worker's
// control-queue loop does).
import { fileURLToPath } from 'node:url';
import { BPF_PROG_TYPE, XdpProgramRunner, type EngineName, type Program } from '../../bpf-vm/index.ts';
import {
  allocSplitRing, completeCtrlCommand, DeviceQueue, DriverQueue, FeatureSet, GuestMemory, PageAllocator, parseCtrlCommand, SplitRing,
  VIRTIO_NET_ACK, VIRTIO_NET_CTRL_EBPF, VIRTIO_NET_F, VIRTIO_NET_F_VXO, VirtioError, VQ_EMPTY,
} from '../../virtio/index.ts';
import { answerEbpfCtrl, VirtioNetEbpf, type OffloadedProgram, type VirtioNetEbpfOptions } from '../../host/offload/index.ts';
import { CtrlVqChannel, GuestBpf, VirtnetBpf, type GuestProg } from '../../guest/bpf/index.ts';

export const FIXTURES = fileURLToPath(new URL('../fixtures/offload/', import.meta.url));
export const XDP_DIR = fileURLToPath(new URL('../../scenarios/xdp/', import.meta.url));

/** The features a vxo device offers for offload, on top of the control queue. */
export const OFFLOAD_FEATURES = FeatureSet.of(
  VIRTIO_NET_F.VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_VXO.VIRTIO_NET_F_VXO_EBPF_OFFLOAD, VIRTIO_NET_F_VXO.VIRTIO_NET_F_VXO_EBPF_META,
);

export interface CtrlLink {
  mem: GuestMemory;
  channel: CtrlVqChannel;
  device: DeviceQueue;
  /** Chains the device loop answered, and of those, class EBPF. */
  stats: { chains: number; ebpf: number; malformed: number };
}

/** A control virtqueue between a CtrlVqChannel (driver) and `dev` (device), in one guest memory. */
export function ctrlLink(dev: VirtioNetEbpf): CtrlLink {
  const mem = GuestMemory.create(1 << 20);
  const pages = new PageAllocator(mem);
  const layout = allocSplitRing(mem, pages, 64);
  const drv = new DriverQueue<number>(mem, new SplitRing(mem, layout), { name: 'ctrlq', pages });
  const device = new DeviceQueue(mem, new SplitRing(mem, layout), { name: 'ctrlq' });
  const stats = { chains: 0, ebpf: 0, malformed: 0 };
  const pump = (): void => {
    for (;;) {
      const head = device.pop();
      if (head === VQ_EMPTY) break;
      if (typeof head !== 'number') throw head;
      stats.chains++;
      const c = parseCtrlCommand(mem, device.chain);
      if (c instanceof VirtioError) {
        stats.malformed++;
        device.push(head, 0);
        continue;
      }
      if (c.cls === VIRTIO_NET_CTRL_EBPF) {
        stats.ebpf++;
        device.push(head, answerEbpfCtrl(mem, c, dev));
      } else {
        const used = completeCtrlCommand(mem, c, VIRTIO_NET_ACK.VIRTIO_NET_ERR);
        device.push(head, typeof used === 'number' ? used : 1);
      }
    }
    device.flush();
  };
  return { mem, channel: new CtrlVqChannel({ mem, pages, queue: drv, pump }), device, stats };
}

export interface World {
  host: VirtioNetEbpf;
  bpf: GuestBpf;
  netdev: VirtnetBpf;
  ifindex: number;
  link: CtrlLink;
  /** onAttach/onDetach as the tap worker would see them. */
  events: string[];
  /** The program the tap runs (from onAttach), undefined after onDetach. */
  tap: { prog: OffloadedProgram | undefined };
  /** The guest driver's native XDP program (what virtnet_xdp_set installed). */
  native: { prog: GuestProg | null };
}

export function world(opts: { device?: VirtioNetEbpfOptions; features?: FeatureSet } = {}): World {
  const events: string[] = [];
  const tap: World['tap'] = { prog: undefined };
  const native: World['native'] = { prog: null };
  const host = new VirtioNetEbpf({
    ...opts.device,
    listener: {
      onAttach: (p) => { events.push(`attach ${p.name || '-'} ${p.tag}`); tap.prog = p; },
      onDetach: () => { events.push('detach'); tap.prog = undefined; },
    },
  });
  const link = ctrlLink(host);
  const netdev = new VirtnetBpf({
    name: 'eth0', ctrl: link.channel, features: opts.features ?? OFFLOAD_FEATURES,
    setNativeXdp: (p) => { native.prog = p; },
  });
  const bpf = new GuestBpf();
  const ifindex = bpf.registerNetdev(netdev);
  return { host, bpf, netdev, ifindex, link, events, tap, native };
}

/** Runs frames through a program on the host side as the tap's Tx path would; returns the actions. */
export function runFrames(program: Program, frames: readonly Uint8Array[], engine: EngineName, verify: boolean | OffloadedProgram['verified'] = true): number[] {
  const runner = new XdpProgramRunner(program, { engine, verify });
  const buf = new Uint8Array(4096);
  const out: number[] = [];
  for (const f of frames) {
    buf.fill(0);
    buf.set(f, 256);
    runner.xdp.prepare(buf, 0, 4096, 256, f.length);
    out.push(runner.run());
  }
  return out;
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(0, n >>> 0, true);
  return b;
}

export function u64(n: bigint | number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer, b.byteOffset, b.byteLength).setBigUint64(0, BigInt(n), true);
  return b;
}

export function readU64(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0, true);
}

export const XDP = BPF_PROG_TYPE.BPF_PROG_TYPE_XDP;

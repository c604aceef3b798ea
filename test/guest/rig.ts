// One-thread rig for the guest driver: the real QEMU device model (VirtioNet) answers the
// driver's register accesses and control commands, and two DeviceQueues stand in for vhost on the
// data queues, built at DRIVER_OK from the layouts the device hands over (as vhost_net_start).
import { DeviceQueue, FeatureSet, GuestMemory, PageAllocator, SplitRing, VIRTIO_F, VQ_EMPTY, writePlainNetHdr } from '../../virtio/index.ts';
import { type DataQueues, VirtioNet, type VirtioNetOptions } from '../../host/qemu/virtio-net.ts';
import { virtnet_probe, type VirtnetDriver, type VirtnetProbeOptions, type VirtnetStatsRecord } from '../../guest/virtio-net/index.ts';

export interface Rig {
  mem: GuestMemory;
  pages: PageAllocator;
  net: VirtioNet;
  driver: VirtnetDriver;
  started: DataQueues;
  rxDev: DeviceQueue;
  txDev: DeviceQueue;
  /** Kicks per queue index. */
  kicks: number[];
  /** Frames the guest stack received. */
  delivered: Uint8Array[];
  /** Interrupts the "vhost" side decided to raise (shouldNotify on rx). */
  irqs: { n: number };
}

export interface RigOptions {
  memBytes?: number;
  device?: VirtioNetOptions;
  driver?: Partial<Omit<VirtnetProbeOptions, 'mem' | 'regs' | 'notify'>>;
  /** Runs inside the driver's notify(queue), after the kick is counted (a device reacting at once). */
  onKick?: (queue: number) => void;
}

export function makeRig(o: RigOptions = {}): Rig {
  const mem = GuestMemory.create(o.memBytes ?? 8 << 20);
  const pages = new PageAllocator(mem);
  const net = new VirtioNet(mem, o.device);
  let started: DataQueues | undefined;
  let rxDev: DeviceQueue | undefined;
  let txDev: DeviceQueue | undefined;
  net.onStart = (q) => {
    started = q;
    const f = FeatureSet.fromHalves(q.features.lo, q.features.hi);
    const opts = { eventIdx: f.has(VIRTIO_F.VIRTIO_RING_F_EVENT_IDX), indirect: f.has(VIRTIO_F.VIRTIO_RING_F_INDIRECT_DESC) };
    rxDev = new DeviceQueue(mem, new SplitRing(mem, q.rx), { name: 'vhost-rx', ...opts });
    txDev = new DeviceQueue(mem, new SplitRing(mem, q.tx), { name: 'vhost-tx', ...opts });
  };
  const kicks = [0, 0, 0];
  const delivered: Uint8Array[] = [];
  const driver = virtnet_probe({
    mem,
    regs: net,
    pages,
    notify: (q) => { kicks[q]!++; o.onKick?.(q); },
    waitCtrl: () => { net.handleCtrl(); },
    netifReceive: (u8, gpa, len) => { delivered.push(u8.slice(gpa, gpa + len)); },
    ...o.driver,
  });
  if (!started || !rxDev || !txDev) throw new Error('the device never started its data queues');
  return { mem, pages, net, driver, started, rxDev, txDev, kicks, delivered, irqs: { n: 0 } };
}

export interface DeviceRxOptions {
  /** Used length to report instead of 12 + frame length. */
  usedLen?: number;
  numBuffers?: number;
}

/**
 * vhost's rx side: copies each frame behind a virtio_net_hdr_v1 into the next rx buffer, pushes
 * the used entries, publishes once and raises an interrupt if the driver asked for one. Returns
 * how many frames found a buffer.
 */
export function deviceRx(r: Rig, frames: readonly Uint8Array[], o: DeviceRxOptions = {}): number {
  let n = 0;
  for (const f of frames) {
    const head = r.rxDev.pop();
    if (head === VQ_EMPTY) break;
    if (typeof head !== 'number') throw head;
    const c = r.rxDev.chain;
    if (c.count !== 1 || c.readable !== 0) throw new Error(`rx chain of ${c.count} segments, ${c.readable} readable`);
    const at = c.addr[0]!;
    writePlainNetHdr(r.mem, at, o.numBuffers ?? 1);
    r.mem.write(at + 12, f.subarray(0, Math.max(0, Math.min(f.length, c.len[0]! - 12))));
    r.rxDev.push(head, o.usedLen ?? 12 + f.length);
    n++;
  }
  if (r.rxDev.shouldNotify()) r.irqs.n++;
  return n;
}

export interface TxFrame {
  /** Guest-physical address of the chain's first segment (the virtio_net_hdr). */
  addr: number;
  hdr: Uint8Array;
  frame: Uint8Array;
}

/** vhost's tx side: pops every chain, copies its bytes out, completes it (used length 0). */
export function deviceTx(r: Rig, complete = true): TxFrame[] {
  const out: TxFrame[] = [];
  for (;;) {
    const head = r.txDev.pop();
    if (head === VQ_EMPTY) break;
    if (typeof head !== 'number') throw head;
    const c = r.txDev.chain;
    const parts: number[] = [];
    for (let i = 0; i < c.readable; i++) parts.push(...r.mem.bytes(c.addr[i]!, c.len[i]!));
    const bytes = Uint8Array.from(parts);
    out.push({ addr: c.addr[0]!, hdr: bytes.slice(0, 12), frame: bytes.slice(12) });
    if (complete) r.txDev.push(head, 0);
  }
  r.txDev.flush();
  return out;
}

/** Polls until the driver reports 'done'; returns the number of polls. */
export function pollUntilDone(r: Rig, budget = 64): number {
  let polls = 1;
  while (r.driver.virtnet_poll(budget) === 'more') polls++;
  return polls;
}

/** The rx accounting identity of VirtnetStats: every frame has exactly one outcome. */
export function rxOutcomes(s: VirtnetStatsRecord): number {
  return s.rx_packets + s.rx_drops + s.rx_length_errors + s.rx_xdp_drops + s.rx_xdp_aborted + s.rx_xdp_redirects + s.rx_xdp_tx;
}

// The QEMU worker: a virtio-net device model serving MMIO traps and the control queue. Thin: the
// logic is VirtioNet and QemuLoop; this file wires them to shared memory and to vhost's port.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Doorbell, GuestMemory, ShmCounters, threadSelfId, type SharedDoorbell, type SharedGuestMemory, type SharedMmioTrap } from '../../virtio/index.ts';
import { QemuLoop } from './qemu-loop.ts';
import { VirtioNet, type VirtioNetOptions } from './virtio-net.ts';
import { VhostChannel } from './vhost-channel.ts';
import { EbpfOverTap, type TunProbe } from './tap-offload.ts';
import { VIRTIO_NET_CTRL_EBPF, VIRTIO_NET_F_VXO, VirtioNetEbpf, type VirtioNetEbpfOptions } from '../offload/index.ts';

export interface QemuWorkerData {
  mem: SharedGuestMemory;
  trap: SharedMmioTrap;
  kick: SharedDoorbell;
  irq: SharedDoorbell;
  ctl: Int32Array;
  vhostPort: MessagePort;
  vhostWake: SharedDoorbell;
  vhostCtl: Int32Array;
  device: VirtioNetOptions;
  /** The offload RFC's control class; undefined: the device does not offer offload. */
  offload?: Omit<VirtioNetEbpfOptions, 'listener' | 'hostFds'>;
  /**
   * What the host's tun can do (tap-offload.ts). Default: the offload RFC's tun, with
   * TUNSETOFFLOADEDXDP. A host whose vhost reads the tap's ptr_ring itself has not (false).
   */
  tun?: TunProbe;
}

const d = workerData as QemuWorkerData;
const mem = new GuestMemory(d.mem);
const offer = d.offload ? [VIRTIO_NET_F_VXO.VIRTIO_NET_F_VXO_EBPF_OFFLOAD, ...(d.offload.metadata === false ? [] : [VIRTIO_NET_F_VXO.VIRTIO_NET_F_VXO_EBPF_META])] : [];
const dev = new VirtioNet(mem, { ...d.device, extraFeatures: [...(d.device.extraFeatures ?? []), ...offer] });
const vhost = new VhostChannel(d.vhostPort, new Doorbell(d.vhostWake), d.vhostCtl);
// TUNSETOFFLOADEDXDP: the program QEMU loaded goes to the tap, which runs in the vhost worker.
const ebpf = d.offload ? new VirtioNetEbpf({
  ...d.offload,
  listener: {
    onAttach: (p) => vhost.send({ type: 'attach', prog: p.transfer() }),
    onDetach: () => vhost.send({ type: 'detach' }),
  },
}) : undefined;
const overTap = ebpf ? new EbpfOverTap(ebpf, d.tun ?? { offloadedXdp: true }) : undefined;
if (overTap) dev.setCtrlHandler(VIRTIO_NET_CTRL_EBPF, overTap);
dev.onStart = (q) => vhost.send({ type: 'start', queues: q });
dev.onStop = () => vhost.send({ type: 'stop' });
const loop = new QemuLoop(dev, d.trap, new Doorbell(d.kick), new Doorbell(d.irq), d.ctl, () => prefixed('tun_', overTap?.stats));
const counters = ShmCounters.create(Object.keys(loop.counters()));
loop.shm = counters;
parentPort!.postMessage({ type: 'ready', counters: counters.share(), tid: threadSelfId() });
loop.run();
parentPort!.postMessage({
  type: 'done', counters: { ...loop.counters(), ...prefixed('ebpf_', ebpf?.stats) }, offload: ebpf?.show({ dump: true }),
  ...(overTap?.lastRefusal !== undefined ? { offloadRefused: overTap.lastRefusal } : {}),
});

function prefixed(p: string, rec: object | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(rec ?? {})) if (typeof v === 'number') out[p + k] = v;
  return out;
}

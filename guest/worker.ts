// The guest worker's entry: wires the virtio_net driver to its channels. workerData is a
// GuestWorkerData (guest/virtio-net/worker-data.ts). Probes the device through the MMIO trap,
// attaches the native XDP program, posts {type:'ready'}, runs the guest loop until the stop cell
// is set, posts {type:'done', counters}. Any error is thrown: the worker fails and its parent
// sees the error.
import { parentPort, workerData } from 'node:worker_threads';
import { type SharedMapState, XdpProgramRunner } from '../bpf-vm/index.ts';
import { Doorbell, FrameCapture, GuestMemory, MmioTrapClient, PageAllocator, ShmCounters, threadSelfId, VIRTIO_NET_F_VXO } from '../virtio/index.ts';
import { TracePipe, type TraceSetup } from '../virtio/trace-pipe.ts';
import { GuestBpf, GuestBpfError, VirtnetBpf, XDP_FLAGS } from './bpf/index.ts';
import {
  ctrlWaitOnDoorbell, GuestLoop, VIRTNET_QUEUE, virtnet_probe,
  type GuestWorkerData, type GuestWorkerMessage,
} from './virtio-net/index.ts';

const data = workerData as GuestWorkerData & { trace?: TraceSetup };
const post = (m: GuestWorkerMessage): void => parentPort!.postMessage(m);
const tid = threadSelfId();
// bpf_trace_printk from the native program, only when the run traces (--trace).
const trace = TracePipe.forWorker(data.trace, 'guest', tid, (m) => parentPort!.postMessage(m));

const mem = new GuestMemory(data.mem);
const irq = new Doorbell(data.doorbells.irq);
const vhost = new Doorbell(data.doorbells.vhost);
const qemu = new Doorbell(data.doorbells.qemu);
const driver = virtnet_probe({
  mem,
  regs: new MmioTrapClient(data.mmio),
  pages: new PageAllocator(mem, data.pages ?? {}),
  notify: (q) => (q === VIRTNET_QUEUE.CTRL ? qemu : vhost).ring(),
  waitCtrl: ctrlWaitOnDoorbell(irq, data.ctrlTimeoutMs ?? 5000),
  queueSize: data.queueSize,
  // This guest's driver can offload (the guest BPF layer below): accept the offload bits if offered.
  extraFeatures: [...(data.extraFeatures ?? []), VIRTIO_NET_F_VXO.VIRTIO_NET_F_VXO_EBPF_OFFLOAD, VIRTIO_NET_F_VXO.VIRTIO_NET_F_VXO_EBPF_META],
});
if (data.capture) driver.rq.capture = new FrameCapture(data.capture).capture;

// The guest's network stack above eth0, when the run gives it one (loaded only then). It comes
// before XDP so that a native program's socket lookups (bpf_sk_lookup_*) find its sockets.
const stack = data.net === undefined ? undefined : await (await import('./virtio-net/stack.ts')).attachGuestStack(driver, data.net);
if (data.stackCapture !== undefined) {
  if (stack === undefined) throw new Error('guest worker: stackCapture without a stack (net)');
  stack.addCaptureTap(new FrameCapture(data.stackCapture).capture);
}
const netHost = stack === undefined ? undefined : (await import('../net/core/filter.ts')).net_bpf_host(stack.net);

// The guest kernel's BPF layer over this device: native XDP runs in the driver, offload goes
// over the control queue (the driver is the CtrlChannel).
const bpf = new GuestBpf();
const engine = data.xdp?.engine;
const ifindex = bpf.registerNetdev(new VirtnetBpf({
  ctrl: driver,
  features: driver.features,
  setNativeXdp: (p) => {
    driver.virtnet_xdp_set(p === null ? undefined : new XdpProgramRunner(p.program, {
      engine, verify: p.verified, ...(netHost ? { netHost } : {}), ...(trace ? { trace: trace.sink } : {}),
    }));
  },
}));
const maps: Record<string, SharedMapState> = {};
/** Why offload was refused, when the run asked to fall back to native XDP. */
let offloadRefused: string | undefined;
if (data.xdp !== undefined) {
  const xdp = data.xdp;
  const attachNative = (): void => {
    const obj = bpf.loadObject(xdp.object, { program: xdp.program });
    bpf.xdpAttach(ifindex, obj.progFd, XDP_FLAGS.XDP_FLAGS_DRV_MODE);
    // Native maps live in the guest: hand them to the runner so it can read them. (Offloaded maps
    // live on the host; QEMU reports those.)
    for (const m of obj.prog.maps) maps[m.spec.name] = m.map.share();
  };
  if (xdp.mode === 'offload') {
    try {
      const obj = bpf.loadObjectForOffload(xdp.object, ifindex, { program: xdp.program });
      bpf.xdpAttach(ifindex, obj.progFd, XDP_FLAGS.XDP_FLAGS_HW_MODE);
    } catch (e) {
      // A program the device cannot run (a helper off the allow list: the host cannot see the
      // guest's sockets) runs in the driver instead when the run allows it, as `ip link set dev
      // eth0 xdpoffload obj ... || ip link set dev eth0 xdpdrv obj ...` would.
      if (!(e instanceof GuestBpfError) || e.code !== 'EOPNOTSUPP' || xdp.fallbackNative !== true) throw e;
      offloadRefused = e.message;
      attachNative();
    }
  } else {
    attachNative();
  }
}

post({
  type: 'ready',
  tid,
  mac: [...driver.mac],
  features: { lo: driver.features.lo, hi: driver.features.hi },
  rxQueueSize: driver.rq.vq.ring.size,
  txQueueSize: driver.sq.vq.ring.size,
  maps,
  ...(offloadRefused !== undefined ? { offloadRefused } : {}),
});
const loop = new GuestLoop(driver, {
  irq,
  stop: data.stop,
  counters: data.counters === undefined ? undefined : new ShmCounters(data.counters),
  publishEvery: data.publishEvery,
  waitMs: data.waitMs,
  stack,
});
loop.run();
trace?.flush();
// What is still in flight between the guest and vhost, for the run's accounting: frames vhost
// wrote that the guest has not taken, and XDP_TX frames vhost has not taken yet.
post({
  type: 'done',
  counters: loop.counterRecord(),
  queued: { rx_used_pending: driver.rq.vq.pendingUsed(), tx_not_consumed: driver.sq.vq.outstanding - driver.sq.vq.pendingUsed() },
});

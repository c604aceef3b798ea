// The vhost worker's entry: one vhost_net queue pair bound to the tap's queue. Thin: VhostNet,
// VhostWorker and the tun classes do the work; this file wires them to shared memory and to the
// control messages QEMU sends (vhost_net_start/stop, TUNSETOFFLOADEDXDP).
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import {
  FramePool, PagePoolRemote, PtrRing, SockWait, SoftnetBacklog, TunError, TunRecv, TunRx, tapXdpFromObject, tapXdpOffloaded,
  type EngineName, type SharedHostBacklog, type OffloadedProgramTransfer, type SharedFramePool, type SharedPtrRing, type SharedSockWait, type TapXdpObject,
} from '../tun/index.ts';
import { Doorbell, FrameCapture, GuestMemory, ShmCounters, threadSelfId, type SharedDoorbell, type SharedFrameCapture, type SharedGuestMemory } from '../virtio/index.ts';
import { TracePipe, type TraceSetup } from '../virtio/trace-pipe.ts';
import { TunSocket } from './tun-socket.ts';
import { VhostNet, type VhostNetQueues } from './vhost-net.ts';
import { VhostWorker } from './vhost-worker.ts';
import { tapCounters } from './tap-counters.ts';
import { isVhostRxPath, VHOST_RX_PATH_DEFAULT, VHOST_RX_PATHS, type VhostRxPath } from './rx-path.ts';

export interface VhostWorkerData {
  mem: SharedGuestMemory;
  wait: SharedSockWait;
  ctl: Int32Array;
  port: MessagePort;
  pool: SharedFramePool;
  ring: SharedPtrRing;
  irq: SharedDoorbell;
  pollUs?: number;
  engine?: EngineName;
  /** The tap's own Rx-path XDP program (rx_drop in the benchmark). */
  rxProg?: TapXdpObject;
  /** Capture frames as the tap's queue hands them over (--pcap-at tap). */
  capture?: SharedFrameCapture;
  /** Forward the tap programs' bpf_trace_printk lines (--trace). */
  trace?: TraceSetup;
  /**
   * The host worker's backlog and wake-up (tun/backlog.ts): with them, what the guest sends (and
   * what passes the tap's Rx-path program) goes on to the host's bridge and stack; without them it
   * ends at the tap, counted (the XDP benchmarks).
   */
  backlog?: SharedHostBacklog;
  /**
   * How handle_rx reads the tap (vhost/rx-path.ts): 'ptr_ring' as before the offload RFC, or the
   * RFC's 'tap_recvmsg' (default). The RFC's netperf table compares the two.
   */
  rxPath?: VhostRxPath;
}

export type VhostControl =
  | { type: 'start'; queues: VhostNetQueues }
  | { type: 'stop' }
  | { type: 'attach'; prog: OffloadedProgramTransfer }
  | { type: 'detach' };

const d = workerData as VhostWorkerData;
const tid = threadSelfId();
const trace = TracePipe.forWorker(d.trace, 'vhost', tid, (m) => parentPort!.postMessage(m));
/** The tap's programs write their trace lines to the pipe (the engine's no-op sink without one). */
function traced<T extends { env: { trace: (line: string) => void } }>(runner: T): T {
  if (trace) runner.env.trace = trace.sink;
  return runner;
}
if (d.rxPath !== undefined && !isVhostRxPath(d.rxPath)) throw new TunError('EINVAL', `vhost rxPath ${String(d.rxPath)}: ${VHOST_RX_PATHS.join(' or ')}`);
const rxPath: VhostRxPath = d.rxPath ?? VHOST_RX_PATH_DEFAULT;
const mem = new GuestMemory(d.mem);
const wait = new SockWait(d.wait);
const irq = new Doorbell(d.irq);
const pool = FramePool.open(d.pool);
const remote = new PagePoolRemote(pool);
const rx = new TunRx({ pool, remote });
const recv = new TunRecv({ ring: PtrRing.open(d.ring), pool, remote, rx });
const sock = new TunSocket(recv, rx, pool, remote);
if (d.rxProg) rx.attach(traced(tapXdpFromObject(d.rxProg, d.engine)));
if (d.backlog) rx.backlog = SoftnetBacklog.open(d.backlog.ring, new SockWait(d.backlog.wait));
if (d.capture) recv.capture = new FrameCapture(d.capture).capture;

const worker = new VhostWorker(undefined, wait, d.ctl, {
  pollUs: d.pollUs ?? 0,
  clearQueued: () => wait.clearQueued(),
  extraCounters: () => tapCounters(sock),
  onControl: () => {
    for (let m = receiveMessageOnPort(d.port); m !== undefined; m = receiveMessageOnPort(d.port)) control(m.message as VhostControl);
  },
});
let net: VhostNet | undefined;
function control(m: VhostControl): void {
  switch (m.type) {
    case 'start': net = new VhostNet(mem, m.queues, sock, () => irq.ring(), { rxPath }); worker.setNet(net); break;
    case 'stop': net = undefined; worker.setNet(undefined); break;
    case 'attach':
      // Before the RFC vhost reads the ring itself: there is no recvmsg batch for a Tx-path program
      // to run in (no TUNSETOFFLOADEDXDP). QEMU, told so (QemuWorkerData.tun), refuses the guest's
      // SET_OFFLOAD and never sends this; getting here is a run wired with two different host kernels.
      if (rxPath === 'ptr_ring') throw new TunError('EOPNOTSUPP', 'TUNSETOFFLOADEDXDP: vhost reads the tap\'s ptr_ring directly (rxPath ptr_ring, before the offload RFC): the tap has no Tx-path program');
      recv.attachOffloaded(traced(tapXdpOffloaded(m.prog, d.engine))); break;
    case 'detach': recv.attachOffloaded(undefined); break;
  }
}

const counters = ShmCounters.create(Object.keys(worker.counters()));
worker.shm = counters;
parentPort!.postMessage({ type: 'ready', counters: counters.share(), tid });
worker.run();
remote.flush();
trace?.flush();
parentPort!.postMessage({
  type: 'done',
  counters: worker.counters(),
  queued: { tap_ring: recv.queued(), vhost_rx_held: net?.rxHeld ?? 0, ...(rx.backlog ? { host_backlog: rx.backlog.count() } : {}) },
  broken: net?.broken?.message,
});

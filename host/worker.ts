// The host worker's entry: pktgen, the NIC and its XDP program, the bridge and the tap's producer
// side, on one thread as on one host CPU. Thin: HostNet and HostLoop do the work.
import { parentPort, workerData } from 'node:worker_threads';
import {
  FramePool, PagePool, PtrRing, SockWait, SoftnetBacklog, TunXmit,
  type EngineName, type SharedFramePool, type SharedPtrRing, type SharedSockWait, type SharedHostBacklog,
} from '../tun/index.ts';
import { FrameCapture, ShmCounters, threadSelfId, type SharedFrameCapture } from '../virtio/index.ts';
import { TracePipe, type TraceSetup } from '../virtio/trace-pipe.ts';
import { HostLoop } from './host-loop.ts';
import { HostNet, readPcapFile, type HostNetCase, type HostNetSpec, type PktgenOptions } from './net/index.ts';
import type { HostTcAttachments, HostTcSpec } from './net/tc-attach.ts';

export interface HostWorkerData {
  ctl: Int32Array;
  pool: SharedFramePool;
  ring: SharedPtrRing;
  wait: SharedSockWait;
  case: HostNetCase;
  /** The NIC's XDP program (redirect.o in Case 1), or none. */
  nicProgram?: string;
  engine?: EngineName;
  pktgen?: Omit<PktgenOptions, 'clock' | 'replay'>;
  /** Replay this pcap file instead of generating UDP frames. */
  replayPcap?: string;
  /** Capture frames as the NIC receives them (--pcap-at nic). */
  capture?: SharedFrameCapture;
  /** Capture frames at the stack's br0, both directions (--pcap-at host-stack; needs `net`). */
  stackCapture?: SharedFrameCapture;
  /** Forward the NIC program's bpf_trace_printk lines (--trace). */
  trace?: TraceSetup;
  /** Whether pktgen's wire carries traffic (default true); false for a stack-only run. */
  wire?: boolean;
  /**
   * The backlog vhost fills with what the guest sends, and the wake-up it rings (the same two
   * descriptors go to the vhost worker's `backlog`): the guest's frames reach the bridge.
   */
  backlog?: SharedHostBacklog;
  /** A host stack on the bridge's br0 port (Case 2): a Net, and the setup module's application. */
  net?: HostNetSpec;
  /**
   * tc filters on the host's devices, attached in order before traffic (host/net/tc-attach.ts):
   * the NIC ('nic'), the tap ('tap'; as bridge ports 'br-port-nic', 'br-port-tap'), br0 (net's,
   * with `net`). `engine` defaults to the worker's. The 'ready' and 'done' messages carry `tc`
   * (HostTcReport: hooks and counters, the objects' maps as SharedMapState).
   */
  tc?: HostTcSpec[];
}

const d = workerData as HostWorkerData;
const tid = threadSelfId();
const trace = TracePipe.forWorker(d.trace, 'host', tid, (m) => parentPort!.postMessage(m));
const pool = new PagePool(FramePool.open(d.pool));
const tap = new TunXmit({ ring: PtrRing.open(d.ring), wait: new SockWait(d.wait), pool });
const replay = d.replayPcap ? readPcapFile(d.replayPcap).packets : undefined;
const backlogWait = d.backlog ? new SockWait(d.backlog.wait) : undefined;
// The host's stack (loaded only when the run gives it one).
const stack = d.net ? new (await import('./net/host-stack.ts')).HostStack(d.net.seed !== undefined ? { seed: d.net.seed } : {}) : undefined;
const net = new HostNet({
  case: d.case,
  pool,
  tap,
  nicProgram: d.nicProgram ? HostNet.redirectProgram(d.nicProgram, undefined, { engine: d.engine, ...(trace ? { trace: trace.sink } : {}) }) : undefined,
  pktgen: { ...d.pktgen, ...(replay ? { replay } : {}) },
  wire: d.wire,
  backlog: d.backlog ? SoftnetBacklog.open(d.backlog.ring) : undefined,
  stack: stack?.net,
  bridgeMac: d.net?.mac,
});
if (stack && d.net) await stack.setup(net.hostPort!.dev, d.net);
if (d.stackCapture !== undefined) {
  if (stack === undefined) throw new Error('host worker: stackCapture without a stack (net)');
  stack.addCaptureTap(new FrameCapture(d.stackCapture).capture);
}
if (d.capture) net.nic.capture = new FrameCapture(d.capture).capture;
// tc (and net's cls_bpf it builds on) is loaded only for a run that attaches programs.
let tc: HostTcAttachments | undefined;
if (d.tc !== undefined && d.tc.length > 0) {
  const [{ HostTc }, { HostTcAttachments }] = await Promise.all([import('./net/tc.ts'), import('./net/tc-attach.ts')]);
  const hostTc = new HostTc(pool);
  net.enableTc(hostTc);
  tc = new HostTcAttachments(hostTc, d.engine);
  for (const spec of d.tc) tc.attach(spec);
}
const loop = new HostLoop(net, d.ctl, undefined, { stack, wait: backlogWait });
const counters = ShmCounters.create(Object.keys(loop.counters()));
loop.shm = counters;
parentPort!.postMessage({ type: 'ready', counters: counters.share(), tid, ...(tc ? { tc: tc.report() } : {}) });
loop.run();
tap.ring.publishProduced();
trace?.flush();
parentPort!.postMessage({ type: 'done', counters: loop.counters(), conservation: net.conservation(), ...(tc ? { tc: tc.report() } : {}) });

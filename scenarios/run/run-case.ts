// One scenario run: the four workers of architecture.md wired over shared memory, pktgen started
// after a start line, a warm-up, a measured window, then an orderly stop (producers first, so
// every queue is read after whoever fills it has stopped) and the accounting. The main thread
// only starts, watches and stops: it sleeps in its event loop while packets flow.
import { MessageChannel } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { dumpMap, openSharedMap, type EngineName, type MapEntry, type SharedMapState } from '../../bpf-vm/index.ts';
import { FramePool, PtrRing, SockWait } from '../../tun/index.ts';
import { Doorbell, FrameCapture, GuestMemory, ShmCounters, createMmioTrap, sharedCells } from '../../virtio/index.ts';
import { writeCapture } from './capture.ts';
import { GUEST_STAT_NAMES } from '../../guest/virtio-net/index.ts';
import { account, type Accounting } from './accounting.ts';
import { benchObject, resolveProgram, RunError, type ResolvedProgram } from './programs.ts';
import { checkLimit, checkTraffic } from './limits.ts';
import { checkOutputPath } from './output-path.ts';
import { checkReplay } from './replay.ts';
import { formatTraceLine } from './trace-lines.ts';
import { TRACE_LINES_PER_SEC, type TraceSetup } from '../../virtio/trace-pipe.ts';
import { spawnWorkerAt } from './spawn.ts';
import { WorkerSet } from './worker-set.ts';
import { explain, type RunExplain } from './explain.ts';
import { readTasks, threadUse } from './schedstat.ts';
import { machineUse, readCpuTimes } from './proc-stat.ts';
import { cpuProbeMs } from './cpu-probe.ts';

export type RunMode = 'native' | 'offload';

export interface RunCaseOptions {
  case: 1 | 2;
  prog: string;
  /** The program in `prog`'s object, by function or section name (default: the object's first). */
  section?: string;
  mode: RunMode;
  /** Measured window, seconds. */
  duration: number;
  /** Seconds of traffic before the window opens (default 0.5). */
  warmup?: number;
  vhostPollUs?: number;
  engine?: EngineName;
  /** pktgen's cap in packets per second (e.g. 14.88e6 for 10G at 64 bytes); uncapped by default. */
  ratePps?: number;
  pktSize?: number;
  flows?: number;
  /** pktgen's total packets (fixed traffic: the host stops sending after that many); unbounded by default. */
  count?: number;
  replayPcap?: string;
  /** Rx/tx queue size (default 256, QEMU's). */
  queueSize?: number;
  /** Write the first `count` frames seen at `at` to a pcap file. */
  pcap?: { file: string; at: CapturePoint; count?: number };
  /**
   * bpf_trace_printk output of the programs in the workers (the guest's native program, the tap's
   * programs in vhost, the NIC's in the host), one trace_pipe-like line at a time; none without it.
   */
  trace?: (line: string) => void;
  /** Trace lines each worker forwards per second at most (default TRACE_LINES_PER_SEC); the rest are counted. */
  traceLinesPerSec?: number;
}

export type CapturePoint = 'nic' | 'tap' | 'guest';

export interface RunResult {
  scenario: string;
  prog: string;
  /** The program picked in the object (--section), when one was named. */
  section?: string;
  mode: RunMode;
  /** Millions of packets per second where the guest's program acts (see `metric`). */
  mpps: number;
  /** The counter behind mpps and its increase over the window. */
  metric: string;
  packets: number;
  seconds: number;
  counters: Record<string, number>;
  window: Record<string, number>;
  accounting: Accounting;
  explain: RunExplain;
  /** The host's view of an offloaded program and its maps (bpftool-like), in offload mode. */
  offload?: unknown;
  /** The native program's maps as the guest sees them (name -> entries). */
  guestMaps?: Record<string, MapEntry[]>;
}

const ENTRY = {
  qemu: new URL('../../host/qemu/worker.ts', import.meta.url),
  vhost: new URL('../../vhost/worker.ts', import.meta.url),
  host: new URL('../../host/worker.ts', import.meta.url),
  guest: new URL('../../guest/worker.ts', import.meta.url),
};

/** Where the program's work is counted: xdp1's drops, xdp2's bounced frames dropped on the tap. */
export function metricFor(p: ResolvedProgram, mode: RunMode): string {
  if (p.bench === 'xdp2') return 'taprx_xdp_drop';
  if (p.bench === 'xdp1') return mode === 'native' ? 'guest_rx_xdp_drops' : 'tap_xdp_drop';
  return mode === 'native' ? 'guest_rx_xdp_packets' : 'tap_consumed';
}

const CAPTURE_POINTS: readonly CapturePoint[] = ['nic', 'tap', 'guest'];

/**
 * Everything about a run that can be wrong before it starts, checked before any worker exists
 * (RunError EINVAL or ENOENT): the case and mode, every number against its range, the program and
 * section, the capture to replay, and where the capture will be written.
 */
export function checkRunCase(o: RunCaseOptions): ResolvedProgram {
  if (o.case !== 1 && o.case !== 2) throw new RunError('EINVAL', `case ${String(o.case)}: 1 or 2`);
  if (o.mode !== 'native' && o.mode !== 'offload') throw new RunError('EINVAL', `--mode ${String(o.mode)}: native or offload`);
  checkTraffic(o);
  if (o.traceLinesPerSec !== undefined && !(Number.isInteger(o.traceLinesPerSec) && o.traceLinesPerSec >= 0)) {
    throw new RunError('EINVAL', `traceLinesPerSec ${o.traceLinesPerSec}: an integer >= 0`);
  }
  if (o.pcap !== undefined) {
    if (!CAPTURE_POINTS.includes(o.pcap.at)) throw new RunError('EINVAL', `--pcap-at ${String(o.pcap.at)}: nic, tap or guest`);
    checkLimit('pcapCount', o.pcap.count);
    checkOutputPath(o.pcap.file, '--pcap');
  }
  if (o.replayPcap !== undefined) checkReplay(o.replayPcap);
  return resolveProgram(o.prog, o.section);
}

export async function runCase(o: RunCaseOptions): Promise<RunResult> {
  const prog = checkRunCase(o);
  const warmup = o.warmup ?? 0.5;
  // Before any worker exists: how fast the machine is right now.
  const probeMs = cpuProbeMs();

  const mem = GuestMemory.create(32 << 20);
  const wait = SockWait.create();
  const vhostBell = new Doorbell({ cells: wait.cells, index: wait.wakeIndex });
  const irq = Doorbell.create();
  const qemuKick = Doorbell.create();
  const trap = createMmioTrap(qemuKick.share());
  const pool = FramePool.create({ remotes: 1 });
  const ring = PtrRing.create();
  const ctl = { host: sharedCells(2), vhost: sharedCells(2), qemu: sharedCells(1), guest: sharedCells(1) };
  const { port1, port2 } = new MessageChannel();
  const cap = o.pcap ? FrameCapture.create(o.pcap.count ?? 1000) : undefined;
  const capAt = (p: CapturePoint): { capture?: ReturnType<FrameCapture['share']> } => (cap && o.pcap?.at === p ? { capture: cap.share() } : {});
  const set = new WorkerSet();
  const live = new Map<string, ShmCounters>();
  // Trace lines are timed from here, as trace_pipe's from boot; only a tracing run gives workers a pipe.
  const traceSink = o.trace;
  const traceRate = o.traceLinesPerSec ?? TRACE_LINES_PER_SEC;
  const trace: { trace?: TraceSetup } = traceSink ? { trace: { t0: performance.timeOrigin + performance.now(), maxPerSec: traceRate } } : {};
  if (traceSink) set.onTrace = (m) => traceSink(formatTraceLine(m, traceRate));

  const stopAll = (): void => {
    for (const c of Object.values(ctl)) Atomics.store(c, 0, 1);
    vhostBell.ring(); irq.ring(); qemuKick.ring();
    Atomics.notify(ctl.host, 1);
  };
  try {
    set.add('qemu', spawnWorkerAt(ENTRY.qemu, {
      mem: mem.share(), trap, kick: qemuKick.share(), irq: irq.share(), ctl: ctl.qemu,
      vhostPort: port1, vhostWake: vhostBell.share(), vhostCtl: ctl.vhost,
      device: { queueSize: o.queueSize ?? 256 }, offload: {},
    }, [port1], 'qemu'));
    set.add('vhost', spawnWorkerAt(ENTRY.vhost, {
      mem: mem.share(), wait: wait.share(), ctl: ctl.vhost, port: port2, pool: pool.share(), ring: ring.share(),
      irq: irq.share(), pollUs: o.vhostPollUs ?? 0, engine: o.engine, rxProg: { object: benchObject('rx_drop') }, ...capAt('tap'), ...trace,
    }, [port2], 'vhost'));
    set.add('host', spawnWorkerAt(ENTRY.host, {
      ctl: ctl.host, pool: pool.share(), ring: ring.share(), wait: wait.share(),
      case: o.case === 1 ? 'xdp-redirect' : 'bridge',
      nicProgram: o.case === 1 ? benchObject('redirect') : undefined,
      engine: o.engine,
      pktgen: { size: o.pktSize, flows: o.flows, rate: o.ratePps ?? 0, count: o.count ?? 0 },
      replayPcap: o.replayPcap, ...capAt('nic'), ...trace,
    }, [], 'host'));
    for (const n of ['qemu', 'vhost', 'host']) {
      const c = await set.ready(n);
      if (c) live.set(n, c);
    }
    const guestCounters = ShmCounters.create(GUEST_STAT_NAMES);
    set.add('guest', spawnWorkerAt(ENTRY.guest, {
      mem: mem.share(), mmio: trap, doorbells: { irq: irq.share(), vhost: vhostBell.share(), qemu: qemuKick.share() },
      stop: ctl.guest, queueSize: o.queueSize, counters: guestCounters.share(),
      xdp: { object: prog.object, engine: o.engine, mode: o.mode, ...(prog.section !== undefined ? { program: prog.section } : {}) },
      ...capAt('guest'), ...trace,
    }, [], 'guest'));
    await set.ready('guest');
    // Native maps live in the guest's SharedArrayBuffers: still readable after the guest stopped.
    const guestMapStates = (set.readyMessage('guest')?.['maps'] ?? {}) as Record<string, SharedMapState>;
    // The guest's counters have no prefix of their own; they get one when merged.
    live.set('guest', guestCounters);

    Atomics.store(ctl.host, 1, 1);
    Atomics.notify(ctl.host, 1);
    await Promise.race([sleep(warmup * 1000), set.failed]);
    // Each worker's kernel task, for where the CPU went (the main thread's task id is the pid).
    const tids: Record<string, number | undefined> = {};
    for (const n of ['host', 'vhost', 'guest', 'qemu']) {
      const t = set.readyMessage(n)?.['tid'];
      tids[n] = typeof t === 'number' ? t : undefined;
    }
    tids['main'] = process.pid;
    const c0 = snapshot(live);
    const s0 = readTasks();
    const m0 = readCpuTimes();
    const t0 = performance.now();
    await Promise.race([sleep(o.duration * 1000), set.failed]);
    const c1 = snapshot(live);
    const s1 = readTasks();
    const m1 = readCpuTimes();
    const seconds = (performance.now() - t0) / 1000;

    // Producers first: each queue is read after whoever fills it has stopped.
    Atomics.store(ctl.host, 0, 1); Atomics.notify(ctl.host, 1);
    const hostDone = await set.done('host');
    Atomics.store(ctl.vhost, 0, 1); vhostBell.ring();
    const vhostDone = await set.done('vhost');
    Atomics.store(ctl.guest, 0, 1); irq.ring();
    const guestDone = await set.done('guest');
    Atomics.store(ctl.qemu, 0, 1); qemuKick.ring();
    const qemuDone = await set.done('qemu');

    const counters: Record<string, number> = {
      ...(hostDone['counters'] as Record<string, number>),
      ...(vhostDone['counters'] as Record<string, number>),
      ...prefix('guest_', guestDone['counters'] as Record<string, number>),
      ...(qemuDone['counters'] as Record<string, number>),
    };
    const window: Record<string, number> = {};
    for (const [k, v] of Object.entries(c1)) window[k] = v - (c0[k] ?? 0);
    const cons = hostDone['conservation'] as { terms: Record<string, number>; clones: number };
    const vq = vhostDone['queued'] as { tap_ring: number; vhost_rx_held: number };
    const gq = guestDone['queued'] as { rx_used_pending: number; tx_not_consumed: number };
    const accounting = account({
      counters,
      hostTerms: cons.terms,
      hostClones: cons.clones,
      queued: {
        host_nic_bulk_queue: 0, tap_ring: vq.tap_ring, vhost_rx_held: vq.vhost_rx_held,
        guest_rx_used_pending: gq.rx_used_pending, guest_tx_not_consumed: gq.tx_not_consumed,
      },
    });
    if (cap && o.pcap) writeCapture(o.pcap.file, cap.frames());
    const metric = metricFor(prog, o.mode);
    const packets = window[metric] ?? 0;
    const cpu = threadUse(tids, s0, s1, seconds);
    return {
      scenario: `case${o.case}`, prog: prog.label, ...(prog.section !== undefined ? { section: prog.section } : {}), mode: o.mode,
      mpps: packets / seconds / 1e6, metric, packets, seconds,
      counters, window, accounting,
      explain: { ...explain(window, seconds, packets), ...cpu, ...machineUse(m0, m1, seconds, cpu['cpu_all']), cpu_probe_ms: probeMs },
      offload: qemuDone['offload'],
      ...(o.mode === 'native' ? { guestMaps: dumpMaps(guestMapStates) } : {}),
    };
  } catch (e) {
    stopAll();
    throw set.error ?? e;
  } finally {
    stopAll();
    await set.terminateAll();
    port1.close(); port2.close();
  }
}

function dumpMaps(states: Record<string, SharedMapState>): Record<string, MapEntry[]> {
  const out: Record<string, MapEntry[]> = {};
  for (const [name, st] of Object.entries(states)) out[name] = dumpMap(openSharedMap(st));
  return out;
}

function prefix(p: string, r: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r)) out[p + k] = v;
  return out;
}

function snapshot(live: Map<string, ShmCounters>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, c] of live) Object.assign(out, name === 'guest' ? prefix('guest_', c.snapshot()) : c.snapshot());
  return out;
}

// One scenario run: the four workers of architecture.md wired over shared memory, pktgen started
// after a start line, a warm-up, a measured window, then an orderly stop (producers first, so
// every queue is read after whoever fills it has stopped) and the accounting. The main thread
// only starts, watches and stops: it sleeps in its event loop while packets flow.
import { setTimeout as sleep } from 'node:timers/promises';
import { dumpMap, openSharedMap, type EngineName, type MapEntry, type SharedMapState } from '../../bpf-vm/index.ts';
import { FrameCapture, type ShmCounters } from '../../virtio/index.ts';
import { writeCapture } from './capture.ts';
import { GUEST_STAT_NAMES } from '../../guest/virtio-net/index.ts';
import { account, type Accounting } from './accounting.ts';
import { benchObject, resolveProgram, RunError, type ResolvedProgram } from './programs.ts';
import { checkLimit, checkTraffic } from './limits.ts';
import { checkOutputPath } from './output-path.ts';
import { checkReplay } from './replay.ts';
import { formatTraceLine } from './trace-lines.ts';
import { TRACE_LINES_PER_SEC, type TraceSetup } from '../../virtio/trace-pipe.ts';
import {
  createMachineShm, closeMachineWorkers, machineCounters, machineTids, releaseMachineWorkers, snapshot, startMachineWorkers,
  stopMachineWorkers, stopMachineWorkersInOrder,
} from './machine-workers.ts';
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

  const shm = createMachineShm();
  const cap = o.pcap ? FrameCapture.create(o.pcap.count ?? 1000) : undefined;
  const capAt = (p: CapturePoint): { capture?: ReturnType<FrameCapture['share']> } => (cap && o.pcap?.at === p ? { capture: cap.share() } : {});
  const set = new WorkerSet();
  const live = new Map<string, ShmCounters>();
  // Trace lines are timed from here, as trace_pipe's from boot; only a tracing run gives workers a pipe.
  const traceSink = o.trace;
  const traceRate = o.traceLinesPerSec ?? TRACE_LINES_PER_SEC;
  const trace: { trace?: TraceSetup } = traceSink ? { trace: { t0: performance.timeOrigin + performance.now(), maxPerSec: traceRate } } : {};
  if (traceSink) set.onTrace = (m) => traceSink(formatTraceLine(m, traceRate));

  try {
    await startMachineWorkers(set, shm, {
      ...(o.queueSize !== undefined ? { queueSize: o.queueSize } : {}),
      ...(o.vhostPollUs !== undefined ? { vhostPollUs: o.vhostPollUs } : {}),
      qemu: { offload: {} },
      vhost: { engine: o.engine, rxProg: { object: benchObject('rx_drop') }, ...capAt('tap'), ...trace },
      host: {
        case: o.case === 1 ? 'xdp-redirect' : 'bridge',
        nicProgram: o.case === 1 ? benchObject('redirect') : undefined,
        engine: o.engine,
        pktgen: { size: o.pktSize, flows: o.flows, rate: o.ratePps ?? 0, count: o.count ?? 0 },
        replayPcap: o.replayPcap, ...capAt('nic'), ...trace,
      },
      guest: {
        xdp: { object: prog.object, engine: o.engine, mode: o.mode, ...(prog.section !== undefined ? { program: prog.section } : {}) },
        ...capAt('guest'), ...trace,
      },
      // The guest's counters have no prefix of their own; they get one when merged.
      guestCounterNames: GUEST_STAT_NAMES,
    }, live);
    // Native maps live in the guest's SharedArrayBuffers: still readable after the guest stopped.
    const guestMapStates = (set.readyMessage('guest')?.['maps'] ?? {}) as Record<string, SharedMapState>;

    releaseMachineWorkers(shm);
    await Promise.race([sleep(warmup * 1000), set.failed]);
    // Each worker's kernel task, for where the CPU went.
    const tids = machineTids(set);
    const c0 = snapshot(live);
    const s0 = readTasks();
    const m0 = readCpuTimes();
    const t0 = performance.now();
    await Promise.race([sleep(o.duration * 1000), set.failed]);
    const c1 = snapshot(live);
    const s1 = readTasks();
    const m1 = readCpuTimes();
    const seconds = (performance.now() - t0) / 1000;

    const done = await stopMachineWorkersInOrder(set, shm);
    const counters = machineCounters(done);
    const window: Record<string, number> = {};
    for (const [k, v] of Object.entries(c1)) window[k] = v - (c0[k] ?? 0);
    const cons = done.host['conservation'] as { terms: Record<string, number>; clones: number };
    const vq = done.vhost['queued'] as { tap_ring: number; vhost_rx_held: number };
    const gq = done.guest['queued'] as { rx_used_pending: number; tx_not_consumed: number };
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
      offload: done.qemu['offload'],
      ...(o.mode === 'native' ? { guestMaps: dumpMaps(guestMapStates) } : {}),
    };
  } catch (e) {
    stopMachineWorkers(shm);
    throw set.error ?? e;
  } finally {
    await closeMachineWorkers(set, shm);
  }
}

function dumpMaps(states: Record<string, SharedMapState>): Record<string, MapEntry[]> {
  const out: Record<string, MapEntry[]> = {};
  for (const [name, st] of Object.entries(states)) out[name] = dumpMap(openSharedMap(st));
  return out;
}

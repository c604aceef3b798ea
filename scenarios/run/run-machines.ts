// A run of the two machines with their network stacks (issue 15's scenarios): the four workers
// of architecture.md wired as Case 2 (NIC -> bridge -> tap -> vhost -> guest virtio_net), plus the
// host backlog that carries what the guest transmits back through vhost's handle_tx and the tap
// into the host's bridge, a Net on the guest (above eth0) and optionally one on the host (on
// br0), each set up by a module of scenarios/stack/. pktgen may flood from the wire (a template).
// Start line, warm-up, measured window, the stacks' reports (nstat, ss) asked for as the window
// closes, then the orderly stop (producers first) and the accounting of every frame both ways.
import { setTimeout as sleep } from 'node:timers/promises';
import { wakeHostBacklog } from '../../tun/index.ts';
import type { ShmCounters } from '../../virtio/index.ts';
import { GUEST_STAT_NAMES } from '../../guest/virtio-net/index.ts';
import type { PktgenTemplateSpec } from '../../host/net/pktgen-templates.ts';
import { moduleHref } from './spawn.ts';
import {
  createMachineShm, closeMachineWorkers, machineCounters, machineTids, releaseMachineWorkers, snapshot, startMachineWorkers,
  stopMachineWorkers, stopMachineWorkersInOrder,
} from './machine-workers.ts';
import { WorkerSet } from './worker-set.ts';
import { explain, type RunExplain } from './explain.ts';
import { readTasks, threadUse } from './schedstat.ts';
import { machineUse, readCpuTimes } from './proc-stat.ts';
import { cpuProbeMs } from './cpu-probe.ts';
import { accountMachines, type Accounting } from './accounting-net.ts';
import { APP_COUNTER_NAMES, REPORT, type StackReport, type StackSetupData } from '../stack/setup-data.ts';

const SETUP = {
  guest: new URL('../stack/guest-setup.ts', import.meta.url),
  host: new URL('../stack/host-setup.ts', import.meta.url),
};

/** The guest stack's counters the runner reads live (GuestStack.counters' names). */
const GUEST_STACK_NAMES = ['stack_rx_packets', 'stack_tx_packets', 'stack_tx_dropped', 'stack_qdisc_qlen', 'stack_rx_nohandler', 'stack_skb_drop_total'];

export interface MachinesRunOptions {
  duration: number;
  warmup: number;
  queueSize?: number;
  vhostPollUs?: number;
  /** pktgen floods the wire with this template; none: the wire is silent. */
  template?: PktgenTemplateSpec;
  /** pktgen's rate, packets per second (PktgenOptions.rate); 0 or absent: as fast as the host loop polls. */
  pktgenRate?: number;
  /** The guest's stack (always) and the host's (when given). */
  guest: Omit<StackSetupData, 'report'>;
  host?: Omit<StackSetupData, 'report'>;
  seed?: number;
  /** Extra worker data per worker (the captures: scenarios/run/net-capture.ts). */
  workerData?: { host?: Record<string, unknown>; guest?: Record<string, unknown>; vhost?: Record<string, unknown>; qemu?: Record<string, unknown> };
}

export interface MachinesRun {
  seconds: number;
  /** Every worker's final counters (the guest's prefixed guest_). */
  counters: Record<string, number>;
  /** Live counters' increase over the measured window. */
  window: Record<string, number>;
  accounting: Accounting;
  explain: RunExplain;
  /** The stacks' reports as the window closed. */
  stacks: { guest?: StackReport; host?: StackReport };
  /** The guest worker's ready message (its native XDP maps, an offload refusal). */
  guestReady: Record<string, unknown> | undefined;
  /** The host worker's tc report (HostTcReport), when the host's devices had programs. */
  hostTc: unknown;
}

export async function runMachines(o: MachinesRunOptions): Promise<MachinesRun> {
  const probeMs = cpuProbeMs();
  const shm = createMachineShm({ backlog: true });
  const bl = shm.backlog!;
  const report = { guest: new Int32Array(new SharedArrayBuffer(4)), host: new Int32Array(new SharedArrayBuffer(4)) };
  const appLive = {
    guest: new Float64Array(new SharedArrayBuffer(8 * APP_COUNTER_NAMES.length)),
    host: new Float64Array(new SharedArrayBuffer(8 * APP_COUNTER_NAMES.length)),
  };
  // The applications' own counters, as each machine's poll last wrote them.
  const appSnapshot = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const m of o.host !== undefined ? (['guest', 'host'] as const) : (['guest'] as const)) {
      for (let i = 0; i < APP_COUNTER_NAMES.length; i++) out[`${m}_${APP_COUNTER_NAMES[i]!}`] = appLive[m][i]!;
    }
    return out;
  };
  const set = new WorkerSet();
  const live = new Map<string, ShmCounters>();
  const stacks: { guest?: StackReport; host?: StackReport } = {};
  set.onOther = (_name, m) => {
    if (m['type'] !== 'stack-report') return;
    const r = m as unknown as StackReport;
    stacks[r.machine] = r;
  };
  try {
    await startMachineWorkers(set, shm, {
      ...(o.queueSize !== undefined ? { queueSize: o.queueSize } : {}),
      ...(o.vhostPollUs !== undefined ? { vhostPollUs: o.vhostPollUs } : {}),
      ...(o.workerData?.vhost !== undefined ? { vhost: o.workerData.vhost } : {}),
      ...(o.workerData?.qemu !== undefined ? { qemu: o.workerData.qemu } : {}),
      host: {
        ...o.workerData?.host,
        case: 'bridge', wire: o.template !== undefined,
        pktgen: o.template !== undefined ? { template: o.template, ...(o.pktgenRate !== undefined ? { rate: o.pktgenRate } : {}) } : {},
        ...(o.host !== undefined ? { net: { seed: (o.seed ?? 1) + 1, setup: moduleHref(SETUP.host), setupData: { ...o.host, report: report.host, live: appLive.host } } } : {}),
      },
      guest: { net: { seed: o.seed ?? 1, setup: moduleHref(SETUP.guest), setupData: { ...o.guest, report: report.guest, live: appLive.guest } }, ...o.workerData?.guest },
      guestCounterNames: [...GUEST_STAT_NAMES, ...GUEST_STACK_NAMES, ...APP_COUNTER_NAMES],
    }, live);

    releaseMachineWorkers(shm);
    await Promise.race([sleep(o.warmup * 1000), set.failed]);
    const tids = machineTids(set);
    const guestReady = set.readyMessage('guest');
    const c0 = { ...snapshot(live), ...appSnapshot() };
    const s0 = readTasks();
    const m0 = readCpuTimes();
    const t0 = performance.now();
    await Promise.race([sleep(o.duration * 1000), set.failed]);
    const c1 = { ...snapshot(live), ...appSnapshot() };
    const s1 = readTasks();
    const m1 = readCpuTimes();
    const seconds = (performance.now() - t0) / 1000;

    // The stacks' reports as the window closes: each machine posts one from its next loop round.
    const asked: ('guest' | 'host')[] = o.host !== undefined ? ['guest', 'host'] : ['guest'];
    for (const m of asked) Atomics.store(report[m], 0, REPORT.ASK);
    wakeHostBacklog(bl); shm.irq.ring();
    // Generous: a guest starved of CPU on a loaded machine may take seconds to reach its next round; the wait ends when the reports come.
    const until = performance.now() + 10_000;
    while (asked.some((m) => stacks[m] === undefined) && performance.now() < until) await Promise.race([sleep(5), set.failed]);

    const done = await stopMachineWorkersInOrder(set, shm);
    const counters = machineCounters(done);
    const window: Record<string, number> = {};
    for (const [k, v] of Object.entries(c1)) window[k] = v - (c0[k] ?? 0);
    const cons = done.host['conservation'] as { terms: Record<string, number>; clones: number; from_tap?: number; from_stack?: number };
    const vq = done.vhost['queued'] as { tap_ring: number; vhost_rx_held: number; host_backlog?: number };
    const gq = done.guest['queued'] as { rx_used_pending: number; tx_not_consumed: number };
    const accounting = accountMachines({
      counters, hostTerms: cons.terms, hostClones: cons.clones, hostFromStack: cons.from_stack ?? 0,
      queued: {
        tap_ring: vq.tap_ring, vhost_rx_held: vq.vhost_rx_held, host_backlog: vq.host_backlog ?? 0,
        guest_rx_used_pending: gq.rx_used_pending, guest_tx_not_consumed: gq.tx_not_consumed,
      },
    });
    const cpu = threadUse(tids, s0, s1, seconds);
    return {
      seconds, counters, window, accounting, stacks, guestReady, hostTc: done.host['tc'],
      explain: { ...explain(window, seconds, 0), ...cpu, ...machineUse(m0, m1, seconds, cpu['cpu_all']), cpu_probe_ms: probeMs },
    };
  } catch (e) {
    stopMachineWorkers(shm);
    throw set.error ?? e;
  } finally {
    await closeMachineWorkers(set, shm);
  }
}

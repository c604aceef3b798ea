// A run of the two machines with their network stacks (issue 15's scenarios): the four workers
// of architecture.md wired as Case 2 (NIC -> bridge -> tap -> vhost -> guest virtio_net), plus the
// host backlog that carries what the guest transmits back through vhost's handle_tx and the tap
// into the host's bridge, a Net on the guest (above eth0) and optionally one on the host (on
// br0), each set up by a module of scenarios/stack/. pktgen may flood from the wire (a template).
// Start line, warm-up, measured window, the stacks' reports (nstat, ss) asked for as the window
// closes, then the orderly stop (producers first) and the accounting of every frame both ways.
import { MessageChannel } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHostBacklog, FramePool, PtrRing, SockWait, wakeHostBacklog } from '../../tun/index.ts';
import { Doorbell, GuestMemory, ShmCounters, createMmioTrap, sharedCells } from '../../virtio/index.ts';
import { GUEST_STAT_NAMES } from '../../guest/virtio-net/index.ts';
import type { PktgenTemplateSpec } from '../../host/net/pktgen-templates.ts';
import { spawnWorkerAt, moduleHref } from './spawn.ts';
import { WorkerSet } from './worker-set.ts';
import { explain, type RunExplain } from './explain.ts';
import { readTasks, threadUse } from './schedstat.ts';
import { machineUse, readCpuTimes } from './proc-stat.ts';
import { cpuProbeMs } from './cpu-probe.ts';
import { accountMachines, type Accounting } from './accounting-net.ts';
import { APP_COUNTER_NAMES, REPORT, type StackReport, type StackSetupData } from '../stack/setup-data.ts';

const ENTRY = {
  qemu: new URL('../../host/qemu/worker.ts', import.meta.url),
  vhost: new URL('../../vhost/worker.ts', import.meta.url),
  host: new URL('../../host/worker.ts', import.meta.url),
  guest: new URL('../../guest/worker.ts', import.meta.url),
};
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
  /** The guest's stack (always) and the host's (when given). */
  guest: Omit<StackSetupData, 'report'>;
  host?: Omit<StackSetupData, 'report'>;
  seed?: number;
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
}

export async function runMachines(o: MachinesRunOptions): Promise<MachinesRun> {
  const probeMs = cpuProbeMs();
  const mem = GuestMemory.create(32 << 20);
  const wait = SockWait.create();
  const vhostBell = new Doorbell({ cells: wait.cells, index: wait.wakeIndex });
  const irq = Doorbell.create();
  const qemuKick = Doorbell.create();
  const trap = createMmioTrap(qemuKick.share());
  const pool = FramePool.create({ remotes: 1 });
  const ring = PtrRing.create();
  const bl = createHostBacklog();
  const ctl = { host: sharedCells(2), vhost: sharedCells(2), qemu: sharedCells(1), guest: sharedCells(1) };
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
  const { port1, port2 } = new MessageChannel();
  const set = new WorkerSet();
  const live = new Map<string, ShmCounters>();
  const stacks: { guest?: StackReport; host?: StackReport } = {};
  set.onOther = (_name, m) => {
    if (m['type'] !== 'stack-report') return;
    const r = m as unknown as StackReport;
    stacks[r.machine] = r;
  };
  const stopAll = (): void => {
    for (const c of Object.values(ctl)) Atomics.store(c, 0, 1);
    vhostBell.ring(); irq.ring(); qemuKick.ring();
    Atomics.notify(ctl.host, 1);
    wakeHostBacklog(bl);
  };
  try {
    set.add('qemu', spawnWorkerAt(ENTRY.qemu, {
      mem: mem.share(), trap, kick: qemuKick.share(), irq: irq.share(), ctl: ctl.qemu,
      vhostPort: port1, vhostWake: vhostBell.share(), vhostCtl: ctl.vhost, device: { queueSize: o.queueSize ?? 256 },
    }, [port1], 'qemu'));
    set.add('vhost', spawnWorkerAt(ENTRY.vhost, {
      mem: mem.share(), wait: wait.share(), ctl: ctl.vhost, port: port2, pool: pool.share(), ring: ring.share(),
      irq: irq.share(), pollUs: o.vhostPollUs ?? 0, backlog: bl,
    }, [port2], 'vhost'));
    set.add('host', spawnWorkerAt(ENTRY.host, {
      ctl: ctl.host, pool: pool.share(), ring: ring.share(), wait: wait.share(), case: 'bridge',
      wire: o.template !== undefined, backlog: bl,
      pktgen: o.template !== undefined ? { template: o.template } : {},
      ...(o.host !== undefined ? { net: { seed: (o.seed ?? 1) + 1, setup: moduleHref(SETUP.host), setupData: { ...o.host, report: report.host, live: appLive.host } } } : {}),
    }, [], 'host'));
    for (const n of ['qemu', 'vhost', 'host']) {
      const c = await set.ready(n);
      if (c) live.set(n, c);
    }
    const guestCounters = ShmCounters.create([...GUEST_STAT_NAMES, ...GUEST_STACK_NAMES, ...APP_COUNTER_NAMES]);
    set.add('guest', spawnWorkerAt(ENTRY.guest, {
      mem: mem.share(), mmio: trap, doorbells: { irq: irq.share(), vhost: vhostBell.share(), qemu: qemuKick.share() },
      stop: ctl.guest, queueSize: o.queueSize, counters: guestCounters.share(),
      net: { seed: o.seed ?? 1, setup: moduleHref(SETUP.guest), setupData: { ...o.guest, report: report.guest, live: appLive.guest } },
    }, [], 'guest'));
    await set.ready('guest');
    live.set('guest', guestCounters);

    Atomics.store(ctl.host, 1, 1);
    Atomics.notify(ctl.host, 1);
    await Promise.race([sleep(o.warmup * 1000), set.failed]);
    const tids: Record<string, number | undefined> = {};
    for (const n of ['host', 'vhost', 'guest', 'qemu']) {
      const t = set.readyMessage(n)?.['tid'];
      tids[n] = typeof t === 'number' ? t : undefined;
    }
    tids['main'] = process.pid;
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
    wakeHostBacklog(bl); irq.ring();
    const until = performance.now() + 2000;
    while (asked.some((m) => stacks[m] === undefined) && performance.now() < until) await Promise.race([sleep(5), set.failed]);

    // Producers first: each queue is read after whoever fills it has stopped.
    Atomics.store(ctl.host, 0, 1); Atomics.notify(ctl.host, 1); wakeHostBacklog(bl);
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
    const cons = hostDone['conservation'] as { terms: Record<string, number>; clones: number; from_tap?: number; from_stack?: number };
    const vq = vhostDone['queued'] as { tap_ring: number; vhost_rx_held: number; host_backlog?: number };
    const gq = guestDone['queued'] as { rx_used_pending: number; tx_not_consumed: number };
    const accounting = accountMachines({
      counters, hostTerms: cons.terms, hostClones: cons.clones, hostFromStack: cons.from_stack ?? 0,
      queued: {
        tap_ring: vq.tap_ring, vhost_rx_held: vq.vhost_rx_held, host_backlog: vq.host_backlog ?? 0,
        guest_rx_used_pending: gq.rx_used_pending, guest_tx_not_consumed: gq.tx_not_consumed,
      },
    });
    const cpu = threadUse(tids, s0, s1, seconds);
    return {
      seconds, counters, window, accounting, stacks,
      explain: { ...explain(window, seconds, 0), ...cpu, ...machineUse(m0, m1, seconds, cpu['cpu_all']), cpu_probe_ms: probeMs },
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

// The four workers of architecture.md and the shared memory that joins them, as every runner
// starts them (runCase for the XDP cases, runMachines for the stacks, the cross-worker tests):
// guest memory, the doorbells, the MMIO trap, the frame pool and tap ring, the stop cells and,
// when asked, the host backlog that carries the guest's transmits into the host. Each runner adds
// its own fields to each worker's data; the start order (qemu, vhost, host, then the guest once
// the others are ready) and the stop order (producers first, so every queue is read after whoever
// fills it has stopped) are the same for all.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { createHostBacklog, FramePool, PtrRing, SockWait, wakeHostBacklog, type SharedHostBacklog } from '../../tun/index.ts';
import { Doorbell, GuestMemory, ShmCounters, createMmioTrap, sharedCells } from '../../virtio/index.ts';
import { spawnWorkerAt } from './spawn.ts';
import type { WorkerSet } from './worker-set.ts';

export const WORKER_ENTRY = {
  qemu: new URL('../../host/qemu/worker.ts', import.meta.url),
  vhost: new URL('../../vhost/worker.ts', import.meta.url),
  host: new URL('../../host/worker.ts', import.meta.url),
  guest: new URL('../../guest/worker.ts', import.meta.url),
};

export type MachineWorker = 'qemu' | 'vhost' | 'host' | 'guest';

/** The shared memory and wake-ups of one run. */
export interface MachineShm {
  mem: GuestMemory;
  wait: SockWait;
  vhostBell: Doorbell;
  irq: Doorbell;
  qemuKick: Doorbell;
  trap: ReturnType<typeof createMmioTrap>;
  pool: FramePool;
  ring: PtrRing;
  /** Stop cells: [0] stop; the host's and vhost's [1] the start line. */
  ctl: { host: Int32Array; vhost: Int32Array; qemu: Int32Array; guest: Int32Array };
  /** The host backlog (guest -> vhost handle_tx -> tap -> bridge), when the run has one. */
  backlog: SharedHostBacklog | undefined;
  port1: MessagePort;
  port2: MessagePort;
}

export interface MachineShmOptions {
  /** A host backlog (the guest's transmits into the host's bridge). */
  backlog?: boolean;
  /** Its slots (default BACKLOG_SLOTS). */
  backlogSlots?: number;
  /** The tap's ptr_ring (default TUN_RING_SIZE). */
  tapRing?: number;
}

export function createMachineShm(o: MachineShmOptions = {}): MachineShm {
  const wait = SockWait.create();
  const qemuKick = Doorbell.create();
  const { port1, port2 } = new MessageChannel();
  return {
    mem: GuestMemory.create(32 << 20),
    wait,
    vhostBell: new Doorbell({ cells: wait.cells, index: wait.wakeIndex }),
    irq: Doorbell.create(),
    qemuKick,
    trap: createMmioTrap(qemuKick.share()),
    pool: FramePool.create({ remotes: 1 }),
    ring: PtrRing.create(o.tapRing),
    ctl: { host: sharedCells(2), vhost: sharedCells(2), qemu: sharedCells(1), guest: sharedCells(1) },
    backlog: o.backlog === true ? createHostBacklog(o.backlogSlots) : undefined,
    port1,
    port2,
  };
}

/** Tells every worker to stop and wakes each wherever it may sleep. */
export function stopMachineWorkers(s: MachineShm): void {
  for (const c of Object.values(s.ctl)) Atomics.store(c, 0, 1);
  s.vhostBell.ring(); s.irq.ring(); s.qemuKick.ring();
  Atomics.notify(s.ctl.host, 1);
  if (s.backlog !== undefined) wakeHostBacklog(s.backlog);
}

/** What each runner adds to a worker's data (its programs, pktgen, the stack's setup, captures, trace). */
export interface MachineWorkerExtras {
  queueSize?: number;
  vhostPollUs?: number;
  qemu?: Record<string, unknown>;
  vhost?: Record<string, unknown>;
  /** Or, with guestFirst, made from the guest's ready message (its MAC, say). */
  host?: Record<string, unknown> | ((guestReady: Record<string, unknown> | undefined) => Record<string, unknown>);
  guest?: Record<string, unknown>;
  /** Start the guest before the host (the host's data then needs something only the guest knows). */
  guestFirst?: boolean;
  /** The guest's live counters' names (the guest has no counters of its own until it is given these). */
  guestCounterNames: readonly string[];
}

/**
 * Spawns qemu, vhost and host, waits for them, then the guest. Their live counters (the guest's
 * under 'guest', unprefixed) are in `live` once this returns.
 */
export async function startMachineWorkers(set: WorkerSet, s: MachineShm, o: MachineWorkerExtras, live: Map<string, ShmCounters>): Promise<void> {
  const bl = s.backlog !== undefined ? { backlog: s.backlog } : {};
  set.add('qemu', spawnWorkerAt(WORKER_ENTRY.qemu, {
    mem: s.mem.share(), trap: s.trap, kick: s.qemuKick.share(), irq: s.irq.share(), ctl: s.ctl.qemu,
    vhostPort: s.port1, vhostWake: s.vhostBell.share(), vhostCtl: s.ctl.vhost, device: { queueSize: o.queueSize ?? 256 }, ...o.qemu,
  }, [s.port1], 'qemu'));
  set.add('vhost', spawnWorkerAt(WORKER_ENTRY.vhost, {
    mem: s.mem.share(), wait: s.wait.share(), ctl: s.ctl.vhost, port: s.port2, pool: s.pool.share(), ring: s.ring.share(),
    irq: s.irq.share(), pollUs: o.vhostPollUs ?? 0, ...bl, ...o.vhost,
  }, [s.port2], 'vhost'));
  const spawnHost = (guestReady: Record<string, unknown> | undefined): void => {
    const extra = typeof o.host === 'function' ? o.host(guestReady) : o.host;
    set.add('host', spawnWorkerAt(WORKER_ENTRY.host, {
      ctl: s.ctl.host, pool: s.pool.share(), ring: s.ring.share(), wait: s.wait.share(), ...bl, ...extra,
    }, [], 'host'));
  };
  const guestCounters = ShmCounters.create([...o.guestCounterNames]);
  const spawnGuest = (): void => {
    set.add('guest', spawnWorkerAt(WORKER_ENTRY.guest, {
      mem: s.mem.share(), mmio: s.trap, doorbells: { irq: s.irq.share(), vhost: s.vhostBell.share(), qemu: s.qemuKick.share() },
      stop: s.ctl.guest, queueSize: o.queueSize, counters: guestCounters.share(), ...o.guest,
    }, [], 'guest'));
  };
  if (o.guestFirst === true) {
    for (const n of ['qemu', 'vhost']) {
      const c = await set.ready(n);
      if (c) live.set(n, c);
    }
    spawnGuest();
    await set.ready('guest');
    spawnHost(set.readyMessage('guest'));
    const c = await set.ready('host');
    if (c) live.set('host', c);
  } else {
    spawnHost(undefined);
    for (const n of ['qemu', 'vhost', 'host']) {
      const c = await set.ready(n);
      if (c) live.set(n, c);
    }
    spawnGuest();
    await set.ready('guest');
  }
  live.set('guest', guestCounters);
}

/** The start line: the host starts its traffic. */
export function releaseMachineWorkers(s: MachineShm): void {
  Atomics.store(s.ctl.host, 1, 1);
  Atomics.notify(s.ctl.host, 1);
}

/** Each worker's kernel task id (the main thread's is the pid), for where the CPU went. */
export function machineTids(set: WorkerSet): Record<string, number | undefined> {
  const tids: Record<string, number | undefined> = {};
  for (const n of ['host', 'vhost', 'guest', 'qemu']) {
    const t = set.readyMessage(n)?.['tid'];
    tids[n] = typeof t === 'number' ? t : undefined;
  }
  tids['main'] = process.pid;
  return tids;
}

/** Producers first: each queue is read after whoever fills it has stopped. Each worker's final message. */
export async function stopMachineWorkersInOrder(set: WorkerSet, s: MachineShm): Promise<Record<MachineWorker, Record<string, unknown>>> {
  Atomics.store(s.ctl.host, 0, 1); Atomics.notify(s.ctl.host, 1);
  if (s.backlog !== undefined) wakeHostBacklog(s.backlog);
  const host = await set.done('host');
  Atomics.store(s.ctl.vhost, 0, 1); s.vhostBell.ring();
  const vhost = await set.done('vhost');
  Atomics.store(s.ctl.guest, 0, 1); s.irq.ring();
  const guest = await set.done('guest');
  Atomics.store(s.ctl.qemu, 0, 1); s.qemuKick.ring();
  const qemu = await set.done('qemu');
  return { host, vhost, guest, qemu };
}

/** Every worker's final counters, the guest's prefixed guest_. */
export function machineCounters(done: Record<MachineWorker, Record<string, unknown>>): Record<string, number> {
  return {
    ...(done.host['counters'] as Record<string, number>),
    ...(done.vhost['counters'] as Record<string, number>),
    ...prefix('guest_', done.guest['counters'] as Record<string, number>),
    ...(done.qemu['counters'] as Record<string, number>),
  };
}

/** Closes the run: stop, terminate, close the vhost channel. */
export async function closeMachineWorkers(set: WorkerSet, s: MachineShm): Promise<void> {
  stopMachineWorkers(s);
  await set.terminateAll();
  s.port1.close(); s.port2.close();
}

export function prefix(p: string, r: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r)) out[p + k] = v;
  return out;
}

/** The live counters now, the guest's prefixed guest_. */
export function snapshot(live: Map<string, ShmCounters>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, c] of live) Object.assign(out, name === 'guest' ? prefix('guest_', c.snapshot()) : c.snapshot());
  return out;
}

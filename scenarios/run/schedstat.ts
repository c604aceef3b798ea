// Where the CPU went during a run, from the kernel's per-task scheduler statistics
// (/proc/<pid>/task/<tid>/schedstat: nanoseconds on a CPU, nanoseconds runnable but waiting on a
// run queue, time slices). On two cores the four workers compete for CPU: a cell can be held back
// by a thread that waits for a core, not by its own work, and only these figures show it.
// The runner samples every task of its process at the window's edges; the workers only report
// their task ids (virtio/thread-self.ts), so measuring costs them nothing.
import { readdirSync, readFileSync } from 'node:fs';

export interface Schedstat {
  /** Time on a CPU. */
  runNs: number;
  /** Time runnable, waiting for a CPU. */
  waitNs: number;
  slices: number;
}

/** Parses a schedstat line ("run wait slices"); undefined when it is not one. */
export function parseSchedstat(text: string): Schedstat | undefined {
  const f = text.trim().split(/\s+/);
  if (f.length < 3) return undefined;
  const [run, wait, slices] = f.map(Number) as [number, number, number];
  if (![run, wait, slices].every((x) => Number.isSafeInteger(x) && x >= 0)) return undefined;
  return { runNs: run, waitNs: wait, slices };
}

/** Every task of a process now (task id -> its statistics); empty without procfs. */
export function readTasks(pid: number = process.pid): Map<number, Schedstat> {
  const out = new Map<number, Schedstat>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    try {
      const s = parseSchedstat(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8'));
      if (s !== undefined) out.set(Number(t), s);
    } catch {
      // The task ended between the listing and the read.
    }
  }
  return out;
}

/**
 * Per named thread over a window: `cpu_<name>`, its share of one core, and `runq_wait_<name>`,
 * the share of the window it was runnable but had no core; then `cpu_all`, every task of the
 * process together (V8's compiler and GC threads included), in cores. Threads without figures
 * (no procfs, or a task id that did not survive the window) are left out.
 */
export function threadUse(
  named: Readonly<Record<string, number | undefined>>,
  before: ReadonlyMap<number, Schedstat>,
  after: ReadonlyMap<number, Schedstat>,
  seconds: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  if (!(seconds > 0) || after.size === 0) return out;
  const ns = seconds * 1e9;
  for (const [name, tid] of Object.entries(named)) {
    const a = tid === undefined ? undefined : before.get(tid);
    const b = tid === undefined ? undefined : after.get(tid);
    if (a === undefined || b === undefined) continue;
    out[`cpu_${name}`] = (b.runNs - a.runNs) / ns;
    // The kernel adds a wait to run_delay when it ends (sched_info_arrive), so a wait that began
    // before the window and ended inside it counts whole: on a crowded machine the delta can
    // exceed the window. The share of the window spent waiting is at most all of it.
    out[`runq_wait_${name}`] = Math.min(1, (b.waitNs - a.waitNs) / ns);
  }
  let all = 0;
  // A task born during the window counts from zero; one that ended is gone from `after`.
  for (const [tid, b] of after) all += b.runNs - (before.get(tid)?.runNs ?? 0);
  out['cpu_all'] = all / ns;
  return out;
}

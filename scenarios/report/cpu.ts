// Where the CPU went in a run (scenarios/run/schedstat.ts, proc-stat.ts, the CPU probes of
// virtio/cpu-probe.ts): each worker thread's busy share of one core and its wait for a core, the
// whole process, the rest of the machine, steal time, and how fast each thread's CPU ran. On two
// shared cores these say which cells the machine, not the mechanism, held back.
import { formatPct } from './fmt.ts';
import type { Cell, Explain } from './types.ts';

type CellExplain = Pick<Cell, 'case' | 'prog' | 'mode' | 'explain'>;

/** Keys for the machine as a whole, not for one thread. */
const MACHINE_KEYS: readonly string[] = ['cpu_all', 'cpu_other', 'cpu_steal'];
/** The main thread's probe, timed before the run; it leads the probe columns. */
const MAIN_PROBE_KEY = 'cpu_probe_ms';

/** Keys of the CPU accounting (schedstat, /proc/stat, the CPU probes): reports show them apart from the counters. */
export function isThreadKey(key: string): boolean {
  return key.startsWith('cpu_') || key.startsWith('runq_wait_') || key.startsWith('probe_us_');
}

/** The column group a CPU key belongs to in the reports. */
export function threadGroup(key: string): string {
  if (key.startsWith('runq_wait_')) return 'waiting for a core';
  if (key.startsWith('probe_us_') || key === MAIN_PROBE_KEY) return 'CPU probe';
  return 'on a core';
}

/** Consecutive keys of one group share a header cell (threadKeys keeps each group together): the groups and their spans. */
export function threadGroups(keys: readonly string[]): { name: string; span: number }[] {
  const groups: { name: string; span: number }[] = [];
  for (const k of keys) {
    const g = threadGroup(k);
    const last = groups[groups.length - 1];
    if (last !== undefined && last.name === g) last.span++;
    else groups.push({ name: g, span: 1 });
  }
  return groups;
}

/** The CPU keys the cells carry: busy shares by thread, the machine's, waits, then the probes (the main thread's first). */
export function threadKeys(explains: readonly Explain[]): string[] {
  const seen: string[] = [];
  for (const e of explains) for (const k of Object.keys(e)) if (isThreadKey(k) && !seen.includes(k)) seen.push(k);
  const rank = (k: string): number =>
    k.startsWith('probe_us_') ? 4 : k === MAIN_PROBE_KEY ? 3 : k.startsWith('runq_wait_') ? 2 : MACHINE_KEYS.includes(k) ? 1 : 0;
  return seen.map((k, i) => ({ k, i })).sort((a, b) => rank(a.k) - rank(b.k) || a.i - b.i).map((x) => x.k);
}

/** A thread counts as held back when it waited this share of the window for a core. */
export const RUNQ_WAIT_NOTABLE = 0.1;

/**
 * Cells whose window the machine shared: other processes or steal time took at least
 * RUNQ_WAIT_NOTABLE of a core. Their figures measure the machine's load as well as vxo.
 */
export function sharedMachine(cells: readonly CellExplain[]): string[] {
  const out: string[] = [];
  for (const c of cells) {
    const parts: string[] = [];
    const other = c.explain['cpu_other'];
    const steal = c.explain['cpu_steal'];
    if (other !== undefined && other >= RUNQ_WAIT_NOTABLE) parts.push(`other processes ${formatPct(other)}`);
    if (steal !== undefined && steal >= RUNQ_WAIT_NOTABLE) parts.push(`steal ${formatPct(steal)}`);
    if (parts.length > 0) out.push(`${c.case} ${c.prog} ${c.mode} (${parts.join(', ')})`);
  }
  return out;
}

/** Whether the machine was shared during the table, and in which cells ("1/xdp1/native"). */
export interface SharedMachineFlag {
  shared: boolean;
  cells: string[];
}

export function sharedMachineFlag(cells: readonly CellExplain[]): SharedMachineFlag {
  const names = cells.filter((c) => sharedMachine([c]).length > 0).map((c) => `${c.case}/${c.prog}/${c.mode}`);
  return { shared: names.length > 0, cells: names };
}

/**
 * The line that opens a report measured on a shared machine: its figures measure the other
 * load too, and a reader should know that before reading any of them. Undefined otherwise.
 */
export function sharedMachineBanner(cells: readonly CellExplain[]): string | undefined {
  const shared = sharedMachine(cells);
  if (shared.length === 0) return undefined;
  return `SHARED MACHINE: other processes or steal time took at least ${formatPct(RUNQ_WAIT_NOTABLE)} of a core in ${shared.length} of ${cells.length} cell${cells.length === 1 ? '' : 's'} (${shared.join('; ')}); their figures measure that load as well as vxo.`;
}

/**
 * "1 xdp2 native (vhost 38%, guest 16%)" for every cell where a thread waited for a core at least
 * RUNQ_WAIT_NOTABLE of its window: there the machine's cores, not that thread's work, set the pace.
 */
export function coreWaits(cells: readonly CellExplain[]): string[] {
  const out: string[] = [];
  for (const c of cells) {
    const waits = Object.entries(c.explain)
      .filter(([k, v]) => k.startsWith('runq_wait_') && v >= RUNQ_WAIT_NOTABLE)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k.slice('runq_wait_'.length)} ${formatPct(v)}`);
    if (waits.length > 0) out.push(`${c.case} ${c.prog} ${c.mode} (${waits.join(', ')})`);
  }
  return out;
}

/** "host 98% (waits 2%), vhost 58% (waits 39%), ..., all 196%": one run's CPU in a line; undefined without figures. */
export function threadSummary(e: Readonly<Record<string, number>>): string | undefined {
  const parts: string[] = [];
  for (const k of threadKeys([e as Explain])) {
    if (!k.startsWith('cpu_') || MACHINE_KEYS.includes(k) || k === MAIN_PROBE_KEY) continue;
    const name = k.slice('cpu_'.length);
    const wait = e[`runq_wait_${name}`];
    const probe = e[`probe_us_${name}`];
    const more = [
      ...(wait === undefined ? [] : [`waits ${formatPct(wait)}`]),
      ...(probe === undefined || !Number.isFinite(probe) ? [] : [`probe ${probe.toFixed(0)} us`]),
    ];
    parts.push(`${name} ${formatPct(e[k] ?? NaN)}${more.length > 0 ? ` (${more.join(', ')})` : ''}`);
  }
  if (parts.length === 0) return undefined;
  if (e['cpu_all'] !== undefined) parts.push(`all threads ${formatPct(e['cpu_all'])}`);
  if (e['cpu_other'] !== undefined) parts.push(`other processes ${formatPct(e['cpu_other'])}`);
  if (e['cpu_steal'] !== undefined) parts.push(`steal ${formatPct(e['cpu_steal'])}`);
  if (e['cpu_probe_ms'] !== undefined) parts.push(`CPU probe ${e['cpu_probe_ms'].toFixed(0)} ms`);
  return parts.join(', ');
}

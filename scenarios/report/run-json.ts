// The documented --json shape of `vxo run`: what the CLI prints and what the library's
// `runScenario` returns, so a script gets the same object either way.
import { toHex } from '../../bpf-vm/hex.ts';
import type { MapEntry } from '../../bpf-vm/index.ts';
import type { OffloadMapShow, OffloadShow } from '../../host/offload/show.ts';
import type { RunExplain } from '../run/explain.ts';
import type { RunResult } from '../run/run-case.ts';

/** A map entry as `vxo prog run --json` writes it: key and value as hex of the bytes in memory order. */
export interface MapEntryJson {
  key: string;
  value: string;
}

export type OffloadMapJson = Omit<OffloadMapShow, 'entries'> & { entries?: MapEntryJson[] };

/** The tap's offloaded program and the host's maps (bpftool prog show / map dump), as data. */
export interface OffloadJson {
  program: OffloadShow['program'] | null;
  maps: OffloadMapJson[];
  usage: OffloadShow['usage'];
}

export interface RunJson {
  scenario: string;
  prog: string;
  /** The program picked in the object (--section); absent when the object's first ran. */
  section?: string;
  mode: 'native' | 'offload';
  mpps: number;
  packets: number;
  seconds: number;
  metric: string;
  counters: Record<string, number>;
  window: Record<string, number>;
  accounting: {
    generated: number;
    accounted: number;
    balanced: boolean;
    dropped: Record<string, number>;
    delivered: Record<string, number>;
    queued: Record<string, number>;
  };
  explain: RunExplain;
  /** What the host's device held at the end (--show-offload; by default in offload mode). */
  offload?: OffloadJson;
}

export interface RunJsonOptions {
  /** Carry the host's view of the offload: default only in offload mode. */
  offload?: boolean;
}

function entries(es: readonly MapEntry[]): MapEntryJson[] {
  return es.map((e) => ({ key: toHex(e.key), value: toHex(e.value) }));
}

export function offloadJson(s: OffloadShow): OffloadJson {
  return {
    program: s.program ?? null,
    maps: s.maps.map(({ entries: es, ...m }) => ({ ...m, ...(es !== undefined ? { entries: entries(es) } : {}) })),
    usage: { ...s.usage },
  };
}

export function runJson(r: RunResult, opts: RunJsonOptions = {}): RunJson {
  const a = r.accounting;
  const withOffload = (opts.offload ?? r.mode === 'offload') && r.offload !== undefined;
  return {
    scenario: r.scenario, prog: r.prog, ...(r.section !== undefined ? { section: r.section } : {}), mode: r.mode,
    mpps: r.mpps, packets: r.packets, seconds: r.seconds, metric: r.metric,
    counters: r.counters, window: r.window,
    accounting: { generated: a.generated, accounted: a.accounted, balanced: a.balanced, dropped: a.dropped, delivered: a.delivered, queued: a.queued },
    explain: r.explain,
    ...(withOffload ? { offload: offloadJson(r.offload as OffloadShow) } : {}),
  };
}

// The documented --json shape of `vxo run`: what the CLI prints and what the library's
// `runScenario` returns, so a script gets the same object either way.
import type { RunExplain } from '../run/explain.ts';
import type { RunResult } from '../run/run-case.ts';

export interface RunJson {
  scenario: string;
  prog: string;
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
}

export function runJson(r: RunResult): RunJson {
  const a = r.accounting;
  return {
    scenario: r.scenario, prog: r.prog, mode: r.mode, mpps: r.mpps, packets: r.packets, seconds: r.seconds, metric: r.metric,
    counters: r.counters, window: r.window,
    accounting: { generated: a.generated, accounted: a.accounted, balanced: a.balanced, dropped: a.dropped, delivered: a.delivered, queued: a.queued },
    explain: r.explain,
  };
}

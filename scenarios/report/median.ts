// Summaries of repeated runs. A cell reports the median because one slow run (a noisy neighbour
// on a 2-core machine) should not move the headline number; min and max stay visible as spread.

import { ReportError } from './errors.ts';
import { paperFigure } from './paper.ts';
import type { CellKey } from './rows.ts';
import type { Cell, RunSample } from './types.ts';

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median: relative spread, NaN when the median is 0 or there are no samples. */
  spread: number;
  /** Samples that were finite numbers; NaN samples (a failed measurement) are left out. */
  n: number;
}

function finiteSorted(samples: readonly number[]): number[] {
  return samples.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
}

/** Median, min, max and relative spread of the finite samples; all NaN when there are none. */
export function summarize(samples: readonly number[]): Summary {
  const xs = finiteSorted(samples);
  const n = xs.length;
  if (n === 0) return { median: NaN, min: NaN, max: NaN, spread: NaN, n: 0 };
  const lo = xs[Math.floor((n - 1) / 2)]!;
  const hi = xs[Math.floor(n / 2)]!;
  const median = (lo + hi) / 2;
  const min = xs[0]!;
  const max = xs[n - 1]!;
  return { median, min, max, spread: median === 0 ? NaN : (max - min) / median, n };
}

export function median(samples: readonly number[]): number {
  return summarize(samples).median;
}

/**
 * Index of the run whose explanation stands for the cell: the run closest to the median Mpps,
 * the slower one on a tie (with an even count the median falls between two runs, and the
 * slower run is the conservative witness). Runs with a NaN rate are never chosen unless all are.
 */
export function medianRunIndex(runs: readonly Pick<RunSample, 'mpps'>[]): number {
  if (runs.length === 0) throw new ReportError('EMPTY', 'no runs to choose a median run from');
  const m = median(runs.map((r) => r.mpps));
  if (Number.isNaN(m)) return 0;
  let best = -1;
  for (let i = 0; i < runs.length; i++) {
    const x = runs[i]!.mpps;
    if (!Number.isFinite(x)) continue;
    if (best < 0) {
      best = i;
      continue;
    }
    const b = runs[best]!.mpps;
    const d = Math.abs(x - m);
    const db = Math.abs(b - m);
    if (d < db || (d === db && x < b)) best = i;
  }
  return best;
}

/** A table cell from its runs: median/min/max Mpps, the RFC's figure, the median run's explain. */
export function buildCell(key: CellKey, runs: readonly RunSample[]): Cell {
  if (runs.length === 0) {
    throw new ReportError('EMPTY', `cell case ${key.case} ${key.prog} ${key.mode} has no runs`);
  }
  const s = summarize(runs.map((r) => r.mpps));
  const witness = runs[medianRunIndex(runs)]!;
  return {
    case: key.case,
    prog: key.prog,
    mode: key.mode,
    mpps: s.median,
    min: s.min,
    max: s.max,
    runs: [...runs],
    paper_mpps: paperFigure(key.case, key.prog, key.mode),
    explain: { ...witness.explain },
  };
}


// The sk_lookup cover letters' flood tables, exactly as sockets.md §7 records them: RX pps (mean ±
// sample stddev, Δ against the table's own baseline row) for the three kernels of each table.
// v1 (6 May 2020, base 5.6.3) and the v5 re-run (18 Aug 2020, base 5.8-rc7, the static key);
// same receiver (24-core Skylake 1.9 GHz, ConnectX-4 25G, 4 RX queues, SYN cookies always on).
import type { PublishedFigure } from './types.ts';

export const SK_LOOKUP_FLOODS = ['tcp4', 'tcp6', 'udp4', 'udp6'] as const;
export type SkLookupFlood = (typeof SK_LOOKUP_FLOODS)[number];

/** The tables' three rows, as our columns: the kernel without the series, the hook with no program, the 200-entry LPM program. */
export const SK_LOOKUP_CONFIGS = ['no-hook', 'no-prog', 'lpm200'] as const;
export type SkLookupConfig = (typeof SK_LOOKUP_CONFIGS)[number];

export const SK_LOOKUP_SOURCES = { v1: 'v1 (5.6.3)', v5: 'v5 re-run (5.8-rc7)' } as const;

interface Row {
  value: number;
  spread: number;
  delta?: number;
}

/** [flood][config] = { v1, v5 }; spreads and deltas are fractions (0.005 for ±0.5%). */
const TABLE: Record<SkLookupFlood, Record<SkLookupConfig, { v1: Row; v5: Row }>> = {
  tcp4: {
    'no-hook': { v1: { value: 939_616, spread: 0.005 }, v5: { value: 899_875, spread: 0.010 } },
    'no-prog': { v1: { value: 929_275, spread: 0.012, delta: -0.011 }, v5: { value: 889_798, spread: 0.006, delta: -0.011 } },
    lpm200: { v1: { value: 918_582, spread: 0.004, delta: -0.022 }, v5: { value: 868_885, spread: 0.014, delta: -0.034 } },
  },
  tcp6: {
    'no-hook': { v1: { value: 875_838, spread: 0.005 }, v5: { value: 823_364, spread: 0.006 } },
    'no-prog': { v1: { value: 872_005, spread: 0.003, delta: -0.004 }, v5: { value: 832_667, spread: 0.007, delta: 0.011 } },
    lpm200: { v1: { value: 856_250, spread: 0.005, delta: -0.022 }, v5: { value: 820_505, spread: 0.004, delta: -0.003 } },
  },
  udp4: {
    'no-hook': { v1: { value: 2_738_662, spread: 0.015 }, v5: { value: 2_486_313, spread: 0.012 } },
    'no-prog': { v1: { value: 2_576_893, spread: 0.010, delta: -0.059 }, v5: { value: 2_486_932, spread: 0.004, delta: 0.0 } },
    lpm200: { v1: { value: 2_530_698, spread: 0.010, delta: -0.076 }, v5: { value: 2_340_425, spread: 0.016, delta: -0.059 } },
  },
  udp6: {
    'no-hook': { v1: { value: 2_867_885, spread: 0.014 }, v5: { value: 2_505_270, spread: 0.013 } },
    'no-prog': { v1: { value: 2_646_875, spread: 0.010, delta: -0.077 }, v5: { value: 2_522_286, spread: 0.013, delta: 0.007 } },
    lpm200: { v1: { value: 2_520_474, spread: 0.007, delta: -0.121 }, v5: { value: 2_418_737, spread: 0.013, delta: -0.035 } },
  },
};

/** Both tables' figures for one cell, v1 first. */
export function skLookupPublished(flood: SkLookupFlood, config: SkLookupConfig): PublishedFigure[] {
  const r = TABLE[flood][config];
  const fig = (source: string, x: Row): PublishedFigure => ({ source, value: x.value, spread: x.spread, ...(x.delta !== undefined ? { delta: x.delta } : {}) });
  return [fig(SK_LOOKUP_SOURCES.v1, r.v1), fig(SK_LOOKUP_SOURCES.v5, r.v5)];
}

/**
 * The lookup function's share of cpu-cycles (perf, %), baseline / no prog / with prog, as the
 * letters give them: what the program costs where the cycles are counted, which our per-packet
 * figures stand beside in the findings.
 */
export const SK_LOOKUP_CYCLES: Record<SkLookupFlood, { v1: readonly [number, number, number]; v5: readonly [number, number, number] }> = {
  tcp4: { v1: [1.12, 1.31, 3.05], v5: [1.31, 1.24, 2.59] },
  tcp6: { v1: [1.05, 1.68, 3.15], v5: [1.28, 1.22, 3.15] },
  udp4: { v1: [3.81, 5.22, 8.20], v5: [3.70, 4.13, 7.55] },
  udp6: { v1: [5.51, 6.51, 10.14], v5: [4.94, 4.32, 8.07] },
};

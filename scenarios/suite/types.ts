// The experiments suites' data model (`vxo table --suite ...`): each suite is a table of cells, each
// cell a configuration run `repeat` times through the four workers, its figure the median of the
// runs, the published figures of the document it reproduces beside it. The offload suite keeps
// its own TableReport (scenarios/report/types.ts); the others share this shape, so one set of
// renderers (terminal, JSON, HTML) serves them all and a saved JSON re-renders later.
import type { Machine } from '../report/types.ts';

export const SUITE_IDS = ['offload', 'sk-lookup', 'xdp-sk', 'syncookie', 'netperf'] as const;
export type SuiteId = (typeof SUITE_IDS)[number];

/** A figure from a source document, beside ours. */
export interface PublishedFigure {
  /** Which table: 'v1 (5.6.3)', 'v5 re-run (5.8-rc7)', 'RFC before', 'RFC after'. */
  readonly source: string;
  readonly value: number;
  /** Its spread as published (a fraction: 0.005 for ±0.5%), when it has one. */
  readonly spread?: number;
  /** Its delta against its own table's baseline row (a fraction), when the table gives one. */
  readonly delta?: number;
}

/** One run of one cell. */
export interface SuiteRun {
  /** The cell's metric over the measured window. */
  readonly value: number;
  readonly seconds: number;
  /** Conservation held (every packet/connection accounted for: passed, dropped by reason, queued). */
  readonly balanced: boolean;
  /** The window's counters (increases), by name. */
  readonly counters: Readonly<Record<string, number>>;
  /** Derived figures that explain the value (per-packet costs, drops by reason, CPU shares). NaN where they do not apply. */
  readonly explain: Readonly<Record<string, number>>;
  /** CPU use per thread over the window (host, vhost, guest ...), 0..1 of a core. */
  readonly cpu?: Readonly<Record<string, number>>;
  /** Facts about the cell this run found (an offload refused, the path taken); the runner gathers them into SuiteCell.notes, each once. */
  readonly notes?: readonly string[];
}

export interface SuiteCell {
  /** Stable id, `row/column` (e.g. 'udp4/lpm200', 'TCP_RR/after'). */
  readonly id: string;
  /** The table's row (a flood kind, a netperf test) and column (a configuration). */
  readonly row: string;
  readonly column: string;
  /** What the figure counts and its unit: 'rx pps' 'pps', 'throughput' 'Mbit/s', 'rate' 'trans/s', 'connections' 'conn/s'. */
  readonly metric: string;
  readonly unit: string;
  /** Median, min and max of the runs' values. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: readonly SuiteRun[];
  /** Against the row's baseline cell (median/baseline − 1); undefined for the baseline itself. */
  readonly delta?: number;
  readonly published: readonly PublishedFigure[];
  /** The median run's explain (a real run's, never an average). */
  readonly explain: Readonly<Record<string, number>>;
  /** Facts about this cell the table shows beside it (e.g. "offload refused: helper bpf_sk_lookup_udp#85 ..."). */
  readonly notes: readonly string[];
}

export interface SuiteReport {
  readonly suite: Exclude<SuiteId, 'offload'>;
  readonly title: string;
  /** The document reproduced (sockets.md section, the cover letter, the RFC). */
  readonly source: string;
  /** Row and column order as the published table has them; `baseline` is the column deltas refer to. */
  readonly rows: readonly string[];
  readonly columns: readonly string[];
  readonly baseline?: string;
  readonly cells: readonly SuiteCell[];
  /**
   * Where our table's shape differs from the published one (a delta's sign, a ratio), why, from
   * the counters; and the suite's other conclusions (e.g. what a bind()-based setup would need).
   */
  readonly findings: readonly string[];
  /** Every run balanced. */
  readonly balanced: boolean;
  readonly machine: Machine;
  readonly options: SuiteOptions;
  /** ISO 8601. */
  readonly started: string;
  readonly vxo_version: string;
}

export interface SuiteOptions {
  /** Measured window per run, seconds. */
  readonly duration: number;
  readonly warmup: number;
  readonly repeat: number;
  readonly engine: string;
  /** Only these cells (ids), when given. */
  readonly cells?: readonly string[];
}

/** One suite: its table's layout and how to run one cell once. */
export interface Suite {
  readonly id: Exclude<SuiteId, 'offload'>;
  readonly title: string;
  readonly source: string;
  readonly rows: readonly string[];
  readonly columns: readonly string[];
  readonly baseline?: string;
  /** The cells in table order (some suites leave some row x column pairs empty). */
  cells(): readonly SuiteCellSpec[];
  /** Runs the cell once with the options' window; throws RunError on a failed run. */
  run(cell: SuiteCellSpec, o: SuiteOptions): Promise<SuiteRun>;
  /** The findings, from the finished cells. */
  findings(cells: readonly SuiteCell[]): string[];
}

export interface SuiteCellSpec {
  readonly id: string;
  readonly row: string;
  readonly column: string;
  readonly metric: string;
  readonly unit: string;
  readonly published: readonly PublishedFigure[];
}

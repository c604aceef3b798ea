// `vxo table --suite ID`: any suite's cells, each run `repeat` times, sequentially (two runs at once
// would share the same two cores and measure each other), with progress on stderr as `vxo table`
// shows it. A cell's figure is the median of its runs, min and max its spread, its delta against
// the row's baseline cell; the report is balanced only when every run's ledger was. A run that
// throws is recorded as a failed run (its error in the cell's notes) and the suite goes on.
import { packageVersion } from '../package-root.ts';
import { createProgress, machineInfo, medianRunIndex, summarize } from '../report/index.ts';
import type { ProgressStream } from '../report/index.ts';
import { checkLimit } from '../run/limits.ts';
import { RunError } from '../run/run-error.ts';
import type { Suite, SuiteCell, SuiteCellSpec, SuiteOptions, SuiteReport, SuiteRun } from './types.ts';

/**
 * A run may carry facts about its cell (an offload refused, what ran instead) beside the contract's
 * fields; the runner gathers them into the cell's notes, each once.
 */
export type SuiteRunWithNotes = SuiteRun & { readonly notes?: readonly string[] };

export interface SuiteRunOptions extends SuiteOptions {
  /**
   * Progress on stderr: true, a bar on a terminal and plain lines elsewhere (the command); undefined,
   * the bar on a terminal only (the library's default); false, none.
   */
  readonly progress?: boolean;
  /** Where progress goes (default process.stderr; tests). */
  readonly stream?: ProgressStream;
}

/** The suite's cells the options pick, in table order; an unknown id is a usage error before any run. */
export function selectSuiteCells(suite: Suite, cells: readonly string[] | undefined): SuiteCellSpec[] {
  const all = [...suite.cells()];
  if (cells === undefined) return all;
  const want = cells.map((s) => s.trim()).filter(Boolean);
  const example = all[0]?.id ?? 'row/column';
  if (want.length === 0) throw new RunError('EINVAL', `--cells: names no cell of suite ${suite.id} (e.g. ${example})`);
  const unknown = want.filter((w) => !all.some((c) => c.id === w));
  if (unknown.length > 0) throw new RunError('EINVAL', `--cells: suite ${suite.id} has no cell ${unknown.join(', ')} (it has: ${all.map((c) => c.id).join(', ')})`);
  return all.filter((c) => want.includes(c.id));
}

/** Everything about the options that can be wrong, before the first run starts (RunError EINVAL). */
export function checkSuiteOptions(suite: Suite, o: SuiteOptions): SuiteCellSpec[] {
  checkLimit('repeat', o.repeat);
  checkLimit('duration', o.duration);
  checkLimit('warmup', o.warmup);
  if (o.engine !== 'jit' && o.engine !== 'interp') throw new RunError('EINVAL', `--engine ${o.engine}: jit or interp`);
  return selectSuiteCells(suite, o.cells);
}

/** A cell from its runs: median, min and max of the values, the median run's explain, the notes. */
export function buildSuiteCell(spec: SuiteCellSpec, runs: readonly SuiteRunWithNotes[]): Omit<SuiteCell, 'delta'> {
  if (runs.length === 0) throw new RunError('EINVAL', `cell ${spec.id}: no runs`);
  const s = summarize(runs.map((r) => r.value));
  const witness = runs[medianRunIndex(runs.map((r) => ({ mpps: r.value })))]!;
  const notes: string[] = [];
  for (const r of runs) for (const n of r.notes ?? []) if (!notes.includes(n)) notes.push(n);
  return {
    id: spec.id, row: spec.row, column: spec.column, metric: spec.metric, unit: spec.unit,
    median: s.median, min: s.min, max: s.max, runs: [...runs],
    published: [...spec.published], explain: { ...witness.explain }, notes,
  };
}

/** Each cell's delta against its row's baseline cell (median/baseline − 1); none for the baseline itself or without one. */
export function withDeltas(cells: readonly Omit<SuiteCell, 'delta'>[], baseline: string | undefined): SuiteCell[] {
  return cells.map((c) => {
    if (baseline === undefined || c.column === baseline) return c;
    const base = cells.find((b) => b.row === c.row && b.column === baseline);
    if (base === undefined || base.median === 0 || !Number.isFinite(base.median)) return c;
    return { ...c, delta: c.median / base.median - 1 };
  });
}

/** The note a failed run carries: the runner keeps the cell and goes on (scenarios/suite/types.ts has no error field). */
export const RUN_FAILED_NOTE = 'run failed: ';

/**
 * A run that threw, as a run: no figure (NaN, left out of the median), not balanced (its ledger was
 * never checked), its error in the notes with its code, so the report shows it beside the cells
 * that did run instead of losing them.
 */
export function failedRun(e: unknown): SuiteRunWithNotes {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  const what = `${err.name !== 'Error' ? `${err.name}: ` : ''}${err.message}${typeof code === 'string' ? ` (${code})` : ''}`;
  return { value: NaN, seconds: 0, balanced: false, counters: {}, explain: {}, notes: [`${RUN_FAILED_NOTE}${what}`] };
}

export function isFailedRun(r: SuiteRun): boolean {
  return r.notes?.some((n) => n.startsWith(RUN_FAILED_NOTE)) ?? false;
}

/** Cells with at least one failed run, in table order of the report's cells. */
export function failedCells(r: Pick<SuiteReport, 'cells'>): SuiteCell[] {
  return r.cells.filter((c) => c.runs.some(isFailedRun));
}

/** A finished cell's median run (the run its explain came from). */
export function witnessRun(cell: SuiteCell): SuiteRun | undefined {
  if (cell.runs.length === 0) return undefined;
  return cell.runs[medianRunIndex(cell.runs.map((r) => ({ mpps: r.value })))];
}

/** The suite's findings; a suite whose findings code throws on a failed cell's NaNs still gets its report. */
function suiteFindings(suite: Suite, cells: readonly SuiteCell[]): string[] {
  try {
    return suite.findings(cells);
  } catch (e) {
    return [`the findings could not be drawn: ${e instanceof Error ? e.message : String(e)}`];
  }
}

export async function runSuite(suite: Suite, o: SuiteRunOptions): Promise<SuiteReport> {
  const specs = checkSuiteOptions(suite, o);
  const started = new Date().toISOString();
  const stream = o.stream ?? process.stderr;
  const progress = createProgress({
    cells: specs.length, repeat: o.repeat, enabled: o.progress !== false, plain: o.progress === true,
    ...(o.stream !== undefined ? { stream: o.stream } : {}),
  });
  const options: SuiteOptions = {
    duration: o.duration, warmup: o.warmup, repeat: o.repeat, engine: o.engine, ...(o.cells !== undefined ? { cells: [...o.cells] } : {}),
  };
  const built: Omit<SuiteCell, 'delta'>[] = [];
  try {
    for (const [i, spec] of specs.entries()) {
      const runs: SuiteRunWithNotes[] = [];
      for (let r = 0; r < o.repeat; r++) {
        progress.start(i, r, `${suite.id} ${spec.id}`);
        let run: SuiteRunWithNotes;
        try {
          run = await suite.run(spec, options);
        } catch (e) {
          // One cell's failure (a worker dying, a socket call refused) must not lose the cells
          // already measured nor stop the ones after it: it is recorded and shown.
          run = failedRun(e);
          // Said as it happens, where the progress goes: the report comes only when every cell has run.
          if (o.progress === true || (o.progress === undefined && stream.isTTY === true)) {
            stream.write(`${stream.isTTY === true ? '\n' : ''}vxo table: ${suite.id} ${spec.id} run ${r + 1}/${o.repeat} failed: ${(run.notes?.[0] ?? '').slice(RUN_FAILED_NOTE.length)}\n`);
          }
        }
        runs.push(run);
        // The bar's figure is labelled Mpps: only packet rates go there.
        progress.done(spec.unit === 'pps' ? run.value / 1e6 : undefined);
      }
      built.push(buildSuiteCell(spec, runs));
    }
  } finally {
    progress.stop();
  }
  const cells = withDeltas(built, suite.baseline);
  return {
    suite: suite.id, title: suite.title, source: suite.source,
    rows: [...suite.rows], columns: [...suite.columns], ...(suite.baseline !== undefined ? { baseline: suite.baseline } : {}),
    cells, findings: suiteFindings(suite, cells),
    balanced: cells.every((c) => c.runs.every((r) => r.balanced)),
    machine: machineInfo(), options, started, vxo_version: packageVersion(),
  };
}

// A suite's terminal report: the table as the published one lays it out (rows x columns, our
// medians with their delta against the baseline column), then each cell beside every published
// figure for it (the ratio ours/published, our delta beside the published delta, both spreads,
// whether the runs balanced), the runs that failed and why, the cells' notes (each text once, with
// the cells it holds for), the findings (the conclusions, then each cell's counters), and where the
// CPU went. The helpers here are shared with the HTML page, so both say the same thing.
import { paint, renderBox, type BoxCell, type BoxColumn } from '../report/box.ts';
import { RUNQ_WAIT_NOTABLE, threadKeys } from '../report/cpu.ts';
import { formatPct, formatRate, formatRatio, formatSig, formatSpreadPct } from '../report/fmt.ts';
import type { Explain } from '../report/types.ts';
import { failedCells, isFailedRun, RUN_FAILED_NOTE, witnessRun } from './run-suite.ts';
import type { SuiteCell, SuiteReport } from './types.ts';

export interface SuiteTextOptions {
  /** ANSI colour (scenarios/report's shouldColor(process.stdout)); off by default. */
  color?: boolean;
  charset?: 'unicode' | 'ascii';
}

/** Rates with an SI suffix ("45.1k pps"), other units with three significant digits. */
export function formatValue(x: number, unit: string): string {
  return unit === 'pps' || (unit.endsWith('/s') && unit !== 'Mbit/s') ? formatRate(x) : formatSig(x);
}

/** "+3.1%", "-12.0%"; "n/a" for a delta that could not be taken. */
export function formatDelta(d: number | undefined): string {
  if (d === undefined) return '';
  return Number.isFinite(d) ? `${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)}%` : 'n/a';
}

/** Relative spread of a cell's runs, as `vxo table` prints it (half the min-max range, of the median). */
export function cellSpread(c: Pick<SuiteCell, 'min' | 'max' | 'median'>): number {
  return c.median !== 0 && Number.isFinite(c.median) ? (c.max - c.min) / c.median : NaN;
}

/**
 * Ours over a published figure: two decimals down to 0.1, then two significant digits, so a cell
 * hundreds of times below its figure reads 0.0018x rather than a bare 0.00x.
 */
export function formatPubRatio(x: number, times = 'x'): string {
  if (!Number.isFinite(x)) return 'n/a';
  return Math.abs(x) >= 0.1 || x === 0 ? formatRatio(x, times) : `${Number(x.toPrecision(2))}${times}`;
}

/** The runs that produced a figure (a failed or empty run has none). */
export function measuredRuns(c: Pick<SuiteCell, 'runs'>): number {
  return c.runs.filter((x) => Number.isFinite(x.value)).length;
}

/** A cell's spread as the tables print it; with fewer than two measured runs there is none to show. */
export function formatCellSpread(c: Pick<SuiteCell, 'min' | 'max' | 'median' | 'runs'>): string {
  const n = measuredRuns(c);
  return n < 2 ? `(${n} run${n === 1 ? '' : 's'})` : formatSpreadPct(cellSpread(c));
}

/** "yes 3/3", "NO 2/3", "FAILED 1/3": how many of a cell's runs balanced, and whether any threw. */
export function balanceLabel(c: Pick<SuiteCell, 'runs'>): { text: string; ok: boolean } {
  const ok = c.runs.filter((x) => x.balanced).length;
  const failed = c.runs.filter(isFailedRun).length;
  if (failed > 0) return { text: `FAILED ${failed}/${c.runs.length}`, ok: false };
  return ok === c.runs.length ? { text: `yes ${ok}/${c.runs.length}`, ok: true } : { text: `NO ${ok}/${c.runs.length}`, ok: false };
}

/**
 * Which cells a note covers, as a reader names them: every cell, whole columns ("before column"),
 * whole rows ("TCP_RR"), or else the cells' ids.
 */
export function describeCells(r: Pick<SuiteReport, 'cells' | 'rows' | 'columns'>, ids: readonly string[]): string {
  const set = new Set(ids);
  if (r.cells.length > 1 && r.cells.every((c) => set.has(c.id))) return 'every cell';
  const whole = (key: 'row' | 'column', names: readonly string[]): string[] | undefined => {
    const full = names.filter((n) => {
      const of = r.cells.filter((c) => c[key] === n);
      return of.length > 1 && of.every((c) => set.has(c.id));
    });
    const covered = r.cells.filter((c) => full.includes(c[key])).map((c) => c.id);
    return full.length > 0 && covered.length === set.size && covered.every((id) => set.has(id)) ? full : undefined;
  };
  const cols = whole('column', r.columns);
  if (cols !== undefined) return `${cols.join(', ')} column${cols.length === 1 ? '' : 's'}`;
  const rows = whole('row', r.rows);
  if (rows !== undefined) return rows.join(', ');
  const cells = r.cells.filter((c) => set.has(c.id));
  if (cells.length > 1 && cells.length === set.size) {
    const col = cells[0]!.column, row = cells[0]!.row;
    if (cells.every((c) => c.column === col)) return `${cells.map((c) => c.row).join(', ')} (${col})`;
    if (cells.every((c) => c.row === row)) return `${row} (${cells.map((c) => c.column).join(', ')})`;
  }
  return ids.join(', ');
}

/** The cells' notes, each text once with the cells it was found in (failed runs apart: see failedRunLines). */
export function groupedNotes(r: Pick<SuiteReport, 'cells' | 'rows' | 'columns'>): { note: string; cells: string }[] {
  const by = new Map<string, string[]>();
  for (const c of orderedSuiteCells(r)) {
    for (const n of c.notes) {
      if (n.startsWith(RUN_FAILED_NOTE)) continue;
      const ids = by.get(n) ?? [];
      if (!ids.includes(c.id)) ids.push(c.id);
      by.set(n, ids);
    }
  }
  return [...by].map(([note, ids]) => ({ note, cells: describeCells(r, ids) }));
}

/** "cell (2 of 3 runs): run failed: ..." for each cell whose runs threw. */
export function failedRunLines(r: Pick<SuiteReport, 'cells' | 'rows' | 'columns'>): string[] {
  return orderedSuiteCells(r).filter((c) => c.runs.some(isFailedRun)).flatMap((c) => {
    const n = c.runs.filter(isFailedRun).length;
    const why = c.notes.filter((x) => x.startsWith(RUN_FAILED_NOTE)).map((x) => x.slice(RUN_FAILED_NOTE.length));
    return why.map((w) => `${c.id} (${n} of ${c.runs.length} run${c.runs.length === 1 ? '' : 's'} failed): ${w}`);
  });
}

/**
 * The suite's conclusions apart from its findings about one cell each (those that begin with the
 * cell's id): a long run of the latter hid the former, so the reports show the conclusions first.
 */
export function splitFindings(r: Pick<SuiteReport, 'cells' | 'findings'>): { general: string[]; perCell: string[] } {
  const ids = r.cells.map((c) => c.id);
  const perCell = (f: string): boolean => ids.some((id) => f.startsWith(`${id}:`));
  return { general: r.findings.filter((f) => !perCell(f)), perCell: r.findings.filter(perCell) };
}

export function findCell(r: Pick<SuiteReport, 'cells'>, row: string, column: string): SuiteCell | undefined {
  return r.cells.find((c) => c.row === row && c.column === column);
}

/** The cells in the table's order (rows, then columns), with any the layout does not name last. */
export function orderedSuiteCells(r: Pick<SuiteReport, 'cells' | 'rows' | 'columns'>): SuiteCell[] {
  const rank = (c: SuiteCell): number => {
    const i = r.rows.indexOf(c.row), j = r.columns.indexOf(c.column);
    return (i < 0 ? r.rows.length : i) * (r.columns.length + 1) + (j < 0 ? r.columns.length : j);
  };
  return [...r.cells].sort((a, b) => rank(a) - rank(b));
}

function gridTable(r: SuiteReport, o: SuiteTextOptions): string {
  // Only the rows and columns that hold a cell (--cells may have picked a few).
  const rowNames = r.rows.filter((row) => r.cells.some((c) => c.row === row));
  const colNames = r.columns.filter((col) => r.cells.some((c) => c.column === col));
  const columns: BoxColumn[] = [
    { title: 'row', align: 'left' },
    { title: 'unit', align: 'left' },
    ...colNames.map((c): BoxColumn => ({ title: c === r.baseline ? `${c} (baseline)` : c, align: 'right', group: 'ours: median (delta vs baseline)' })),
  ];
  const rows: BoxCell[][] = rowNames.map((row) => {
    const cells = colNames.map((col) => findCell(r, row, col));
    const unit = cells.find((c) => c !== undefined)?.unit ?? '';
    return [
      row, unit,
      ...cells.map((c): BoxCell => {
        if (c === undefined) return { text: '-', tone: 'dim' };
        if (measuredRuns(c) === 0 && c.runs.some(isFailedRun)) return { text: 'failed', tone: 'bad' };
        const d = formatDelta(c.delta);
        const text = `${formatValue(c.median, c.unit)}${d !== '' ? ` (${d})` : ''}`;
        return c.runs.every((x) => x.balanced) ? text : { text: `${text} !`, tone: 'bad' };
      }),
    ];
  });
  return renderBox(columns, rows, o);
}

const DETAIL_COLUMNS: BoxColumn[] = [
  { title: 'cell', align: 'left' },
  { title: 'median', align: 'right', group: 'ours' },
  { title: 'spread', align: 'right', group: 'ours' },
  { title: 'delta', align: 'right', group: 'ours' },
  { title: 'balanced', align: 'left', group: 'ours' },
  { title: 'source', align: 'left', group: 'published' },
  { title: 'value', align: 'right', group: 'published' },
  { title: 'spread', align: 'right', group: 'published' },
  { title: 'delta', align: 'right', group: 'published' },
  { title: 'ours/pub', align: 'right' },
];

function detailRows(c: SuiteCell, anyPublished: boolean): BoxCell[][] {
  const b = balanceLabel(c);
  const ours: BoxCell[] = [
    `${c.id} (${c.unit})`, formatValue(c.median, c.unit), formatCellSpread(c), formatDelta(c.delta),
    { text: b.text, tone: b.ok ? 'good' : 'bad' },
  ];
  if (!anyPublished) return [ours];
  if (c.published.length === 0) return [[...ours, { text: 'none', tone: 'dim' }, '', '', '', '']];
  return c.published.map((p, i) => {
    const ratio = c.median / p.value;
    return [
      ...(i === 0 ? ours : ['', '', '', '', '']),
      p.source, formatValue(p.value, c.unit),
      p.spread !== undefined ? `±${(p.spread * 100).toFixed(1)}%` : '',
      formatDelta(p.delta),
      { text: formatPubRatio(ratio), tone: Number.isFinite(ratio) ? (ratio >= 1 ? 'good' : 'dim') : 'dim' },
    ];
  });
}

function cpuTable(r: SuiteReport, o: SuiteTextOptions): string | undefined {
  const cells = orderedSuiteCells(r);
  const shares = cells.map((c) => {
    const w = witnessRun(c);
    const cpu = w?.cpu ?? Object.fromEntries(Object.entries(c.explain).filter(([k]) => k.startsWith('cpu_') || k.startsWith('runq_wait_')));
    return { c, cpu: cpu as Readonly<Record<string, number>> };
  });
  const keys = threadKeys(shares.map((s) => s.cpu as Explain)).filter((k) => k.startsWith('cpu_') || k.startsWith('runq_wait_')).filter((k) => k !== 'cpu_probe_ms');
  if (keys.length === 0) return undefined;
  const columns: BoxColumn[] = [
    { title: 'cell', align: 'left' },
    ...keys.map((k): BoxColumn => (k.startsWith('runq_wait_')
      ? { title: k.slice('runq_wait_'.length), align: 'right', group: 'waiting for a core' }
      : { title: k.slice('cpu_'.length), align: 'right', group: 'on a core (share of one)' })),
  ];
  // Cells measured in one thread (no workers) have no thread shares: no empty rows for them.
  const rows = shares.filter(({ cpu }) => keys.some((k) => cpu[k] !== undefined)).map(({ c, cpu }): BoxCell[] => [c.id, ...keys.map((k): BoxCell => {
    const v = cpu[k];
    if (v === undefined) return '';
    return k.startsWith('runq_wait_') && v >= RUNQ_WAIT_NOTABLE ? { text: formatPct(v), tone: 'bad' } : formatPct(v);
  })]);
  return renderBox(columns, rows, o);
}

/** Cells whose window other processes shared (at least RUNQ_WAIT_NOTABLE of a core). */
export function sharedSuiteCells(r: Pick<SuiteReport, 'cells'>): string[] {
  return r.cells.filter((c) => (c.explain['cpu_other'] ?? 0) >= RUNQ_WAIT_NOTABLE || (c.explain['cpu_steal'] ?? 0) >= RUNQ_WAIT_NOTABLE)
    .map((c) => `${c.id} (other processes ${formatPct(c.explain['cpu_other'] ?? NaN)})`);
}

/**
 * One sentence for the shared-machine warning: how many cells, and the range of the other
 * processes' share; the cells by name only when they are few (a list of every cell says nothing).
 */
export function sharedSummary(r: Pick<SuiteReport, 'cells'>): string | undefined {
  const shared = r.cells.filter((c) => (c.explain['cpu_other'] ?? 0) >= RUNQ_WAIT_NOTABLE || (c.explain['cpu_steal'] ?? 0) >= RUNQ_WAIT_NOTABLE);
  if (shared.length === 0) return undefined;
  const share = (k: string): number[] => shared.map((c) => c.explain[k] ?? NaN).filter((x) => Number.isFinite(x));
  const range = (xs: number[]): string => {
    const lo = Math.min(...xs), hi = Math.max(...xs);
    return formatPct(lo) === formatPct(hi) ? formatPct(lo) : `${formatPct(lo)}-${formatPct(hi)}`;
  };
  const other = share('cpu_other'), steal = share('cpu_steal').filter((x) => x >= RUNQ_WAIT_NOTABLE);
  const took = [other.length > 0 ? `other processes took ${range(other)} of a core` : '', steal.length > 0 ? `steal ${range(steal)}` : ''].filter(Boolean).join(', ');
  const which = shared.length === r.cells.length ? `in every cell (${shared.length})` : shared.length <= 3
    ? `in ${shared.map((c) => c.id).join(', ')} (${shared.length} of ${r.cells.length} cells)` : `in ${shared.length} of ${r.cells.length} cells`;
  return `${took} ${which}: those figures measure that load as well as vxo`;
}

export function renderSuiteText(r: SuiteReport, o: SuiteTextOptions = {}): string {
  const color = o.color ?? false;
  const out: string[] = [];
  out.push(paint(`${r.title}`, 'bold', color));
  out.push(`source: ${r.source}`);
  out.push(`${r.machine.cpu}, ${r.machine.cores} cores · ${r.options.repeat} run${r.options.repeat === 1 ? '' : 's'} per cell, ${r.options.warmup} s warm-up, ${r.options.duration} s window, engine ${r.options.engine} · ${r.started}`);
  const shared = sharedSummary(r);
  if (shared !== undefined) out.push(paint(`SHARED MACHINE: ${shared}.`, 'bad', color));
  out.push('', gridTable(r, o), '');
  // A suite reproducing a design without figures (xdp-sk) gets no published columns at all.
  const anyPublished = r.cells.some((c) => c.published.length > 0);
  out.push(renderBox(anyPublished ? DETAIL_COLUMNS : DETAIL_COLUMNS.slice(0, 5), orderedSuiteCells(r).flatMap((c) => detailRows(c, anyPublished)), o));
  out.push(paint(columnsLegend(r, anyPublished), 'dim', color));
  const failed = failedRunLines(r);
  if (failed.length > 0) {
    out.push('', paint('failed runs (no figure; the other cells ran)', 'bad', color));
    for (const f of failed) out.push(`  ${f}`);
  }
  const notes = groupedNotes(r);
  if (notes.length > 0) {
    out.push('', paint('notes', 'bold', color));
    for (const n of notes) out.push(`  ${n.cells}: ${n.note}`);
  }
  const findings = splitFindings(r);
  if (findings.general.length > 0) {
    out.push('', paint('findings', 'bold', color));
    for (const f of findings.general) out.push(`  - ${f}`);
  }
  if (findings.perCell.length > 0) {
    out.push('', paint('each cell\'s counters', 'bold', color));
    for (const f of findings.perCell) out.push(`  - ${f}`);
  }
  const cpu = cpuTable(r, o);
  if (cpu !== undefined) out.push('', paint('where the CPU went (median run of each cell)', 'bold', color), cpu);
  out.push('', ...statusLines(r).map((l) => paint(l.text, l.ok ? 'good' : 'bad', color)));
  return out.join('\n');
}

/** What the detail table's columns mean, under it (the HTML page says the same under its table). */
export function columnsLegend(r: Pick<SuiteReport, 'baseline'>, anyPublished: boolean): string {
  return `spread: half the runs' min-max range, of the median${anyPublished ? ' (published: as the source gives it)' : ''}; delta: against the row's ${r.baseline ?? 'baseline'} cell${anyPublished ? '; ours/pub: our median over the published figure' : '; the source published no figures'}.`;
}

/** The closing verdict: every run balanced, or which cells' runs failed and which ran but did not balance. */
export function statusLines(r: SuiteReport): { text: string; ok: boolean }[] {
  if (r.balanced) return [{ text: 'every run balanced: each packet or connection accounted for by the counters', ok: true }];
  const failed = failedCells(r);
  const unbalanced = r.cells.filter((c) => c.runs.some((x) => !x.balanced && !isFailedRun(x)));
  const out: { text: string; ok: boolean }[] = [];
  if (failed.length > 0) out.push({ text: `FAILED: ${failed.map((c) => c.id).join(', ')} (a run threw; see failed runs)`, ok: false });
  if (unbalanced.length > 0 || out.length === 0) out.push({ text: `NOT BALANCED: ${unbalanced.map((c) => c.id).join(', ') || 'the report says so (no cell\'s run did)'}`, ok: false });
  return out;
}

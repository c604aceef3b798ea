// A suite's terminal report: the table as the published one lays it out (rows x columns, our
// medians with their delta against the baseline column), then each cell beside every published
// figure for it (the ratio ours/published, our delta beside the published delta, both spreads,
// whether the runs balanced), the cells' notes, the findings, and where the CPU went.
import { paint, renderBox, type BoxCell, type BoxColumn } from '../report/box.ts';
import { RUNQ_WAIT_NOTABLE, threadKeys } from '../report/cpu.ts';
import { formatPct, formatRate, formatRatio, formatSig, formatSpreadPct } from '../report/fmt.ts';
import type { Explain } from '../report/types.ts';
import { witnessRun } from './run-suite.ts';
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

function detailRows(c: SuiteCell): BoxCell[][] {
  const balanced = c.runs.every((x) => x.balanced);
  const ok = `${c.runs.filter((x) => x.balanced).length}/${c.runs.length}`;
  const ours: BoxCell[] = [
    `${c.id} (${c.unit})`, formatValue(c.median, c.unit), formatSpreadPct(cellSpread(c)), formatDelta(c.delta),
    { text: balanced ? `yes ${ok}` : `NO ${ok}`, tone: balanced ? 'good' : 'bad' },
  ];
  if (c.published.length === 0) return [[...ours, { text: 'none', tone: 'dim' }, '', '', '', '']];
  return c.published.map((p, i) => {
    const ratio = c.median / p.value;
    return [
      ...(i === 0 ? ours : ['', '', '', '', '']),
      p.source, formatValue(p.value, c.unit),
      p.spread !== undefined ? `±${(p.spread * 100).toFixed(1)}%` : '',
      formatDelta(p.delta),
      { text: formatRatio(ratio), tone: Number.isFinite(ratio) ? (ratio >= 1 ? 'good' : 'dim') : 'dim' },
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
  const rows = shares.map(({ c, cpu }): BoxCell[] => [c.id, ...keys.map((k): BoxCell => {
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

export function renderSuiteText(r: SuiteReport, o: SuiteTextOptions = {}): string {
  const color = o.color ?? false;
  const out: string[] = [];
  out.push(paint(`${r.title}`, 'bold', color));
  out.push(`source: ${r.source}`);
  out.push(`${r.machine.cpu}, ${r.machine.cores} cores · ${r.options.repeat} run${r.options.repeat === 1 ? '' : 's'} per cell, ${r.options.warmup} s warm-up, ${r.options.duration} s window, engine ${r.options.engine} · ${r.started}`);
  const shared = sharedSuiteCells(r);
  if (shared.length > 0) {
    out.push(paint(`SHARED MACHINE: other processes took at least ${formatPct(RUNQ_WAIT_NOTABLE)} of a core in ${shared.length} of ${r.cells.length} cells (${shared.join('; ')}); their figures measure that load as well as vxo.`, 'bad', color));
  }
  out.push('', gridTable(r, o), '');
  out.push(renderBox(DETAIL_COLUMNS, orderedSuiteCells(r).flatMap((c) => detailRows(c)), o));
  const noted = orderedSuiteCells(r).filter((c) => c.notes.length > 0);
  if (noted.length > 0) {
    out.push('', paint('notes', 'bold', color));
    for (const c of noted) for (const n of c.notes) out.push(`  ${c.id}: ${n}`);
  }
  if (r.findings.length > 0) {
    out.push('', paint('findings', 'bold', color));
    for (const f of r.findings) out.push(`  - ${f}`);
  }
  const cpu = cpuTable(r, o);
  if (cpu !== undefined) out.push('', paint('where the CPU went (median run of each cell)', 'bold', color), cpu);
  out.push('', r.balanced
    ? paint('every run balanced: each packet or connection accounted for by the counters', 'good', color)
    : paint(`NOT BALANCED: ${r.cells.filter((c) => c.runs.some((x) => !x.balanced)).map((c) => c.id).join(', ')}`, 'bad', color));
  return out.join('\n');
}

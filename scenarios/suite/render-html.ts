// A suite's `--html FILE` report: one self-contained page (inline CSS and SVG, no script, no network),
// like the offload table's (scenarios/report/html.ts), whose chart renderer and colours it reuses.
// Top to bottom: the status (balanced, failed runs), one bar panel per row with ours beside each
// published figure (each row its own scale, log where the figures are orders apart), the deltas
// against the baseline column beside the published ones, the table, the findings (conclusions open,
// each cell's counters folded), the notes, the CPU and every run. `--suite all` puts the offload
// table's own report first, with a contents line.
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, decades, FONT, LOG_SCALE_SPAN, logFloor, OURS_COLOR, renderSvg, RFC_COLOR, spansOrders } from '../report/charts.ts';
import { escapeHtml, OFFLOAD_STYLE, offloadBody } from '../report/html.ts';
import { RUNQ_WAIT_NOTABLE, threadGroups, threadKeys } from '../report/cpu.ts';
import { formatPct } from '../report/fmt.ts';
import type { Explain, TableReport } from '../report/types.ts';
import {
  balanceLabel, columnsLegend, failedRunLines, formatCellSpread, formatDelta, formatPubRatio, formatValue, groupedNotes, orderedSuiteCells, sharedSummary, splitFindings, statusLines,
} from './render-text.ts';
import { isFailedRun, RUN_FAILED_NOTE, witnessRun } from './run-suite.ts';
import type { SuiteReport } from './types.ts';

/** Published tables after ours: greys from the offload report's RFC grey, darker for later sources. */
const PUBLISHED_COLORS = [RFC_COLOR, '#6b7280', '#d1d5db', '#374151'];

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

function sources(r: SuiteReport): string[] {
  const out: string[] = [];
  for (const c of r.cells) for (const p of c.published) if (!out.includes(p.source)) out.push(p.source);
  return out;
}

function sourceScale(r: SuiteReport): { domain: string[]; range: string[] } {
  const pub = sources(r);
  return { domain: ['ours', ...pub], range: [OURS_COLOR, ...pub.map((_s, i) => PUBLISHED_COLORS[i % PUBLISHED_COLORS.length]!)] };
}

interface ValueDatum {
  x: string;
  /** 0 for ours, 1.. for the cell's published figures in order: bars sit side by side with no gap where a column has fewer figures. */
  slot: number;
  source: string;
  value: number | null;
  label: string;
  min: number | null;
  max: number | null;
  top: number | null;
}

/**
 * Whether a row's figures span more than LOG_SCALE_SPAN: then its panel gets a log scale, as ours and
 * a published figure orders of magnitude apart (an emulator on two loaded cores against a 24-core
 * host) would otherwise leave one of the bars a sliver at the axis.
 */
export function wantsLogScale(values: readonly number[]): boolean {
  return spansOrders(values);
}

/** One entry of a concatenated spec (vega-lite exports only the top-level type). */
type ConcatPanel = Extract<TopLevelSpec, { concat: readonly unknown[] }>['concat'][number];
type LayeredSpec = Extract<TopLevelSpec, { layer: readonly unknown[] }>;
type LayerEntry = LayeredSpec['layer'][number];

/** A row's figures: our medians and spreads and the published values. */
function rowFigures(r: SuiteReport, row: string): number[] {
  return r.cells.filter((c) => c.row === row).flatMap((c) => [c.median, c.min, c.max, ...c.published.map((p) => p.value)]);
}

function valuePanel(r: SuiteReport, row: string, scale: { domain: string[]; range: string[] }, logChart: boolean): ConcatPanel {
  const cells = orderedSuiteCells(r).filter((c) => c.row === row);
  const unit = cells[0]?.unit ?? '';
  const figures = rowFigures(r, row);
  const positive = figures.filter((x) => Number.isFinite(x) && x > 0);
  const log = logChart && positive.length > 0;
  // A log axis has no zero: its floor is the power of ten below the smallest figure, where a zero's label goes.
  const floor = log ? logFloor(Math.min(...positive)) : 0;
  const onAxis = (x: number): number | null => (!Number.isFinite(x) ? null : log && x <= 0 ? null : x);
  const values: ValueDatum[] = cells.flatMap((c) => [
    { x: c.column, slot: 0, source: 'ours', value: onAxis(c.median), label: formatValue(c.median, c.unit), min: onAxis(c.min), max: onAxis(c.max), top: finiteOrNull(Math.max(c.median, c.max)) },
    ...c.published.map((p, i) => ({ x: c.column, slot: i + 1, source: p.source, value: onAxis(p.value), label: formatValue(p.value, c.unit), min: null, max: null, top: finiteOrNull(p.value) })),
  ]).map((v) => ({ ...v, top: v.top !== null && log && v.top <= 0 ? floor : v.top }));
  const slots = Math.max(1, ...cells.map((c) => c.published.length + 1));
  return {
    title: { text: row, subtitle: log ? `${unit}, log scale` : unit, subtitleColor: '#6b7280', subtitleFontSize: 11 },
    data: { values },
    // Wide enough for the bars and for the column's name under them (~8 px a character at the axis' 12 px).
    width: { step: Math.max(60, 38 * slots + 16, 8 * Math.max(...cells.map((c) => c.column.length))), for: 'position' },
    height: 200,
    encoding: {
      x: { field: 'x', type: 'nominal', sort: cells.map((c) => c.column), title: null, axis: { labelAngle: 0, labelPadding: 6, labelLimit: 240 } },
      xOffset: { field: 'slot', type: 'ordinal', sort: 'ascending' },
    },
    layer: [
      {
        mark: { type: 'bar', cornerRadiusEnd: 2 },
        encoding: {
          y: {
            field: 'value', type: 'quantitative', title: log ? `${unit} (log)` : unit,
            ...(log ? { scale: { type: 'log', domainMin: floor } as const, axis: { values: decades(floor, Math.max(...positive)), format: '~s' } }
              // A row of zeros still gets an axis (an empty domain draws a NaN tick).
              : { scale: positive.length === 0 ? { domain: [0, 1] } : { zero: true }, axis: { tickCount: 5, format: '~s' } }),
          },
          // A log axis has no zero for a bar to start from: the bars rise from the axis' floor.
          ...(log ? { y2: { datum: floor } } : {}),
          color: { field: 'source', type: 'nominal', scale, legend: { orient: 'top' } },
        },
      },
      { mark: { type: 'rule', color: '#111827', strokeWidth: 1.5 }, encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
      { mark: { type: 'text', dy: -7, fontSize: 10, color: '#374151' }, encoding: { y: { field: 'top', type: 'quantitative' }, text: { field: 'label' } } },
    ],
  };
}

/**
 * Ours (median, min-max whisker) beside each published figure, per column, one panel per row: each
 * row its own scale (rows count different things), a log scale where its figures are orders apart.
 */
export function suiteValueChartSpec(r: SuiteReport): TopLevelSpec {
  const rows = r.rows.filter((row) => r.cells.some((c) => c.row === row));
  for (const c of r.cells) if (!rows.includes(c.row)) rows.push(c.row);
  const scale = sourceScale(r);
  // Each row decides its own axis, as it has its own scale: a row of shares that are all 1.00 beside a
  // row of floods 30x under the published figures would otherwise get a log axis down to 0.1 for
  // nothing. Each panel says "log scale" in its subtitle and axis title.
  return {
    config: CHART_CONFIG,
    concat: rows.map((row) => valuePanel(r, row, scale, wantsLogScale(rowFigures(r, row)))),
    columns: 2,
    spacing: 40,
    resolve: { scale: { y: 'independent', x: 'independent', xOffset: 'independent' } },
  };
}

/** Deltas over this many percent beside published ones of a few: a symmetric log axis keeps both readable. */
const SYMLOG_REACH = 50;

/** Each cell's delta against its row's baseline, ours beside the published tables' (percent), one bar row per cell. */
export function suiteDeltaChartSpec(r: SuiteReport): TopLevelSpec | undefined {
  const cells = orderedSuiteCells(r).filter((c) => c.delta !== undefined);
  if (cells.length === 0) return undefined;
  const values = cells.flatMap((c) => [
    { y: c.id, slot: 0, source: 'ours', pct: finiteOrNull((c.delta ?? NaN) * 100), label: formatDelta(c.delta) },
    ...c.published.filter((p) => p.delta !== undefined).map((p, i) => ({ y: c.id, slot: i + 1, source: p.source, pct: finiteOrNull(p.delta! * 100), label: formatDelta(p.delta) })),
  ]);
  const pcts = values.map((v) => Math.abs(v.pct ?? 0));
  const reach = Math.max(1, ...pcts);
  const symlog = reach > SYMLOG_REACH && pcts.some((x) => x > 0 && x < SYMLOG_REACH / 10);
  const lo = Math.min(0, ...values.map((v) => v.pct ?? 0)), hi = Math.max(0, ...values.map((v) => v.pct ?? 0));
  const slots = Math.max(1, ...values.map((v) => v.slot + 1));
  const scale = sourceScale(r);
  // Room beyond the longest bars for their labels (on a symmetric log axis, a factor; on a linear one, a share of the span).
  const domain = symlog ? [lo * 2.2, hi * 2.2] : hi === lo ? [-1, 1] : [lo - (hi - lo) * 0.15, hi + (hi - lo) * 0.15];
  // Roughly even steps on a symmetric log axis (1-2-5 steps crowd each other near zero).
  const ticks = [-1000, -300, -100, -30, -10, -3, 0, 3, 10, 30, 100, 300, 1000, 3000, 10000].filter((t) => t >= domain[0]! && t <= domain[1]!);
  const x = {
    field: 'pct', type: 'quantitative',
    title: symlog ? 'delta against the baseline (%, symmetric log scale)' : 'delta against the baseline (%)',
    ...(symlog ? { scale: { type: 'symlog', constant: 1, domain } as const, axis: { values: ticks, format: '+~r' } } : { scale: { domain, nice: true }, axis: { format: '+~r' } }),
  } as const;
  // Labels outside the bar's end: to the right of a gain, to the left of a loss.
  const text = (sign: 'pos' | 'neg'): LayerEntry => ({
    transform: [{ filter: sign === 'pos' ? 'datum.pct >= 0' : 'datum.pct < 0' }],
    mark: { type: 'text', fontSize: 10, color: '#374151', align: sign === 'pos' ? 'left' : 'right', dx: sign === 'pos' ? 4 : -4, baseline: 'middle' },
    encoding: { x, text: { field: 'label' } },
  });
  return {
    config: CHART_CONFIG,
    title: `delta against the baseline column${r.baseline !== undefined ? ` (${r.baseline})` : ''}${slots > 1 ? ': ours beside the published tables\'' : ''}`,
    width: 560,
    height: { step: 13 * slots + 8, for: 'position' },
    layer: [
      {
        data: { values },
        encoding: {
          y: { field: 'y', type: 'nominal', sort: cells.map((c) => c.id), title: null, axis: { labelLimit: 400, labelPadding: 8 } },
          yOffset: { field: 'slot', type: 'ordinal', sort: 'ascending' },
        },
        layer: [
          { mark: { type: 'bar', cornerRadiusEnd: 2 }, encoding: { x, color: { field: 'source', type: 'nominal', scale, legend: { orient: 'top' } } } },
          text('pos'),
          text('neg'),
        ],
      },
      { data: { values: [{ x: 0 }] }, mark: { type: 'rule', color: '#6b7280' }, encoding: { x: { field: 'x', type: 'quantitative' } } },
    ],
  };
}

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #111827; font: 15px/1.55 ${FONT}; }
main { max-width: 1240px; margin: 0 auto; padding: 32px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 18px; margin: 36px 0 10px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.sub { color: #4b5563; margin: 0 0 20px; }
.box { border-radius: 8px; padding: 12px 16px; margin: 16px 0; border: 1px solid; }
.box.holds { background: #ecfdf5; border-color: #a7f3d0; }
.box.broken { background: #fef2f2; border-color: #fecaca; }
.box ul { margin: 4px 0; padding-left: 20px; }
.box p { margin: 2px 0; }
.findings { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 16px 8px 8px; margin: 12px 0; }
.findings li { margin: 6px 0; }
ul.notes { padding-left: 20px; }
ul.notes li { margin: 3px 0; }
.cells { font-size: 13px; color: #4b5563; }
.toc { margin: 0 0 8px; font-size: 14px; }
.toc a { color: #1d4ed8; }
.toc .bad { color: #b91c1c; }
.shared { border-radius: 8px; padding: 10px 16px; margin: 0 0 16px; border: 1px solid #fecaca; background: #fef2f2; color: #7f1d1d; font-weight: 600; }
.chart { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 16px; margin: 12px 0; overflow-x: auto; }
.chart svg { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 14px; border: 1px solid #e5e7eb; }
th, td { padding: 5px 9px; border-bottom: 1px solid #eef0f3; text-align: right; white-space: nowrap; }
th { background: #f9fafb; font-weight: 600; color: #374151; }
thead tr.group th { border-bottom: 0; padding-bottom: 0; color: #6b7280; font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; text-align: center; }
tbody tr.first td { border-top: 1px solid #d1d5db; }
td.num { font-variant-numeric: tabular-nums; }
th.l, td.l { text-align: left; }
td.good { color: #047857; font-weight: 600; }
td.bad { color: #b91c1c; font-weight: 600; }
.muted { color: #9ca3af; }
.scroll { overflow-x: auto; }
pre { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 12px; overflow-x: auto; font-size: 12px; }
details summary { cursor: pointer; color: #374151; margin: 8px 0; }
footer { margin-top: 36px; color: #6b7280; font-size: 13px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; }
`;

function td(text: string, cls = ''): string {
  return `<td${cls ? ` class="${cls}"` : ''}>${escapeHtml(text)}</td>`;
}

function cellsTable(r: SuiteReport): string {
  // A suite reproducing a design without figures (xdp-sk) has no published columns at all.
  const anyPublished = r.cells.some((c) => c.published.length > 0);
  const rows = orderedSuiteCells(r).flatMap((c) => {
    const b = balanceLabel(c);
    const ours = [
      td(c.id, 'l'), td(c.unit, 'l'), td(formatValue(c.median, c.unit)), td(formatCellSpread(c)), td(formatDelta(c.delta)),
      td(b.text, b.ok ? 'good' : 'bad'),
    ];
    if (!anyPublished) return [`<tr>${ours.join('')}</tr>`];
    const blank = ours.map(() => '<td></td>');
    const pubs = c.published.length > 0 ? c.published : [undefined];
    return pubs.map((p, i) => {
      const ratio = p === undefined ? NaN : c.median / p.value;
      return `<tr${i === 0 ? ' class="first"' : ''}>${(i === 0 ? ours : blank).join('')}${p === undefined
        ? '<td class="l muted">none</td><td></td><td></td><td></td><td></td>'
        : [td(p.source, 'l'), td(formatValue(p.value, c.unit)), td(p.spread !== undefined ? `±${(p.spread * 100).toFixed(1)}%` : ''), td(formatDelta(p.delta)),
          td(formatPubRatio(ratio, '×'), Number.isFinite(ratio) && ratio >= 1 ? 'good' : '')].join('')}</tr>`;
    });
  });
  return `<div class="scroll"><table>
<thead><tr class="group"><th colspan="2"></th><th colspan="4">ours</th>${anyPublished ? '<th colspan="4">published</th><th></th>' : ''}</tr>
<tr><th class="l">cell</th><th class="l">unit</th><th>median</th><th>spread</th><th>delta</th><th class="l">balanced</th>${anyPublished ? '<th class="l">source</th><th>value</th><th>spread</th><th>delta</th><th>ours/pub</th>' : ''}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>
<p class="cells">${escapeHtml(columnsLegend(r, anyPublished))}</p>`;
}

function notesBlock(r: SuiteReport): string {
  const notes = groupedNotes(r);
  if (notes.length === 0) return '';
  return `<h3>Notes</h3><ul class="notes">${notes.map((n) => `<li><b>${escapeHtml(n.cells)}</b>: ${escapeHtml(n.note)}</li>`).join('')}</ul>`;
}

/** A cell's CPU shares: the median run's per-thread figures, else what its explain carries. */
function cellCpu(c: SuiteReport['cells'][number]): Readonly<Record<string, number>> {
  return witnessRun(c)?.cpu ?? Object.fromEntries(Object.entries(c.explain).filter(([k]) => k.startsWith('cpu_') || k.startsWith('runq_wait_')));
}

function cpuTable(r: SuiteReport): string {
  const cells = orderedSuiteCells(r);
  const per = cells.map((c) => ({ c, cpu: cellCpu(c) }));
  // threadKeys reads only the keys; a suite's CPU record has the offload Explain's thread keys.
  const keys = threadKeys(per.map((p) => p.cpu as Explain)).filter((k) => (k.startsWith('cpu_') || k.startsWith('runq_wait_')) && k !== 'cpu_probe_ms');
  if (keys.length === 0) return '';
  const groups = threadGroups(keys);
  const name = (k: string): string => k.replace(/^cpu_|^runq_wait_/, '');
  // Cells measured in one thread (no workers) have no thread shares: no empty rows for them.
  const body = per.filter(({ cpu }) => keys.some((k) => cpu[k] !== undefined)).map(({ c, cpu }) => `<tr>${td(c.id, 'l')}${keys.map((k) => {
    const v = cpu[k];
    if (v === undefined) return '<td></td>';
    return td(formatPct(v), k.startsWith('runq_wait_') && v >= RUNQ_WAIT_NOTABLE ? 'bad' : '');
  }).join('')}</tr>`).join('\n');
  return `<h3>Where the CPU went (median run of each cell)</h3>
<p class="cells">Share of one core per thread over the measured window (the machine has ${r.machine.cores} cores). A thread waiting for a core was runnable while others held them; red: ${formatPct(RUNQ_WAIT_NOTABLE)} of the window or more.</p>
<div class="scroll"><table>
<thead><tr class="group"><th></th>${groups.map((g) => `<th colspan="${g.span}">${escapeHtml(g.name)}</th>`).join('')}</tr>
<tr><th class="l">cell</th>${keys.map((k) => `<th>${escapeHtml(name(k))}</th>`).join('')}</tr></thead>
<tbody>${body}</tbody></table></div>`;
}

function runsTable(r: SuiteReport): string {
  const rows = orderedSuiteCells(r).flatMap((c) => c.runs.map((x, i) => {
    const failed = isFailedRun(x);
    const why = failed ? (x.notes ?? []).filter((n) => n.startsWith(RUN_FAILED_NOTE)).join('; ') : '';
    return `<tr>${td(c.id, 'l')}${td(String(i + 1))}${td(formatValue(x.value, c.unit))}${td(failed ? '' : x.seconds.toFixed(2))}${td(failed ? 'failed' : x.balanced ? 'yes' : 'NO', x.balanced ? 'good' : 'bad')}${td(why, 'l')}</tr>`;
  }));
  return `<details><summary>Every run</summary><div class="scroll"><table>
<thead><tr><th class="l">cell</th><th>run</th><th>value</th><th>seconds</th><th>balanced</th><th class="l"></th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div></details>`;
}

/**
 * The findings after the figures they explain: the suite's conclusions open, the findings about
 * one cell each (those that begin with its id) folded, as a long list of them hid the conclusions.
 */
function findingsBlock(r: SuiteReport): string {
  if (r.findings.length === 0) return '';
  const { general, perCell: cells } = splitFindings(r);
  const list = (fs: readonly string[]): string => `<ul>${fs.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>`;
  return `<h3>Findings</h3>
${general.length > 0 ? `<div class="findings">${list(general)}</div>` : ''}
${cells.length > 0 ? `<details${general.length === 0 ? ' open' : ''}><summary>Each cell's counters (${cells.length})</summary><div class="findings">${list(cells)}</div></details>` : ''}`;
}

/** The status box: balanced or not, and each failed run's error. */
function statusBox(r: SuiteReport): string {
  const lines = statusLines(r);
  const failed = failedRunLines(r);
  return `<div class="box ${r.balanced ? 'holds' : 'broken'}">${lines.map((l) => `<p><b>${escapeHtml(l.text)}</b></p>`).join('')}
${failed.length > 0 ? `<ul>${failed.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>` : ''}</div>`;
}

const legendNote = (published: boolean, log: boolean): string => `Bars: our median (blue)${published ? ' beside each published figure (greys)' : ''}; the black whisker spans our runs' min to max; each row its own scale${log ? `, logarithmic where a row's figures are over ${LOG_SCALE_SPAN}x apart` : ''}.`;

/** One suite's section of a page: its status, findings, charts, table, notes, CPU and runs. */
export async function suiteSection(r: SuiteReport, o: { heading?: boolean } = {}): Promise<string> {
  const deltaSpec = suiteDeltaChartSpec(r);
  const [values, deltas] = await Promise.all([renderSvg(suiteValueChartSpec(r)), deltaSpec !== undefined ? renderSvg(deltaSpec) : Promise.resolve('')]);
  const shared = sharedSummary(r);
  return `<section id="${escapeHtml(r.suite)}">
${o.heading !== false ? `<h2>${escapeHtml(r.title)}</h2>\n` : ''}<p class="sub">${escapeHtml(r.source)} · median of ${r.options.repeat} run${r.options.repeat === 1 ? '' : 's'} per cell, ${r.options.warmup} s warm-up, ${r.options.duration} s window, engine ${escapeHtml(r.options.engine)}</p>
${shared !== undefined ? `<p class="shared">Shared machine: ${escapeHtml(shared)}.</p>` : ''}
${statusBox(r)}
<h3>${r.cells.some((c) => c.published.length > 0) ? 'Ours beside the published figures' : 'Our figures'}</h3>
<p class="cells">${escapeHtml(legendNote(r.cells.some((c) => c.published.length > 0), r.rows.some((row) => wantsLogScale(rowFigures(r, row)))))}</p>
<div class="chart">${values}</div>
${deltas !== '' ? `<div class="chart">${deltas}</div>` : ''}
${cellsTable(r)}
${findingsBlock(r)}
${notesBlock(r)}
${cpuTable(r)}
${runsTable(r)}
</section>`;
}

function page(title: string, sub: string, body: string, withOffload = false): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${withOffload ? OFFLOAD_STYLE : ''}${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p class="sub">${escapeHtml(sub)}</p>
${body}
<footer>Generated by vxo; this file is self-contained and opens offline.</footer>
</main>
</body>
</html>
`;
}

/** One suite's page. */
export async function suiteHtml(r: SuiteReport): Promise<string> {
  const m = r.machine;
  return page(`vxo ${r.vxo_version}: ${r.title}`, `${m.cpu}, ${m.cores} cores · Node ${m.node} · ${r.started}`, await suiteSection(r, { heading: false }));
}

/** `--suite all`: the offload table (its charts and terminal table) and then every other suite. */
export async function suitesHtml(offload: TableReport | undefined, suites: readonly SuiteReport[]): Promise<string> {
  const parts: string[] = [];
  if (offload !== undefined) {
    // The offload table's own page body (verdict, charts, tables), as `vxo table --html` writes it.
    parts.push(`<section id="offload">\n${await offloadBody(offload, 2)}\n</section>`);
  }
  for (const s of suites) parts.push(await suiteSection(s));
  // The page runs long (every suite's charts and tables): a contents line to jump to each, with its state.
  const entries = [
    ...(offload !== undefined ? [`<a href="#offload">offload</a>`] : []),
    ...suites.map((s) => `<a href="#${escapeHtml(s.suite)}">${escapeHtml(s.suite)}</a>${s.balanced ? '' : ' <span class="bad">(not balanced)</span>'}`),
  ];
  parts.unshift(`<nav class="toc">Suites: ${entries.join(' · ')}</nav>`);
  const first = offload ?? suites[0];
  const m = first?.machine;
  const version = first?.vxo_version ?? '';
  return page(`vxo ${version}: the experiments suites`, m !== undefined ? `${m.cpu}, ${m.cores} cores · Node ${m.node}` : '', parts.join('\n'), offload !== undefined);
}

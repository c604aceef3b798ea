// A suite's `--html FILE` report: one self-contained page (inline CSS and SVG, no script, no network),
// like the offload table's (scenarios/report/html.ts), whose chart renderer and colours it reuses:
// grouped bars of ours beside each published figure, one panel per row (each its own scale: rows
// may count different things), our deltas beside the published ones, then the table, the notes,
// the findings, the CPU and every run. `--suite all` puts the offload table's charts first.
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, FONT, mppsChartSpec, OURS_COLOR, ratioChartSpec, renderSvg, RFC_COLOR } from '../report/charts.ts';
import { escapeHtml } from '../report/html.ts';
import { formatPct, formatSpreadPct } from '../report/fmt.ts';
import { renderTextTable } from '../report/text-table.ts';
import type { TableReport } from '../report/types.ts';
import { cellSpread, formatDelta, formatValue, orderedSuiteCells, sharedSuiteCells } from './render-text.ts';
import { witnessRun } from './run-suite.ts';
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

/** Ours (median, min-max whisker) beside each published figure, per column, one panel per row. */
export function suiteValueChartSpec(r: SuiteReport): TopLevelSpec {
  const cells = orderedSuiteCells(r);
  const values = cells.flatMap((c) => [
    { panel: `${c.row} (${c.unit})`, x: c.column, source: 'ours', value: finiteOrNull(c.median), label: formatValue(c.median, c.unit), min: finiteOrNull(c.min), max: finiteOrNull(c.max), top: finiteOrNull(Math.max(c.median, c.max)) },
    ...c.published.map((p) => ({ panel: `${c.row} (${c.unit})`, x: c.column, source: p.source, value: finiteOrNull(p.value), label: formatValue(p.value, c.unit), min: null, max: null, top: finiteOrNull(p.value) })),
  ]);
  const panels = [...new Set(cells.map((c) => `${c.row} (${c.unit})`))];
  const scale = sourceScale(r);
  return {
    config: CHART_CONFIG,
    data: { values },
    facet: { field: 'panel', type: 'nominal', sort: panels, header: { labelAnchor: 'start', labelPadding: 8 } },
    columns: 2,
    // x shared: every panel shows every column (an empty slot where a row has no such cell); an
    // independent x with xOffset draws hairline bars.
    resolve: { scale: { y: 'independent' } },
    spacing: 36,
    spec: {
      width: 400,
      height: 220,
      encoding: {
        x: { field: 'x', type: 'nominal', sort: [...r.columns], title: null, axis: { labelAngle: 0, labelPadding: 6 } },
        xOffset: { field: 'source', type: 'nominal', sort: scale.domain },
      },
      layer: [
        { mark: { type: 'bar', cornerRadiusEnd: 2 }, encoding: { y: { field: 'value', type: 'quantitative', title: null, axis: { tickCount: 5, format: '~s' } }, color: { field: 'source', type: 'nominal', scale, legend: { orient: 'top' } } } },
        { mark: { type: 'rule', color: '#111827', strokeWidth: 1.5 }, encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
        { mark: { type: 'text', dy: -7, fontSize: 10, color: '#374151' }, encoding: { y: { field: 'top', type: 'quantitative' }, text: { field: 'label' } } },
      ],
    },
  };
}

/** Each cell's delta against its row's baseline, ours beside the published tables' (percent). */
export function suiteDeltaChartSpec(r: SuiteReport): TopLevelSpec | undefined {
  const cells = orderedSuiteCells(r).filter((c) => c.delta !== undefined);
  if (cells.length === 0) return undefined;
  const values = cells.flatMap((c) => [
    { x: c.id, source: 'ours', pct: finiteOrNull((c.delta ?? NaN) * 100), label: formatDelta(c.delta) },
    ...c.published.filter((p) => p.delta !== undefined).map((p) => ({ x: c.id, source: p.source, pct: finiteOrNull(p.delta! * 100), label: formatDelta(p.delta) })),
  ]);
  const scale = sourceScale(r);
  return {
    config: CHART_CONFIG,
    title: `delta against the baseline column${r.baseline !== undefined ? ` (${r.baseline})` : ''}, %`,
    width: Math.max(360, 110 * cells.length),
    height: 220,
    layer: [
      {
        data: { values },
        encoding: {
          x: { field: 'x', type: 'nominal', sort: cells.map((c) => c.id), title: null, axis: { labelAngle: 0, labelExpr: "split(datum.label, '/')", labelLineHeight: 14, labelLimit: 160 } },
          xOffset: { field: 'source', type: 'nominal', sort: scale.domain },
        },
        layer: [
          { mark: { type: 'bar', cornerRadiusEnd: 2 }, encoding: { y: { field: 'pct', type: 'quantitative', title: 'delta (%)' }, color: { field: 'source', type: 'nominal', scale, legend: { orient: 'top' } } } },
          { mark: { type: 'text', dy: -7, fontSize: 10, color: '#374151' }, encoding: { y: { field: 'pct', type: 'quantitative' }, text: { field: 'label' } } },
        ],
      },
      { data: { values: [{ y: 0 }] }, mark: { type: 'rule', color: '#6b7280' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  };
}

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #111827; font: 15px/1.55 ${FONT}; }
main { max-width: 1120px; margin: 0 auto; padding: 32px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 18px; margin: 36px 0 10px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.sub { color: #4b5563; margin: 0 0 20px; }
.box { border-radius: 8px; padding: 12px 16px; margin: 16px 0; border: 1px solid; }
.box.holds { background: #ecfdf5; border-color: #a7f3d0; }
.box.broken { background: #fef2f2; border-color: #fecaca; }
.box ul { margin: 4px 0; padding-left: 20px; }
.shared { border-radius: 8px; padding: 10px 16px; margin: 0 0 16px; border: 1px solid #fecaca; background: #fef2f2; color: #7f1d1d; font-weight: 600; }
.chart { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 16px; margin: 12px 0; overflow-x: auto; }
.chart svg { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 14px; border: 1px solid #e5e7eb; }
th, td { padding: 6px 10px; border-bottom: 1px solid #eef0f3; text-align: right; white-space: nowrap; }
th { background: #f9fafb; font-weight: 600; color: #374151; }
th.l, td.l { text-align: left; }
td.good { color: #047857; font-weight: 600; }
td.bad { color: #b91c1c; font-weight: 600; }
.muted { color: #9ca3af; }
.scroll { overflow-x: auto; }
pre { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 12px; overflow-x: auto; font-size: 12px; }
details summary { cursor: pointer; color: #374151; margin: 8px 0; }
footer { margin-top: 36px; color: #6b7280; font-size: 13px; }
`;

function td(text: string, cls = ''): string {
  return `<td${cls ? ` class="${cls}"` : ''}>${escapeHtml(text)}</td>`;
}

function cellsTable(r: SuiteReport): string {
  const rows = orderedSuiteCells(r).flatMap((c) => {
    const balanced = c.runs.every((x) => x.balanced);
    const ours = [
      td(c.id, 'l'), td(c.unit, 'l'), td(formatValue(c.median, c.unit)), td(formatSpreadPct(cellSpread(c))), td(formatDelta(c.delta)),
      td(balanced ? 'yes' : 'NO', balanced ? 'good' : 'bad'),
    ];
    const blank = ours.map(() => '<td></td>');
    const pubs = c.published.length > 0 ? c.published : [undefined];
    return pubs.map((p, i) => `<tr>${(i === 0 ? ours : blank).join('')}${p === undefined
      ? '<td class="l muted">none</td><td></td><td></td><td></td><td></td>'
      : [td(p.source, 'l'), td(formatValue(p.value, c.unit)), td(p.spread !== undefined ? `±${(p.spread * 100).toFixed(1)}%` : ''), td(formatDelta(p.delta)), td(Number.isFinite(c.median / p.value) ? `${(c.median / p.value).toFixed(2)}×` : 'n/a')].join('')}</tr>`);
  });
  return `<div class="scroll"><table>
<thead><tr><th class="l">cell</th><th class="l">unit</th><th>ours (median)</th><th>spread</th><th>delta</th><th class="l">balanced</th><th class="l">published</th><th>value</th><th>spread</th><th>delta</th><th>ours/pub</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

function notesBlock(r: SuiteReport): string {
  const noted = orderedSuiteCells(r).filter((c) => c.notes.length > 0);
  if (noted.length === 0) return '';
  return `<h3>Notes</h3><ul>${noted.flatMap((c) => c.notes.map((n) => `<li><code>${escapeHtml(c.id)}</code>: ${escapeHtml(n)}</li>`)).join('')}</ul>`;
}

function cpuTable(r: SuiteReport): string {
  const cells = orderedSuiteCells(r);
  const per = cells.map((c) => ({ c, cpu: witnessRun(c)?.cpu ?? Object.fromEntries(Object.entries(c.explain).filter(([k]) => k.startsWith('cpu_') && k !== 'cpu_probe_ms')) }));
  const keys = [...new Set(per.flatMap((p) => Object.keys(p.cpu)))];
  if (keys.length === 0) return '';
  return `<h3>Where the CPU went (share of one core, median run)</h3><div class="scroll"><table>
<thead><tr><th class="l">cell</th>${keys.map((k) => `<th>${escapeHtml(k.replace(/^cpu_/, ''))}</th>`).join('')}</tr></thead>
<tbody>${per.map(({ c, cpu }) => `<tr>${td(c.id, 'l')}${keys.map((k) => td(cpu[k] !== undefined ? formatPct(cpu[k]) : '')).join('')}</tr>`).join('\n')}</tbody></table></div>`;
}

function runsTable(r: SuiteReport): string {
  const rows = orderedSuiteCells(r).flatMap((c) => c.runs.map((x, i) => `<tr>${td(c.id, 'l')}${td(String(i + 1))}${td(formatValue(x.value, c.unit))}${td(x.seconds.toFixed(2))}${td(x.balanced ? 'yes' : 'NO', x.balanced ? 'good' : 'bad')}</tr>`));
  return `<details><summary>Every run</summary><div class="scroll"><table>
<thead><tr><th class="l">cell</th><th>run</th><th>value</th><th>seconds</th><th>balanced</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div></details>`;
}

/** One suite's section of a page: its charts, table, notes, findings, CPU and runs. */
export async function suiteSection(r: SuiteReport): Promise<string> {
  const deltaSpec = suiteDeltaChartSpec(r);
  const [values, deltas] = await Promise.all([renderSvg(suiteValueChartSpec(r)), deltaSpec !== undefined ? renderSvg(deltaSpec) : Promise.resolve('')]);
  const shared = sharedSuiteCells(r);
  return `<section id="${escapeHtml(r.suite)}">
<h2>${escapeHtml(r.title)}</h2>
<p class="sub">${escapeHtml(r.source)} · median of ${r.options.repeat} run${r.options.repeat === 1 ? '' : 's'} per cell, ${r.options.warmup} s warm-up, ${r.options.duration} s window, engine ${escapeHtml(r.options.engine)}</p>
${shared.length > 0 ? `<p class="shared">Shared machine: other processes took at least 10% of a core in ${escapeHtml(shared.join('; '))}.</p>` : ''}
<div class="box ${r.balanced ? 'holds' : 'broken'}"><b>${r.balanced ? 'Every run balanced.' : 'NOT BALANCED: some runs lost track of packets or connections.'}</b>
${r.findings.length > 0 ? `<ul>${r.findings.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>` : ''}</div>
<div class="chart">${values}</div>
${deltas !== '' ? `<div class="chart">${deltas}</div>` : ''}
${cellsTable(r)}
${notesBlock(r)}
${cpuTable(r)}
${runsTable(r)}
</section>`;
}

function page(title: string, sub: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
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
  return page(`vxo ${r.vxo_version}: ${r.title}`, `${m.cpu}, ${m.cores} cores · Node ${m.node} · ${r.started}`, await suiteSection(r));
}

/** `--suite all`: the offload table (its charts and terminal table) and then every other suite. */
export async function suitesHtml(offload: TableReport | undefined, suites: readonly SuiteReport[]): Promise<string> {
  const parts: string[] = [];
  if (offload !== undefined) {
    const [mpps, ratios] = await Promise.all([renderSvg(mppsChartSpec(offload.cells)), renderSvg(ratioChartSpec(offload.cells))]);
    parts.push(`<section id="offload">
<h2>virtio-net XDP offload: ours vs the RFC (Case 1/2)</h2>
<div class="chart">${mpps}</div>
<div class="chart">${ratios}</div>
<pre>${escapeHtml(renderTextTable(offload, { color: false }))}</pre>
</section>`);
  }
  for (const s of suites) parts.push(await suiteSection(s));
  const first = offload ?? suites[0];
  const m = first?.machine;
  const version = first?.vxo_version ?? '';
  return page(`vxo ${version}: the experiments suites`, m !== undefined ? `${m.cpu}, ${m.cores} cores · Node ${m.node}` : '', parts.join('\n'));
}

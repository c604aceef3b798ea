// The `--html FILE` report: one self-contained page (inline CSS and SVG, no script, no external
// font or stylesheet) so it can be mailed, attached to CI, or opened on a machine with no network.

import { mppsChartSpec, OURS_COLOR, ratioChartSpec, renderSvg, RFC_COLOR, spreadChartSpec } from './charts.ts';
import { explainKeys, explainLabel, formatExplain } from './explain-labels.ts';
import { coreWaits, isThreadKey, sharedMachine, sharedMachineBanner, threadGroups, threadKeys } from './cpu.ts';
import { formatMpps, formatRange, formatRatio, formatSig } from './fmt.ts';
import { CASE_LABEL, PAPER_SOURCE, PROG_LABEL, userProgramName, userProgramNote } from './paper.ts';
import { isUserTable, orderedCells, tableRows } from './rows.ts';
import type { Row } from './rows.ts';
import { ABOUT_EQUAL_BAND, FAR_ABOVE_RATIO, rfcGoalLine, shapeVerdict, verdictParts } from './verdict.ts';
import type { Cell, TableReport, UserProgram } from './types.ts';

const ESC: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Everything from the run (CPU names, versions, counter keys) goes through this: it is data. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c] ?? c);
}

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #111827;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 32px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 18px; margin: 36px 0 10px; }
.sub { color: #4b5563; margin: 0 0 20px; }
.verdict { border-radius: 8px; padding: 12px 16px; margin: 16px 0; border: 1px solid; }
.verdict.holds { background: #ecfdf5; border-color: #a7f3d0; }
.verdict.broken { background: #fef2f2; border-color: #fecaca; }
.verdict.incomplete, .verdict.none { background: #fffbeb; border-color: #fde68a; }
.shared { border-radius: 8px; padding: 10px 16px; margin: 0 0 16px; border: 1px solid #fecaca; background: #fef2f2; color: #7f1d1d; font-weight: 600; }
.verdict p { margin: 2px 0; }
.cases { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 14px 16px; }
.card h3 { font-size: 15px; margin: 0 0 6px; }
.card p { margin: 0; color: #374151; font-size: 14px; }
.chart { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 16px; margin: 12px 0; overflow-x: auto; }
.chart svg { display: block; max-width: 100%; height: auto; }
.charts2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 12px; }
.charts2 .chart { margin: 0; }
.legend { display: flex; gap: 18px; font-size: 13px; color: #374151; margin: 0 0 12px; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; vertical-align: -1px; margin-right: 5px; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 14px;
  border: 1px solid #e5e7eb; border-radius: 8px; overflow: hidden; }
th, td { padding: 7px 10px; border-bottom: 1px solid #eef0f3; text-align: right; white-space: nowrap; }
th { background: #f9fafb; font-weight: 600; color: #374151; }
th.l, td.l { text-align: left; }
thead tr.group th { border-bottom: 0; padding-bottom: 0; color: #6b7280; font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
td.good { color: #047857; font-weight: 600; }
td.bad { color: #b91c1c; font-weight: 600; }
td.na, .muted { color: #9ca3af; }
.scroll { overflow-x: auto; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; font-size: 14px; }
dt { color: #6b7280; }
dd { margin: 0; }
.meta { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 12px; }
details summary { cursor: pointer; color: #374151; margin: 8px 0; }
footer { margin-top: 36px; color: #6b7280; font-size: 13px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; }
`;

function td(text: string, cls = ''): string {
  const c = text === 'n/a' ? `${cls} na`.trim() : cls;
  return `<td${c ? ` class="${c}"` : ''}>${escapeHtml(text)}</td>`;
}

function vsPaper(ours: number, paper: number): string {
  return Number.isFinite(ours) && Number.isFinite(paper) ? (ours >= paper ? 'good' : 'bad') : '';
}

function ratioClass(r: Row): string {
  const x = r.ours.ratio;
  if (!Number.isFinite(x) || r.prog === 'user') return '';
  const ok = r.case === 1 ? x >= FAR_ABOVE_RATIO : x >= 1 / ABOUT_EQUAL_BAND && x <= ABOUT_EQUAL_BAND;
  return ok ? 'good' : 'bad';
}

function progCell(prog: Row['prog'], program: UserProgram | undefined): string {
  return prog === 'user' ? `<code>${escapeHtml(userProgramName(program))}</code>` : `<code>${prog}</code> (${PROG_LABEL[prog]})`;
}

function resultsTable(cells: readonly Cell[], program: UserProgram | undefined): string {
  const body = tableRows(cells)
    .map(
      (r) =>
        `<tr><td class="l">${r.case} ${escapeHtml(CASE_LABEL[r.case])}</td><td class="l">${progCell(r.prog, program)}</td>` +
        td(formatMpps(r.ours.native), vsPaper(r.ours.native, r.paper.native)) +
        td(formatMpps(r.ours.offload), vsPaper(r.ours.offload, r.paper.offload)) +
        td(formatRatio(r.ours.ratio, '×'), ratioClass(r)) +
        td(formatMpps(r.paper.native)) +
        td(formatMpps(r.paper.offload)) +
        td(formatRatio(r.paper.ratio, '×')) +
        td(r.native ? formatRange(r.native.min, r.native.max, '–') : 'n/a', 'muted') +
        td(r.offload ? formatRange(r.offload.min, r.offload.max, '–') : 'n/a', 'muted') +
        '</tr>',
    )
    .join('\n');
  return `<div class="scroll"><table>
<thead>
<tr class="group"><th class="l"></th><th class="l"></th><th colspan="3">ours (Mpps)</th><th colspan="3">RFC (Mpps)</th><th colspan="2">spread of runs (min–max)</th></tr>
<tr><th class="l">case</th><th class="l">program</th><th>native</th><th>offload</th><th>off/nat</th><th>native</th><th>offload</th><th>off/nat</th><th>native</th><th>offload</th></tr>
</thead>
<tbody>
${body}
</tbody></table></div>`;
}

function explainTable(cells: readonly Cell[]): string {
  const ordered = orderedCells(cells);
  const keys = explainKeys(ordered.map((c) => c.explain)).filter((k) => !isThreadKey(k));
  const head = keys.map((k) => `<th title="${escapeHtml(explainLabel(k).long)}">${escapeHtml(explainLabel(k).short)}</th>`).join('');
  const body = ordered
    .map((c) => {
      const ok = c.runs.filter((r) => r.balanced).length;
      const balanced = ok === c.runs.length ? td('yes', 'l good') : td(`no (${c.runs.length - ok} of ${c.runs.length})`, 'l bad');
      return (
        `<tr><td class="l">${c.case} <code>${c.prog}</code> ${c.mode}</td>` +
        td(formatMpps(c.mpps)) +
        keys.map((k) => td(formatExplain(k, c.explain[k] ?? NaN))).join('') +
        balanced +
        '</tr>'
      );
    })
    .join('\n');
  const legend = keys.map((k) => `<dt>${escapeHtml(explainLabel(k).short)}</dt><dd>${escapeHtml(explainLabel(k).long)}</dd>`).join('');
  return `<div class="scroll"><table>
<thead><tr><th class="l">cell</th><th>Mpps</th>${head}<th class="l">balanced</th></tr></thead>
<tbody>
${body}
</tbody></table></div>
<details><summary>What the columns mean</summary><dl>${legend}<dt>balanced</dt><dd>every packet sent is accounted for (passed, dropped, bounced or lost) in every run</dd></dl></details>`;
}

/** Where the CPU went: each thread's busy share of one core and its wait for a core (median run). */
function threadTable(cells: readonly Cell[], cores: number): string {
  const ordered = orderedCells(cells);
  const keys = threadKeys(ordered.map((c) => c.explain));
  if (keys.length === 0) return '';
  const groups = threadGroups(keys);
  const groupRow = groups.map((g) => `<th colspan="${g.span}">${escapeHtml(g.name)}</th>`).join('');
  const head = keys.map((k) => `<th title="${escapeHtml(explainLabel(k).long)}">${escapeHtml(explainLabel(k).short)}</th>`).join('');
  const body = ordered
    .map((c) => `<tr><td class="l">${c.case} <code>${c.prog}</code> ${c.mode}</td>${td(formatMpps(c.mpps))}${keys.map((k) => td(formatExplain(k, c.explain[k] ?? NaN))).join('')}</tr>`)
    .join('\n');
  return `<h3>Where the CPU went</h3>
<p class="muted">Share of one core per thread over the measured window, from the kernel's schedstat; the machine has ${cores} cores. A thread waiting for a core is runnable while others hold both. The CPU probe is the same loop timed on each thread during the run (and <i>probe ms</i> on the main thread just before it): more time, a slower CPU under that thread, as when another tenant shares the physical core.</p>
<div class="scroll"><table>
<thead><tr><th class="l" rowspan="2">cell</th><th rowspan="2">Mpps</th>${groupRow}</tr>
<tr>${head}</tr></thead>
<tbody>
${body}
</tbody></table></div>${waitsLine(ordered)}`;
}

function waitsLine(cells: readonly Cell[]): string {
  const waits = coreWaits(cells);
  const shared = sharedMachine(cells);
  return (waits.length === 0 ? '' : `\n<p>Waited for a core: ${escapeHtml(waits.join('; '))}.</p>`) +
    (shared.length === 0 ? '' : `\n<p><b>Shared the machine</b> (these figures measure its load too): ${escapeHtml(shared.join('; '))}.</p>`);
}

function runsTable(cells: readonly Cell[]): string {
  const body = orderedCells(cells)
    .flatMap((c) =>
      c.runs.map(
        (r, i) =>
          `<tr><td class="l">${c.case} <code>${c.prog}</code> ${c.mode}</td>${td(String(i + 1))}${td(formatMpps(r.mpps))}` +
          `${td(formatSig(r.packets))}${td(formatSig(r.seconds))}${td(r.balanced ? 'yes' : 'no', r.balanced ? 'l' : 'l bad')}</tr>`,
      ),
    )
    .join('\n');
  return `<details><summary>Every run</summary><div class="scroll"><table>
<thead><tr><th class="l">cell</th><th>run</th><th>Mpps</th><th>packets</th><th>seconds</th><th class="l">balanced</th></tr></thead>
<tbody>
${body}
</tbody></table></div></details>`;
}

function dl(entries: readonly [string, string][]): string {
  return `<dl>${entries.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`;
}

function metaSection(report: TableReport): string {
  const m = report.machine;
  const o = report.options;
  const machine = dl([
    ['CPU', m.cpu],
    ['cores', String(m.cores)],
    ['Node', m.node],
    ['platform', m.platform],
    ['kernel', m.kernel],
  ]);
  const options = dl([
    ['runs per cell', String(o.repeat)],
    ['warm-up', `${o.warmup} s`],
    ['measured window', `${o.duration} s`],
    ['line rate', o.lineRate ?? 'uncapped'],
    ['vhost busy-poll', o.vhostPollUs > 0 ? `${o.vhostPollUs} µs` : 'off'],
    ['engine', o.engine],
    ...(o.queues !== undefined ? ([['queues', String(o.queues)]] as [string, string][]) : []),
    ['started', report.started],
    ['vxo', report.vxo_version],
  ]);
  return `<div class="meta"><div class="card"><h3>Machine</h3>${machine}</div><div class="card"><h3>Options</h3>${options}</div></div>`;
}

const CASES_HTML = `<div class="cases">
<div class="card"><h3>Case 1: redirected into the tap</h3><p>The host NIC's XDP program <code>XDP_REDIRECT</code>s frames into the tap. They arrive in batches (<code>tun_xdp_xmit</code>), one vhost wake-up per batch, so moving the guest's program to the tap (offload) saves a guest crossing per packet.</p></div>
<div class="card"><h3>Case 2: through the bridge</h3><p>Packets reach the tap one at a time via the bridge (<code>tun_net_xmit</code>), each followed by a wake-up of vhost. In the RFC's kernel the host stack made the producer slower than vhost, so vhost slept after each packet and every packet paid a wake-up: offload and native ended up about equal, native slightly ahead. Whether that happens here shows in the pkts/wake column.</p></div>
<div class="card"><h3>Programs and modes</h3><p><code>xdp1</code> counts per IP protocol and drops (<code>XDP_DROP</code>); <code>xdp2</code> swaps MACs and bounces (<code>XDP_TX</code>), the tap's Rx-path program dropping the bounced frames. <b>native</b>: the program runs in the guest's virtio_net driver; <b>offload</b>: in the tap's Tx path on the host.</p></div>
</div>`;

function legend(): string {
  const item = (color: string, text: string): string => `<span><span class="swatch" style="background:${color}"></span>${text}</span>`;
  return `<div class="legend">${item(OURS_COLOR, 'ours (median; black line: min–max of runs)')}${item(RFC_COLOR, 'RFC')}</div>`;
}

/** The verdict on the RFC's shape, or for the user's program why there is none. */
function verdictBlock(report: TableReport): string {
  if (report.program !== undefined || isUserTable(report.cells)) {
    const ratios = tableRows(report.cells).filter((r) => r.prog === 'user').map((r) => `Case ${r.case} ${formatRatio(r.ours.ratio, '×')}`);
    return `<div class="verdict none">
<p><b>No verdict on the RFC's shape.</b></p>
<p>${escapeHtml(userProgramNote(report.program))}</p>
<p>Offload/native with your program: ${escapeHtml(ratios.join(', '))}.</p>
</div>`;
  }
  const v = shapeVerdict(report.cells);
  const parts = verdictParts(v);
  return `<div class="verdict ${v.status}">
<p><b>${escapeHtml(parts.head)}.</b></p>
${parts.cases.map((c) => `<p>${escapeHtml(c)}</p>`).join('\n')}
<p>${escapeHtml(rfcGoalLine(v))}.</p>
</div>`;
}

/**
 * The report's body: the verdict, the charts and the tables, with its title at `h` (h1 on its own
 * page, h2 as a section of `vxo table --suite all`'s page, its subheadings one level below).
 */
export async function offloadBody(report: TableReport, h: 1 | 2 = 1): Promise<string> {
  const banner = sharedMachineBanner(orderedCells(report.cells));
  const [mpps, ratios, spread] = await Promise.all([
    renderSvg(mppsChartSpec(report.cells)),
    renderSvg(ratioChartSpec(report.cells)),
    renderSvg(spreadChartSpec(report.cells)),
  ]);
  const m = report.machine;
  const sub = `h${h + 1}`;
  return `${banner !== undefined ? `<p class="shared">${escapeHtml(banner)}</p>\n` : ''}<h${h}>${escapeHtml(offloadTitle(report))}</h${h}>
<p class="sub">vxo ${escapeHtml(report.vxo_version)} · single flow, 64-byte frames · median of ${report.options.repeat} run${report.options.repeat === 1 ? '' : 's'} per cell · ${escapeHtml(m.cpu)}, ${m.cores} cores · ${escapeHtml(report.started)}</p>

${verdictBlock(report)}

${CASES_HTML}

<${sub}>Throughput per cell</${sub}>
${resultsTable(report.cells, report.program)}
<div class="chart">${legend()}${mpps}</div>

<div class="charts2">
<div class="chart">${ratios}</div>
<div class="chart">${spread}</div>
</div>

<${sub}>What explains each cell</${sub}>
<p class="muted">Counters of each cell's median run.</p>
${explainTable(report.cells)}
${threadTable(report.cells, m.cores)}
${runsTable(report.cells)}

<${sub}>Machine and options</${sub}>
${metaSection(report)}`;
}

function offloadTitle(report: TableReport): string {
  const user = report.program !== undefined || isUserTable(report.cells);
  return user ? `virtio-net XDP offload: ${userProgramName(report.program)}` : 'virtio-net XDP offload: ours vs the RFC';
}

/** The offload report's stylesheet, for a page that embeds its body (`--suite all`). */
export const OFFLOAD_STYLE = STYLE;

/** The whole report page. Async because vega renders its scenegraph asynchronously. */
export async function toHtml(report: TableReport): Promise<string> {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vxo ${escapeHtml(report.vxo_version)}: ${escapeHtml(offloadTitle(report))}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${await offloadBody(report)}

<footer>RFC figures: ${escapeHtml(PAPER_SOURCE)}. Generated by vxo; this file is self-contained and opens offline.</footer>
</main>
</body>
</html>
`;
}

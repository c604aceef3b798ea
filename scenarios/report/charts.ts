// The HTML report's charts: vega-lite specs rendered to SVG strings in Node at build time, so the
// page needs no script, no network and no chart library when it is opened. vega and vega-lite are
// large: they are loaded on the first render, so only a run that writes an HTML report pays for
// them (the specs are plain data and need neither).

import type { TopLevelSpec } from 'vega-lite';
import { formatMpps, formatRatio } from './fmt.ts';
import { CASE_LABEL, PROG_LABEL } from './paper.ts';
import { tableRows } from './rows.ts';
import type { Cell } from './types.ts';

export const OURS_COLOR = '#2563eb';
export const RFC_COLOR = '#a3aab6';
/** The reports' font stack and Vega-Lite config, shared by the offload table's charts and the suites'. */
export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

export const CHART_CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: null },
  axis: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 600, labelColor: '#374151', titleColor: '#374151', gridColor: '#e5e7eb', domainColor: '#9ca3af', tickColor: '#9ca3af' },
  legend: { labelFontSize: 12, titleFontSize: 12, orient: 'top', title: null, labelLimit: 320 },
  header: { labelFontSize: 13, labelFontWeight: 600, labelColor: '#111827', title: null },
  title: { fontSize: 14, fontWeight: 600, anchor: 'start', color: '#111827', offset: 12 },
} as const;

const SOURCE_SCALE = { domain: ['ours', 'RFC'], range: [OURS_COLOR, RFC_COLOR] };

/** Render one vega-lite spec to an SVG string, headless (no canvas, no DOM). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Figures further apart than this factor go on a log axis (the suites' charts use the same rule). */
export const LOG_SCALE_SPAN = 10;

/** Whether the positive figures span more than LOG_SCALE_SPAN (only positive figures can be on a log axis). */
/** A power of ten, exactly as written (10 ** -4 is 0.00009999999999999999). */
const pow10 = (k: number): number => Number(`1e${k}`);

/** A log axis's floor: the power of ten strictly below the smallest figure, so its bar has a height. */
export function logFloor(min: number): number {
  return pow10(Math.ceil(Math.log10(min)) - 1);
}

/** The powers of ten from `lo` (one) to the first at or above `hi`: a log axis's ticks and grid, without the minor lines between. */
export function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = Math.round(Math.log10(lo)); out.length < 16; k++) {
    out.push(pow10(k));
    if (pow10(k) >= hi) break;
  }
  return out;
}

export function spansOrders(values: readonly (number | null)[]): boolean {
  const pos = values.filter((x): x is number => x !== null && Number.isFinite(x) && x > 0);
  return pos.length >= 2 && Math.max(...pos) / Math.min(...pos) > LOG_SCALE_SPAN;
}

const CASE_PANEL = (c: 1 | 2): string => `Case ${c}: ${CASE_LABEL[c]}`;

/**
 * Ours vs the RFC for every cell, one panel per case. Each case gets its own y scale: Case 1
 * offload reaches ~13 Mpps while Case 2 sits near 1, and on a shared scale Case 2's bars (the
 * interesting "about equal" comparison) would be slivers; a log scale would hide the ratio.
 */
export function mppsChartSpec(cells: readonly Cell[]): TopLevelSpec {
  const rows = tableRows(cells);
  const values = rows.flatMap((r) =>
    (['native', 'offload'] as const).flatMap((mode) => {
      const cell = r[mode];
      const x = `${r.prog} ${mode}`;
      const panel = CASE_PANEL(r.case);
      return [
        { panel, x, source: 'ours', mpps: r.ours[mode], label: formatMpps(r.ours[mode]), min: cell?.min ?? NaN, max: cell?.max ?? NaN },
        // The user's program has no RFC bar at all (not an empty one labelled n/a).
        ...(r.prog === 'user' ? [] : [{ panel, x, source: 'RFC', mpps: r.paper[mode], label: formatMpps(r.paper[mode]), min: NaN, max: NaN }]),
      ].map((v) => ({
        ...v,
        mpps: finiteOrNull(v.mpps),
        min: finiteOrNull(v.min),
        max: finiteOrNull(v.max),
        // The value label sits above the whisker, not on it.
        top: finiteOrNull(Math.max(v.mpps, Number.isFinite(v.max) ? v.max : -Infinity)),
      }));
    }),
  );
  const order = [...new Set(rows.map((r) => r.prog))].flatMap((p) => [`${p} native`, `${p} offload`]);
  const x = { field: 'x', type: 'nominal', sort: order, title: null, axis: { labelAngle: 0, labelPadding: 6 } } as const;
  // Ours and the RFC orders of magnitude apart within a case (a loaded machine, a broken path): on a
  // linear axis one of the two is a sliver, so the chart goes log; the ratio chart still shows the ratio.
  const log = (['Case 1', 'Case 2'] as const).some((c) => spansOrders(values.filter((v) => v.panel.startsWith(c)).flatMap((v) => [v.mpps, v.min, v.max])));
  const positive = values.flatMap((v) => [v.mpps, v.min, v.max]).filter((x): x is number => x !== null && x > 0);
  const floor = log ? logFloor(Math.min(...positive)) : 0;
  const plotted = log ? values.map((v) => ({ ...v, mpps: v.mpps !== null && v.mpps > 0 ? v.mpps : null, top: v.top !== null && v.top > 0 ? v.top : floor })) : values;
  return {
    config: CHART_CONFIG,
    data: { values: plotted },
    facet: { column: { field: 'panel', type: 'nominal', sort: [CASE_PANEL(1), CASE_PANEL(2)], header: { labelAnchor: 'start', labelPadding: 8 } } },
    resolve: { scale: { y: 'independent' } },
    spacing: 48,
    spec: {
      width: 440,
      height: 260,
      encoding: { x, xOffset: { field: 'source', type: 'nominal', sort: ['ours', 'RFC'] } },
      layer: [
        {
          mark: { type: 'bar', cornerRadiusEnd: 2 },
          encoding: {
            y: log
              ? { field: 'mpps', type: 'quantitative', title: 'Mpps (log scale)', scale: { type: 'log', domainMin: floor }, axis: { values: decades(floor, Math.max(...positive)), format: '~g' } }
              : { field: 'mpps', type: 'quantitative', title: 'Mpps', axis: { tickCount: 6 } },
            // A log axis has no zero: the bars rise from its floor.
            ...(log ? { y2: { datum: floor } } : {}),
            // The page draws this legend itself, with a note on the min-max whiskers.
            color: { field: 'source', type: 'nominal', scale: SOURCE_SCALE, legend: null },
          },
        },
        {
          mark: { type: 'rule', color: '#111827', strokeWidth: 1.5 },
          encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } },
        },
        {
          mark: { type: 'text', dy: -7, fontSize: 11, color: '#374151' },
          encoding: { y: { field: 'top', type: 'quantitative' }, text: { field: 'label' } },
        },
      ],
    },
  };
}

/** offload/native per case x program, ours beside the RFC's, against the "equal" line at 1. */
export function ratioChartSpec(cells: readonly Cell[]): TopLevelSpec {
  const values = tableRows(cells).flatMap((r) => {
    // Two lines ("Case 1" / "xdp1 DROP"): four one-line labels do not fit under their bars.
    const x = r.prog === 'user' ? `Case ${r.case}|${PROG_LABEL.user}` : `Case ${r.case}|${r.prog} ${PROG_LABEL[r.prog]}`;
    return [
      { x, source: 'ours', ratio: Number.isFinite(r.ours.ratio) ? r.ours.ratio : null, label: formatRatio(r.ours.ratio, '×') },
      ...(r.prog === 'user' ? [] : [{ x, source: 'RFC', ratio: r.paper.ratio, label: formatRatio(r.paper.ratio, '×') }]),
    ];
  });
  return {
    config: CHART_CONFIG,
    title: 'offload / native',
    width: 430,
    height: 240,
    layer: [
      {
        data: { values },
        encoding: {
          x: { field: 'x', type: 'nominal', title: null, sort: null, axis: { labelAngle: 0, labelPadding: 6, labelExpr: "split(datum.label, '|')", labelLineHeight: 15 } },
          xOffset: { field: 'source', type: 'nominal', sort: ['ours', 'RFC'] },
        },
        layer: [
          {
            mark: { type: 'bar', cornerRadiusEnd: 2 },
            encoding: {
              y: { field: 'ratio', type: 'quantitative', title: 'offload ÷ native' },
              color: { field: 'source', type: 'nominal', scale: SOURCE_SCALE },
            },
          },
          {
            mark: { type: 'text', dy: -7, fontSize: 11, color: '#374151' },
            encoding: { y: { field: 'ratio', type: 'quantitative' }, text: { field: 'label' } },
          },
        ],
      },
      {
        data: { values: [{ y: 1 }] },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#dc2626' },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
    ],
  };
}

/**
 * Each run's deviation from its cell's median, in percent. Relative rather than Mpps so that
 * Case 2's ~1 Mpps cells and Case 1's ~13 Mpps cells share one readable axis.
 */
export function spreadChartSpec(cells: readonly Cell[]): TopLevelSpec {
  const ordered = tableRows(cells).flatMap((r) => [r.native, r.offload]).filter((c): c is Cell => c !== undefined);
  const names = ordered.map((c) => `${c.case} ${c.prog} ${c.mode}`);
  const values = ordered.flatMap((c, i) =>
    c.runs
      .filter((r) => Number.isFinite(r.mpps) && c.mpps > 0)
      .map((r, j) => ({ cell: names[i], mode: c.mode, run: j + 1, dev: ((r.mpps - c.mpps) / c.mpps) * 100 })),
  );
  // Symmetric around 0 so the median sits mid-chart and runs above and below read alike.
  const reach = Math.max(1, ...values.map((v) => Math.abs(v.dev)));
  const limit = Math.ceil(reach * 1.1);
  const y = { field: 'cell', type: 'nominal', sort: names, title: null } as const;
  return {
    config: CHART_CONFIG,
    title: 'runs around the median (%)',
    width: 400,
    height: { step: 26 },
    layer: [
      {
        data: { values },
        mark: { type: 'rule', color: '#9ca3af', strokeWidth: 2 },
        encoding: {
          y,
          x: { aggregate: 'min', field: 'dev', type: 'quantitative' },
          x2: { aggregate: 'max', field: 'dev' },
        },
      },
      {
        data: { values },
        mark: { type: 'circle', size: 60, opacity: 0.85 },
        encoding: {
          y,
          x: {
            field: 'dev',
            type: 'quantitative',
            title: 'run Mpps vs cell median (%)',
            scale: { domain: [-limit, limit], nice: false },
            axis: { format: '+.1~f', tickCount: 5 },
          },
          color: { field: 'mode', type: 'nominal', scale: { domain: ['native', 'offload'], range: ['#0d9488', OURS_COLOR] }, legend: { orient: 'top' } },
        },
      },
      {
        data: { values: [{ x: 0 }] },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#6b7280' },
        encoding: { x: { field: 'x', type: 'quantitative' } },
      },
    ],
  };
}

// The suites' renderers on a synthetic SuiteReport (no runs): the terminal table's columns, the JSON
// round trip (NaN written as null, read back as NaN), the HTML page with its charts' SVG.
import test from 'ava';
import { parseSuiteJson, suiteJson, suiteJsonText, suitesJsonText, checkSuiteJson } from '../../scenarios/suite/render-json.ts';
import { describeCells, formatDelta, formatPubRatio, groupedNotes, renderSuiteText, sharedSummary, splitFindings } from '../../scenarios/suite/render-text.ts';
import { suiteDeltaChartSpec, suiteHtml, suitesHtml, suiteValueChartSpec, wantsLogScale } from '../../scenarios/suite/render-html.ts';
import { buildSuiteCell, isFailedRun, runSuite, withDeltas } from '../../scenarios/suite/run-suite.ts';
import type { Suite, SuiteCellSpec, SuiteReport, SuiteRun } from '../../scenarios/suite/types.ts';
import { mppsChartSpec, spansOrders } from '../../scenarios/report/charts.ts';
import { syntheticCells } from '../report/synthetic.ts';

const run = (value: number, balanced = true): SuiteRun => ({
  value, seconds: 1, balanced, counters: { pktgen_generated: value * 2, guest_rx_frames: value },
  explain: { ns_per_packet: value > 0 ? 1e9 / value : NaN, cpu_other: 0.02 }, cpu: { cpu_guest: 0.97, cpu_vhost: 0.4 },
});

const spec = (row: string, column: string, published: SuiteCellSpec['published'] = []): SuiteCellSpec => ({
  id: `${row}/${column}`, row, column, metric: 'rx', unit: 'pps', published,
});

function report(): SuiteReport {
  const cells = withDeltas([
    buildSuiteCell(spec('udp4', 'base', [{ source: 'v1 (5.6.3)', value: 2_738_662, spread: 0.002 }, { source: 'v5 re-run', value: 3_000_000 }]), [run(1e6), run(1.2e6), run(0.9e6)]),
    { ...buildSuiteCell(spec('udp4', 'prog', [{ source: 'v1 (5.6.3)', value: 2_600_000, delta: -0.05 }]), [run(0.8e6), run(0.85e6), run(NaN, false)]), notes: ['offload refused: helper bpf_sk_lookup_udp#85 cannot be offloaded'] },
    buildSuiteCell(spec('syn4', 'base'), [run(5e5)]),
  ], 'base');
  return {
    suite: 'xdp-sk', title: 'synthetic suite', source: 'a test', rows: ['udp4', 'syn4'], columns: ['base', 'prog'], baseline: 'base',
    cells, findings: ['a finding from the counters'], balanced: false,
    machine: { cpu: 'test CPU', cores: 2, node: 'v20', platform: 'linux x64', kernel: '6' },
    options: { duration: 0.1, warmup: 0, repeat: 3, engine: 'jit' }, started: '2026-12-07T00:00:00.000Z', vxo_version: '0.1.0',
  };
}

test('runner pieces: median, min and max of the runs, the delta against the row\'s baseline, notes kept', (t) => {
  const r = report();
  const base = r.cells[0]!, prog = r.cells[1]!;
  t.is(base.median, 1e6);
  t.is(base.min, 0.9e6);
  t.is(base.max, 1.2e6);
  t.is(base.delta, undefined);
  t.is(prog.median, 0.825e6, 'the NaN run is left out of the median');
  t.is(prog.delta, 0.825 - 1);
  t.is(r.cells[2]!.delta, undefined, 'syn4 has no prog cell, and its base is the baseline');
  t.is(formatDelta(prog.delta), '-17.5%');
});

test('text: the grid (rows x columns), each cell beside every published figure with the ratio, spread, deltas, balance, notes, findings, CPU', (t) => {
  const text = renderSuiteText(report(), { charset: 'ascii' });
  t.regex(text, /base \(baseline\)/);
  t.regex(text, /udp4\s*\|\s*pps\s*\|\s*1\.00M\s*\|\s*825k \(-17\.5%\) !/);
  t.regex(text, /v1 \(5\.6\.3\)\s*\|\s*2\.74M\s*\|\s*±0\.2%/);
  t.regex(text, /v5 re-run\s*\|\s*3\.00M/);
  t.regex(text, /0\.37x/, 'ours/published for the baseline cell: 1.00M / 2.74M');
  t.regex(text, /-5\.0%/, 'the published delta');
  t.regex(text, /NO 2\/3/);
  t.regex(text, /udp4\/prog: offload refused: helper bpf_sk_lookup_udp#85/);
  t.regex(text, /- a finding from the counters/);
  t.regex(text, /guest\s*\|\s*vhost/);
  t.regex(text, /97%/);
  t.regex(text, /NOT BALANCED: udp4\/prog/);
});

test('JSON: the report as it is, NaN written as null and read back as NaN; a broken document is refused with its paths', (t) => {
  const r = report();
  const j = suiteJson(r);
  t.is(j.cells[1]!.runs[2]!.value, null);
  t.is(j.cells[2]!.runs[0]!.value, 5e5);
  const text = suiteJsonText(r);
  t.notRegex(text, /NaN/);
  t.deepEqual(checkSuiteJson(JSON.parse(text)), []);
  const back = parseSuiteJson(text);
  t.true(Number.isNaN(back.cells[1]!.runs[2]!.value));
  t.is(back.cells[1]!.median, 0.825e6);
  t.deepEqual(back.cells[0]!.published, r.cells[0]!.published);
  t.deepEqual(back.findings, r.findings);
  t.is(renderSuiteText(back), renderSuiteText(r), 'a saved report renders as the live one');
  const all = JSON.parse(suitesJsonText(undefined, [r, r])) as { suites: unknown[] };
  t.is(all.suites.length, 2);
  const bad = JSON.parse(text) as Record<string, unknown>;
  bad['suite'] = 'offload';
  (bad['cells'] as Record<string, unknown>[])[0]!['median'] = 'x';
  const errs = checkSuiteJson(bad);
  t.true(errs.some((e) => e.startsWith('$.suite')));
  t.true(errs.some((e) => e.startsWith('$.cells[0].median')));
  t.throws(() => parseSuiteJson(JSON.stringify(bad)), { code: 'EINVAL' });
});

test('HTML: one self-contained page with the charts\' SVG, the table and the findings', async (t) => {
  const html = await suiteHtml(report());
  t.regex(html, /^<!doctype html>/);
  t.true((html.match(/<svg/g) ?? []).length >= 2, 'the values chart and the delta chart');
  t.regex(html, /v5 re-run/);
  t.regex(html, /a finding from the counters/);
  t.regex(html, /offload refused: helper bpf_sk_lookup_udp#85/);
  t.notRegex(html, /<script|https?:\/\/(?!www\.w3\.org)/);
  const all = await suitesHtml(undefined, [report()]);
  t.regex(all, /id="xdp-sk"/);
  t.regex(all, /<nav class="toc">Suites: <a href="#xdp-sk">xdp-sk<\/a> <span class="bad">\(not balanced\)<\/span><\/nav>/);
  t.is((html.match(/synthetic suite/g) ?? []).length, 2, 'a one-suite page says its title once as a heading (and in <title>)');
});

test('a run that throws is recorded and the suite goes on: the other cells keep their figures, the report says which failed and why', async (t) => {
  const specs = [spec('udp4', 'base'), spec('udp4', 'prog'), spec('syn4', 'base')];
  const suite: Suite = {
    id: 'xdp-sk', title: 'failing suite', source: 'a test', rows: ['udp4', 'syn4'], columns: ['base', 'prog'], baseline: 'base',
    cells: () => specs,
    run: async (c) => {
      if (c.id === 'udp4/prog') throw Object.assign(new Error('worker guest exited with code 1'), { code: 'EIO' });
      return run(c.row === 'udp4' ? 1e6 : 5e5);
    },
    findings: (cells) => cells.map((c) => `${c.id}: median ${c.median.toFixed(0)}`),
  };
  const lines: string[] = [];
  const r = await runSuite(suite, { duration: 0.1, warmup: 0, repeat: 2, engine: 'jit', progress: true, stream: { isTTY: false, write: (x) => lines.push(x) > 0 } });
  t.true(lines.includes('vxo table: xdp-sk udp4/prog run 2/2 failed: worker guest exited with code 1 (EIO)\n'), 'said on the progress stream as it happens');
  t.is(r.cells.length, 3, 'every cell is in the report');
  t.is(r.cells[0]!.median, 1e6);
  t.is(r.cells[2]!.median, 5e5, 'the cell after the failure still ran');
  const failed = r.cells[1]!;
  t.is(failed.runs.length, 2);
  t.true(failed.runs.every(isFailedRun));
  t.true(Number.isNaN(failed.median));
  t.deepEqual(failed.notes, ['run failed: worker guest exited with code 1 (EIO)'], 'one note for the two identical failures');
  t.false(r.balanced);
  const text = renderSuiteText(r, { charset: 'ascii' });
  t.regex(text, /failed runs \(no figure; the other cells ran\)\n {2}udp4\/prog \(2 of 2 runs failed\): worker guest exited with code 1 \(EIO\)/);
  t.regex(text, /udp4\s*\|\s*pps\s*\|\s*1\.00M\s*\|\s*failed/);
  t.regex(text, /FAILED 2\/2/);
  t.regex(text, /FAILED: udp4\/prog \(a run threw/);
  t.notRegex(text, /NOT BALANCED/, 'the failed cell is not reported as an unbalanced ledger');
  t.notRegex(text, /^\s+udp4\/prog: run failed/m, 'the failure is not repeated among the notes');
  const back = parseSuiteJson(suiteJsonText(r));
  t.true(isFailedRun(back.cells[1]!.runs[0]!), 'a saved report keeps the failure');
});

test('text: ratios far below 1 keep two significant digits; notes shared by a column print once; shared-machine warning summarised; no published columns when no cell has one', (t) => {
  t.is(formatPubRatio(16.9 / 9403), '0.0018x');
  t.is(formatPubRatio(0.366), '0.37x');
  t.is(formatPubRatio(NaN), 'n/a');
  const r = report();
  const noted: SuiteReport = { ...r, cells: r.cells.map((c) => ({ ...c, notes: c.column === 'base' ? ['vhost reads the ring'] : c.notes })) };
  t.deepEqual(groupedNotes(noted).map((n) => n.cells), ['base column', 'udp4/prog']);
  t.is(describeCells(noted, ['udp4/base', 'udp4/prog']), 'udp4');
  t.regex(renderSuiteText(noted), /\n {2}base column: vhost reads the ring\n/);
  const loaded: SuiteReport = { ...r, cells: r.cells.map((c, i) => ({ ...c, explain: { ...c.explain, cpu_other: 0.5 + i * 0.25 } })) };
  t.is(sharedSummary(loaded), 'other processes took 50%-100% of a core in every cell (3): those figures measure that load as well as vxo');
  t.is(sharedSummary(r), undefined);
  const bare: SuiteReport = { ...r, cells: r.cells.map((c) => ({ ...c, published: [] })) };
  const text = renderSuiteText(bare, { charset: 'ascii' });
  t.notRegex(text, /\| published|ours\/pub/);
  t.regex(text, /delta: against the row's base cell; the source published no figures\./);
  const split = splitFindings({ cells: r.cells, findings: ['udp4/base: its counters', 'a conclusion'] });
  t.deepEqual(split, { general: ['a conclusion'], perCell: ['udp4/base: its counters'] });
});

test('HTML charts: a log scale when a row\'s figures are orders apart, bars side by side without gaps, deltas as horizontal bars', (t) => {
  t.true(wantsLogScale([1.61, 89.4]));
  t.false(wantsLogScale([1e6, 2.7e6]));
  t.false(wantsLogScale([0, 0]));
  const r = report();
  // udp4: ours 1.0M beside 2.7M/3.0M: linear. A row 100x below its published figure: log.
  const far: SuiteReport = { ...r, cells: r.cells.map((c) => (c.row === 'udp4' ? { ...c, median: c.median / 100, min: c.min / 100, max: c.max / 100 } : c)) };
  const yScale = (spec: ReturnType<typeof suiteValueChartSpec>, i: number): unknown => {
    const panels = (spec as { concat: { layer: { encoding: { y?: { scale?: unknown } } }[] }[] }).concat;
    return panels[i]!.layer[0]!.encoding.y?.scale;
  };
  t.like(yScale(suiteValueChartSpec(far), 0), { type: 'log' });
  t.like(yScale(suiteValueChartSpec(far), 1), { zero: true }, 'each row decides its own axis: the other row stays linear');
  t.like(yScale(suiteValueChartSpec(r), 0), { zero: true });
  const values = (suiteValueChartSpec(r) as { concat: { data: { values: { x: string; slot: number; source: string }[] } }[] }).concat[0]!.data.values;
  t.deepEqual(values.filter((v) => v.x === 'prog').map((v) => [v.slot, v.source]), [[0, 'ours'], [1, 'v1 (5.6.3)']], 'the prog column\'s one published bar sits next to ours');
  const delta = suiteDeltaChartSpec(r) as { layer: { encoding?: { y?: { field: string } } }[] };
  t.is(delta.layer[0]!.encoding?.y?.field, 'y', 'one bar row per cell, labels on the y axis');
});

test('the offload chart goes log only when ours and the RFC are orders apart (a loaded machine\'s 0.003 Mpps against 12.9)', (t) => {
  t.true(spansOrders([0.0035, 12.9]));
  t.false(spansOrders([2.4, 2.46, null, 0]));
  const yOf = (spec: ReturnType<typeof mppsChartSpec>): { title?: string; scale?: { type?: string } } =>
    (spec as { spec: { layer: { encoding: { y: { title?: string; scale?: { type?: string } } } }[] } }).spec.layer[0]!.encoding.y;
  t.is(yOf(mppsChartSpec(syntheticCells())).scale?.type, undefined, 'the synthetic table is near the RFC: linear');
  const starved = syntheticCells().map((c) => ({ ...c, mpps: c.mpps / 1000, min: c.min / 1000, max: c.max / 1000 }));
  t.is(yOf(mppsChartSpec(starved)).scale?.type, 'log');
  t.is(yOf(mppsChartSpec(starved)).title, 'Mpps (log scale)');
});

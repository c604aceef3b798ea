// The suites' renderers on a synthetic SuiteReport (no runs): the terminal table's columns, the JSON
// round trip (NaN written as null, read back as NaN), the HTML page with its charts' SVG.
import test from 'ava';
import { parseSuiteJson, suiteJson, suiteJsonText, suitesJsonText, checkSuiteJson } from '../../scenarios/suite/render-json.ts';
import { formatDelta, renderSuiteText } from '../../scenarios/suite/render-text.ts';
import { suiteHtml, suitesHtml } from '../../scenarios/suite/render-html.ts';
import { buildSuiteCell, withDeltas } from '../../scenarios/suite/run-suite.ts';
import type { SuiteCellSpec, SuiteReport, SuiteRun } from '../../scenarios/suite/types.ts';

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
});

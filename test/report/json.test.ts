// The --json document's shape, from synthetic (made-up) runs; see synthetic.ts.
import test from 'ava';
import { ReportError } from '../../scenarios/report/errors.ts';
import { checkTableJson, parseTableJson, toJson, toJsonText, verdictJson } from '../../scenarios/report/json.ts';
import { shapeVerdict } from '../../scenarios/report/verdict.ts';
import { syntheticCells, syntheticReport, syntheticUserCells } from './synthetic.ts';

/** A fresh, plain-JSON copy of the synthetic report, as a file reader would see it. */
function doc(): Record<string, any> {
  return JSON.parse(toJsonText(syntheticReport()));
}

test('the synthetic report passes the checker, complete', (t) => {
  t.deepEqual(checkTableJson(doc(), { complete: true }), []);
  t.deepEqual(checkTableJson(toJson(syntheticReport())), []);
});

test('the documented keys, in order', (t) => {
  const d = doc();
  t.deepEqual(Object.keys(d), ['cells', 'machine', 'options', 'started', 'vxo_version', 'verdict', 'shared_machine', 'shared_cells']);
  t.deepEqual(Object.keys(d.cells[0]), ['case', 'prog', 'mode', 'mpps', 'min', 'max', 'runs', 'paper_mpps', 'explain']);
  t.deepEqual(Object.keys(d.cells[0].runs[0]), ['mpps', 'packets', 'seconds', 'balanced', 'explain', 'counters']);
  t.deepEqual(Object.keys(d.machine), ['cpu', 'cores', 'node', 'platform', 'kernel']);
  t.is(d.cells.length, 8);
  t.is(d.cells[1].paper_mpps, 12.9);
});

test('NaN counters are written as null and read back as NaN', (t) => {
  const d = doc();
  const c2 = d.cells.find((c: { case: number }) => c.case === 2);
  t.is(c2.explain.ring_full_drops_per_sec, null);
  const back = parseTableJson(toJsonText(syntheticReport()));
  const cell = back.cells.find((c) => c.case === 2)!;
  t.true(Number.isNaN(cell.explain.ring_full_drops_per_sec));
  t.is(cell.mpps, syntheticReport().cells.find((c) => c.case === 2)!.mpps);
  t.deepEqual(toJson(back), toJson(syntheticReport()));
});

test('extra runtime properties on a cell do not leak into the file', (t) => {
  const r = syntheticReport();
  Object.assign(r.cells[0]!, { internal: 'x' });
  t.false('internal' in toJson(r).cells[0]!);
});

const broken: [string, (d: Record<string, any>) => void, RegExp][] = [
  ['missing cell mpps', (d) => delete d.cells[0].mpps, /\$\.cells\[0\]\.mpps: missing/],
  ['mpps as a string', (d) => (d.cells[0].mpps = '2.6'), /\$\.cells\[0\]\.mpps: expected a number or null, got string/],
  ['unknown program', (d) => (d.cells[2].prog = 'xdp3'), /\$\.cells\[2\]\.prog: expected one of/],
  ['case as a string', (d) => (d.cells[0].case = '1'), /\$\.cells\[0\]\.case: expected one of 1, 2/],
  ['unknown mode', (d) => (d.cells[0].mode = 'generic'), /\$\.cells\[0\]\.mode/],
  ['runs missing', (d) => delete d.cells[3].runs, /\$\.cells\[3\]\.runs: missing/],
  ['runs empty', (d) => (d.cells[3].runs = []), /\$\.cells\[3\]\.runs: expected at least one run/],
  ['run balanced not boolean', (d) => (d.cells[0].runs[1].balanced = 'yes'), /runs\[1\]\.balanced: expected a boolean/],
  ['run packets fractional', (d) => (d.cells[0].runs[0].packets = 1.5), /runs\[0\]\.packets: expected an integer/],
  ['explain key missing', (d) => delete d.cells[4].explain.tap_batch_avg, /\$\.cells\[4\]\.explain\.tap_batch_avg: missing/],
  ['explain value a string', (d) => (d.cells[4].explain.copies_per_packet = '1'), /explain\.copies_per_packet: expected a number or null/],
  ['counter a boolean', (d) => (d.cells[0].runs[0].counters.x = true), /counters\.x: expected a number or null/],
  ['paper figure wrong', (d) => (d.cells[0].paper_mpps = 3), /paper_mpps: the RFC's figure for 1\/xdp1\/native is 2.46, got 3/],
  ['median outside min..max', (d) => (d.cells[0].min = 99), /expected min <= mpps <= max/],
  ['duplicate cell', (d) => d.cells.push(d.cells[0]), /\$\.cells\[8\]: cell 1\/xdp1\/native appears twice/],
  ['machine missing', (d) => delete d.machine, /\$\.machine: missing/],
  ['cores a string', (d) => (d.machine.cores = '2'), /\$\.machine\.cores: expected an integer, got string/],
  ['lineRate a number', (d) => (d.options.lineRate = 10), /\$\.options\.lineRate: expected a string or null/],
  ['repeat zero', (d) => (d.options.repeat = 0), /\$\.options\.repeat: expected >= 1/],
  ['started not a time', (d) => (d.started = 'yesterday'), /\$\.started: expected an ISO 8601 time/],
  ['version missing', (d) => delete d.vxo_version, /\$\.vxo_version: missing/],
  ['cells not an array', (d) => (d.cells = {}), /\$\.cells: expected an array, got object/],
];

for (const [name, mutate, expected] of broken) {
  test(`the checker catches: ${name}`, (t) => {
    const d = doc();
    mutate(d);
    const problems = checkTableJson(d);
    t.true(problems.some((p) => expected.test(p)), problems.join('\n'));
  });
}

test('the checker reports every problem at once, and rejects non-objects', (t) => {
  const d = doc();
  delete d.cells[0].mpps;
  d.machine.cores = 'two';
  t.true(checkTableJson(d).length >= 2);
  t.deepEqual(checkTableJson([]), ['$: expected an object, got array']);
  t.deepEqual(checkTableJson(null), ['$: expected an object, got null']);
});

test('complete: all eight cells required', (t) => {
  const r = syntheticReport();
  r.cells.pop();
  const d = JSON.parse(toJsonText(r));
  t.deepEqual(checkTableJson(d), []);
  t.deepEqual(checkTableJson(d, { complete: true }), ['$.cells: expected all 8 cells, got 7']);
});

test('the verdict on the RFC\'s shape and the shared-machine flag are in the file', (t) => {
  const d = doc();
  t.like(d.verdict, { status: 'holds', at_or_above_rfc: 8, measured: 8 });
  t.is(d.verdict.cases.length, 2);
  t.like(d.verdict.cases[0], { case: 1, status: 'holds', expectation: 'offload >= 2x native' });
  t.deepEqual(d.verdict.cases[0].ratios.map((r: { prog: string }) => r.prog), ['xdp1', 'xdp2']);
  t.is(d.verdict.cases[0].ratios[0].paper, 12.9 / 2.46);
  // Synthetic Case 2 shared the machine (other processes 31% of a core).
  t.true(d.shared_machine);
  t.deepEqual(d.shared_cells, ['2/xdp1/native', '2/xdp1/offload', '2/xdp2/native', '2/xdp2/offload']);
});

test('a quiet machine: shared_machine false, no cells named', (t) => {
  const r = syntheticReport();
  for (const c of r.cells) c.explain['cpu_other'] = 0.02;
  const d = toJson(r);
  t.false(d.shared_machine);
  t.deepEqual(d.shared_cells, []);
  t.deepEqual(checkTableJson(d), []);
});

const derivedBroken: [string, (d: Record<string, any>) => void, RegExp][] = [
  ['verdict missing', (d) => delete d.verdict, /\$\.verdict: missing/],
  ['shared_machine missing', (d) => delete d.shared_machine, /\$\.shared_machine: missing/],
  ['shared_machine a string', (d) => (d.shared_machine = 'yes'), /\$\.shared_machine: expected a boolean/],
  ['shared_machine contradicts the cells', (d) => (d.shared_machine = false), /\$\.shared_machine: the cells' CPU figures give true, got false/],
  ['shared_cells contradicts the cells', (d) => d.shared_cells.pop(), /\$\.shared_cells: the cells' CPU figures give/],
  ['verdict status unknown', (d) => (d.verdict.status = 'fine'), /\$\.verdict\.status: expected one of/],
  ['verdict contradicts the cells', (d) => (d.verdict.status = 'broken'), /\$\.verdict\.status: the cells give "holds", got "broken"/],
  ['verdict null for the RFC\'s programs', (d) => (d.verdict = null), /\$\.verdict: expected the verdict on the RFC's shape, got null/],
  ['verdict ratio not a number', (d) => (d.verdict.cases[1].ratios[0].ours = 'x'), /\$\.verdict\.cases\[1\]\.ratios\[0\]\.ours: expected a number or null/],
];

for (const [name, mutate, expected] of derivedBroken) {
  test(`the checker catches: ${name}`, (t) => {
    const d = doc();
    mutate(d);
    const problems = checkTableJson(d);
    t.true(problems.some((p) => expected.test(p)), problems.join('\n'));
  });
}

test('a file from before the derived fields still parses (derived: false), and they are recomputed', (t) => {
  const d = doc();
  delete d.verdict;
  delete d.shared_machine;
  delete d.shared_cells;
  t.true(checkTableJson(d).length === 3);
  t.deepEqual(checkTableJson(d, { derived: false }), []);
  const back = parseTableJson(JSON.stringify(d));
  t.deepEqual(toJson(back), toJson(syntheticReport()));
});

test('the user\'s program: prog "user", paper_mpps null, the program named, verdict null', (t) => {
  const r = syntheticReport(syntheticUserCells());
  r.program = { object: 'my.o', section: 'xdp_drop' };
  const d = JSON.parse(toJsonText(r));
  t.deepEqual(checkTableJson(d, { complete: true }), []);
  t.deepEqual(d.program, { object: 'my.o', section: 'xdp_drop' });
  t.is(d.verdict, null);
  t.is(d.cells.length, 4);
  for (const c of d.cells) {
    t.is(c.prog, 'user');
    t.is(c.paper_mpps, null);
  }
  t.deepEqual(toJson(parseTableJson(toJsonText(r))), toJson(r));
  // What a checker must refuse in such a file.
  const bad = (mutate: (x: Record<string, any>) => void, re: RegExp): void => {
    const x = JSON.parse(toJsonText(r));
    mutate(x);
    const problems = checkTableJson(x);
    t.true(problems.some((p) => re.test(p)), problems.join('\n'));
  };
  bad((x) => (x.cells[0].paper_mpps = 2.46), /\$\.cells\[0\]\.paper_mpps: the RFC has no figure for the user's program, expected null/);
  bad((x) => delete x.program, /\$\.program: missing/);
  bad((x) => (x.program.section = 3), /\$\.program\.section: expected a string or null/);
  bad((x) => (x.verdict = verdictJson(shapeVerdict(syntheticCells()))), /\$\.verdict: expected null for the user's program/);
  bad((x) => x.cells.push(JSON.parse(toJsonText(syntheticReport())).cells[0]), /the user's program and the RFC's programs in one table/);
  const partial = JSON.parse(toJsonText(r));
  partial.cells.pop();
  t.deepEqual(checkTableJson(partial, { complete: true, derived: false }), ['$.cells: expected all 4 cells, got 3']);
});

test('parseTableJson: a typed EINVAL error listing the problems', (t) => {
  const err = t.throws(() => parseTableJson('{"cells": 1}'), { instanceOf: ReportError });
  t.is(err?.code, 'EINVAL');
  t.regex(err?.message ?? '', /\$\.machine: missing/);
  t.is(t.throws(() => parseTableJson('not json'), { instanceOf: ReportError })?.code, 'EINVAL');
});

// Median/spread and cell building, on synthetic samples (see synthetic.ts: made-up data).
import test from 'ava';
import { ReportError } from '../../scenarios/report/errors.ts';
import { buildCell, median, medianRunIndex, summarize } from '../../scenarios/report/median.ts';
import { syntheticRuns } from './synthetic.ts';

test('summarize: odd count takes the middle sample', (t) => {
  const s = summarize([3, 1, 2]);
  t.deepEqual(s, { median: 2, min: 1, max: 3, spread: 1, n: 3 });
});

test('summarize: even count averages the two middle samples', (t) => {
  const s = summarize([4, 1, 3, 2]);
  t.is(s.median, 2.5);
  t.is(s.min, 1);
  t.is(s.max, 4);
  t.is(s.spread, 3 / 2.5);
});

test('summarize: NaN samples are left out; none finite gives NaN throughout', (t) => {
  t.deepEqual(summarize([NaN, 5, Infinity, 7, 6]), { median: 6, min: 5, max: 7, spread: 2 / 6, n: 3 });
  const empty = summarize([]);
  t.true(Number.isNaN(empty.median) && Number.isNaN(empty.min) && Number.isNaN(empty.max) && Number.isNaN(empty.spread));
  t.is(empty.n, 0);
  t.true(Number.isNaN(median([NaN])));
});

test('summarize: a zero median has no relative spread', (t) => {
  t.true(Number.isNaN(summarize([0, 0, 0]).spread));
});

test('medianRunIndex: the run nearest the median, slower on a tie, never a NaN run', (t) => {
  t.is(medianRunIndex([{ mpps: 3 }, { mpps: 1 }, { mpps: 2 }]), 2);
  t.is(medianRunIndex([{ mpps: 4 }, { mpps: 1 }, { mpps: 3 }, { mpps: 2 }]), 3); // median 2.5: 2 and 3 tie
  t.is(medianRunIndex([{ mpps: NaN }, { mpps: 5 }]), 1);
  t.is(medianRunIndex([{ mpps: NaN }]), 0);
  t.throws(() => medianRunIndex([]), { instanceOf: ReportError });
});

test('buildCell: median/min/max, RFC figure, and the median run\'s explain', (t) => {
  const runs = syntheticRuns(1, 'xdp1', 'offload', [0.03, -0.02, 0]);
  const cell = buildCell({ case: 1, prog: 'xdp1', mode: 'offload' }, runs);
  t.is(cell.mpps, runs[2]!.mpps);
  t.is(cell.min, runs[1]!.mpps);
  t.is(cell.max, runs[0]!.mpps);
  t.is(cell.paper_mpps, 12.9);
  t.deepEqual(cell.explain, runs[2]!.explain);
  t.not(cell.explain, runs[2]!.explain, 'a copy, so later edits to the run do not change the cell');
  t.is(cell.runs.length, 3);
});

test('buildCell: no runs is a typed EMPTY error', (t) => {
  const err = t.throws(() => buildCell({ case: 2, prog: 'xdp2', mode: 'native' }, []), { instanceOf: ReportError });
  t.is(err?.code, 'EMPTY');
});

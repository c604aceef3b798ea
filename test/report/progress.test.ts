import test from 'ava';
import { createProgress, PROGRESS_LINE_INTERVAL_MS, rateText } from '../../scenarios/report/progress.ts';

function fakeStream(isTTY: boolean): { isTTY: boolean; columns: number; writes: string[]; write(s: string): boolean } {
  const writes: string[] = [];
  return { isTTY, columns: 120, writes, write: (s: string) => (writes.push(String(s)), true) };
}

test('not a TTY: plain lines, the first at the start, then at most one per interval, and the last run always', (t) => {
  const stream = fakeStream(false);
  let now = 0;
  // Each run takes 2 s: with the 5 s interval, a line every third run.
  const p = createProgress({ cells: 8, repeat: 3, stream, clock: () => now });
  for (let cell = 0; cell < 8; cell++) {
    for (let run = 0; run < 3; run++) {
      p.start(cell, run, `1/xdp1/cell${cell}`);
      now += 2000;
      p.done(1.23);
    }
  }
  p.stop();
  p.stop();
  const out = stream.writes.join('');
  t.false(out.includes('\x1b'), 'no escape codes');
  t.false(out.includes('\r'), 'no carriage returns');
  const lines = out.trimEnd().split('\n');
  t.is(lines[0], 'vxo table: 8 cells x 3 runs, starting with 1/xdp1/cell0');
  t.is(lines.at(-1), 'vxo table: run 24/24 done (cell 8/8 1/xdp1/cell7, run 3/3): 1.23 Mpps, 0:48 elapsed');
  t.is(lines[1], 'vxo table: run 3/24 done (cell 1/8 1/xdp1/cell0, run 3/3): 1.23 Mpps, 0:06 elapsed');
  // 48 s of runs: one line per 6 s (every third 2 s run), never two within the interval.
  t.is(lines.length, 1 + 8);
  t.is(PROGRESS_LINE_INTERVAL_MS, 5000);
});

test('not a TTY: a slow run gets its line as soon as it ends', (t) => {
  const stream = fakeStream(false);
  let now = 0;
  const p = createProgress({ cells: 2, repeat: 1, stream, clock: () => now, intervalMs: 5000 });
  p.start(0, 0, '1/xdp1/native');
  now += 7000;
  p.done();
  p.start(1, 0, '1/xdp1/offload');
  now += 1000;
  p.done(13.4);
  t.deepEqual(stream.writes, [
    'vxo table: 2 cells x 1 run, starting with 1/xdp1/native\n',
    'vxo table: run 1/2 done (cell 1/2 1/xdp1/native, run 1/1), 0:07 elapsed\n',
    'vxo table: run 2/2 done (cell 2/2 1/xdp1/offload, run 1/1): 13.40 Mpps, 0:08 elapsed\n',
  ]);
});

test('an undefined isTTY (a pipe) counts as not a TTY: lines, not a bar', (t) => {
  const writes: string[] = [];
  const p = createProgress({ cells: 1, repeat: 1, stream: { write: (s: string) => (writes.push(s), true) } });
  p.start(0, 0, '1/xdp1/native');
  p.done();
  p.stop();
  t.is(writes.length, 2);
  t.regex(writes[1]!, /^vxo table: run 1\/1 done/);
});

test('enabled: false writes nothing, terminal or not', (t) => {
  for (const tty of [false, true]) {
    const stream = fakeStream(tty);
    const p = createProgress({ cells: 1, repeat: 1, stream, enabled: false });
    p.start(0, 0, '1/xdp1/native');
    p.done(1);
    p.stop();
    t.deepEqual(stream.writes, []);
  }
});

test('plain: false (the library by default): silent off a terminal, the bar on one', (t) => {
  const pipe = fakeStream(false);
  const p = createProgress({ cells: 1, repeat: 1, stream: pipe, plain: false });
  p.start(0, 0, '1/xdp1/native');
  p.done(1);
  p.stop();
  t.deepEqual(pipe.writes, []);
  const tty = fakeStream(true);
  const b = createProgress({ cells: 1, repeat: 1, stream: tty, plain: false });
  b.start(0, 0, '1/xdp1/native');
  b.stop();
  t.true(tty.writes.join('').includes('cell 1/1 run 1/1 1/xdp1/native'));
});

test('a TTY: the bar shows the cell, run, name and last rate', (t) => {
  const stream = fakeStream(true);
  const p = createProgress({ cells: 8, repeat: 3, stream });
  p.start(0, 0, '1/xdp1/native');
  p.done(2.5);
  p.start(1, 2, '1/xdp1/offload');
  p.stop();
  const out = stream.writes.join('');
  t.true(out.includes('cell 2/8 run 3/3 1/xdp1/offload'), out);
  t.true(out.includes('last 2.50 Mpps'));
});

test('a rate below 0.1 Mpps reads in pps with an SI suffix (a suite\'s flood on a loaded machine), not "0.01 Mpps"', (t) => {
  t.is(rateText(13.4), '13.40 Mpps');
  t.is(rateText(0.1), '0.10 Mpps');
  t.is(rateText(0.0108), '10.8k pps');
  t.is(rateText(0), '0 pps');
});

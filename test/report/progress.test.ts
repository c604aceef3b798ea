import test from 'ava';
import { createProgress } from '../../scenarios/report/progress.ts';

function fakeStream(isTTY: boolean): { isTTY: boolean; columns: number; writes: string[]; write(s: string): boolean } {
  const writes: string[] = [];
  return { isTTY, columns: 120, writes, write: (s: string) => (writes.push(String(s)), true) };
}

test('not a TTY: nothing at all is written', (t) => {
  const stream = fakeStream(false);
  const p = createProgress({ cells: 8, repeat: 3, stream });
  for (let cell = 0; cell < 8; cell++) {
    for (let run = 0; run < 3; run++) {
      p.start(cell, run, `cell ${cell}`);
      p.done(1.23);
    }
  }
  p.stop();
  p.stop();
  t.deepEqual(stream.writes, []);
});

test('an undefined isTTY (a pipe) counts as not a TTY', (t) => {
  const writes: string[] = [];
  const p = createProgress({ cells: 1, repeat: 1, stream: { write: (s: string) => (writes.push(s), true) } });
  p.start(0, 0, '1/xdp1/native');
  p.done();
  p.stop();
  t.deepEqual(writes, []);
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

import test from 'ava';
import { PAPER_TABLE, paperMpps, paperRow } from '../../scenarios/report/paper.ts';

test('the RFC table has its four rows and figures', (t) => {
  t.is(PAPER_TABLE.length, 4);
  t.is(paperMpps(1, 'xdp1', 'native'), 2.46);
  t.is(paperMpps(1, 'xdp1', 'offload'), 12.9);
  t.is(paperMpps(1, 'xdp2', 'native'), 1.5);
  t.is(paperMpps(1, 'xdp2', 'offload'), 7.26);
  t.is(paperMpps(2, 'xdp1', 'native'), 1.03);
  t.is(paperMpps(2, 'xdp1', 'offload'), 1.01);
  t.is(paperMpps(2, 'xdp2', 'native'), 1.1);
  t.is(paperMpps(2, 'xdp2', 'offload'), 0.99);
  t.deepEqual(paperRow(2, 'xdp2'), { case: 2, prog: 'xdp2', native: 1.1, offload: 0.99 });
});

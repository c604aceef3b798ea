// The xdp-sk suite in `npm test`: its layout, the one-thread cells (the program alone, no workers).
// Every cell's run through the four workers (the offload attempt: refused, the guest runs the
// firewall natively) and the findings: test/suite-cells/xdp-sk.test.ts (`npm run test:suites`).
import test from 'ava';
import { xdpSkSuite } from '../../scenarios/suite/xdp-sk.ts';
import { checkXdpSkRun, XDP_SK_TEST_OPTIONS, xdpSkTestEngine } from '../support/xdp-sk-cells.ts';

test('layout: rows and columns as the suite names them, the stack the baseline, ids row/column', (t) => {
  const cells = xdpSkSuite.cells();
  t.is(cells.length, 14);
  for (const c of cells) {
    t.is(c.id, `${c.row}/${c.column}`);
    t.true(xdpSkSuite.rows.includes(c.row) && xdpSkSuite.columns.includes(c.column));
  }
  t.is(xdpSkSuite.baseline, 'stack');
  t.true(xdpSkSuite.rows.filter((r) => !r.startsWith('one thread')).every((r) => cells.some((c) => c.row === r && c.column === 'stack')));
  t.true(cells.filter((c) => c.row.startsWith('one thread')).every((c) => c.unit === 'ns/packet'));
});

// The runs through the four workers (the offload refusal among them) are in test/suite-cells/xdp-sk.test.ts.
const FAST = (id: string): boolean => id.startsWith('one thread');

for (const spec of xdpSkSuite.cells().filter((s) => FAST(s.id))) {
  test.serial(`cell ${spec.id}: one short run, its counters agree and it balances`, async (t) => {
    checkXdpSkRun(t, spec, await xdpSkSuite.run(spec, { ...XDP_SK_TEST_OPTIONS, engine: xdpSkTestEngine(spec) }));
  });
}

// The xdp-sk suite: every cell one short run through the four workers (no throughput assertions):
// the program's verdicts agree with the driver's and the stack's counters, every run balances, and
// offload is refused for the firewall with the guest running it natively instead; then the findings
// from those cells. `npm run test:suites` (each worker start costs seconds: not in `npm test`).
import test from 'ava';
import { xdpSkSuite } from '../../scenarios/suite/xdp-sk.ts';
import { buildSuiteCell, withDeltas, type SuiteRunWithNotes } from '../../scenarios/suite/run-suite.ts';
import { checkXdpSkRun, XDP_SK_TEST_OPTIONS, xdpSkTestEngine } from '../support/xdp-sk-cells.ts';

const runs = new Map<string, SuiteRunWithNotes>();

for (const spec of xdpSkSuite.cells()) {
  test.serial(`cell ${spec.id}: one short run, its counters agree and it balances`, async (t) => {
    const r = await xdpSkSuite.run(spec, { ...XDP_SK_TEST_OPTIONS, engine: xdpSkTestEngine(spec) });
    runs.set(spec.id, r);
    checkXdpSkRun(t, spec, r);
  });
}

test.serial('findings: from the finished cells (the drop at XDP, the lookup against xdp1, the refusal, no published table)', (t) => {
  const built = xdpSkSuite.cells().filter((s) => runs.has(s.id)).map((s) => buildSuiteCell(s, [runs.get(s.id)!]));
  const f = xdpSkSuite.findings(withDeltas(built, xdpSkSuite.baseline));
  t.true(f.some((x) => /^udp4 no socket: the firewall dropped (\d+%|n\/a) of the frames at XDP \(FW_DROP_UDP\)/.test(x)), f.join('\n'));
  t.true(f.some((x) => /^syn4 no listener: (the socket lookup|under the flood)/.test(x)));
  t.true(f.some((x) => /^offload: offload refused/.test(x)));
  t.true(f.some((x) => /^No published table/.test(x)));
  t.true(f.some((x) => /^one thread \(the program alone/.test(x)));
});

// Every cell of the netperf suite, one short run each through the four workers (`npm run
// test:suites`): the asked handle_rx path ran, the ledger balances, the counters explain the
// figure (test/suite/netperf-checks.ts); then the findings from those real runs.
import test from 'ava';
import { netperfSuite } from '../../scenarios/suite/netperf.ts';
import { buildSuiteCell, withDeltas } from '../../scenarios/suite/run-suite.ts';
import type { SuiteOptions, SuiteRun } from '../../scenarios/suite/types.ts';
import { checkNetperfRun } from '../suite/netperf-checks.ts';

const SHORT: SuiteOptions = { duration: 0.1, warmup: 0, repeat: 1, engine: 'jit' };
const runs = new Map<string, SuiteRun>();

for (const spec of netperfSuite.cells()) {
  test.serial(`${spec.id}: one short run: its path, the ledger, the counters`, async (t) => {
    // TCP: the handshake before the window (a loaded machine may need a while for it).
    const r = await netperfSuite.run(spec, spec.row.startsWith('TCP') ? { ...SHORT, warmup: 0.2 } : SHORT);
    checkNetperfRun(t, spec, r);
    runs.set(spec.id, r);
  });
}

test.serial('the findings from the real runs: a line per row beside the RFC\'s difference, every run balanced', (t) => {
  const specs = netperfSuite.cells().filter((s) => runs.has(s.id));
  t.is(specs.length, 10, 'every cell ran');
  const cells = withDeltas(specs.map((s) => buildSuiteCell(s, [runs.get(s.id)!])), netperfSuite.baseline);
  const f = netperfSuite.findings(cells);
  for (const row of netperfSuite.rows) t.true(f.some((s) => s.startsWith(`${row}: after vs before `)), row);
  t.true(f.some((s) => s.startsWith('UDP_STREAM 1472 vs 18 bytes:')));
  t.false(f.some((s) => s.startsWith('Not balanced')));
});

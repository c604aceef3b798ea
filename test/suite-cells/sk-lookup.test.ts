// The sk-lookup suite: every cell one short run (`npm run test:suites`): the floods through the four
// workers in each kernel (no hook, hook without program, the 200-entry LPM program), the lookup-cost
// rows, the dispatch cells; each balances, and the flood cells' counters agree with the column: the
// program runs on every lookup only where it is attached, the socket filter drops every datagram
// the UDP floods deliver, every frame is accounted for.
import test from 'ava';
import { skLookupSuite } from '../../scenarios/suite/sk-lookup.ts';
import type { SuiteOptions } from '../../scenarios/suite/types.ts';

const O: SuiteOptions = { duration: 0.05, warmup: 0, repeat: 1, engine: 'jit' };
const FLOODS = new Set(['tcp4', 'tcp6', 'udp4', 'udp6']);

for (const spec of skLookupSuite.cells()) {
  test.serial(`cell ${spec.id}: one short run, balanced, its counters agree with its column`, async (t) => {
    const r = await skLookupSuite.run(spec, O);
    const k = r.counters;
    t.true(r.balanced, JSON.stringify(k));
    t.true(Number.isFinite(r.value) && r.value >= 0);
    if (!FLOODS.has(spec.row)) return;
    t.true((k['total_received'] ?? 0) > 0, 'the flood reached the guest');
    t.is(k['total_generated'], (k['total_delivered'] ?? 0) + (k['total_dropped'] ?? 0) + (k['total_queued'] ?? 0));
    if (spec.row.startsWith('udp')) t.is(k['total_stack_drop_SOCKET_FILTER'], k['total_received'], 'the socket filter dropped what the stack received');
    if (spec.column === 'lpm200') {
      t.true((k['prog_runs'] ?? 0) > 0);
      t.is(k['prog_hits'], 0, 'no binding is on the flood\'s port');
      t.is(k['prog_runs'], (k['prog_hits'] ?? 0) + (k['prog_misses'] ?? 0));
    } else {
      t.is(k['prog_runs'] ?? 0, 0, 'no program attached');
    }
  });
}

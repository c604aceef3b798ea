// The scenarios as library functions: the objects `vxo run --json` and `vxo table --json` print.
import test from 'ava';
import { runRfcTable, runScenario } from '../scenarios/api.ts';
import { checkTableJson } from '../scenarios/report/json.ts';
import { RunError } from '../scenarios/run/run-error.ts';

test('runScenario resolves to the run --json object, offload dump included', async (t) => {
  const r = await runScenario({ case: 1, prog: 'xdp1', mode: 'offload', duration: 0.2, warmup: 0 });
  t.is(r.scenario, 'case1');
  t.is(r.mode, 'offload');
  t.true(r.accounting.balanced);
  t.true(r.packets > 0);
  t.is(r.metric, 'tap_xdp_drop');
  t.truthy(r.offload, 'the tap\'s program and maps, as --show-offload puts them in the JSON');
  t.deepEqual(Object.keys(r).slice(0, 9), ['scenario', 'prog', 'mode', 'mpps', 'packets', 'seconds', 'metric', 'counters', 'window']);
});

test('runRfcTable resolves to a table --json document that passes its own checker', async (t) => {
  const table = await runRfcTable({ repeat: 1, duration: 0.2, warmup: 0, cells: '1/xdp1/offload', progress: false });
  t.deepEqual(checkTableJson(table), []);
  t.is(table.cells.length, 1);
  t.is(table.cells[0]?.paper_mpps, 12.9);
});

test('bad options are refused before any worker starts', async (t) => {
  await t.throwsAsync(runScenario({ case: 1, pktSize: 100_000, duration: 0.2 }), { instanceOf: RunError, message: /pkt-size/ });
  await t.throwsAsync(runScenario({ case: 1, lineRate: 'fast', duration: 0.2 }), { instanceOf: RunError, message: /lineRate fast/ });
  await t.throwsAsync(runRfcTable({ cells: '' }), { instanceOf: RunError });
});

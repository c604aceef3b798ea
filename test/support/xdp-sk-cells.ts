// The checks of one xdp-sk cell's run (scenarios/suite/xdp-sk.ts), shared by the fast test
// (test/suite/xdp-sk.test.ts: layout, the one-thread cells, the offload refusal) and the run of
// every cell (test/suite-cells/xdp-sk.test.ts, `npm run test:suites`): the program's verdicts agree
// with the driver's and the stack's counters, and the run balances.
import type { ExecutionContext } from 'ava';
import type { SuiteRunWithNotes } from '../../scenarios/suite/run-suite.ts';
import type { SuiteCellSpec, SuiteOptions } from '../../scenarios/suite/types.ts';

export const XDP_SK_TEST_OPTIONS: SuiteOptions = { duration: 0.1, warmup: 0.1, repeat: 1, engine: 'jit' };

/** The engine a cell runs on in the tests: offload's refusal is the interpreter's path too. */
export const xdpSkTestEngine = (spec: SuiteCellSpec): 'interp' | 'jit' => (spec.column === 'offload' ? 'interp' : 'jit');

export function checkXdpSkRun(t: ExecutionContext, spec: SuiteCellSpec, r: SuiteRunWithNotes): void {
  t.true(r.balanced, JSON.stringify({ notes: r.notes, counters: r.counters }));
  t.true(Number.isFinite(r.value) && r.value >= 0);
  const e = r.explain;
  if (spec.row.startsWith('one thread')) {
    t.true(r.value > 0);
    t.is(r.counters['map_counted'], r.counters['runs'], 'the program counted every run');
    const v = spec.column === 'xdp1' ? 'run_xdp1_counted' : spec.row.includes('no socket') ? 'run_FW_DROP_UDP' : 'run_FW_PASS_UDP';
    t.is(e[v], r.counters['runs']);
    t.is(r.counters[spec.column === 'firewall' && spec.row.includes('to socket') ? 'action_2' : 'action_1'], r.counters['runs']);
    return;
  }
  if (spec.column === 'stack') {
    t.is(r.counters['guest_rx_xdp_packets'], 0, 'no program on the driver');
    t.is(Object.keys(e).filter((k) => k.startsWith('run_FW_')).length, 0);
    if (spec.row.includes('no ')) t.true((e['run_stack_skb_drop_NO_SOCKET'] ?? 0) > 0, 'the stack dropped them: no socket');
  } else if (spec.column === 'xdp1') {
    t.true((e['run_xdp1_counted'] ?? 0) > 0, 'xdp1 counted what it dropped');
    t.is(e['run_stack_skb_drop_NO_SOCKET'], undefined, 'nothing reached the stack');
  } else {
    const verdict = spec.row.startsWith('udp4 no') ? 'run_FW_DROP_UDP' : spec.row.startsWith('syn4 no') ? 'run_FW_DROP_TCP'
      : spec.row.startsWith('udp4') ? 'run_FW_PASS_UDP' : 'run_FW_PASS_TCP_LISTENER';
    t.true((e[verdict] ?? 0) > 0, `${verdict}: ${JSON.stringify(e)}`);
    const others = Object.keys(e).filter((k) => k.startsWith('run_FW_') && k !== verdict);
    t.deepEqual(others, [], 'one verdict for this flood');
    if (spec.row.includes('no ')) t.is(e['run_stack_skb_drop_NO_SOCKET'], undefined, 'dropped at XDP, before the stack');
  }
  if (spec.column === 'offload') t.regex(r.notes?.[0] ?? '', /^offload refused \(.*helper bpf_sk[c]?_lookup_(tcp|udp)#\d+ cannot be offloaded\): the guest runs the firewall native/);
  else t.deepEqual(r.notes ?? [], []);
  t.truthy(r.cpu?.['cpu_guest'] !== undefined);
}

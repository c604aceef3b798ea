// The xdp-sk suite: every cell one short run through the four workers (no throughput assertions):
// the program's verdicts agree with the driver's and the stack's counters, every run balances, and
// offload is refused for the firewall with the guest running it natively instead.
import test from 'ava';
import { xdpSkSuite } from '../../scenarios/suite/xdp-sk.ts';
import { buildSuiteCell, withDeltas, type SuiteRunWithNotes } from '../../scenarios/suite/run-suite.ts';
import type { SuiteOptions } from '../../scenarios/suite/types.ts';

const O: SuiteOptions = { duration: 0.1, warmup: 0.1, repeat: 1, engine: 'jit' };

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

const runs = new Map<string, SuiteRunWithNotes>();

for (const spec of xdpSkSuite.cells()) {
  test.serial(`cell ${spec.id}: one short run, its counters agree and it balances`, async (t) => {
    const r: SuiteRunWithNotes = await xdpSkSuite.run(spec, { ...O, engine: spec.column === 'offload' ? 'interp' : 'jit' });
    runs.set(spec.id, r);
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

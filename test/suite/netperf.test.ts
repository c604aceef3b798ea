// The netperf suite (scenarios/suite/netperf.ts): its table is the RFC's, exactly; each column
// runs the handle_rx path it names (the run's counters say so, or the run is refused); the
// findings come from the cells' counters. One short run through the four workers checks the
// counters and the ledger (every cell: test/suite-cells/netperf.test.ts, `npm run test:suites`);
// the paths themselves are checked frame by frame in test/vhost/rx-path.test.ts.
import test from 'ava';
import { RunError } from '../../scenarios/run/run-error.ts';
import type { NetperfRunResult } from '../../scenarios/run/run-netperf.ts';
import {
  netperfCellId, netperfCells, netperfFindings, netperfRunOptions, netperfSuite, netperfSuiteRun, NETPERF_RFC_TABLE, NETPERF_SUITE_ROWS,
  type NetperfSuiteColumn, type NetperfSuiteRow,
} from '../../scenarios/suite/netperf.ts';
import type { SuiteCell, SuiteOptions, SuiteRun } from '../../scenarios/suite/types.ts';
import { VHOST_RX_PATH_CODE } from '../../vhost/rx-path.ts';
import { checkNetperfRun } from './netperf-checks.ts';

const SHORT: SuiteOptions = { duration: 0.05, warmup: 0, repeat: 1, engine: 'jit' };

test('the table is the RFC\'s: five rows, before/after, its figures and Difference column exactly, units as netperf prints them', (t) => {
  t.is(netperfSuite.id, 'netperf');
  t.deepEqual([...netperfSuite.rows], ['UDP_STREAM 18byte', 'UDP_STREAM 1472byte', 'TCP_STREAM', 'UDP_RR', 'TCP_RR']);
  t.deepEqual([...netperfSuite.columns], ['before', 'after']);
  t.is(netperfSuite.baseline, 'before');
  const cells = netperfCells();
  t.is(cells.length, 10);
  t.deepEqual(cells.map((c) => c.id).slice(0, 4), ['UDP_STREAM_18byte/before', 'UDP_STREAM_18byte/after', 'UDP_STREAM_1472byte/before', 'UDP_STREAM_1472byte/after']);
  const pub = (id: string) => cells.find((c) => c.id === id)!.published;
  t.deepEqual(pub('UDP_STREAM_18byte/before'), [{ source: 'RFC before', value: 89.43 }]);
  t.deepEqual(pub('UDP_STREAM_18byte/after'), [{ source: 'RFC after', value: 90.74, delta: 0.0146 }]);
  t.deepEqual(pub('UDP_STREAM_1472byte/after'), [{ source: 'RFC after', value: 7026, delta: 0.0209 }]);
  t.deepEqual(pub('TCP_STREAM/after'), [{ source: 'RFC after', value: 9407, delta: 0.0004 }]);
  t.deepEqual(pub('UDP_RR/after'), [{ source: 'RFC after', value: 13478, delta: -0.0031 }]);
  t.deepEqual(pub('TCP_RR/before'), [{ source: 'RFC before', value: 13120 }]);
  t.deepEqual(pub('TCP_RR/after'), [{ source: 'RFC after', value: 12918, delta: -0.0153 }]);
  // The Difference column is the quotient of the two, as printed (TCP_RR's exact −1.54% printed −1.53%).
  for (const row of NETPERF_SUITE_ROWS) {
    const r = NETPERF_RFC_TABLE[row];
    t.true(Math.abs(r.after / r.before - 1 - r.difference) < 0.0001, row);
  }
  for (const c of cells) t.deepEqual([c.metric, c.unit], c.row.endsWith('_RR') ? ['rate', 'trans/s'] : ['throughput', 'Mbit/s'], c.id);
});

test('each column asks for its path, host -> guest, the row\'s test and size', (t) => {
  const b = netperfRunOptions('UDP_STREAM 18byte', 'before', SHORT);
  t.like(b, { test: 'UDP_STREAM', size: 18, direction: 'host-to-guest', family: 4, duration: 0.05, warmup: 0, vhostRx: 'ptr_ring' });
  t.like(netperfRunOptions('TCP_RR', 'after', SHORT), { test: 'TCP_RR', size: 1, vhostRx: 'tap_recvmsg' });
  t.like(netperfRunOptions('UDP_STREAM 1472byte', 'after', SHORT), { test: 'UDP_STREAM', size: 1472 });
});

/** A finished run's shape, as runNetperf returns it, with the counters a test names. */
function fakeRun(counters: Record<string, number>, window: Record<string, number>): NetperfRunResult {
  return {
    scenario: 'netperf', test: 'UDP_RR', direction: 'host-to-guest', family: 4, size: 1, seconds: 0.5, tps: 1000,
    window_stats: { messages_sent: 500, bytes_sent: 500, send_errors: 0, messages_received: 500, bytes_received: 500, responses: 500, transactions: 500 },
    text: '', counters, window,
    accounting: { generated: 1000, accounted: 1000, balanced: true, dropped: {}, delivered: {}, queued: {} },
    explain: { cpu_vhost: 0.2 } as unknown as NetperfRunResult['explain'],
    stacks: { host: { nstat: {}, sockets: [], ss: '' }, guest: { nstat: {}, sockets: [], ss: '' } },
  };
}

test('a run whose counters show the other path (or none) is refused, never a cell', (t) => {
  const w = { vhost_rx_packets: 500, vhost_rx_batches: 500, vhost_rx_recvmsg: 500, vhost_tx_packets: 500, vhost_wakeups: 100 };
  const ok = netperfSuiteRun('UDP_RR', 'before', fakeRun({ vhost_rx_path: VHOST_RX_PATH_CODE.ptr_ring }, w));
  t.is(ok.value, 1000);
  t.true(ok.balanced);
  t.is(ok.counters['vhost_rx_path'], 1);
  t.is(ok.explain['recvmsg_per_frame'], 1);
  t.deepEqual(ok.cpu, { cpu_vhost: 0.2 }, 'per thread, as the renderers\' CPU table reads them');
  t.true(ok.notes.some((n) => n.startsWith('request host -> guest')));
  const e = t.throws(() => netperfSuiteRun('UDP_RR', 'before', fakeRun({ vhost_rx_path: VHOST_RX_PATH_CODE.tap_recvmsg }, w)), { instanceOf: RunError });
  t.is(e?.code, 'EIO');
  t.regex(e?.message ?? '', /took tap_recvmsg, not ptr_ring/);
  t.throws(() => netperfSuiteRun('UDP_RR', 'after', fakeRun({}, w)), { instanceOf: RunError, message: /no known path/ });
});

function cell(row: NetperfSuiteRow, column: NetperfSuiteColumn, values: number[], explain: Record<string, number>): SuiteCell {
  const runs: SuiteRun[] = values.map((value) => ({ value, seconds: 1, balanced: true, counters: {}, explain, cpu: { cpu_vhost: 0.3, runq_wait_vhost: row === 'TCP_RR' ? 0.4 : 0.05 } }));
  const sorted = [...values].sort((a, b) => a - b);
  return {
    id: netperfCellId(row, column), row, column, metric: 'rate', unit: 'trans/s',
    median: sorted[(sorted.length - 1) >> 1]!, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs, published: [], explain, notes: [],
  };
}

test('findings: direction, each row\'s delta beside the RFC\'s with the verdict from spread and counters, the 1472/18 ratio', (t) => {
  const before = { recvmsg_per_frame: 1, rx_frames_per_batch: 1, vhost_us_per_frame: 5, rx_pps: 10_000, delivered_share: 1 };
  const after = { recvmsg_per_frame: 1, rx_frames_per_batch: 1, vhost_us_per_frame: 5, rx_pps: 10_000, delivered_share: 1 };
  const cells = [
    // Within the spread: ±10% around 100.
    cell('TCP_RR', 'before', [90, 100, 110], before), cell('TCP_RR', 'after', [95, 101, 105], after),
    // Outside it, the RFC's sign (+).
    // The sender's thread saturated in both columns: the finding puts the difference on its side of the ring.
    cell('UDP_STREAM 18byte', 'before', [10, 10, 10], { ...before, host_cpu: 0.95, host_us_per_message: 1.8, sent_pps: 500_000 }),
    cell('UDP_STREAM 18byte', 'after', [12, 12, 12], { ...after, rx_pps: 12_000, host_cpu: 0.94, host_us_per_message: 1.5, sent_pps: 600_000 }),
    // Outside it, against the RFC's sign (−1.53% there), with batches of 20 frames: the counters say why.
    cell('UDP_RR', 'before', [100, 100, 100], before), cell('UDP_RR', 'after', [110, 110, 110], { ...after, rx_frames_per_batch: 20, recvmsg_per_frame: 0.05 }),
    cell('UDP_STREAM 1472byte', 'after', [480], { ...after, rx_pps: 40_000, delivered_share: 0.5 }),
  ];
  const f = netperfFindings(cells);
  t.regex(f[0]!, /netperf runs on the host .* netserver in the guest/);
  const line = (row: string) => f.find((s) => s.startsWith(`${row}:`)) ?? '';
  t.regex(line('TCP_RR'), /after vs before \+1\.00% \(RFC -1\.53%\): within the runs' spread \(±10\.00%\); the opposite sign to the RFC's; both paths did the same work per frame here/);
  t.regex(line('UDP_STREAM 18byte'), /\+20\.00% \(RFC \+1\.46%\): outside the runs' spread \(±0\.00%\); the RFC's sign;/);
  t.regex(line('UDP_STREAM 18byte'), /the sender set the rate: the host's thread .* ran at 95% and 94% of a core and spent 1\.80 vs 1\.50 us per message sent \(500\.00 vs 600\.00 k\/s\)/);
  t.notRegex(line('UDP_RR'), /the sender set the rate/, 'no sender figures: no such claim');
  t.regex(line('UDP_RR'), /\+10\.00% \(RFC -0\.31%\): outside .*; the opposite sign to the RFC's; after took 20\.00 frames per tap recvmsg .* saves 0\.95 tap calls per frame/);
  t.regex(line('UDP_RR'), /before: 1\.00 recvmsg per frame, 1\.00 frames per ring batch; after: 0\.05 recvmsg per frame/);
  t.false(f.some((s) => s.startsWith('TCP_STREAM:')), 'a row without both cells has no line');
  t.true(f.some((s) => /^UDP_STREAM 1472 vs 18 bytes: 40\.00x here, 77\.43x in the RFC .* 12\.00 vs 40\.00 kpps .* frame rates 0\.30x apart/.test(s)), f.join('\n'));
  t.true(f.some((s) => s.startsWith('The machine was crowded: a thread waited for a core up to 40% of a window (TCP_RR/before, vhost;')));
  t.false(f.some((s) => s.startsWith('Not balanced')));
});


// The syncookie suite: its table's layout (IPv4 and IPv6 rows), the proxy's map encoding, the
// conservation terms and the findings on made-up counters. Every cell's run through the four
// workers: test/suite-cells/syncookie.test.ts. No throughput is asserted.
import test from 'ava';
import { syncookieSuite, syncookieFindings, SYNCOOKIE_ROWS, FLOOD_PPS } from '../../scenarios/suite/syncookie.ts';
import { SYNCOOKIE_DEFENCES, proxyServiceKey, pathNotes, syncookieBalance, syncookieMachines, synProxyBpf, runSyncookie } from '../../scenarios/suite/syncookie-run.ts';
import type { MachinesRun } from '../../scenarios/run/run-machines.ts';
import { buildSuiteCell, withDeltas } from '../../scenarios/suite/run-suite.ts';
import type { SuiteRun } from '../../scenarios/suite/types.ts';
import { RunError } from '../../scenarios/run/run-error.ts';

test('the table: TCP_CRR over IPv4 and IPv6 without and under the SYN flood, by defence, deltas against syncookies=2, no published figures', (t) => {
  t.is(syncookieSuite.id, 'syncookie');
  t.deepEqual(syncookieSuite.columns, ['syn-proxy', 'syn-proxy (key rotated)', 'syncookies=2', 'syncookies=0']);
  t.is(syncookieSuite.baseline, 'syncookies=2');
  const cells = syncookieSuite.cells();
  // The rotation column only without the flood.
  const family = (crr: string, syn: string): string[] => [
    ...SYNCOOKIE_DEFENCES.map((d) => `${crr}/${d}`),
    ...SYNCOOKIE_DEFENCES.filter((d) => d !== 'syn-proxy (key rotated)').map((d) => `${crr}+${syn} 10kpps/${d}`),
    ...SYNCOOKIE_DEFENCES.filter((d) => d !== 'syn-proxy (key rotated)').map((d) => `${crr}+${syn}/${d}`),
  ];
  t.deepEqual(cells.map((c) => c.id), [...family('TCP_CRR', 'syn4'), ...family('TCP_CRR6', 'syn6')]);
  t.deepEqual(SYNCOOKIE_ROWS, ['TCP_CRR', 'TCP_CRR+syn4 10kpps', 'TCP_CRR+syn4', 'TCP_CRR6', 'TCP_CRR6+syn6 10kpps', 'TCP_CRR6+syn6']);
  t.deepEqual(syncookieSuite.rows, SYNCOOKIE_ROWS);
  t.is(FLOOD_PPS, 10_000);
  // `--cells` separates ids with commas.
  for (const c of cells) t.false(c.id.includes(','), c.id);
  for (const c of cells) {
    t.is(c.metric, 'connections');
    t.is(c.unit, 'conn/s');
    t.deepEqual(c.published, []);
  }
});

test('the proxy\'s service key, the shared secret, the listener\'s sysctl per column, the family\'s addresses', (t) => {
  // struct proxy_service: family, pad, port BE, the address in network order (IPv4 in addr[0]).
  t.is(proxyServiceKey(4, '10.0.0.2', 12866), `0400${(12866).toString(16)}0a000002${'00'.repeat(12)}`);
  t.is(proxyServiceKey(6, 'fd00::2', 12866), `0600${(12866).toString(16)}fd00${'00'.repeat(13)}02`);
  const svc6 = synProxyBpf('interp', false, 6).hostTc!.map((h) => h.maps!.find((m) => m.map === 'proxy_services')!.key);
  t.deepEqual(svc6, [proxyServiceKey(6, 'fd00::2', 12866)]);
  const m6 = syncookieMachines('syn-proxy', 6);
  t.deepEqual([m6.guest.family, m6.host.family, m6.guest.netperf?.peer, m6.host.netperf?.peer], [6, 6, 'fd00::1', 'fd00::2']);
  t.deepEqual([syncookieMachines('syn-proxy').host.netperf?.peer, syncookieMachines('syn-proxy').guest.family], ['10.0.0.2', 4]);
  // Both families' neighbours on both sides: the flood's source too, for the listener's SYN-ACKs.
  t.deepEqual(m6.guest.neigh.map((n) => n.addr), ['10.0.0.1', 'fd00::1', '10.0.0.3', 'fd00::3']);
  const b = synProxyBpf('interp');
  const guestKeys = b.guest![0]!.kind === 'tc' ? b.guest![0]!.maps : undefined;
  for (const h of b.hostTc!) {
    t.is(h.direction, 'egress');
    // The same two keys on both machines, and the service only on the proxy.
    t.deepEqual(h.maps!.filter((m) => m.map === 'syncookie_keys'), guestKeys);
    t.is(h.maps!.filter((m) => m.map === 'proxy_services').length, 1);
  }
  t.deepEqual(b.hostTc!.map((h) => h.dev), ['tap']);
  // Mid-rotation: the guest's previous key is the proxy's current one, its current a newer one.
  const rot = synProxyBpf('interp', true);
  const gk = rot.guest![0]!.kind === 'tc' ? rot.guest![0]!.maps! : [];
  const pk = rot.hostTc![0]!.maps!;
  t.is(gk[1]!.value, pk[0]!.value);
  t.not(gk[0]!.value, pk[0]!.value);
  t.not(gk[0]!.value, pk[1]!.value);
  t.deepEqual(pathNotes('syn-proxy (key rotated)', {
    listener_TcpPassiveOpens: 2, listener_TcpExtSyncookiesSent: 0, listener_TcpExtSyncookiesRecv: 0, guest_prog_syn: 0, guest_prog_assigned: 2,
    guest_prog_ack_valid: 2, guest_prog_ack_previous_key: 2,
  }), []);
  t.regex(pathNotes('syn-proxy', {
    listener_TcpPassiveOpens: 2, listener_TcpExtSyncookiesSent: 0, listener_TcpExtSyncookiesRecv: 0, guest_prog_syn: 0, guest_prog_assigned: 2,
    guest_prog_ack_valid: 2, guest_prog_ack_previous_key: 1,
  }).join(), /1 of 2 valid ACKs under the guest's previous key/);
  t.not(synProxyBpf('interp').hostTc![0]!.maps![0]!.value, b.hostTc![0]!.maps![0]!.value, 'a fresh secret per run');
  t.is(syncookieMachines('syncookies=0').guest.sysctls?.['tcp_syncookies'], 0);
  t.is(syncookieMachines('syncookies=2').guest.sysctls?.['tcp_syncookies'], 2);
  t.is(syncookieMachines('syn-proxy').guest.sysctls?.['tcp_syncookies'], 1);
  t.deepEqual(pathNotes('syncookies=2', { listener_TcpPassiveOpens: 3, listener_TcpExtSyncookiesSent: 3, listener_TcpExtSyncookiesRecv: 3 }), []);
  t.regex(pathNotes('syn-proxy', { listener_TcpPassiveOpens: 3, listener_TcpExtSyncookiesSent: 1, listener_TcpExtSyncookiesRecv: 0, guest_prog_syn: 0, guest_prog_assigned: 3 })[0] ?? '', /made cookies itself/);
});

test('conservation terms: frames, connections (one in flight at most), the proxy\'s SYNs, the guest program\'s ACKs', (t) => {
  const run = (balanced: boolean): MachinesRun => ({
    accounting: { balanced, generated: 10, accounted: balanced ? 10 : 9, delivered: { guest_stack: 9 }, queued: {}, dropped: {} },
  }) as unknown as MachinesRun;
  const ok: Record<string, number> = {
    client_active_opens: 11, client_completed: 9, client_failed: 1, client_connects: 0, client_conn_errors: 0,
    proxy_syn: 20, proxy_synack_sent: 19, proxy_syn_dropped: 1,
    guest_prog_ack: 10, guest_prog_ack_valid: 9, guest_prog_ack_invalid: 1, guest_prog_assigned: 8,
    guest_prog_kfunc_einval: 1, guest_prog_kfunc_enetunreach: 0, guest_prog_kfunc_enomem: 0, guest_prog_kfunc_eopnotsupp: 0, guest_prog_kfunc_other: 0,
  };
  t.deepEqual(syncookieBalance(run(true), ok), { balanced: true, terms: [] });
  t.regex(syncookieBalance(run(false), ok).terms.join(), /frames: .*generated 10, accounted 9; delivered guest_stack 9; queued none/);
  t.regex(syncookieBalance(run(true), { ...ok, client_active_opens: 12 }).terms.join(), /ActiveOpens 12/);
  // netperf's own counts win once published.
  t.true(syncookieBalance(run(true), { ...ok, client_active_opens: 99, client_connects: 10, client_conn_errors: 1 }).balanced);
  t.regex(syncookieBalance(run(true), { ...ok, client_connects: 13, client_conn_errors: 1 }).terms.join(), /connects 13/);
  t.regex(syncookieBalance(run(true), { ...ok, proxy_syn_dropped: 0 }).terms.join(), /proxy: SYNs 20/);
  t.regex(syncookieBalance(run(true), { ...ok, guest_prog_ack_invalid: 0 }).terms.join(), /ACKs 10/);
  t.regex(syncookieBalance(run(true), { ...ok, guest_prog_assigned: 9 }).terms.join(), /valid ACKs 9/);
  // Without the proxy's programs, only frames and connections.
  t.true(syncookieBalance(run(true), { client_active_opens: 3, client_completed: 3, client_failed: 0, client_connects: 0, client_conn_errors: 0 }).balanced);
});

test('a cell that is not the suite\'s is refused before any worker starts', async (t) => {
  await t.throwsAsync(syncookieSuite.run({ id: 'UDP_RR/syn-proxy', row: 'UDP_RR', column: 'syn-proxy', metric: 'connections', unit: 'conn/s', published: [] },
    { duration: 0.1, warmup: 0, repeat: 1, engine: 'jit' }), { instanceOf: RunError, message: /no cell UDP_RR\/syn-proxy/ });
  await t.throwsAsync(syncookieSuite.run({ id: 'TCP_CRR+syn4/syn-proxy (key rotated)', row: 'TCP_CRR+syn4', column: 'syn-proxy (key rotated)', metric: 'connections', unit: 'conn/s', published: [] },
    { duration: 0.1, warmup: 0, repeat: 1, engine: 'jit' }), { instanceOf: RunError });
  await t.throwsAsync(syncookieSuite.run(syncookieSuite.cells()[0]!, { duration: 0.1, warmup: 0, repeat: 1, engine: 'wasm' }), { instanceOf: RunError, message: /engine wasm/ });
  await t.throwsAsync(runSyncookie({ defence: 'syn-proxy', family: 5 as 4, flood: false, duration: 0.1, warmup: 0, engine: 'jit' }), { instanceOf: RunError, message: /family 5/ });
});


/** A run whose counters are made up, for the findings' logic. */
function fake(value: number, counters: Record<string, number>): SuiteRun {
  return { value, seconds: 1, balanced: true, counters, explain: { cpu_guest: 0.5, cpu_host: 0.25, guest_segs_per_conn: 4, sleeps_per_conn: 10 } };
}

test('the findings on made-up cells: who answered the SYNs, the SYN queue without cookies, the rotation, the paced flood', (t) => {
  const spec = (id: string) => syncookieSuite.cells().find((c) => c.id === id)!;
  const proxy = { proxy_synack_sent: 5000, guest_prog_syn: 0, guest_prog_ack: 40, guest_prog_ack_valid: 40, guest_prog_ack_invalid: 0, guest_prog_assigned: 40, listener_end_TcpExtSyncookiesSent: 0, flood_generated: 5000 };
  const cells = withDeltas([
    buildSuiteCell(spec('TCP_CRR/syn-proxy'), [fake(100, { ...proxy, client_completed: 100, flood_generated: 0 })]),
    buildSuiteCell(spec('TCP_CRR/syn-proxy (key rotated)'), [fake(90, { ...proxy, guest_prog_ack_previous_key: 40 })]),
    buildSuiteCell(spec('TCP_CRR/syncookies=2'), [fake(120, { listener_end_TcpExtSyncookiesSent: 120, client_completed: 120 })]),
    buildSuiteCell(spec('TCP_CRR+syn4 10kpps/syn-proxy'), [fake(40, proxy)]),
    buildSuiteCell(spec('TCP_CRR+syn4 10kpps/syncookies=2'), [fake(30, { listener_end_TcpExtSyncookiesSent: 5030, flood_generated: 5000 })]),
    buildSuiteCell(spec('TCP_CRR+syn4/syn-proxy'), [fake(20, proxy)]),
    buildSuiteCell(spec('TCP_CRR+syn4/syncookies=2'), [fake(1, { listener_end_TcpExtSyncookiesSent: 9000, flood_generated: 400000, drop_host_tap_dropped: 390000, client_completed: 1 })]),
    buildSuiteCell(spec('TCP_CRR+syn4/syncookies=0'), [fake(1, { listener_request_socks: 97, listener_backlog: 128, listener_end_TcpExtListenDrops: 6000, drop_host_tap_dropped: 200000, client_completed: 1, flood_generated: 300000 })]),
  ], 'syncookies=2');
  const text = syncookieFindings(cells).join('\n');
  t.regex(text, /TCP_CRR\+syn4 10kpps: the proxy kept the listener free of SYNs: over the run, with syncookies=2 the guest answered 5030 SYNs/);
  t.regex(text, /pktgen paced at 10000 SYNs\/s generated 5000, 5000 SYNs over the run \(syn-proxy, syncookies=2\): the same flood in every column/);
  t.regex(text, /TCP_CRR\+syn4: the proxy kept the listener free of SYNs[^\n]*Not the same flood[^\n]*5000, 400000, 300000 SYNs over the run \(syn-proxy, syncookies=2, syncookies=0\)/);
  t.regex(text, /got 20 conn\/s with the proxy against 1 with the listener's cookies \(×20\.00\)/);
  t.regex(text, /97 request sockets at the window's close \(the listener's backlog 128/);
  t.regex(text, /with syncookies=2 host_tap_dropped 390000/);
  t.regex(text, /accepted 40 of 40 valid ACKs under its previous key and refused 0/);
  t.regex(text, /No published figures/);
  // A paced flood the proxy's host could not keep up with, and a proxy that let SYNs through, say so.
  const behind = withDeltas([
    buildSuiteCell(spec('TCP_CRR+syn4 10kpps/syn-proxy'), [fake(5, { ...proxy, flood_generated: 2000 })]),
    buildSuiteCell(spec('TCP_CRR+syn4 10kpps/syncookies=2'), [fake(1, { flood_generated: 13000 })]),
  ], 'syncookies=2');
  t.regex(syncookieFindings(behind).join('\n'), /fell behind the pace in syn-proxy \(2000 of 13000\)/);
  const leaky = withDeltas([buildSuiteCell(spec('TCP_CRR+syn4/syn-proxy'), [fake(20, { ...proxy, guest_prog_syn: 3 })]), buildSuiteCell(spec('TCP_CRR+syn4/syncookies=2'), [fake(1, {})])], 'syncookies=2');
  t.regex(syncookieFindings(leaky).join('\n'), /SYNs got past the proxy/);
  // The IPv6 rows: the same comparisons under their own row, and each column against its IPv4 figure
  // with the guest's CPU per connection (cpu_guest 0.5 of a core: 5000 µs at 100 conn/s).
  const both = withDeltas([
    buildSuiteCell(spec('TCP_CRR/syn-proxy'), [fake(100, { ...proxy, flood_generated: 0 })]),
    buildSuiteCell(spec('TCP_CRR6/syn-proxy'), [fake(80, { ...proxy, flood_generated: 0 })]),
    buildSuiteCell(spec('TCP_CRR6/syncookies=2'), [fake(90, { listener_end_TcpExtSyncookiesSent: 90 })]),
    buildSuiteCell(spec('TCP_CRR6+syn6/syncookies=0'), [fake(1, { listener_request_socks: 64, listener_backlog: 128, client_completed: 1 })]),
    buildSuiteCell(spec('TCP_CRR+syn4/syncookies=0'), [fake(2, { client_completed: 2 })]),
  ], 'syncookies=2');
  const six = syncookieFindings(both).join('\n');
  t.regex(six, /TCP_CRR6 against TCP_CRR: syn-proxy 80 against 100 conn\/s \(×0\.80; guest CPU per connection 6250 against 5000 µs\)\./);
  t.regex(six, /TCP_CRR6, without a flood: 80 conn\/s with the proxy against 90 with the listener's own cookies/);
  t.regex(six, /TCP_CRR6\+syn6: without cookies the flood fills the SYN queue: 64 request sockets/);
  t.regex(six, /TCP_CRR6\+syn6 against TCP_CRR\+syn4: syncookies=0 1 against 2 conn\/s \(×0\.50; CPU guest 0\.50 against 0\.50, host 0\.25 against 0\.25 of a core\)\./);
});

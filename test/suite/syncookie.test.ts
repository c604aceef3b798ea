// The syncookie suite: its table's layout, the proxy's map encoding, and one short run of every
// cell over the four workers (netperf TCP_CRR host -> guest, with and without pktgen's SYN flood):
// each run's conservation, and the counters that say which path the connections took — the proxy
// on the host answering every SYN (the guest's listener never sees one, its program makes the
// connections with the kfunc), the listener's classic cookies, or the SYN queue the flood fills.
// No throughput is asserted: the runs are short and the machine is shared.
import test from 'ava';
import { syncookieSuite, syncookieFindings, SYNCOOKIE_ROWS } from '../../scenarios/suite/syncookie.ts';
import { SYNCOOKIE_DEFENCES, proxyServiceKey, pathNotes, syncookieBalance, syncookieMachines, synProxyBpf } from '../../scenarios/suite/syncookie-run.ts';
import type { MachinesRun } from '../../scenarios/run/run-machines.ts';
import { buildSuiteCell, withDeltas } from '../../scenarios/suite/run-suite.ts';
import type { SuiteCell, SuiteOptions, SuiteRun } from '../../scenarios/suite/types.ts';
import { RunError } from '../../scenarios/run/run-error.ts';

test('the table: TCP_CRR without and under the SYN flood, by defence, deltas against syncookies=2, no published figures', (t) => {
  t.is(syncookieSuite.id, 'syncookie');
  t.deepEqual(syncookieSuite.rows, ['TCP_CRR', 'TCP_CRR+syn4']);
  t.deepEqual(syncookieSuite.columns, ['syn-proxy', 'syn-proxy, key rotated', 'syncookies=2', 'syncookies=0']);
  t.is(syncookieSuite.baseline, 'syncookies=2');
  const cells = syncookieSuite.cells();
  // The rotation column only without the flood.
  t.deepEqual(cells.map((c) => c.id), [
    ...SYNCOOKIE_DEFENCES.map((d) => `TCP_CRR/${d}`),
    ...SYNCOOKIE_DEFENCES.filter((d) => d !== 'syn-proxy, key rotated').map((d) => `TCP_CRR+syn4/${d}`),
  ]);
  t.deepEqual(SYNCOOKIE_ROWS, ['TCP_CRR', 'TCP_CRR+syn4']);
  for (const c of cells) {
    t.is(c.metric, 'connections');
    t.is(c.unit, 'conn/s');
    t.deepEqual(c.published, []);
  }
});

test('the proxy\'s service key, the shared secret, the listener\'s sysctl per column', (t) => {
  t.is(proxyServiceKey('10.0.0.2', 12866), `0400${(12866).toString(16)}0a000002${'00'.repeat(12)}`);
  const b = synProxyBpf('interp');
  const guestKeys = b.guest![0]!.kind === 'tc' ? b.guest![0]!.maps : undefined;
  for (const h of b.hostTc!) {
    t.is(h.direction, 'egress');
    // The same two keys on both machines, and the service only on the proxy.
    t.deepEqual(h.maps!.filter((m) => m.map === 'syncookie_keys'), guestKeys);
    t.is(h.maps!.filter((m) => m.map === 'proxy_services').length, 1);
  }
  t.deepEqual(b.hostTc!.map((h) => h.dev), ['br0', 'tap']);
  // Mid-rotation: the guest's previous key is the proxy's current one, its current a newer one.
  const rot = synProxyBpf('interp', true);
  const gk = rot.guest![0]!.kind === 'tc' ? rot.guest![0]!.maps! : [];
  const pk = rot.hostTc![0]!.maps!;
  t.is(gk[1]!.value, pk[0]!.value);
  t.not(gk[0]!.value, pk[0]!.value);
  t.not(gk[0]!.value, pk[1]!.value);
  t.deepEqual(pathNotes('syn-proxy, key rotated', {
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
  const run = (balanced: boolean): MachinesRun => ({ accounting: { balanced } }) as unknown as MachinesRun;
  const ok: Record<string, number> = {
    client_active_opens: 11, client_completed: 9, client_failed: 1, client_connects: 0, client_conn_errors: 0,
    proxy_syn: 20, proxy_synack_sent: 19, proxy_syn_dropped: 1,
    guest_prog_ack: 10, guest_prog_ack_valid: 9, guest_prog_ack_invalid: 1, guest_prog_assigned: 8,
    guest_prog_kfunc_einval: 1, guest_prog_kfunc_enetunreach: 0, guest_prog_kfunc_enomem: 0, guest_prog_kfunc_eopnotsupp: 0, guest_prog_kfunc_other: 0,
  };
  t.deepEqual(syncookieBalance(run(true), ok), { balanced: true, terms: [] });
  t.regex(syncookieBalance(run(false), ok).terms.join(), /frames/);
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
  await t.throwsAsync(syncookieSuite.run({ id: 'TCP_CRR+syn4/syn-proxy, key rotated', row: 'TCP_CRR+syn4', column: 'syn-proxy, key rotated', metric: 'connections', unit: 'conn/s', published: [] },
    { duration: 0.1, warmup: 0, repeat: 1, engine: 'jit' }), { instanceOf: RunError });
  await t.throwsAsync(syncookieSuite.run(syncookieSuite.cells()[0]!, { duration: 0.1, warmup: 0, repeat: 1, engine: 'wasm' }), { instanceOf: RunError, message: /engine wasm/ });
});

const O: SuiteOptions = { duration: 0.05, warmup: 0.05, repeat: 1, engine: 'jit' };
const done: SuiteCell[] = [];

for (const spec of syncookieSuite.cells()) {
  test.serial(`one short run of ${spec.id}: balanced, and its counters show its path`, async (t) => {
    const r = (await syncookieSuite.run(spec, O)) as SuiteRun & { notes?: string[] };
    const k = r.counters;
    const g = (n: string): number => k[n] ?? NaN;
    t.true(r.balanced, JSON.stringify(r.notes));
    t.deepEqual(r.notes ?? [], [], 'the path the column names');
    t.true(r.seconds > 0);
    t.is(r.value, g('conn_completed') / r.seconds);
    const flood = spec.row === 'TCP_CRR+syn4';
    if (flood) t.true(g('flood_generated') > 0, 'the flood ran');
    else t.is(g('flood_generated'), 0);
    // The client's connections: attempted = completed + failed + the one in flight (netperf's own
    // counts once the setup publishes them, the stack's TcpActiveOpens until then).
    const wired = g('client_connects') > 0;
    const inFlight = (wired ? g('client_connects') : g('client_active_opens')) - g('client_completed') - (wired ? g('client_conn_errors') : g('client_failed'));
    t.true(inFlight === 0 || inFlight === 1, `in flight ${inFlight}`);
    switch (spec.column) {
      case 'syn-proxy':
      case 'syn-proxy, key rotated':
        t.true(g('proxy_synack_sent') > 0, 'the proxy answered SYNs');
        // Valid under the guest's current key, or (mid-rotation) its previous one.
        t.is(g('guest_prog_ack_previous_key'), spec.column === 'syn-proxy' ? 0 : g('guest_prog_ack_valid'));
        t.is(g('proxy_syn_dropped'), 0);
        t.is(g('proxy_redirect_err'), 0);
        t.is(g('guest_prog_syn'), 0, 'no SYN reached the guest');
        t.is(g('guest_prog_ack_invalid'), 0);
        t.is(g('listener_end_TcpExtSyncookiesSent'), 0);
        t.is(g('listener_end_TcpExtListenDrops'), 0);
        t.is(g('listener_request_socks'), 0);
        t.true(g('guest_prog_assigned') >= g('listener_TcpPassiveOpens'));
        // The flood's SYNs were answered on the host: more SYN-ACKs than the client's connections.
        if (flood) t.true(g('proxy_synack_sent') > g('client_active_opens'));
        break;
      case 'syncookies=2':
        t.is(g('listener_TcpExtSyncookiesRecv'), g('listener_TcpPassiveOpens'));
        t.is(g('listener_request_socks'), 0);
        t.is(g('listener_end_TcpExtListenDrops'), 0);
        if (flood) t.true(g('listener_end_TcpExtSyncookiesSent') > g('client_active_opens'), 'the listener answered the flood');
        break;
      case 'syncookies=0':
        t.is(g('listener_end_TcpExtSyncookiesSent'), 0);
        if (flood) {
          t.true(g('listener_end_TcpExtListenDrops') > 0, 'the SYN queue overflowed');
          t.true(g('listener_request_socks') > 0);
        }
        break;
    }
    done.push(buildSuiteCell(spec, [r]));
  });
}

test.serial('the findings, from the runs\' counters', (t) => {
  if (done.length !== syncookieSuite.cells().length) {
    t.pass('some runs failed: their tests say why');
    return;
  }
  const f = syncookieFindings(withDeltas(done, 'syncookies=2'));
  const text = f.join('\n');
  t.regex(text, /TCP_CRR\+syn4\/syn-proxy: \d+ conn\/s/);
  t.regex(text, /Under the flood the proxy kept the listener free of SYNs/);
  t.regex(text, /Without cookies the flood fills the SYN queue/);
  t.regex(text, /netif_rx/);
  t.regex(text, /No published figures/);
  t.regex(text, /Key rotation in flight/);
});

// What one run of a syncookie cell must show, whatever its figure: conservation, and the counters
// of the path its column names. Shared by the one-run test in `npm test` and every cell's in
// test/suite-cells/syncookie.test.ts.
import type { ExecutionContext } from 'ava';
import type { SuiteCellSpec, SuiteRun } from '../../scenarios/suite/types.ts';

export function checkSyncookieRun(t: ExecutionContext, spec: SuiteCellSpec, r: SuiteRun): void {
  const k = r.counters;
  const g = (n: string): number => k[n] ?? NaN;
  t.true(r.balanced, JSON.stringify(r.notes));
  t.deepEqual(r.notes ?? [], [], 'the path the column names');
  t.true(r.seconds > 0);
  t.is(r.value, g('conn_completed') / r.seconds);
  const flood = spec.row.includes('+syn');
  if (flood) t.true(g('flood_generated') > 0, 'the flood ran');
  else t.is(g('flood_generated'), 0);
  // The client's connections: attempted = completed + failed + the one in flight (netperf's own
  // counts once the setup publishes them, the stack's TcpActiveOpens until then).
  const wired = g('client_connects') > 0;
  const inFlight = (wired ? g('client_connects') : g('client_active_opens')) - g('client_completed') - (wired ? g('client_conn_errors') : g('client_failed'));
  t.true(inFlight === 0 || inFlight === 1, `in flight ${inFlight}`);
  switch (spec.column) {
    case 'syn-proxy':
    case 'syn-proxy (key rotated)':
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
}

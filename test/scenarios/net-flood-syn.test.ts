// `vxo run flood --kind syn4|syn6` over the four workers (short runs): SYNs from 10k source ports
// at one guest listener with tcp_syncookies=2 and no accept(). Every SYN is answered with a
// cookie SYN-ACK (or dropped and counted), the SYN-ACKs leave through virtio's tx ring, vhost's
// handle_tx, the tap and the bridge, and reach the NIC's wire.
import test from 'ava';
import { runFlood } from '../../scenarios/run/run-flood.ts';

for (const kind of ['syn4', 'syn6'] as const) {
  test.serial(`flood ${kind}: cookie SYN-ACKs go back out through the guest's tx path; both ledgers balance`, async (t) => {
    const r = await runFlood({ kind, duration: 0.3, warmup: 0.2 });
    t.is(r.metric, 'guest_app_syncookies_sent');
    // The window's figure can be 0 on a starved machine; the run's totals cannot.
    t.true(r.mpps >= 0 && Number.isFinite(r.mpps));
    t.true((r.counters['guest_app_syncookies_sent'] ?? 0) > 0, 'SYN-ACKs were sent');
    t.true(r.accounting.balanced, JSON.stringify(r.accounting));
    t.true(r.stack_accounting.balanced, JSON.stringify(r.stack_accounting));
    t.true((r.stack.nstat['TcpExtSyncookiesSent'] ?? 0) > 0, JSON.stringify(r.stack.nstat));
    t.is(r.stack.nstat['TcpExtSyncookiesSent'], r.stack_accounting.answered);
    t.is(r.stack.nstat['TcpExtListenOverflows'] ?? 0, 0, 'syncookies=2: no request socket, no overflow');
    // The SYN-ACKs crossed vhost and the tap into the host's bridge, which sends them out of the NIC.
    t.true((r.counters['vhost_tx_packets'] ?? 0) > 0);
    t.true((r.counters['nic_tx_packets'] ?? 0) > 0);
    t.is(r.accounting.delivered['host_nic_wire_tx'], r.counters['nic_tx_packets']);
    const l = r.stack.sockets.find((s) => s.state === 'LISTEN');
    t.truthy(l);
    t.is(l!.local, kind === 'syn4' ? '0.0.0.0:80' : '[::]:80');
    t.is(l!.recv_q, 0, 'no connection waits for accept: cookies keep no state');
  });
}

// `vxo run flood --kind udp4|udp6` over the four workers (short runs): a 0-length UDP flood from
// 10k source ports into one guest socket read by a sink. Shape, traffic, both ledgers, the
// stack's counters by nstat name and its socket as ss lists it.
import test from 'ava';
import { runFlood } from '../../scenarios/run/run-flood.ts';

for (const kind of ['udp4', 'udp6'] as const) {
  test.serial(`flood ${kind}: datagrams reach the socket, every frame and every packet accounted for`, async (t) => {
    const r = await runFlood({ kind, duration: 0.3, warmup: 0.2 });
    t.is(r.scenario, 'flood');
    t.is(r.kind, kind);
    t.is(r.metric, 'guest_app_rx_packets');
    // The window's figure can be 0 on a starved machine; the run's totals cannot.
    t.true(r.mpps >= 0 && Number.isFinite(r.mpps));
    t.true((r.counters['guest_app_rx_packets'] ?? 0) > 0, 'the sink read datagrams');
    t.is(r.goal_mpps, kind === 'udp4' ? 2.738662 : 2.867885);
    t.true(r.accounting.balanced, JSON.stringify(r.accounting));
    t.true(r.stack_accounting.balanced, JSON.stringify(r.stack_accounting));
    t.true((r.counters['pktgen_generated'] ?? 0) > 0);
    t.true((r.counters['guest_stack_rx_packets'] ?? 0) > 0);
    t.is(r.stack_accounting.received, r.counters['guest_rx_packets'] ?? -1);
    const udp = kind === 'udp4' ? 'UdpInDatagrams' : 'Udp6InDatagrams';
    t.true((r.stack.nstat[udp] ?? 0) > 0, JSON.stringify(r.stack.nstat));
    t.is(r.stack.nstat['UdpNoPorts'] ?? 0, 0, 'every datagram found the socket');
    const sock = r.stack.sockets.find((s) => s.netid === 'udp');
    t.truthy(sock);
    t.is(sock!.local, kind === 'udp4' ? '0.0.0.0:9' : '[::]:9');
    t.regex(r.stack.ss, /UNCONN/);
    // The CPU table's keys are there for the report.
    t.is(typeof r.explain['cpu_guest'], 'number');
  });
}

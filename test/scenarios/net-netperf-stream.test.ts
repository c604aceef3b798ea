// `vxo run netperf` STREAM tests over the four workers (short runs): TCP_STREAM host to guest and
// UDP_STREAM guest to host, netperf and netserver on different machines (workers) with the data
// port agreed through the runner. Shape, data flowed, the balance, both stacks' counters.
import test from 'ava';
import { runNetperf } from '../../scenarios/run/run-netperf.ts';

test.serial('TCP_STREAM host to guest: bytes arrive at the guest, Mbit/s from the receiver, both stacks counted', async (t) => {
  const r = await runNetperf({ test: 'TCP_STREAM', direction: 'host-to-guest', duration: 0.3, warmup: 0.3 });
  t.is(r.scenario, 'netperf');
  t.is(r.size, 16384);
  // The window's figures can be 0 on a starved machine; the run's totals cannot.
  t.true((r.mbps ?? -1) >= 0);
  t.is(r.tps, undefined);
  t.true((r.counters['guest_app_np_rx_bytes'] ?? 0) > 0, JSON.stringify(Object.fromEntries(Object.entries(r.counters).filter(([k, v]) => v !== 0 && /app_|stack_|nstat_|drop|tx_skb/.test(k)))));
  t.true((r.counters['host_app_np_bytes_sent'] ?? 0) > 0);
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  t.true((r.stacks.host.nstat['TcpOutSegs'] ?? 0) > 0);
  t.true((r.stacks.guest.nstat['TcpInSegs'] ?? 0) > 0);
  t.is(r.stacks.host.nstat['TcpActiveOpens'], 1);
  t.is(r.stacks.guest.nstat['TcpPassiveOpens'], 1);
  t.truthy(r.stacks.guest.sockets.find((s) => s.state === 'ESTAB' && s.local === '10.0.0.2:12866'));
  t.regex(r.text, /10\^6bits\/sec/);
});

test.serial('UDP_STREAM guest to host: a send line and a receive line, what the host received', async (t) => {
  const r = await runNetperf({ test: 'UDP_STREAM', direction: 'guest-to-host', size: 18, duration: 0.3, warmup: 0.2 });
  t.is(r.size, 18);
  t.is(r.rfc, 90.74);
  t.true((r.counters['guest_app_np_sent'] ?? 0) > 0);
  t.true((r.counters['host_app_np_rx_messages'] ?? 0) > 0);
  t.true((r.mbps ?? -1) >= 0);
  t.true((r.send_mbps ?? -1) >= 0);
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  t.true((r.stacks.host.nstat['UdpInDatagrams'] ?? 0) > 0);
  t.true((r.stacks.guest.nstat['UdpOutDatagrams'] ?? 0) > 0);
  t.is(r.text.split('\n').length, 6, 'netperf prints a send line and a receive line');
});

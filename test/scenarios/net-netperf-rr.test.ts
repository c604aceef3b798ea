// `vxo run netperf` request/response tests over the four workers (short runs): UDP_RR host to
// guest (netserver unconnected, recvfrom/sendto; netperf connected) and TCP_RR guest to host.
import test from 'ava';
import { runNetperf } from '../../scenarios/run/run-netperf.ts';

test.serial('UDP_RR host to guest: transactions complete; netserver answers every request', async (t) => {
  const r = await runNetperf({ test: 'UDP_RR', direction: 'host-to-guest', duration: 0.3, warmup: 0.2 });
  t.true((r.tps ?? -1) >= 0);
  t.is(r.mbps, undefined);
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  t.true((r.counters['host_app_np_transactions'] ?? 0) > 0, 'transactions completed');
  t.true((r.counters['guest_app_np_responses'] ?? 0) > 0);
  const g = r.stacks.guest.nstat, h = r.stacks.host.nstat;
  t.true((g['UdpInDatagrams'] ?? 0) > 0 && (g['UdpOutDatagrams'] ?? 0) > 0);
  t.true((h['UdpInDatagrams'] ?? 0) > 0);
  t.truthy(r.stacks.guest.sockets.find((s) => s.netid === 'udp' && s.state === 'UNCONN'));
  t.truthy(r.stacks.host.sockets.find((s) => s.netid === 'udp' && s.state === 'ESTAB'), 'netperf connect()s its socket');
});

test.serial('TCP_RR guest to host: transactions over one connection', async (t) => {
  const r = await runNetperf({ test: 'TCP_RR', direction: 'guest-to-host', duration: 0.3, warmup: 0.3 });
  t.true((r.tps ?? -1) >= 0);
  t.true((r.counters['guest_app_np_transactions'] ?? 0) > 0, 'transactions completed');
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  t.is(r.stacks.guest.nstat['TcpActiveOpens'], 1);
  t.is(r.stacks.host.nstat['TcpPassiveOpens'], 1);
  t.regex(r.text, /Trans\.\n/);
});

test.serial('UDP_RR over IPv6 guest to host: fd00::2 asks fd00::1; the stacks count it as IPv6', async (t) => {
  const r = await runNetperf({ test: 'UDP_RR', direction: 'guest-to-host', family: 6, duration: 0.3, warmup: 0.2 });
  t.is(r.family, 6);
  t.true((r.counters['guest_app_np_transactions'] ?? 0) > 0, 'transactions completed');
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  const g = r.stacks.guest.nstat;
  t.true((g['Udp6InDatagrams'] ?? 0) > 0 && (g['Udp6OutDatagrams'] ?? 0) > 0, JSON.stringify(g));
  t.is(g['UdpInDatagrams'], undefined, 'nothing over IPv4');
  t.truthy(r.stacks.guest.sockets.find((s) => s.netid === 'udp' && s.family === 'inet6' && s.peer.startsWith('[fd00::1]')));
});

// The network scenarios' logic without threads: the options refused before any worker starts,
// the guest stack's ledger, and the setup modules (scenarios/stack/) on two stacks joined by a
// veth pair on a virtual clock: netperf's halves find each other through the agreed data port,
// the sink and the SYN listener count what they get.
import test from 'ava';
import { BootState } from '../../net/core/boot-state.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { VethDevice, veth_pair, veth_poll } from '../../net/core/veth.ts';
import { register_netdevice } from '../../net/core/dev.ts';
import { NSEC_PER_MSEC } from '../../net/core/clock.ts';
import { RunError } from '../../scenarios/run/run-error.ts';
import { checkFlood, floodTemplate, parseFloodDst, runFlood, stackAccounting } from '../../scenarios/run/run-flood.ts';
import { checkNetperf, runNetperf, type NetperfRunOptions } from '../../scenarios/run/run-netperf.ts';
import { setupMachine, type MachineApp } from '../../scenarios/stack/machine-setup.ts';
import { NET_ADDRS, NET_PORTS, type StackSetupData } from '../../scenarios/stack/setup-data.ts';
import type { FloodKind } from '../../scenarios/run/run-flood.ts';

const mac = (s: string): Uint8Array => Uint8Array.from(s.split(':').map((x) => parseInt(x, 16)));

test('bad flood options are refused with RunError EINVAL before any worker starts', async (t) => {
  for (const o of [
    { kind: 'syn5' as FloodKind, duration: 1 },
    { kind: 'udp4' as FloodKind, duration: 0 },
    { kind: 'udp4' as FloodKind, duration: -1 },
    { kind: 'udp4' as FloodKind, duration: 1, warmup: -1 },
    { kind: 'udp4' as FloodKind, duration: 1, queueSize: 100 },
  ]) {
    t.is(t.throws(() => checkFlood(o), { instanceOf: RunError })?.code, 'EINVAL', JSON.stringify(o));
    const e = await t.throwsAsync(runFlood(o), { instanceOf: RunError });
    t.is(e?.code, 'EINVAL');
  }
  t.regex(t.throws(() => checkFlood({ kind: 'tcp4' as FloodKind, duration: 1 }))!.message, /syn4, syn6, udp4, udp6/);
});

test('--dst: destination ranges for pktgen, parsed and checked before any worker starts', (t) => {
  t.deepEqual(parseFloodDst('192.0.2.0+256:53'), { ip: '192.0.2.0', ipCount: 256, port: 53 });
  t.deepEqual(parseFloodDst('[fd00::2]+4:1+65535'), { ip: 'fd00::2', ipCount: 4, port: 1, portCount: 65535 });
  t.deepEqual(parseFloodDst(':80+10'), { port: 80, portCount: 10 });
  t.deepEqual(parseFloodDst('10.0.0.2'), { ip: '10.0.0.2' });
  for (const bad of ['', 'x', '192.0.2.0+:53', 'fd00::2:53', '1.2.3.4:53+']) {
    t.is(t.throws(() => parseFloodDst(bad), { instanceOf: RunError })?.code, 'EINVAL', bad);
  }
  const tpl = floodTemplate('udp4', parseFloodDst('192.0.2.0+256:53'));
  t.like(tpl, { dstIp: '192.0.2.0', dstIpCount: 256, dstPort: 53, srcPortCount: 10_000 });
  t.notThrows(() => checkFlood({ kind: 'udp4', duration: 1, dst: parseFloodDst('192.0.2.0+256:53') }));
  // pktgen's own limits, as usage errors: the family, a port range past 65,535.
  for (const dst of [parseFloodDst('[fd00::2]:53'), parseFloodDst(':65535+2')]) {
    t.is(t.throws(() => checkFlood({ kind: 'udp4', duration: 1, dst }), { instanceOf: RunError })?.code, 'EINVAL', JSON.stringify(dst));
  }
});

test('bad netperf options are refused with RunError EINVAL before any worker starts, sizes by test', async (t) => {
  const bad: NetperfRunOptions[] = [
    { test: 'SCTP_STREAM' as 'TCP_STREAM', duration: 1 },
    { test: 'TCP_STREAM', direction: 'sideways' as 'host-to-guest', duration: 1 },
    { test: 'UDP_STREAM', size: 1473, duration: 1 },
    { test: 'UDP_STREAM', size: 0, duration: 1 },
    { test: 'UDP_RR', size: 2000, duration: 1 },
    { test: 'TCP_RR', size: 1.5, duration: 1 },
    { test: 'TCP_STREAM', size: (1 << 20) + 1, duration: 1 },
    { test: 'TCP_STREAM', duration: 100_000 },
    { test: 'UDP_STREAM', size: 1453, family: 6, duration: 1 },
    { test: 'TCP_STREAM', family: 5 as 6, duration: 1 },
  ];
  for (const o of bad) {
    t.is(t.throws(() => checkNetperf(o), { instanceOf: RunError })?.code, 'EINVAL', JSON.stringify(o));
    t.is((await t.throwsAsync(runNetperf(o), { instanceOf: RunError }))?.code, 'EINVAL');
  }
  t.notThrows(() => checkNetperf({ test: 'UDP_STREAM', size: 1472, duration: 1 }));
  t.notThrows(() => checkNetperf({ test: 'TCP_RR', size: 65536, direction: 'guest-to-host', duration: 1 }));
  t.regex(t.throws(() => checkNetperf({ test: 'UDP_STREAM', size: 9000, duration: 1 }))!.message, /from 1 to 1472 for UDP_STREAM/);
});

test('the guest stack ledger: udp (read + queued + dropped) and syn (answered + dropped; SYN-ACKs on the ring + dropped at it)', (t) => {
  const udp = stackAccounting('udp4', {
    guest_stack_rx_packets: 100, guest_app_rx_packets: 60, guest_app_rcvq: 10, guest_stack_skb_drop_total: 30, guest_stack_skb_drop_SOCKET_RCVBUFF: 30,
  });
  t.true(udp.balanced);
  t.deepEqual(udp.dropped, { SOCKET_RCVBUFF: 30 });
  t.false(stackAccounting('udp4', { guest_stack_rx_packets: 100, guest_app_rx_packets: 60 }).balanced);
  const syn = stackAccounting('syn6', {
    guest_stack_rx_packets: 50, guest_app_syncookies_sent: 50, guest_tx_skb: 45, guest_stack_tx_dropped: 5,
    guest_stack_skb_drop_total: 5, guest_stack_skb_drop_QDISC_DROP: 5,
  });
  t.true(syn.balanced, JSON.stringify(syn));
  t.deepEqual(syn.dropped, {}, 'tx drops are not receive drops');
  t.false(stackAccounting('syn4', { guest_stack_rx_packets: 50, guest_app_syncookies_sent: 49, guest_tx_skb: 49 }).balanced);
});

interface Pair {
  clock: VirtualClock;
  host: MachineApp;
  guest: MachineApp;
  run(ms: number): void;
}

/** The two machines' setups on a veth pair (br0-like and eth0-like), one virtual clock. */
function pair(host: Omit<StackSetupData, 'report'>, guest: Omit<StackSetupData, 'report'>): Pair {
  const clock = new VirtualClock();
  const mk = (seed: number): Net => new Net(new BootState({ clock, seed }));
  const hn = mk(1), gn = mk(2);
  const hd = new VethDevice('br0', mac(NET_ADDRS.hostMac));
  const gd = new VethDevice('eth0', mac(NET_ADDRS.guestMac));
  veth_pair(hd, gd);
  register_netdevice(hn, hd);
  register_netdevice(gn, gd);
  const h = setupMachine({ machine: 'host', net: hn, dev: hd, data: host });
  const g = setupMachine({ machine: 'guest', net: gn, dev: gd, data: guest });
  const pump = (): void => {
    for (let i = 0; i < 40; i++) {
      const n = h.poll() + g.poll() + veth_poll(hd) + veth_poll(gd);
      if (n === 0) return;
    }
  };
  return {
    clock, host: h, guest: g,
    run(ms: number): void {
      for (let i = 0; i < ms; i++) {
        pump();
        clock.advance(NSEC_PER_MSEC);
      }
    },
  };
}

const NEIGH: StackSetupData['neigh'] = [
  { family: 4, addr: NET_ADDRS.host4, mac: NET_ADDRS.hostMac }, { family: 4, addr: NET_ADDRS.guest4, mac: NET_ADDRS.guestMac },
  { family: 6, addr: NET_ADDRS.host6, mac: NET_ADDRS.hostMac }, { family: 6, addr: NET_ADDRS.guest6, mac: NET_ADDRS.guestMac },
];

function np(role: 'netperf' | 'netserver', machine: 'host' | 'guest', test: 'UDP_RR' | 'TCP_RR' | 'TCP_STREAM' | 'UDP_STREAM', size: number): Omit<StackSetupData, 'report'> {
  const own = machine === 'host' ? { addr4: NET_ADDRS.host4, addr6: NET_ADDRS.host6 } : { addr4: NET_ADDRS.guest4, addr6: NET_ADDRS.guest6 };
  return {
    role, family: 4, ...own, neigh: NEIGH, port: NET_PORTS.netperfData,
    netperf: { test, size, responseSize: test.endsWith('RR') ? size : 1, peer: machine === 'host' ? NET_ADDRS.guest4 : NET_ADDRS.host4 },
  };
}

for (const test_ of ['UDP_RR', 'TCP_RR'] as const) {
  test(`netperf's halves on two stacks: ${test_} transactions through the agreed data port`, (t) => {
    const p = pair(np('netperf', 'host', test_, 1), np('netserver', 'guest', test_, 1));
    p.run(20);
    const h = p.host.counters(), g = p.guest.counters();
    t.true(h['app_np_transactions']! > 10, JSON.stringify(h));
    t.is(h['app_rx_errors'], 0);
    // Every request but the one in flight was answered.
    t.true(g['app_np_responses']! >= h['app_np_transactions']!);
    t.true(g['app_np_responses']! <= h['app_np_transactions']! + 1);
  });
}

test("netperf's halves: TCP_STREAM moves bytes until the socket refuses, then resumes on write space", (t) => {
  const p = pair(np('netserver', 'host', 'TCP_STREAM', 16384), np('netperf', 'guest', 'TCP_STREAM', 16384));
  p.run(100);
  const h = p.host.counters(), g = p.guest.counters();
  t.true(g['app_np_connected'] === 1);
  t.true(h['app_np_rx_bytes']! > 100_000, JSON.stringify({ h, g }));
  t.true(g['app_np_bytes_sent']! >= h['app_np_rx_bytes']!);
});

test('the flood roles: the sink reads UDP, the listener answers SYNs with cookies under tcp_syncookies=2', (t) => {
  const sinkSetup: Omit<StackSetupData, 'report'> = { role: 'udp-sink', family: 6, addr4: NET_ADDRS.guest4, addr6: NET_ADDRS.guest6, neigh: NEIGH, port: NET_PORTS.udpSink };
  const p = pair({ role: 'none', family: 4, addr4: NET_ADDRS.host4, addr6: NET_ADDRS.host6, neigh: NEIGH, port: 0 }, sinkSetup);
  t.is(p.guest.counters()['app_rx_packets'], 0);
  const l = pair(
    { role: 'none', family: 4, addr4: NET_ADDRS.host4, addr6: NET_ADDRS.host6, neigh: NEIGH, port: 0 },
    { role: 'syn-listener', family: 4, addr4: NET_ADDRS.guest4, addr6: NET_ADDRS.guest6, neigh: NEIGH, port: 80, sysctls: { tcp_syncookies: 2 } },
  );
  t.is(l.guest.counters()['app_syncookies_sent'], 0);
  t.throws(() => pair(
    { role: 'none', family: 4, addr4: NET_ADDRS.host4, addr6: NET_ADDRS.host6, neigh: NEIGH, port: 0 },
    { role: 'none', family: 4, addr4: NET_ADDRS.guest4, addr6: NET_ADDRS.guest6, neigh: NEIGH, port: 0, sysctls: { tcp_no_such: 1 } },
  ), { message: /no sysctl net.ipv4.tcp_no_such/ });
});

test('the library: runFlood and runNetperf (the scenario API the package exports) check their options first', async (t) => {
  const vxo = await import('../../scenarios/api.ts');
  t.is(typeof vxo.runFlood, 'function');
  t.is(typeof vxo.runNetperf, 'function');
  t.is((await t.throwsAsync(vxo.runFlood({ kind: 'udp5' as FloodKind }), { instanceOf: RunError }))?.code, 'EINVAL');
  t.is((await t.throwsAsync(vxo.runNetperf({ test: 'TCP_RR', size: 0 }), { instanceOf: RunError }))?.code, 'EINVAL');
});

// BPF attached to the machines in the network scenarios, with real traffic through the four
// workers (short runs): scenarios/sk's programs each where it belongs — a socket filter on the
// guest's sink, the XDP socket firewall native in the guest (and its offload refused, falling back
// to native), the tc transparent proxy at the guest's eth0 ingress, the SK_LOOKUP dispatcher and the
// sk_lookup benchmark program on the guest's netns. Engines alternate between runs; the programs'
// unit tests run each on both.
import test from 'ava';
import { join } from 'node:path';
import { runFlood } from '../../scenarios/run/run-flood.ts';
import { runNetperf } from '../../scenarios/run/run-netperf.ts';
import { runMachines } from '../../scenarios/run/run-machines.ts';
import { floodTemplate, guestFloodSetup } from '../../scenarios/run/run-flood.ts';
import { bpfReport } from '../../scenarios/run/bpf-options.ts';
import { REPO_ROOT } from '../support/vm.ts';

const SK = (f: string): string => join(REPO_ROOT, 'scenarios', 'sk', f);
const u64 = (hex: string | undefined): number => {
  if (hex === undefined) return -1;
  const b = Buffer.from(hex, 'hex');
  return Number(b.readBigUInt64LE(0));
};
/** The value of slot `i` of a dumped ARRAY (keys are u32 LE). */
function slot(entries: { key: string; value: string }[] | undefined, i: number): number {
  const k = Buffer.alloc(4);
  k.writeUInt32LE(i);
  return u64(entries?.find((e) => e.key === k.toString('hex'))?.value);
}

test.serial('socket filter (sf_drop.o) on the guest\'s UDP sink: every datagram dropped and counted, the socket reads nothing', async (t) => {
  const r = await runFlood({ kind: 'udp4', duration: 0.2, warmup: 0.15, bpf: { engine: 'jit', guest: [{ kind: 'socket_filter', object: SK('sf_drop.o') }] } });
  t.is(r.counters['guest_app_rx_packets'] ?? -1, 0);
  const received = r.stack_accounting.received;
  t.true(received > 0);
  t.is(r.stack_accounting.dropped['SOCKET_FILTER'], received, JSON.stringify(r.stack_accounting));
  t.is(r.stack.nstat['UdpInErrors'], received);
  t.true(r.accounting.balanced && r.stack_accounting.balanced);
});

test.serial('XDP socket firewall: native in the guest, it passes datagrams for the sink; offload is refused (the host cannot see the guest\'s sockets) and it falls back to native', async (t) => {
  const r = await runFlood({
    kind: 'udp4', duration: 0.2, warmup: 0.15,
    bpf: { engine: 'interp', guestXdp: { object: SK('xdp_sk_firewall.o'), mode: 'offload', fallbackNative: true } },
  });
  const x = r.bpf?.guest_xdp;
  t.truthy(x);
  t.is(x!.mode, 'native');
  t.regex(x!.offload_refused ?? '', /helper bpf_sk[c]?_lookup_(tcp|udp)#\d+ cannot be offloaded/);
  const v = x!.maps['fw_verdicts']?.entries;
  const passUdp = slot(v, 6), dropUdp = slot(v, 8);
  t.true(passUdp > 0, 'UDP to the sink passed');
  t.is(dropUdp, 0);
  t.is(r.stack_accounting.received, passUdp, 'the stack got what XDP passed');
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
});

test.serial('XDP socket firewall: with no socket on the port every datagram is dropped at XDP, before the stack', async (t) => {
  const b = { engine: 'jit' as const, guestXdp: { object: SK('xdp_sk_firewall.o') } };
  const r = await runMachines({
    duration: 0.2, warmup: 0.15, template: floodTemplate('udp4'),
    guest: { ...guestFloodSetup('udp4'), role: 'none' },
    workerData: { guest: { xdp: { object: b.guestXdp.object, mode: 'native', engine: 'jit' } } },
  });
  const rep = bpfReport(b, r).bpf!;
  const v = rep.guest_xdp!.maps['fw_verdicts']?.entries;
  const dropUdp = slot(v, 8);
  t.true(dropUdp > 0);
  t.is(slot(v, 6), 0);
  t.is(r.counters['guest_nstat_UdpNoPorts'] ?? 0, 0, 'nothing reached UDP to be refused');
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
});

test.serial('tc transparent proxy (tc_tproxy.o) at the guest\'s eth0 ingress: connections to port 80 reach netserver listening on 12866', async (t) => {
  const r = await runNetperf({
    test: 'TCP_RR', duration: 0.3, warmup: 0.3, target: { port: 80 },
    bpf: { engine: 'interp', guest: [{ kind: 'tc', direction: 'ingress', object: SK('tc_tproxy.o'), maps: [{ map: 'tproxy_services', key: '06000050', value: '32420000' }] }] },
  });
  t.true(r.window_stats.transactions > 0 || (r.counters['host_app_np_transactions'] ?? 0) > 0, 'transactions through the proxy');
  t.regex(r.stacks.guest.ss, /ESTAB\s+\d+\s+\d+\s+10\.0\.0\.2:80\s/);
  t.regex(r.stacks.guest.ss, /LISTEN\s+\d+\s+\d+\s+0\.0\.0\.0:12866/);
  const c = r.bpf?.guest?.maps['tproxy_counters']?.entries;
  t.is(slot(c, 2), 1, 'the SYN was assigned to the proxy listener');
  t.true(slot(c, 1) > 0, 'the connection\'s later segments to its own socket');
  t.regex(r.bpf!.guest!.net, /eth0\(\d+\) clsact\/ingress tc_tproxy\.o:\[tc\]/);
  t.true(r.accounting.balanced);
});

test.serial('dispatcher (dispatch.o): a binding for 192.0.2.0/24 port 80 sends the host\'s connection to netserver', async (t) => {
  const r = await runNetperf({
    test: 'TCP_RR', duration: 0.3, warmup: 0.3, target: { addr: '192.0.2.7', port: 80 },
    bpf: {
      engine: 'jit',
      guest: [{ kind: 'dispatcher', label: 'app', bindings: [{ protocol: 'tcp', prefix: '192.0.2.0/24', port: 80 }] }],
      guestRoutes: { local: ['192.0.2.0/24'] }, hostRoutes: { via: [{ prefix: '192.0.2.0/24', gw: '10.0.0.2' }] },
    },
  });
  t.true((r.counters['host_app_np_transactions'] ?? 0) > 0);
  t.regex(r.stacks.guest.ss, /ESTAB\s+\d+\s+\d+\s+192\.0\.2\.7:80\s/);
  const d = r.bpf?.guest?.dispatcher;
  t.truthy(d);
  const m = d!.metrics;
  t.deepEqual(d!.bindings, ['tcp 192.0.2.0/24 port 80 -> app']);
  t.is(d!.destinations.length, 1);
  t.not(d!.destinations[0]!.cookie, null);
  t.is(m!.assigned, 1);
  t.is(m!.lookups, m!.assigned + m!.no_binding);
  t.regex(r.bpf!.guest!.net, /sk_lookup:/);
});

test.serial('sk_lookup benchmark program (200-entry LPM) on the guest: every UDP lookup runs it, SK_PASS, the sink reads everything', async (t) => {
  const maps = [];
  for (let i = 0; i < 200; i++) {
    // tcp 10.i.0.0/16 port 1000 + i, as scenarios/sk/README.md suggests: prefixlen 24 + 96 + 16.
    const key = Buffer.alloc(23);
    key.writeUInt32LE(136, 0);
    key[4] = 6;
    key.writeUInt16BE(1000 + i, 5);
    key[17] = 0xff; key[18] = 0xff; key[19] = 10; key[20] = i;
    maps.push({ map: 'bench_bindings', key: key.toString('hex'), value: '01000000' });
  }
  const r = await runFlood({ kind: 'udp4', duration: 0.2, warmup: 0.15, bpf: { engine: 'jit', guest: [{ kind: 'sk_lookup', object: SK('sk_lookup_bench.o'), maps }] } });
  const rep = r.bpf!.guest!;
  t.is(rep.maps['bench_bindings']?.entries.length, 200);
  const c = rep.maps['bench_counters']?.entries;
  const runs = slot(c, 0);
  t.true(runs > 0);
  t.is(slot(c, 2), runs, 'every lookup missed the bindings');
  t.true((r.counters['guest_app_rx_packets'] ?? 0) > 0, 'SK_PASS without a socket: the regular lookup found the sink');
  t.true(r.stack_accounting.balanced);
});

test.serial('tc on the host\'s NIC (host/net\'s own device): a program dropping UDP to port 9 at ingress; the ledger counts the drops', async (t) => {
  const r = await runFlood({
    kind: 'udp4', duration: 0.2, warmup: 0.15,
    bpf: { engine: 'interp', hostTc: [{ dev: 'nic', direction: 'ingress', object: join(REPO_ROOT, 'test/host-net/tc-fixtures/host_tc.o'), section: 'drop_udp_port', maps: [{ map: 'drop_port', key: '00000000', value: '09000000' }] }] },
  });
  const tc = r.bpf?.host_tc;
  t.truthy(tc);
  const hook = tc!.hooks.find((h) => h.direction === 'ingress');
  t.true((hook?.shot ?? 0) > 0);
  t.is(hook!.shot, hook!.packets, 'every frame was UDP to port 9');
  t.is(r.counters['guest_app_rx_packets'] ?? 0, 0, 'nothing reached the guest');
  t.regex(tc!.net, /clsact\/ingress host_tc\.o:\[tc\]/);
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
});

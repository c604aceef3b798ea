// The sk-lookup suite (scenarios/suite/sk-lookup.ts): its layout beside both published tables, the
// kernel without the SK_LOOKUP series (sk_lookup_hook_set: the four lookups skip the hook entirely,
// the attach type is refused), and every dispatch cell on one thread (each binding's traffic
// reaches its one socket; misses by reason; the ledgers close); the UDP cells' four-worker set-up
// (pktgen's destination ranges, the dispatcher's binding) checked without starting workers
// (test/suite-cells/sk-lookup.test.ts runs them).
import test from 'ava';
import { inet_pton6 as ip6 } from '../../net/core/inet-addr.ts';
import { netns_bpf_link_create, sk_lookup_hook_set, SK_PASS, type BpfSkLookupKern, type SkLookupProg } from '../../net/core/sk-lookup.ts';
import { AF_INET6, IPPROTO_TCP } from '../../net/core/socket-constants.ts';
import { __inet_lookup } from '../../net/ipv4/inet-hashtables.ts';
import { __udp4_lib_lookup } from '../../net/ipv4/udp-lookup.ts';
import { __inet6_lookup } from '../../net/ipv6/inet6-hashtables.ts';
import { __udp6_lib_lookup } from '../../net/ipv6/udp6-lookup.ts';
import { checkFlood } from '../../scenarios/run/run-flood.ts';
import { benchMapInits, skLookupSuite, SK_LOOKUP_BENCH_OBJECT } from '../../scenarios/suite/sk-lookup.ts';
import { dispatchPlan, runDispatchCell } from '../../scenarios/suite/sk-lookup-dispatch.ts';
import { captureFrames, destinationsSeen, dispatchBpf, dispatchTemplate } from '../../scenarios/suite/sk-lookup-dispatch-workers.ts';
import { PktgenTemplate } from '../../host/net/pktgen-templates.ts';
import { checkScenarioBpf } from '../../scenarios/run/bpf-options.ts';
import type { SuiteCell, SuiteOptions, SuiteRun } from '../../scenarios/suite/types.ts';
import { CLIENT4 as C, SERVER4 as S, listener, stack, udpBound } from '../net/helpers.ts';

const O: SuiteOptions = { duration: 0.05, warmup: 0, repeat: 1, engine: 'jit' };

function counting(): SkLookupProg & { runs: number } {
  const p = { runs: 0, run(_ctx: BpfSkLookupKern): number { p.runs++; return SK_PASS; } };
  return p;
}

test('layout: 4 floods x 3 kernels beside v1 and v5 (value, spread, delta), the same kernels\' lookup cost, 4 dispatch rows x (workers, one thread)', (t) => {
  const s = skLookupSuite;
  t.is(s.id, 'sk-lookup');
  t.is(s.baseline, 'no-hook');
  const cells = s.cells();
  t.is(cells.length, 32);
  t.deepEqual(cells.filter((c) => c.row === 'dispatch tcp ports').map((c) => [c.id, c.metric]), [
    ['dispatch tcp ports/workers', 'cookie SYN-ACKs per SYN looked up'], ['dispatch tcp ports/one-thread', 'connections accepted per destination'],
  ]);
  t.deepEqual(cells.filter((c) => c.row === 'lookup udp6').map((c) => c.id), ['lookup udp6/no-hook', 'lookup udp6/no-prog', 'lookup udp6/lpm200']);
  t.deepEqual(cells.slice(0, 3).map((c) => c.id), ['tcp4/no-hook', 'tcp4/no-prog', 'tcp4/lpm200']);
  const udp6 = cells.find((c) => c.id === 'udp6/lpm200')!;
  t.deepEqual(udp6.published, [
    { source: 'v1 (5.6.3)', value: 2_520_474, spread: 0.007, delta: -0.121 },
    { source: 'v5 re-run (5.8-rc7)', value: 2_418_737, spread: 0.013, delta: -0.035 },
  ]);
  t.is(cells.find((c) => c.id === 'tcp4/no-hook')!.published[0]!.value, 939_616);
  for (const c of cells) {
    t.true(s.rows.includes(c.row) && s.columns.includes(c.column), c.id);
    t.is(c.published.length, c.row.startsWith('dispatch ') || c.row.startsWith('lookup ') ? 0 : 2);
  }
  const inits = benchMapInits();
  t.is(inits.length, 200);
  t.is(inits[0]!.key.slice(0, 8), '88000000', 'prefixlen 24 + 96 + 16 = 136, LE');
  t.is(new Set(inits.map((i) => i.key)).size, 200);
});

test('a kernel without the series: the four lookups never reach the run array, and SK_LOOKUP links are refused', (t) => {
  const s = stack();
  const l4 = listener(s, '0.0.0.0', 80);
  const l6 = listener(s, '::', 81, { family: AF_INET6 });
  const u4 = udpBound(s, '0.0.0.0', 53);
  const u6 = udpBound(s, '::', 54, { family: AF_INET6, v6only: true });
  const p = counting();
  t.is(s.net.sk_lookup.attach(p), 0);
  const all = (): unknown[] => [
    __inet_lookup(s.net, s.tcp, null, 20, C, 1000, S, 80, 1, 0),
    __inet6_lookup(s.net, s.tcp, null, 20, ip6('2001:db8::2'), 1000, ip6('2001:db8::1'), 81, 1, 0),
    __udp4_lib_lookup(s.net, s.udp, C, 1000, S, 53, 1, 0, null),
    __udp6_lib_lookup(s.net, s.udp, ip6('2001:db8::2'), 1000, ip6('2001:db8::1'), 54, 1, 0, null),
  ];
  t.deepEqual(all(), [l4, l6, u4, u6]);
  t.is(p.runs, 4, 'with the hook: one run per lookup');
  t.is(sk_lookup_hook_set(s.net, false), -16, 'EBUSY while a program is attached');
  // The hook's own test is what goes: even with a program left in the array, nothing runs it.
  s.net.sk_lookup.hooked = false;
  t.deepEqual(all(), [l4, l6, u4, u6]);
  t.is(p.runs, 4, 'without the hook: no run');
  t.is(s.net.sk_lookup.detach(p), 0);
  t.is(sk_lookup_hook_set(s.net, false), 0);
  t.is(netns_bpf_link_create(s.net, counting()), -22, 'BPF_SK_LOOKUP is no attach type on 5.6.3: EINVAL');
  t.is(sk_lookup_hook_set(s.net, true), 0);
  t.true(typeof netns_bpf_link_create(s.net, counting()) === 'object');
  t.is(IPPROTO_TCP, 6);
  t.throws(() => checkFlood({ kind: 'udp4', duration: 0.1, skLookupHook: false, bpf: { guest: [{ kind: 'sk_lookup', object: SK_LOOKUP_BENCH_OBJECT }] } }), { message: /without the SK_LOOKUP hook/ });
});


test('lookup cost: the three kernels measured interleaved on one thread; every lookup found the flood\'s socket, the program ran once per lookup', async (t) => {
  const spec = skLookupSuite.cells().find((c) => c.id === 'lookup tcp6/lpm200')!;
  const r = await skLookupSuite.run(spec, O);
  const k = r.counters;
  t.true(r.balanced, JSON.stringify(k));
  t.is(k['found'], k['lookups']);
  t.is(k['prog_runs'], k['lookups']);
  t.is(r.value, k['ns_lpm200'] ?? -1);
  for (const c of ['no-hook', 'no-prog', 'lpm200']) t.true((k[`ns_${c}`] ?? 0) > 0, c);
});

function dispatchChecks(t: import('ava').ExecutionContext, r: SuiteRun, covered: number): void {
  const k = r.counters;
  t.true(r.balanced, JSON.stringify(k));
  t.is(r.value, 1, 'every covered destination reached the one socket');
  t.is(k['covered'], covered);
  t.is(k['reached'], covered);
  t.is(k['dispatch_assigned'], covered);
  t.is(k['dispatch_no_binding'], 16);
  t.is(k['dispatch_missing_socket'], 16);
  t.is(k['refused'], 32, 'the misses were refused (port unreachable or RST), not delivered elsewhere');
  t.is(r.explain['sockets_used'], 1);
}

test('dispatch udp /24 (one thread) and tcp /24 (the suite\'s cell): 256 addresses, one socket each; misses by reason', async (t) => {
  const udp = runDispatchCell('dispatch udp /24', 'jit');
  dispatchChecks(t, udp, 256);
  t.is(udp.counters['UdpNoPorts'], 32, 'both miss kinds end with no socket (SK_DROP makes __udp4_lib_lookup return NULL): NoPorts, ICMP port unreachable');
  const spec = skLookupSuite.cells().find((c) => c.id === 'dispatch tcp /24/one-thread')!;
  const r = await skLookupSuite.run(spec, O);
  dispatchChecks(t, r, 256);
  t.is(r.explain['sockets_bind_needs'], 256);
  t.true((r as SuiteRun & { notes: string[] }).notes[0]!.includes('accept needs a client'));
});

test('dispatch through the four workers: pktgen\'s range is the binding\'s destinations exactly, the guest owns them, the dispatcher binds them', (t) => {
  const i32 = new Int32Array(16);
  const u8 = new Uint8Array(i32.buffer);
  const dst = (): string => `${[...u8.subarray(30, 34)].join('.')}:${(u8[36]! << 8) | u8[37]!}`;
  const prefix = dispatchPlan('dispatch udp /24');
  const g = new PktgenTemplate(dispatchTemplate(prefix));
  const seen = new Set<string>();
  for (let i = 0; i < 512; i++) {
    g.fill(u8, i32, 0);
    seen.add(dst());
  }
  t.is(seen.size, 256, 'two passes over the /24: 256 destinations');
  t.true([...seen].every((d) => /^192\.0\.2\.\d+:53$/.test(d)));
  const b = dispatchBpf(prefix, 'jit');
  t.notThrows(() => checkScenarioBpf(b));
  t.deepEqual(b.guest, [{ kind: 'dispatcher', label: 'svc', bindings: [{ protocol: 'udp', prefix: '192.0.2.0/24', port: 53 }] }]);
  t.deepEqual(b.guestRoutes, { local: ['192.0.2.0/24', '198.51.100.1/32'] });

  const ports = dispatchPlan('dispatch udp ports');
  const p = new PktgenTemplate(dispatchTemplate(ports));
  t.is(p.dstPortCount, 65_535);
  g.fill(u8, i32, 0);
  p.fill(u8, i32, 0);
  t.is(dst(), '198.51.100.1:1');
  for (let i = 1; i < 65_535; i++) p.fill(u8, i32, 0);
  t.is(dst(), '198.51.100.1:65535', 'the last port of the pass');
  t.deepEqual(dispatchBpf(ports, 'interp').guest, [{ kind: 'dispatcher', label: 'svc', bindings: [{ protocol: 'udp', prefix: '198.51.100.1/32', port: 0 }] }]);
  // TCP: the flood's SYNs (Linux's options) to the same ranges, the binding on port 80 / every port.
  const syn = dispatchTemplate(dispatchPlan('dispatch tcp /24'));
  t.like(syn, { proto: 'tcp-syn', dstIp: '192.0.2.0', dstIpCount: 256, dstPort: 80 });
  const sg = new PktgenTemplate(syn);
  sg.fill(u8, new Int32Array(u8.buffer), 0);
  t.is(dst(), '192.0.2.0:80');
  t.like(dispatchTemplate(dispatchPlan('dispatch tcp ports')), { proto: 'tcp-syn', dstIp: '198.51.100.1', dstPort: 1, dstPortCount: 65_535 });
  t.deepEqual(dispatchBpf(dispatchPlan('dispatch tcp ports'), 'jit').guest, [{ kind: 'dispatcher', label: 'svc', bindings: [{ protocol: 'tcp', prefix: '198.51.100.1/32', port: 0 }] }]);

  // The tap's view: the first frames coming in, truncated to the headers; frames going out (from
  // the guest's MAC: SYN-ACKs) and repeats do not count.
  t.is(captureFrames(prefix), 512);
  t.is(captureFrames(dispatchPlan('dispatch tcp ports')), 262_140);
  const tpl = dispatchTemplate(prefix);
  const tg = new PktgenTemplate({ ...tpl });
  const captured = [];
  for (let i = 0; i < 300; i++) {
    tg.fill(u8, i32, 0);
    if (i % 3 === 1) continue; // dropped at the tap's full queue: never reached the guest
    captured.push({ data: u8.slice(0, 38), origLen: 60, timeMs: 0 });
  }
  const reply = captured[0]!.data.slice();
  reply.set([2, 0, 0, 0, 0, 1], 0); // to the flood's MAC: going out
  const r = destinationsSeen([...captured, { data: reply, origLen: 60, timeMs: 0 }], prefix, tpl);
  t.is(r.frames, 200);
  // Frames 0..299 minus every third from 1: addresses i % 256, seen if some i ≡ a (mod 256) with i % 3 !== 1.
  const expect = new Set<number>();
  for (let i = 0; i < 300; i++) if (i % 3 !== 1) expect.add(i % 256);
  t.is(r.seen, expect.size);
});

test('dispatch udp ports (every 16th port here; the suite sends to all 65,535): each read from the one socket', (t) => {
  const r = runDispatchCell('dispatch udp ports', 'jit', { stride: 16 });
  dispatchChecks(t, r, 4096);
  t.is(r.explain['sockets_bind_needs'], 65_535);
  t.is(r.counters['UdpInDatagrams'], 4096);
});

test('dispatch tcp ports (every 256th port here; the suite connects to all 65,535): each accepted by the one listener', (t) => {
  const r = runDispatchCell('dispatch tcp ports', 'interp', { stride: 256 });
  dispatchChecks(t, r, 256);
  t.is(r.counters['TcpPassiveOpens'], 256);
  t.is(r.explain['sockets_bind_needs'], 65_535);
});

test('findings: the bind() comparison and the deltas come from the cells', (t) => {
  const run = (value: number, extra: Record<string, number> = {}): SuiteRun => ({ value, seconds: 0.1, balanced: true, counters: extra, explain: {} });
  const cell = (id: string, value: number, delta?: number, counters: Record<string, number> = {}): SuiteCell => {
    const spec = skLookupSuite.cells().find((c) => c.id === id)!;
    const { row, column } = spec;
    return {
      id, row, column, metric: spec.metric, unit: spec.unit, median: value, min: value * 0.99, max: value * 1.01,
      runs: [run(value, counters)], published: spec.published, explain: { guest_us_per_frame: 10, ledger_drop_share: 0.9, sockets_bind_needs: 65_535, errors: 0 },
      notes: [], ...(delta !== undefined ? { delta } : {}),
    };
  };
  const f = skLookupSuite.findings([
    cell('udp4/no-hook', 100_000), cell('udp4/no-prog', 99_900, -0.001), cell('udp4/lpm200', 95_000, -0.05, { prog_runs: 10, prog_misses: 10 }),
    cell('dispatch tcp ports/one-thread', 1, undefined, { reached: 65_535, covered: 65_535, dispatch_no_binding: 16, dispatch_missing_socket: 16, refused: 32 }),
    cell('dispatch udp /24/workers', 1, undefined, { covered: 5000, reached: 4990, queued: 10, dispatch_assigned: 5000, dispatch_no_binding: 0, total_stack_drop_SOCKET_RCVBUFF: 0, destinations_seen: 256, tap_frames_in: 512, total_received: 5000 }),
    cell('dispatch tcp /24/workers', 1, undefined, { covered: 700, reached: 700, dispatch_assigned: 700, total_stack_drop_NO_SOCKET: 3, destinations_seen: 200, tap_frames_in: 700, total_received: 700 }),
  ]);
  t.true(f.some((l) => l.startsWith('udp4: no-prog -0.1%, lpm200 -5.0%') && l.includes('v1 -5.9% / -7.6%')), f.join('\n'));
  t.true(f.some((l) => l.includes('inside our noise')));
  t.true(f.some((l) => l.includes('65,535 sockets')));
  const one = f.find((l) => l.startsWith('dispatch tcp ports (two stacks, one thread'));
  t.true(one !== undefined && one.includes('65535 of 65535 connections') && one.includes('refused (RST): 32') && one.includes('65,535 sockets'), f.join('\n'));
  const udp = f.find((l) => l.startsWith('dispatch udp /24 (four workers)'));
  t.truthy(udp, f.join('\n'));
  t.true(udp!.includes('assigned 5000 to the binding\'s one socket') && udp!.includes('read 4990 (10 queued') && udp!.includes('256 sockets'), udp);
  t.true(udp!.includes('256 of the 256 destinations were among the first 512 of the 5,000 frames the guest\'s stack took') && !udp!.includes('did not reach'), udp);
  const syn = f.find((l) => l.startsWith('dispatch tcp /24 (four workers)'));
  t.true(syn !== undefined && syn.includes('answered 700 with a cookie SYN-ACK') && syn.includes('drops by reason: NO_SOCKET 3') && syn.includes('no accepts'), syn);
  t.true(syn!.includes('200 of the 256 destinations were among the 700 frames the guest\'s stack took in the run') && syn!.includes('the rest did not reach the guest in this run'), syn);
});

// netperf's TCP_CRR (net/apps/netperf.ts, netserver.ts) on two stacks and the virtual clock: a
// connection per transaction, client ports cycled from netperf's 5000, the TIME_WAIT on
// netserver's side; and the three ways the server's listener can take the connections: the SYN
// queue, SYN cookies (tcp_syncookies=2), a tc hook's own cookie (bpf_sk_assign_tcp_reqsk's
// stack side, the TypeScript stand-in of tcp-reqsk-hook.ts, and the real program,
// scenarios/sk/tcp_custom_syncookie.o, on both engines) where the listener never sees a SYN.
import test from 'ava';
import { twoHosts, type TwoHosts } from './support/topology.ts';
import { tcp_init } from '../../net/ipv4/tcp.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { AF_INET, AF_INET6, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { inet_diag_dump } from '../../net/ipv4/inet-diag.ts';
import { NetServer } from '../../net/apps/netserver.ts';
import { CLIENT_PORT_MIN, netperf, type NetperfResult } from '../../net/apps/netperf.ts';
import { Socket } from '../../net/socket.ts';
import { CookieHook } from './tcp-reqsk-hook.ts';
import { BpfAttachments } from '../../scenarios/stack/bpf-attach.ts';
import { existsSync } from 'node:fs';
import { SYNCOOKIE_OBJECT, syncookieMapInits } from '../../bench/syncookie.ts';
import { SC } from '../support/sk-programs.ts';

function tcpHosts(): TwoHosts {
  return twoHosts({ staticNeigh: true, init: (net) => { udp_init(net); tcp_init(net); } });
}

function run(h: TwoHosts, start: (done: (r: NetperfResult) => void) => void, ms: number): NetperfResult {
  let result: NetperfResult | null = null;
  start((r) => (result = r));
  for (let i = 0; i < ms && result === null; i++) h.advance(1);
  if (result === null) throw new Error('netperf did not finish');
  // Let the last FINs and ACKs land.
  h.advance(5);
  return result;
}

/** TIME_WAIT entries on a stack, by their local port. */
function timeWaits(h: TwoHosts, on: 'a' | 'b'): number {
  return inet_diag_dump(on === 'a' ? h.a : h.b).filter((s) => s.state === 'TIME-WAIT').length;
}

test('TCP_CRR: a connection per transaction; netserver accepts each, answers, closes first and keeps the TIME_WAIT', (t) => {
  const h = tcpHosts();
  const server = new NetServer(h.b);
  const r = run(h, (ondone) => netperf(h.a, { test: 'TCP_CRR', server, host: h.b4, length_s: 0.1, per_jiffy: 2, ondone }), 1000);
  t.is(r.test, 'TCP_CRR');
  const n = r.transactions!;
  t.is(n, 200, 'per_jiffy 2 over 100 jiffies: every transaction completes within its jiffy on the virtual clock');
  t.is(r.trans_per_sec, n / r.elapsed_s);
  t.is(r.conn_errors, 0);
  t.is(r.request_size, 1);
  t.regex(r.text, /Trans\.\nSend   Recv/);
  const ep = server.endpoints[0]!;
  t.is(ep.accepted, n);
  t.is(ep.responses, n);
  t.is(ep.errors, 0);
  t.is(h.a.mib.tcp.ActiveOpens, n);
  t.is(h.b.mib.tcp.PassiveOpens, n);
  t.is(h.b.mib.net.SyncookiesSent, 0);
  t.is(timeWaits(h, 'b'), n, 'netserver closed first');
  t.is(timeWaits(h, 'a'), 0);
  t.is(h.a.mib.tcp.OutRsts + h.b.mib.tcp.OutRsts, 0);
});

test('TCP_CRR: client ports from netperf\'s 5000 up, skipping one in use (EADDRINUSE: the next port)', (t) => {
  const h = tcpHosts();
  const busy = Socket.create(h.a, AF_INET, SOCK_STREAM) as Socket;
  t.is(busy.bind({ family: AF_INET, addr: 0, port: CLIENT_PORT_MIN + 2 }), 0);
  t.is(busy.listen(1), 0);
  const server = new NetServer(h.b);
  const r = run(h, (ondone) => netperf(h.a, { test: 'TCP_CRR', server, host: h.b4, length_s: 0.003, per_jiffy: 1, ondone }), 100);
  t.is(r.transactions, 3);
  const ports = inet_diag_dump(h.b).filter((s) => s.state === 'TIME-WAIT').map((s) => Number(s.peer.split(':').pop())).sort((x, y) => x - y);
  t.deepEqual(ports, [CLIENT_PORT_MIN + 1, CLIENT_PORT_MIN + 3, CLIENT_PORT_MIN + 4]);
});

test('TCP_CRR with tcp_syncookies=2 on the server: every SYN answered with a cookie, every ACK checked', (t) => {
  const h = tcpHosts();
  h.b.ipv4.sysctl_tcp_syncookies = 2;
  const server = new NetServer(h.b);
  const r = run(h, (ondone) => netperf(h.a, { test: 'TCP_CRR', server, host: h.b4, length_s: 0.05, per_jiffy: 2, request_size: 64, response_size: 1024, ondone }), 1000);
  const n = r.transactions!;
  t.is(n, 100);
  t.is(h.b.mib.net.SyncookiesSent, n);
  t.is(h.b.mib.net.SyncookiesRecv, n);
  t.is(h.b.mib.net.SyncookiesFailed, 0);
  t.is(h.b.mib.tcp.PassiveOpens, n);
  t.is(server.endpoints[0]!.bytes, 64 * n);
});

for (const family of [AF_INET, AF_INET6] as const) {
  test(`TCP_CRR through a tc hook's own cookie (IPv${family === AF_INET ? 4 : 6}): the listener never sees a SYN`, (t) => {
    const h = tcpHosts();
    const hook = new CookieHook(h.devb);
    h.devb.tc_ingress.push(hook);
    const server = new NetServer(h.b, { family });
    const host = family === AF_INET ? h.b4 : h.b6;
    const r = run(h, (ondone) => netperf(h.a, { test: 'TCP_CRR', family, server, host, length_s: 0.05, per_jiffy: 2, ondone }), 1000);
    const n = r.transactions!;
    t.is(n, 100);
    t.is(r.conn_errors, 0);
    t.is(hook.syns, n);
    t.is(hook.assigned, n);
    t.deepEqual(hook.errors, []);
    t.is(h.b.mib.tcp.PassiveOpens, n);
    t.is(h.b.mib.net.SyncookiesSent, 0);
    t.is(h.b.mib.net.SyncookiesRecv, 0);
    t.is(h.b.mib.net.TCPReqQFullDoCookies, 0);
    t.is(h.b.mib.net.ListenOverflows, 0);
    t.is(timeWaits(h, 'b'), n);
  });
}

// Skipped only when the object is not built; one that no longer loads or verifies fails.
const why = existsSync(SYNCOOKIE_OBJECT) ? undefined : `${SYNCOOKIE_OBJECT} is not built (make -C scenarios/sk)`;
if (why !== undefined) console.log(`netperf-crr: the tcp_custom_syncookie.o runs are skipped: ${why}`);

// Each engine once, each family once (a verification is most of a run's time).
for (const [engine, family] of [['interp', AF_INET], ['jit', AF_INET6]] as const) {
  (why === undefined ? test : test.skip)(`TCP_CRR through tcp_custom_syncookie.o at the server's tc ingress (${engine}, IPv${family === AF_INET ? 4 : 6}): SYN answered and ACK assigned by the program`, (t) => {
    const h = tcpHosts();
    const bpf = new BpfAttachments(h.b, engine);
    bpf.attach({ kind: 'tc', direction: 'ingress', object: SYNCOOKIE_OBJECT, maps: syncookieMapInits() }, h.devb, undefined);
    const server = new NetServer(h.b, { family });
    const host = family === AF_INET ? h.b4 : h.b6;
    const r = run(h, (ondone) => netperf(h.a, { test: 'TCP_CRR', family, server, host, length_s: 0.02, per_jiffy: 2, request_size: 32, response_size: 32, ondone }), 200);
    const n = r.transactions!;
    t.is(n, 40);
    t.is(r.conn_errors, 0);
    t.is(server.endpoints[0]!.bytes, 32 * n);
    t.is(h.b.mib.tcp.PassiveOpens, n);
    t.is(h.b.mib.net.SyncookiesSent + h.b.mib.net.SyncookiesRecv + h.b.mib.net.TCPReqQFullDoCookies, 0, 'the listener saw no SYN');
    t.is(h.b.mib.tcp.OutRsts + h.a.mib.tcp.OutRsts, 0);
    const stats = bpf.report().maps['syncookie_stats']!.entries;
    const slot = (i: number): number => {
      const v = stats.find((e) => e.key === Buffer.from([i, 0, 0, 0]).toString('hex'))?.value;
      return v === undefined ? -1 : Number(Buffer.from(v, 'hex').readBigUInt64LE(0));
    };
    t.is(slot(SC.SYN), n);
    t.is(slot(SC.SYNACK_SENT), n);
    t.is(slot(SC.ACK_VALID), n);
    t.is(slot(SC.ASSIGNED), n);
    t.is(slot(SC.ACK_INVALID), 0, 'no invalid cookie');
    t.regex(bpf.report().net, /tcp_custom_syncookie/);
  });
}

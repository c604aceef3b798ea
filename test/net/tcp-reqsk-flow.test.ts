// bpf_sk_assign_tcp_reqsk end to end on two stacks (a client, b server) joined by veth: a tc
// ingress hook on b's device (tcp-reqsk-hook.ts, the custom SYN cookie program's role) answers
// every SYN itself and hands the stack a request socket on the cookie ACK. The connection
// completes through skb_steal_sock's listener and cookie_bpf_check: the listener never sees a
// SYN (no request in its SYN queue or ehash, no SyncookiesSent/Recv/Failed, no ListenOverflows),
// accept() returns the connection, data flows both ways, and the connection's MSS, window scales,
// SACK and timestamps are the cookie's. IPv4 and IPv6; reuseport; a forged cookie.
import test, { type ExecutionContext } from 'ava';
import { twoHosts, type TwoHosts } from './support/topology.ts';
import { ANY6, sa4, sa6, sock, MSG_DONTWAIT } from './support/frames.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { tcp_init } from '../../net/ipv4/tcp.ts';
import { AF_INET, AF_INET6, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { SOL_SOCKET, SO } from '../../net/core/socket-options.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';
import type { Socket } from '../../net/socket.ts';
import type { TcpSock } from '../../net/ipv4/tcp-sock.ts';
import { tcp_get_info } from '../../net/ipv4/tcp-sockopt.ts';
import { inet_reqsk, reqsk_bpf_live } from '../../net/core/request-sock.ts';
import { bpf_sock_refs_held } from '../../net/core/sock-refcnt.ts';
import { CookieHook, MSSTAB4, MSSTAB6, type CookieHookOptions } from './tcp-reqsk-hook.ts';
import type { Net } from '../../net/core/net-namespace.ts';
import * as P from '../support/packets.ts';
import { A, B, DropLedger, rx, tcp4 } from './support/frames.ts';

const TCPI_OPT_TIMESTAMPS = 1, TCPI_OPT_SACK = 2, TCPI_OPT_WSCALE = 4;

function setup(o: CookieHookOptions = {}): { t: TwoHosts; hook: CookieHook } {
  const t = twoHosts({ staticNeigh: true, init: (n) => { udp_init(n); tcp_init(n); } });
  const hook = new CookieHook(t.devb, o);
  t.devb.tc_ingress.push(hook);
  return { t, hook };
}

function listener(t: TwoHosts, family: number, port = 80, reuseport = false): Socket {
  const l = sock(t.b, family, SOCK_STREAM);
  if (reuseport) l.setsockopt(SOL_SOCKET, SO.SO_REUSEPORT, 1);
  const addr = family === AF_INET ? sa4(0, port) : sa6(ANY6, port);
  if (l.bind(addr) !== 0 || l.listen(16) !== 0) throw new Error('listen');
  return l;
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Sends `data` from `from` and reads it all at `to`, moving the wire and the clock as needed. */
function transfer(t: TwoHosts, from: Socket, to: Socket, data: Uint8Array): Uint8Array {
  const got: number[] = [];
  const buf = new Uint8Array(65536);
  let sent = 0;
  for (let i = 0; i < 2000 && got.length < data.length; i++) {
    if (sent < data.length) {
      const n = from.send(data.subarray(sent), MSG_DONTWAIT);
      if (n > 0) sent += n;
    }
    t.advance(1);
    for (;;) {
      const n = to.recv(buf, MSG_DONTWAIT);
      if (n <= 0) break;
      for (let k = 0; k < n; k++) got.push(buf[k]!);
    }
  }
  return new Uint8Array(got);
}

function requestsIn(net: Net): number {
  let n = 0;
  for (const chain of net.ipv4.tcp_hashinfo.ehash) for (const s of chain ?? []) if (inet_reqsk(s)) n++;
  return n;
}

/** Nothing of the SYN path ran on the listener, and nothing of the kfunc is left over. */
function listenerUntouched(tc: ExecutionContext, t: TwoHosts, l: Socket): void {
  const lt = l.sk as TcpSock;
  const m = t.b.mib.net;
  tc.is(lt.syn_queue_len, 0, 'no request in the SYN queue');
  tc.is(requestsIn(t.b), 0, 'no request socket in ehash');
  tc.is(m.SyncookiesSent, 0);
  tc.is(m.SyncookiesRecv, 0);
  tc.is(m.SyncookiesFailed, 0);
  tc.is(m.ListenOverflows, 0);
  tc.is(m.ListenDrops, 0);
  tc.is(m.TCPReqQFullDoCookies, 0);
  tc.is(reqsk_bpf_live(t.b), 0, 'every request the kfunc made was taken');
  tc.is(bpf_sock_refs_held(t.b), 0, 'every lookup released');
}

for (const family of [AF_INET, AF_INET6]) {
  const name = family === AF_INET ? 'IPv4' : 'IPv6';
  test(`${name}: the client connects through the hook's cookie; accept; data both ways; options are the cookie's`, (tc) => {
    const { t, hook } = setup();
    const l = listener(t, family);
    const cli = sock(t.a, family, SOCK_STREAM);
    cli.connect(family === AF_INET ? sa4(t.b4, 80) : sa6(t.b6, 80));
    t.advance(3);
    tc.is((cli.sk as TcpSock).skc_state, TCP_STATES.TCP_ESTABLISHED, 'client established');
    tc.is(hook.syns, 1, 'the hook answered the SYN');
    tc.is(hook.assigned, 1, 'and assigned a request on the ACK');
    tc.deepEqual(hook.errors, []);
    const srv = l.accept();
    if (typeof srv === 'number') {
      tc.fail(`accept: ${srv}`);
      return;
    }
    const stp = srv.sk as TcpSock;
    tc.is(stp.skc_state, TCP_STATES.TCP_ESTABLISHED);
    tc.is(t.b.mib.tcp.PassiveOpens, 1);
    listenerUntouched(tc, t, l);
    // The connection's options are the attributes the hook decoded from its cookie.
    const a = hook.last!;
    const i = tcp_get_info(stp);
    tc.is(a.mss, family === AF_INET ? MSSTAB4[2] : MSSTAB6[1], 'the client MSS rounded down in the hook table');
    tc.is(stp.rx_opt.mss_clamp, a.mss);
    tc.is(i.tcpi_snd_mss, a.mss - 12, 'MSS less the timestamp option');
    tc.true(a.wscale_ok && a.sack_ok && a.tstamp_ok);
    tc.is(i.tcpi_options & 7, TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE);
    tc.is(i.tcpi_snd_wscale, a.snd_wscale);
    tc.is(i.tcpi_rcv_wscale, a.rcv_wscale);
    tc.is(stp.rx_opt.ts_recent, a.rcv_tsval, "the client's TSval is the one to echo");
    tc.is(stp.tsoffset, (a.rcv_tsecr - hook.lastNowMs) >>> 0, 'TSvals continue from the cookie TSval');
    tc.true(stp.syncookie, 'made from a cookie');
    // Data both ways.
    const up = pattern(40000, 1);
    tc.deepEqual(Array.from(transfer(t, cli, srv, up)), Array.from(up));
    const down = pattern(60000, 2);
    tc.deepEqual(Array.from(transfer(t, srv, cli, down)), Array.from(down));
    tc.is(hook.syns, 1);
    tc.is(hook.assigned, 1, 'later ACKs find the connection, not the listener');
    listenerUntouched(tc, t, l);
  });

  test(`${name}: the program's rcv_wscale is kept over tcp_select_initial_window's, and the window works with it`, (tc) => {
    const { t, hook } = setup({ rcvWscale: 2 });
    const l = listener(t, family);
    const cli = sock(t.a, family, SOCK_STREAM);
    cli.connect(family === AF_INET ? sa4(t.b4, 80) : sa6(t.b6, 80));
    t.advance(3);
    const srv = l.accept();
    if (typeof srv === 'number') {
      tc.fail(`accept: ${srv}`);
      return;
    }
    const stp = srv.sk as TcpSock;
    tc.is(hook.last!.rcv_wscale, 2);
    tc.is(stp.rx_opt.rcv_wscale, 2);
    tc.is((cli.sk as TcpSock).rx_opt.snd_wscale, 2, 'what the SYN-ACK announced');
    const up = pattern(200000, 3);
    tc.deepEqual(Array.from(transfer(t, cli, srv, up)), Array.from(up));
    listenerUntouched(tc, t, l);
  });
}

test('an IPv4 client to a dual-stack IPv6 listener: the request carries the IPv4 packet to it (v4-mapped child)', (tc) => {
  const { t, hook } = setup();
  const l = listener(t, AF_INET6);
  const cli = sock(t.a, AF_INET, SOCK_STREAM);
  cli.connect(sa4(t.b4, 80));
  t.advance(3);
  const srv = l.accept();
  if (typeof srv === 'number') {
    tc.fail(`accept: ${srv}`);
    return;
  }
  tc.is(hook.assigned, 1);
  tc.is(hook.last!.mss, MSSTAB4[2], 'the IPv4 table: the hook saw an IPv4 SYN');
  const down = pattern(20000, 5);
  tc.deepEqual(Array.from(transfer(t, srv, cli, down)), Array.from(down));
  listenerUntouched(tc, t, l);
});

test('without timestamps or SACK on the client: the cookie carries the options alone; the connection has none of them', (tc) => {
  const { t, hook } = setup();
  t.a.ipv4.sysctl_tcp_timestamps = 0;
  t.a.ipv4.sysctl_tcp_sack = 0;
  const l = listener(t, AF_INET);
  const cli = sock(t.a, AF_INET, SOCK_STREAM);
  cli.connect(sa4(t.b4, 80));
  t.advance(3);
  const srv = l.accept();
  if (typeof srv === 'number') {
    tc.fail(`accept: ${srv}`);
    return;
  }
  const a = hook.last!;
  tc.false(a.tstamp_ok);
  tc.false(a.sack_ok);
  tc.true(a.wscale_ok);
  const i = tcp_get_info(srv.sk as TcpSock);
  tc.is(i.tcpi_options & 7, TCPI_OPT_WSCALE);
  tc.is(i.tcpi_snd_mss, a.mss);
  const up = pattern(30000, 4);
  tc.deepEqual(Array.from(transfer(t, cli, srv, up)), Array.from(up));
  listenerUntouched(tc, t, l);
});

for (const ecn of [0, 1]) {
  test(`ECN from the attributes stays only with tcp_ecn on (cookie_ecn_ok): tcp_ecn=${ecn}`, (tc) => {
    const { t, hook } = setup({ forceEcn: true });
    t.b.ipv4.sysctl_tcp_ecn = ecn;
    const l = listener(t, AF_INET);
    const cli = sock(t.a, AF_INET, SOCK_STREAM);
    cli.connect(sa4(t.b4, 80));
    t.advance(3);
    tc.is(typeof l.accept(), 'object');
    tc.true(hook.last!.ecn_ok, 'the program said ECN');
    tc.is(hook.lastReq!.ecn_ok, ecn === 1);
    tc.false(hook.lastReq!.bpf_on_skb, 'taken by cookie_bpf_check');
    listenerUntouched(tc, t, l);
  });
}

test('reuseport: the stolen listener goes through its group\'s selection (the hook assigns one member; the other gets connections too)', (tc) => {
  const t0 = twoHosts({ staticNeigh: true, init: (n) => { udp_init(n); tcp_init(n); } });
  const l1 = listener(t0, AF_INET, 80, true);
  const l2 = listener(t0, AF_INET, 80, true);
  const hook = new CookieHook(t0.devb, { listener: l1.sk });
  t0.devb.tc_ingress.push(hook);
  const clis: Socket[] = [];
  for (let k = 0; k < 12; k++) {
    const c = sock(t0.a, AF_INET, SOCK_STREAM);
    c.connect(sa4(t0.b4, 80));
    clis.push(c);
  }
  t0.advance(5);
  let n1 = 0, n2 = 0;
  while (typeof l1.accept() !== 'number') n1++;
  while (typeof l2.accept() !== 'number') n2++;
  tc.is(hook.assigned, 12);
  tc.is(n1 + n2, 12);
  tc.true(n2 > 0, `l2 took ${n2} though the hook assigned only l1`);
  tc.true(n1 > 0);
  tc.is(reqsk_bpf_live(t0.b), 0);
  tc.is(t0.b.mib.net.SyncookiesRecv, 0);
});

test('no hash lookup and no SK_LOOKUP for the handshake ACK: only the hook\'s own lookup runs the SK_LOOKUP program', (tc) => {
  const { t, hook } = setup();
  let runs = 0;
  t.b.sk_lookup.attach({ run: () => { runs++; return 1; } }); // SK_PASS, no selection
  const l = listener(t, AF_INET);
  const cli = sock(t.a, AF_INET, SOCK_STREAM);
  cli.connect(sa4(t.b4, 80));
  t.advance(3);
  tc.is(typeof l.accept(), 'object');
  tc.is(hook.assigned, 1);
  tc.is(runs, 1, "bpf_skc_lookup_tcp's; the receive path took the prefetched listener");
  listenerUntouched(tc, t, l);
});

test('a full accept queue refuses the child as on the classic path (ListenOverflows), with no cookie counters and nothing left over', (tc) => {
  const { t, hook } = setup();
  const l = sock(t.b, AF_INET, SOCK_STREAM);
  if (l.bind(sa4(0, 80)) !== 0 || l.listen(1) !== 0) throw new Error('listen');
  for (let k = 0; k < 4; k++) sock(t.a, AF_INET, SOCK_STREAM).connect(sa4(t.b4, 80));
  t.advance(3);
  let accepted = 0;
  while (typeof l.accept() !== 'number') accepted++;
  tc.is(hook.assigned, 4);
  tc.true(accepted < 4, `accepted ${accepted}`);
  tc.is(t.b.mib.net.ListenOverflows, 4 - accepted);
  tc.is(t.b.mib.net.SyncookiesFailed, 0);
  tc.is(t.b.mib.net.SyncookiesRecv, 0);
  tc.is(reqsk_bpf_live(t.b), 0);
  tc.is(requestsIn(t.b), 0);
});

test('a forged cookie: the hook drops the ACK, nothing is allocated, no socket or counter moves', (tc) => {
  const { t, hook } = setup();
  const l = listener(t, AF_INET);
  const L = new DropLedger().install();
  try {
    // An ACK out of nowhere, its ack number no cookie of the hook's.
    const frame = tcp4({ sport: 40000, dport: 80, seq: 1001, ack: 0xdeadbeef, flags: P.TCP_ACK }, A, B);
    const fate = rx(t.devb, frame, L);
    t.pump();
    tc.deepEqual(fate, { kind: 'dropped', reason: 'TC_INGRESS' });
  } finally {
    L.stop();
  }
  tc.is(hook.forged, 1);
  tc.is(hook.assigned, 0);
  tc.is(reqsk_bpf_live(t.b), 0);
  tc.is(requestsIn(t.b), 0);
  tc.is(typeof l.accept(), 'number', 'no connection');
  tc.is(t.b.mib.tcp.OutRsts, 0, 'no RST: the stack never saw it');
  tc.is(t.b.mib.tcp.InSegs, 0);
  listenerUntouched(tc, t, l);
});

// Microsecond TCP timestamps (Linux 6.7, "tcp: add support for usec resolution in TCP TS values")
// on two stacks and the virtual clock: a route with `features tcp_usec_ts` (RTAX_FEATURE_TCP_USEC_TS)
// makes the connections over it send TSvals in microseconds — the client's from tcp_v4_connect, the
// server's from the request (req_usec_ts) through the SYN-ACK, the child and TIME_WAIT — and so does
// a request made by bpf_sk_assign_tcp_reqsk with usec_ts_ok. Each side's unit is its own (the peer
// only echoes); the RTT taken from a TS echo is in us either way; PAWS and ts_recent never look at
// the unit, and are relaxed after TCP_PAWS_WRAP (2147 s) as for every flow since 6.7. Without the
// feature everything stays in milliseconds.
import test from 'ava';
import { F, connectPair, drain, inject4, pattern, rig, tcpSocket, tp, transfer, type Rig, type Seg } from './tcp-harness.ts';
import { twoHosts } from './support/topology.ts';
import { ANY6, sa4, sa6, sock, MSG_DONTWAIT } from './support/frames.ts';
import { tcp_init } from '../../net/ipv4/tcp.ts';
import { AF_INET, AF_INET6, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';
import { RTAX_FEATURE, ip_route_add } from '../../net/ipv4/route.ts';
import { TCPI_OPT, TCP_TIMESTAMP, tcp_get_info } from '../../net/ipv4/tcp-sockopt.ts';
import { SOL_TCP } from '../../net/core/socket-options.ts';
import { TcpOptionsReceived, type TcpSock } from '../../net/ipv4/tcp-sock.ts';
import { tcp_paws_check } from '../../net/ipv4/tcp-options.ts';
import { tcp_rtt_tsopt_us } from '../../net/ipv4/tcp-ack.ts';
import { tcp_mstamp_refresh, tcp_tsval } from '../../net/ipv4/tcp-util.ts';
import { TCP_TIMES } from '../../net/ipv4/tcp-defs.ts';
import { InetTimewaitSock } from '../../net/ipv4/inet-timewait-sock.ts';
import { BPF_TCP_REQ_ATTRS } from '../../net/core/bpf-tcp-reqsk.ts';
import type { RequestSock } from '../../net/core/request-sock.ts';
import type { SkBuff } from '../../net/core/skbuff.ts';
import type { Net } from '../../net/core/net-namespace.ts';
import type { Socket } from '../../net/socket.ts';
import { CookieHook } from './tcp-reqsk-hook.ts';

const USEC_TS = RTAX_FEATURE.RTAX_FEATURE_TCP_USEC_TS;

/** The TSval and TSecr of a captured segment's timestamp option. */
function ts(s: Seg): { tsval: number; tsecr: number } {
  const o = s.opts;
  for (let i = 0; i < o.length;) {
    const kind = o[i]!;
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    const len = o[i + 1] ?? 0;
    if (len < 2) break;
    if (kind === 8 && len === 10) {
      const u32 = (p: number): number => ((o[p]! << 24) | (o[p + 1]! << 16) | (o[p + 2]! << 8) | o[p + 3]!) >>> 0;
      return { tsval: u32(i + 2), tsecr: u32(i + 6) };
    }
    i += len;
  }
  throw new Error('no timestamp option');
}

/** Segments with payload that `from` sent. */
const dataFrom = (r: Rig, from: 'a' | 'b'): Seg[] => r.segs.filter((s) => s.from === from && s.len > 0);

/** One write of `n` bytes from `s`, the wire run at once (no clock movement). */
function sendNow(r: Rig, s: Socket, n: number): void {
  if (s.send(new Uint8Array(n).fill(7)) !== n) throw new Error('send');
  r.pump();
}

/** Two writes 5 ms apart from each side; the TSval step each side's segments show, per ms. */
function tsStepPerMs(r: Rig, cli: Socket, srv: Socket): { client: number; server: number } {
  const before = { a: dataFrom(r, 'a').length, b: dataFrom(r, 'b').length };
  sendNow(r, cli, 10);
  sendNow(r, srv, 10);
  r.advance(5);
  sendNow(r, cli, 10);
  sendNow(r, srv, 10);
  r.advance(1);
  drain(cli);
  drain(srv);
  const step = (from: 'a' | 'b', skip: number): number => {
    const [x, y] = dataFrom(r, from).slice(skip);
    if (!x || !y || y.t === x.t) throw new Error(`no two ${from} data segments apart`);
    return ((ts(y).tsval - ts(x).tsval) >>> 0) / (y.t - x.t);
  };
  return { client: step('b', before.b), server: step('a', before.a) };
}

test('without the route feature: TSvals count milliseconds on both sides, tcp_usec_ts off', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  t.false(tp(cli).tcp_usec_ts);
  t.false(tp(srv).tcp_usec_ts);
  t.deepEqual(tsStepPerMs(r, cli, srv), { client: 1, server: 1 });
  t.is(tcp_get_info(tp(cli)).tcpi_options & TCPI_OPT.TCPI_OPT_USEC_TS, 0);
  t.is(tcp_get_info(tp(cli)).tcpi_options & TCPI_OPT.TCPI_OPT_TIMESTAMPS, TCPI_OPT.TCPI_OPT_TIMESTAMPS);
});

test('a tcp_usec_ts route at the client: its SYN and segments count microseconds, the server keeps ms; data both ways', (t) => {
  const r = rig();
  t.is(ip_route_add(r.b, r.a4, 32, r.devb, undefined, undefined, USEC_TS), 0);
  const { cli, srv } = connectPair(r);
  t.true(tp(cli).tcp_usec_ts, 'tcp_v4_connect: dst_tcp_usec_ts of the route');
  t.false(tp(srv).tcp_usec_ts, 'the server\'s route has no such feature: its unit is its own');
  const syn = r.segs.find((s) => s.from === 'b' && s.flags === F.SYN)!;
  const synack = r.segs.find((s) => s.from === 'a' && s.flags === (F.SYN | F.ACK))!;
  t.is(ts(synack).tsecr, ts(syn).tsval, 'the SYN\'s microsecond TSval is echoed as it came');
  t.deepEqual(tsStepPerMs(r, cli, srv), { client: 1000, server: 1 });
  t.is(tcp_get_info(tp(cli)).tcpi_options & TCPI_OPT.TCPI_OPT_USEC_TS, TCPI_OPT.TCPI_OPT_USEC_TS);
  t.is(tcp_get_info(tp(srv)).tcpi_options & TCPI_OPT.TCPI_OPT_USEC_TS, 0);
  // getsockopt(TCP_TIMESTAMP): the TSval it would send now, the low bit the unit (Linux 6.18 gives 1 and 0 here too).
  const now = { cli: cli.getsockopt(SOL_TCP, TCP_TIMESTAMP).value as number, srv: srv.getsockopt(SOL_TCP, TCP_TIMESTAMP).value as number };
  t.is(now.cli & 1, 1);
  t.is(now.srv & 1, 0);
  sendNow(r, cli, 10);
  t.is(ts(dataFrom(r, 'b').at(-1)!).tsval >>> 1, now.cli >>> 1, 'the next segment\'s TSval, but for the unit bit');
  t.is(cli.setsockopt(SOL_TCP, TCP_TIMESTAMP, 1), -1, 'only TCP_REPAIR may set it: -EPERM');
  drain(srv);
  // Enough data each way for many ACKs, windows and PAWS checks against the other's unit.
  const up = pattern(120000, 3);
  t.deepEqual(transfer(r, cli, srv, up), Array.from(up));
  const down = pattern(80000, 4);
  t.deepEqual(transfer(r, srv, cli, down), Array.from(down));
  t.is(r.a.mib.net.PAWSEstab + r.b.mib.net.PAWSEstab, 0, 'no segment was taken for an old duplicate');
  const lastCli = r.segs.filter((s) => s.from === 'b').at(-1)!;
  t.is(tp(srv).rx_opt.ts_recent, ts(lastCli).tsval, 'ts_recent holds the peer\'s microsecond TSval unchanged');
});

test('a tcp_usec_ts route at the server: the request, its SYN-ACK, the child and its TIME_WAIT count microseconds', (t) => {
  const r = rig();
  t.is(ip_route_add(r.a, r.b4, 32, r.deva, undefined, undefined, USEC_TS), 0);
  const { cli, srv } = connectPair(r);
  const stp = tp(srv);
  t.true(stp.tcp_usec_ts, 'tcp_create_openreq_child: the request\'s req_usec_ts');
  t.false(tp(cli).tcp_usec_ts);
  const synack = r.segs.find((s) => s.from === 'a' && s.flags === (F.SYN | F.ACK))!;
  r.advance(3);
  sendNow(r, srv, 100);
  const first = dataFrom(r, 'a')[0]!;
  t.is((ts(first).tsval - ts(synack).tsval) >>> 0, (first.t - synack.t) * 1000, 'the SYN-ACK and the child share the clock and the offset');
  t.deepEqual(tsStepPerMs(r, cli, srv), { client: 1, server: 1000 });
  // The server closes first and keeps TIME_WAIT, in the connection's unit.
  srv.close();
  r.advance(2);
  cli.close();
  r.advance(2);
  const tws: InetTimewaitSock[] = [];
  for (const chain of r.a.ipv4.tcp_hashinfo.ehash) for (const s of chain ?? []) if (s instanceof InetTimewaitSock) tws.push(s);
  t.is(tws.length, 1);
  t.true(tws[0]!.tw_usec_ts);
});

test('syncookies=2 with a tcp_usec_ts route: the cookie SYN-ACK and the child count milliseconds, as Linux 6.18 does', (t) => {
  const r = rig();
  r.a.ipv4.sysctl_tcp_syncookies = 2;
  ip_route_add(r.a, r.b4, 32, r.deva, undefined, undefined, USEC_TS);
  const { cli, srv } = connectPair(r);
  t.is(r.a.mib.net.SyncookiesSent, 1);
  t.is(r.a.mib.net.SyncookiesRecv, 1);
  t.false(tp(srv).tcp_usec_ts, 'the request cookie_v4_check rebuilds has no req_usec_ts');
  const synack = r.segs.find((s) => s.from === 'a' && s.flags === (F.SYN | F.ACK))!;
  r.advance(3);
  sendNow(r, srv, 10);
  const first = dataFrom(r, 'a')[0]!;
  // The cookie TSval is the ms clock with its low 6 bits replaced, never more than 64 ms back.
  const step = (ts(first).tsval - ts(synack).tsval) >>> 0;
  t.true(step >= first.t - synack.t && step < first.t - synack.t + 64, `step ${step}`);
  t.deepEqual(tsStepPerMs(r, cli, srv), { client: 1, server: 1 });
});

test('timestamps not negotiated: no req_usec_ts whatever the server\'s route; a client keeps its route\'s bit', (t) => {
  const r = rig();
  r.b.ipv4.sysctl_tcp_timestamps = 0;
  t.is(ip_route_add(r.a, r.b4, 32, r.deva, undefined, undefined, USEC_TS), 0);
  const { srv } = connectPair(r);
  t.false(tp(srv).tcp_usec_ts, 'req_usec_ts is set only when the SYN had timestamps');
  t.false(tp(srv).rx_opt.tstamp_ok);
  // The other way round the client keeps the bit it took from its route (Linux 6.18 shows
  // tcpi_options 0x46 there too: USEC_TS without TIMESTAMPS).
  const q = rig();
  q.a.ipv4.sysctl_tcp_timestamps = 0;
  ip_route_add(q.b, q.a4, 32, q.devb, undefined, undefined, USEC_TS);
  const { cli } = connectPair(q);
  t.is(tcp_get_info(tp(cli)).tcpi_options, TCPI_OPT.TCPI_OPT_USEC_TS | TCPI_OPT.TCPI_OPT_SACK | TCPI_OPT.TCPI_OPT_WSCALE);
});

test('the SYN-ACK the request timer retransmits keeps the request\'s unit; the child\'s retrans_stamp is its us snt_synack', (t) => {
  const r = rig();
  ip_route_add(r.a, r.b4, 32, r.deva, undefined, undefined, USEC_TS);
  let dropped = false;
  r.drop = (s) => {
    if (dropped || s.from !== 'b' || s.flags !== F.ACK || s.len !== 0) return false;
    dropped = true;
    return true;
  };
  const lst = tcpSocket(r.a);
  lst.bind({ family: AF_INET, addr: 0, port: 80 });
  lst.listen(16);
  const cli = tcpSocket(r.b);
  cli.connect({ family: AF_INET, addr: r.a4, port: 80 });
  r.advance(1100);
  const synacks = r.segs.filter((s) => s.from === 'a' && s.flags === (F.SYN | F.ACK));
  t.is(synacks.length, 2, 'the request timer sent the SYN-ACK again');
  const [s0, s1] = synacks;
  t.is((ts(s1!).tsval - ts(s0!).tsval) >>> 0, (s1!.t - s0!.t) * 1000);
  const srv = lst.accept();
  if (typeof srv === 'number') {
    t.fail(`accept: ${srv}`);
    return;
  }
  const stp = tp(srv);
  t.true(stp.tcp_usec_ts);
  t.is(stp.retrans_stamp, (ts(s0!).tsval - stp.tsoffset) >>> 0, 'num_timeout: retrans_stamp = snt_synack, the first SYN-ACK\'s us clock');
});

test('RTT from a TS echo: microseconds for a usec connection, whole ms ticks (at least one) otherwise', (t) => {
  for (const usec of [true, false]) {
    const r = rig();
    if (usec) ip_route_add(r.b, r.a4, 32, r.devb, undefined, undefined, USEC_TS);
    const { cli } = connectPair(r);
    const ctp = tp(cli);
    t.is(ctp.tcp_usec_ts, usec);
    tcp_mstamp_refresh(ctp);
    const sent = tcp_tsval(ctp);
    r.clock.advance(700_000);
    tcp_mstamp_refresh(ctp);
    // What tcp_fast_parse_options leaves in rx_opt for an echo of that TSval: less tsoffset.
    ctp.rx_opt.rcv_tsecr = (sent - ctp.tsoffset) >>> 0;
    t.is(tcp_rtt_tsopt_us(ctp, 1), usec ? 700 : 1000, usec ? 'us' : 'under a tick: min_delta ticks');
    r.clock.advance(2_000_000);
    tcp_mstamp_refresh(ctp);
    t.is(tcp_rtt_tsopt_us(ctp, 1), usec ? 2700 : 2000);
    ctp.rx_opt.rcv_tsecr = (sent - ctp.tsoffset + (usec ? 5000 : 5)) >>> 0;
    t.true(tcp_rtt_tsopt_us(ctp, 1) < 0, 'an echo from the future gives no sample');
  }
});

test('a retransmitted SYN: the RTT comes from the TS echo (Karn), in the connection\'s unit', (t) => {
  for (const usec of [true, false]) {
    const r = rig();
    if (usec) ip_route_add(r.b, r.a4, 32, r.devb, undefined, undefined, USEC_TS);
    let dropped = false;
    r.drop = (s) => {
      if (dropped || s.from !== 'b' || s.flags !== F.SYN) return false;
      dropped = true;
      return true;
    };
    const lst = tcpSocket(r.a);
    lst.bind({ family: AF_INET, addr: 0, port: 80 });
    lst.listen(16);
    const cli = tcpSocket(r.b);
    cli.connect({ family: AF_INET, addr: r.a4, port: 80 });
    r.advance(1100);
    const ctp = tp(cli);
    t.is(ctp.skc_state, TCP_STATES.TCP_ESTABLISHED);
    t.is(r.segs.filter((s) => s.from === 'b' && s.flags === F.SYN).length, 2);
    // The wire takes no time: 0 us, or the one-tick minimum of a millisecond clock (srtt_us is 8x).
    t.is(ctp.srtt_us, usec ? 1 : 8000, usec ? 'microseconds' : 'one ms tick');
  }
});

test('PAWS is unit-blind, refuses an old TSval of a usec peer, and lets go after TCP_PAWS_WRAP seconds', (t) => {
  t.is(TCP_TIMES.TCP_PAWS_WRAP, 2147);
  const rx = new TcpOptionsReceived();
  rx.ts_recent = 5_000_000;
  rx.ts_recent_stamp = 100;
  rx.rcv_tsval = 4_999_000;
  t.false(tcp_paws_check(rx, 0, 100 + 2146));
  t.true(tcp_paws_check(rx, 0, 100 + 2147), 'no longer 24 days: a microsecond peer wraps in 2^31 us');
  rx.rcv_tsval = 5_000_001;
  t.true(tcp_paws_check(rx, 0, 101));

  const r = rig();
  ip_route_add(r.b, r.a4, 32, r.devb, undefined, undefined, USEC_TS);
  const { cli, srv } = connectPair(r);
  sendNow(r, cli, 10);
  drain(srv);
  const ctp = tp(cli), stp: TcpSock = tp(srv);
  const recent = stp.rx_opt.ts_recent;
  inject4(r, {
    sport: ctp.inet_sport, dport: 80, seq: ctp.snd_nxt, ack: ctp.rcv_nxt, flags: F.ACK | F.PSH,
    opts: [1, 1, 8, 10, ...be32(recent - 3000), ...be32(0)], payload: new Uint8Array(5),
  });
  r.pump();
  t.is(r.a.mib.net.PAWSEstab, 1, 'a TSval 3000 us older than ts_recent is an old duplicate');
  t.is(stp.rx_opt.ts_recent, recent);
});

function be32(x: number): number[] {
  return [(x >>> 24) & 0xff, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff];
}

for (const family of [AF_INET, AF_INET6]) {
  test(`${family === AF_INET ? 'IPv4' : 'IPv6'}: bpf_sk_assign_tcp_reqsk with usec_ts_ok: the child's TSvals are microseconds continuing from the cookie's TSval`, (t) => {
    const h = twoHosts({ staticNeigh: true, init: (n: Net) => { tcp_init(n); } });
    const hook = new CookieHook(h.devb);
    h.devb.tc_ingress.push(hook);
    // The program's attributes with usec_ts_ok set (struct bpf_tcp_req_attrs, byte 16), as a cookie
    // program that encodes the unit would pass them; and the clock when it made the request.
    let atUs = 0;
    const kfunc = hook.host.sk_assign_tcp_reqsk.bind(hook.host);
    hook.host.sk_assign_tcp_reqsk = (skb: SkBuff, sk, attrs: Uint8Array, attrsSz: number, atIngress: boolean): number => {
      const a = attrs.slice();
      a[BPF_TCP_REQ_ATTRS.usec_ts_ok] = 1;
      atUs = Math.floor(h.clock.ktime_get_ns() / 1e3);
      return kfunc(skb, sk, a, attrsSz, atIngress);
    };
    const seen: { t: number; tsval: number }[] = [];
    h.deva.tc_ingress.push({
      run(skb: SkBuff): number {
        const v = skb.view, nh = skb.network_header, v6 = family === AF_INET6, th = nh + (v6 ? 40 : 20);
        const proto = v.getUint8(nh + (v6 ? 6 : 9));
        const tcpLen = v6 ? v.getUint16(nh + 4) : v.getUint16(nh + 2) - 20;
        if (proto !== 6 || (v.getUint8(th + 13) & F.SYN) !== 0 || tcpLen - (v.getUint8(th + 12) >>> 4) * 4 === 0) return 0;
        seen.push({ t: h.clock.ktime_get_ns() / 1e3, tsval: v.getUint32(th + 20 + 4) });
        return 0;
      },
    });
    const l = sock(h.b, family, SOCK_STREAM);
    l.bind(family === AF_INET ? sa4(0, 80) : sa6(ANY6, 80));
    l.listen(16);
    const cli = sock(h.a, family, SOCK_STREAM);
    cli.connect(family === AF_INET ? sa4(h.b4, 80) : sa6(h.b6, 80));
    h.advance(3);
    t.is(hook.assigned, 1);
    t.deepEqual(hook.errors, []);
    t.true((hook.lastReq as RequestSock).req_usec_ts);
    const srv = l.accept();
    if (typeof srv === 'number') {
      t.fail(`accept: ${srv}`);
      return;
    }
    const stp = srv.sk as TcpSock;
    t.is(stp.skc_state, TCP_STATES.TCP_ESTABLISHED);
    t.true(stp.tcp_usec_ts);
    t.is(tcp_get_info(stp).tcpi_options & TCPI_OPT.TCPI_OPT_USEC_TS, TCPI_OPT.TCPI_OPT_USEC_TS);
    t.is(stp.tsoffset, (hook.last!.rcv_tsecr - atUs) >>> 0, 'ts_off = rcv_tsecr - now, on the us clock');
    for (const gap of [0, 4]) {
      h.advance(gap);
      srv.send(new Uint8Array(100).fill(1), MSG_DONTWAIT);
      h.pump();
    }
    t.is(seen.length, 2);
    const [x, y] = seen;
    t.is((x!.tsval - hook.last!.rcv_tsecr) >>> 0, x!.t - atUs, 'the first TSval continues from the cookie\'s, in us');
    t.is((y!.tsval - x!.tsval) >>> 0, y!.t - x!.t);
    t.is(y!.t - x!.t, 4000);
    const buf = new Uint8Array(1000);
    h.advance(1);
    t.is(cli.recv(buf, MSG_DONTWAIT), 200, 'the client, in ms, takes the usec segments (no PAWS drop)');
    t.is(h.a.mib.net.PAWSEstab, 0);
  });
}

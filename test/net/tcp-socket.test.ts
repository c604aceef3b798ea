// The socket calls on TCP: MSG_PEEK, poll bits, a full send buffer (-EAGAIN, then a wake-up),
// -EPIPE after shutdown, socket options; ICMP errors during connect; keepalive; giving up after
// tcp_retries2; a new SYN reusing a TIME_WAIT 4-tuple; IPv6 RST for a closed port.
import test from 'ava';
import { F, connectPair, drain, inject4, pattern, rig, sent, tcpSocket, tp, type Rig } from './tcp-harness.ts';
import { AF_INET, AF_INET6 } from '../../net/core/socket-constants.ts';
import { EPOLL, MSG, SOL_SOCKET, SO, SOL_TCP, TCP_OPTS } from '../../net/core/socket-options.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';
import { csum_fold, csum_partial } from '../../net/core/checksum.ts';
import { MAC_A, MAC_B } from './support/topology.ts';

test('MSG_PEEK leaves the data; recv returns 0 at FIN; poll reports IN, OUT, RDHUP, HUP', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  t.is(srv.poll() & EPOLL.EPOLLIN, 0);
  t.true((srv.poll() & EPOLL.EPOLLOUT) !== 0);
  cli.send(new Uint8Array([1, 2, 3, 4]));
  r.pump();
  t.true((srv.poll() & EPOLL.EPOLLIN) !== 0);
  const b = new Uint8Array(10);
  t.is(srv.recv(b, MSG.MSG_PEEK), 4);
  t.is(srv.recv(b.subarray(0, 2)), 2);
  t.deepEqual(Array.from(b.subarray(0, 2)), [1, 2]);
  t.is(srv.recv(b), 2);
  t.deepEqual(Array.from(b.subarray(0, 2)), [3, 4]);
  t.is(srv.recv(b), -11);
  cli.shutdown(1);
  r.pump();
  const m = srv.poll();
  t.true((m & EPOLL.EPOLLRDHUP) !== 0 && (m & EPOLL.EPOLLIN) !== 0);
  t.is(m & EPOLL.EPOLLHUP, 0);
  t.is(srv.recv(b), 0);
  t.is(cli.send(new Uint8Array(1)), -32);
  srv.shutdown(1);
  r.advance(300);
  t.true((cli.poll() & EPOLL.EPOLLHUP) !== 0);
});

test('a full send buffer: -EAGAIN, then onready with EPOLLOUT once ACKs free it', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  // No reading on srv: its window fills, then cli's buffer.
  let total = 0;
  for (;;) {
    const n = cli.send(pattern(65536));
    if (n < 0) {
      t.is(n, -11);
      break;
    }
    total += n;
    r.advance(5);
  }
  t.true(total > 0);
  t.is(cli.poll() & EPOLL.EPOLLOUT, 0);
  let woken = 0;
  cli.onready = () => woken++;
  const got = drain(srv);
  r.advance(50);
  drain(srv, got);
  r.advance(50);
  t.true(woken > 0);
  t.true((cli.poll() & EPOLL.EPOLLOUT) !== 0);
  t.true(got.length > 0);
});

test('socket options: TCP_MAXSEG, TCP_CONGESTION, TCP_QUICKACK, TCP_DEFER_ACCEPT, keepalive; unknown -> ENOPROTOOPT', (t) => {
  const r = rig();
  const s = tcpSocket(r.b);
  t.is(s.setsockopt(SOL_TCP, TCP_OPTS.TCP_MAXSEG, 1000), 0);
  t.is(s.getsockopt(SOL_TCP, TCP_OPTS.TCP_MAXSEG).value, 1000);
  t.is(s.setsockopt(SOL_TCP, TCP_OPTS.TCP_MAXSEG, 10), -22);
  t.is(s.getsockopt(SOL_TCP, TCP_OPTS.TCP_CONGESTION).value, 'cubic');
  t.is(s.setsockopt(SOL_TCP, TCP_OPTS.TCP_CONGESTION, 'reno'), 0);
  t.is(s.getsockopt(SOL_TCP, TCP_OPTS.TCP_CONGESTION).value, 'reno');
  t.is(s.setsockopt(SOL_TCP, TCP_OPTS.TCP_CONGESTION, 'nope'), -2);
  t.is(s.setsockopt(SOL_TCP, TCP_OPTS.TCP_DEFER_ACCEPT, 5), 0);
  t.is(s.getsockopt(SOL_TCP, TCP_OPTS.TCP_DEFER_ACCEPT).value, 7);
  t.is(s.setsockopt(SOL_TCP, TCP_OPTS.TCP_KEEPIDLE, 10), 0);
  t.is(s.getsockopt(SOL_TCP, TCP_OPTS.TCP_KEEPIDLE).value, 10);
  t.is(s.setsockopt(SOL_TCP, TCP_OPTS.TCP_USER_TIMEOUT, 3000), 0);
  t.is(s.getsockopt(SOL_TCP, TCP_OPTS.TCP_USER_TIMEOUT).value, 3000);
  t.is(s.setsockopt(SOL_TCP, 99, 1), -92);
  t.is(s.getsockopt(SOL_TCP, 99).err, -92);
  // TCP_MAXSEG lowers the MSS the SYN announces.
  const l = tcpSocket(r.a);
  l.bind({ family: AF_INET, addr: 0, port: 80 });
  l.listen(4);
  s.connect({ family: AF_INET, addr: r.a4, port: 80 });
  r.pump();
  const syn = sent(r, 'b', F.SYN)[0]!;
  t.deepEqual(syn.opts.slice(0, 4), [2, 4, 1000 >> 8, 1000 & 0xff]);
});

function icmpPortUnreach(r: Rig, quoted: { sport: number; dport: number; seq: number }): void {
  icmpError(r, quoted, 3, 3, 0);
}

/** An ICMP error from a to b about a segment b sent (its IP header and first 8 TCP bytes quoted). */
function icmpError(r: Rig, quoted: { sport: number; dport: number; seq: number }, type: number, code: number, mtu: number): void {
  // IPv4 header of the quoted SYN (b -> a), then 8 bytes of its TCP header.
  const q = new Uint8Array(28);
  const qv = new DataView(q.buffer);
  qv.setUint8(0, 0x45);
  qv.setUint16(2, 60);
  qv.setUint8(8, 64);
  qv.setUint8(9, 6);
  qv.setUint32(12, r.b4);
  qv.setUint32(16, r.a4);
  qv.setUint16(10, csum_fold(csum_partial(q, 0, 20, 0)));
  qv.setUint16(20, quoted.sport);
  qv.setUint16(22, quoted.dport);
  qv.setUint32(24, quoted.seq);
  const icmp = new Uint8Array(8 + q.length);
  icmp[0] = type;
  icmp[1] = code;
  new DataView(icmp.buffer).setUint16(6, mtu);
  icmp.set(q, 8);
  new DataView(icmp.buffer).setUint16(2, csum_fold(csum_partial(icmp, 0, icmp.length, 0)));
  const frame = new Uint8Array(14 + 20 + icmp.length);
  frame.set(MAC_B, 0);
  frame.set(MAC_A, 6);
  frame[12] = 0x08;
  const iv = new DataView(frame.buffer, 14);
  iv.setUint8(0, 0x45);
  iv.setUint16(2, 20 + icmp.length);
  iv.setUint8(8, 64);
  iv.setUint8(9, 1);
  iv.setUint32(12, r.a4);
  iv.setUint32(16, r.b4);
  iv.setUint16(10, csum_fold(csum_partial(frame, 14, 20, 0)));
  frame.set(icmp, 34);
  r.devb.rxq.push(frame);
}

test('ICMP port unreachable during SYN_SENT aborts the connect with ECONNREFUSED', (t) => {
  const r = rig();
  r.drop = (s) => s.from === 'b';
  const cli = tcpSocket(r.b);
  const dst = { family: AF_INET, addr: r.a4, port: 5555 } as const;
  t.is(cli.connect(dst), -115);
  r.pump();
  const syn = sent(r, 'b', F.SYN)[0]!;
  icmpPortUnreach(r, { sport: syn.sport, dport: 5555, seq: syn.seq });
  r.pump();
  t.is(tp(cli).skc_state, TCP_STATES.TCP_CLOSE);
  t.is(cli.connect(dst), -111);
  // An ICMP quoting a sequence outside the window is ignored.
  const c2 = tcpSocket(r.b);
  c2.connect(dst);
  r.pump();
  const syn2 = sent(r, 'b', F.SYN).at(-1)!;
  icmpPortUnreach(r, { sport: syn2.sport, dport: 5555, seq: (syn2.seq + 100000) >>> 0 });
  r.pump();
  t.is(tp(c2).skc_state, TCP_STATES.TCP_SYN_SENT);
  t.is(r.b.mib.net.OutOfWindowIcmps, 1);
});

test('keepalive: probes after the idle time, abort after the probe count (ETIMEDOUT)', (t) => {
  const r = rig();
  const { cli } = connectPair(r);
  t.is(cli.setsockopt(SOL_TCP, TCP_OPTS.TCP_KEEPIDLE, 10), 0);
  t.is(cli.setsockopt(SOL_TCP, TCP_OPTS.TCP_KEEPINTVL, 2), 0);
  t.is(cli.setsockopt(SOL_TCP, TCP_OPTS.TCP_KEEPCNT, 3), 0);
  t.is(cli.setsockopt(SOL_SOCKET, SO.SO_KEEPALIVE, 1), 0);
  r.segs.length = 0;
  r.advance(12000);
  // The peer answers the first probe, so the idle time starts again.
  const p1 = sent(r, 'b').filter((s) => s.len === 0);
  t.is(p1.length, 1);
  t.is(p1[0]!.t, 10000);
  t.is(r.b.mib.net.TCPKeepAlive, 1);
  // Now the peer is gone.
  r.drop = (s) => s.from === 'b';
  r.advance(20000);
  const probes = sent(r, 'b').filter((s) => s.len === 0 && !(s.flags & F.RST)).map((s) => s.t);
  t.deepEqual(probes, [10000, 20000, 22000, 24000]);
  t.is(tp(cli).skc_state, TCP_STATES.TCP_CLOSE);
  t.is(cli.recv(new Uint8Array(1)), -110);
});

test('unacknowledged data: retransmissions back off and the connection is dropped after tcp_retries2', (t) => {
  const r = rig();
  r.b.ipv4.sysctl_tcp_retries2 = 4;
  const { cli } = connectPair(r);
  r.drop = (s) => s.from === 'b';
  cli.send(pattern(100));
  r.advance(60000);
  t.is(tp(cli).skc_state, TCP_STATES.TCP_CLOSE);
  t.is(cli.send(new Uint8Array(1)), -110);
  t.is(r.b.mib.net.TCPAbortOnTimeout, 1);
  // RFC 6298 backoff from an RTO just over 200 ms; the limit is the time 4 doublings from
  // TCP_RTO_MIN take (6.2 s, tcp_model_timeout), which the fifth retransmission is still within.
  const tx = sent(r, 'b').filter((s) => s.len === 100).map((s) => s.t);
  t.is(tx.length, 6);
  const gaps = tx.slice(1).map((x, i) => x - tx[i]!);
  for (let i = 1; i < gaps.length; i++) t.is(gaps[i], 2 * gaps[i - 1]!);
  t.is(r.b.mib.net.TCPTimeouts, 6);
});

test('a new SYN above the old sequence space reopens a TIME_WAIT 4-tuple', (t) => {
  const r = rig();
  const { lst, cli, srv } = connectPair(r);
  const port = cli.sk.skc_num;
  // The server closes first and holds TIME_WAIT.
  srv.shutdown(1);
  r.advance(300);
  cli.close();
  r.advance(300);
  void lst;
  const fin = sent(r, 'b', F.FIN)[0]!;
  // Same 4-tuple, sequence above the old connection's.
  r.drop = (s) => s.from === 'b' && (s.flags & F.RST) !== 0;
  inject4(r, { sport: port, dport: 80, seq: (fin.seq + 100000) >>> 0, flags: F.SYN });
  r.pump();
  const synack = sent(r, 'a', F.SYN | F.ACK).at(-1)!;
  t.is(synack.ack, (fin.seq + 100001) >>> 0);
});

test('IPv6: RST for a closed port, ECONNREFUSED', (t) => {
  const r = rig();
  const cli = tcpSocket(r.b, AF_INET6);
  const dst = { family: AF_INET6, addr: r.a6, port: 9 } as const;
  t.is(cli.connect(dst), -115);
  r.pump();
  t.is(r.a.mib.tcp.OutRsts, 1);
  t.is(cli.connect(dst), -111);
});

test('bulk both ways at once with loss in both directions', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  let n = 0;
  r.drop = (s) => s.len > 0 && ++n % 11 === 0;
  const up = pattern(300000, 21);
  const down = pattern(300000, 22);
  let su = 0;
  let sd = 0;
  const gu: number[] = [];
  const gd: number[] = [];
  for (let ms = 0; ms < 100000 && (gu.length < up.length || gd.length < down.length); ms++) {
    if (su < up.length) {
      const k = cli.send(up.subarray(su));
      if (k > 0) su += k;
    }
    if (sd < down.length) {
      const k = srv.send(down.subarray(sd));
      if (k > 0) sd += k;
    }
    r.advance(1);
    drain(srv, gu);
    drain(cli, gd);
  }
  t.is(gu.length, up.length);
  t.is(gd.length, down.length);
  t.true(gu.every((x, i) => x === up[i]));
  t.true(gd.every((x, i) => x === down[i]));
});

test('ICMP fragmentation needed lowers the MSS; queued segments are split to fit', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  t.is(tp(cli).mss_cache, 1448);
  // Quote a segment in flight: send something the peer does not see yet.
  r.drop = (s) => s.from === 'b' && s.len > 0;
  cli.send(pattern(3000, 1));
  r.pump();
  const seg = sent(r, 'b').find((s) => s.len > 0)!;
  icmpFragNeeded(r, { sport: seg.sport, dport: 80, seq: seg.seq }, 1000);
  r.pump();
  t.is(tp(cli).mss_cache, 1000 - 20 - 20 - 12);
  // The segments that no longer fit went again at once, split (tcp_simple_retransmit).
  const again = sent(r, 'b').filter((s) => s.len > 0 && s.dropped && s.len <= 948);
  t.true(again.length >= 3);
  r.drop = null;
  r.segs.length = 0;
  const more = pattern(20000, 2);
  const got = drain(srv);
  let sentn = 0;
  for (let ms = 0; ms < 20000 && got.length < 23000; ms++) {
    if (sentn < more.length) {
      const n = cli.send(more.subarray(sentn));
      if (n > 0) sentn += n;
    }
    r.advance(1);
    drain(srv, got);
  }
  t.deepEqual(got, Array.from(pattern(3000, 1)).concat(Array.from(more)));
  t.true(sent(r, 'b').every((s) => s.len <= 948));
});

function icmpFragNeeded(r: Rig, quoted: { sport: number; dport: number; seq: number }, mtu: number): void {
  icmpError(r, quoted, 3, 4, mtu);
}

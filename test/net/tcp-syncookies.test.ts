// SYN cookies (tcp_syncookies=2: always): the handshake completes through the cookie with no
// request socket kept; the options come back through the timestamp; a forged cookie ACK is
// counted and answered with a RST.
import test from 'ava';
import { F, connectPair, inject4, pattern, rig, sent, tcpSocket, tp, transfer } from './tcp-harness.ts';
import { AF_INET, AF_INET6 } from '../../net/core/socket-constants.ts';
import { tcp_get_info } from '../../net/ipv4/tcp.ts';
import { inet_reqsk } from '../../net/core/request-sock.ts';

test('tcp_syncookies=2: handshake through a cookie, no request socket; SyncookiesSent/Recv; options survive', (t) => {
  const r = rig();
  r.a.ipv4.sysctl_tcp_syncookies = 2;
  const lst = tcpSocket(r.a);
  lst.bind({ family: AF_INET, addr: 0, port: 80 });
  lst.listen(16);
  const cli = tcpSocket(r.b);
  cli.connect({ family: AF_INET, addr: r.a4, port: 80 });
  // Run the SYN and SYN-ACK only (the client's ACK stays on the wire).
  r.drop = (s) => s.from === 'b' && s.flags === F.ACK;
  r.pump();
  t.is(r.a.mib.net.SyncookiesSent, 1);
  t.is(r.a.mib.net.TCPReqQFullDoCookies, 1);
  t.is(tp(lst).syn_queue_len, 0);
  let reqs = 0;
  for (const chain of r.a.ipv4.tcp_hashinfo.ehash) for (const s of chain ?? []) if (inet_reqsk(s)) reqs++;
  t.is(reqs, 0);
  const synack = sent(r, 'a', F.SYN | F.ACK)[0]!;
  // The cookie SYN-ACK's TSval carries the client's options in its low 6 bits: wscale 7 and SACK
  // (the client's offset is added, so compare through the decoded connection below).
  t.is(synack.opts.length, 20);
  r.drop = null;
  // The client is established; its data carries the ACK that completes the cookie handshake.
  t.is(cli.connect({ family: AF_INET, addr: r.a4, port: 80 }), 0);
  const data = pattern(5000, 2);
  cli.send(data);
  r.advance(10);
  t.is(r.a.mib.net.SyncookiesRecv, 1);
  const srv = lst.accept();
  t.true(typeof srv !== 'number');
  if (typeof srv === 'number') return;
  const i = tcp_get_info(tp(srv));
  t.is(i.tcpi_options & 7, 7);
  t.is(i.tcpi_snd_wscale, 7);
  t.is(i.tcpi_snd_mss, 1460 - 12);
  t.is(r.a.mib.tcp.PassiveOpens, 1);
  const buf = new Uint8Array(10000);
  const n = srv.recv(buf);
  t.deepEqual(Array.from(buf.subarray(0, n)), Array.from(data));
  const back = pattern(30000, 3);
  t.deepEqual(transfer(r, srv, cli, back), Array.from(back));
});

test('a cookie handshake without timestamps: MSS from the table, no SACK or window scaling', (t) => {
  const r = rig();
  r.a.ipv4.sysctl_tcp_syncookies = 2;
  r.b.ipv4.sysctl_tcp_timestamps = 0;
  const { cli, srv } = connectPair(r);
  t.is(r.a.mib.net.SyncookiesRecv, 1);
  const i = tcp_get_info(tp(srv));
  t.is(i.tcpi_options, 0);
  t.is(i.tcpi_snd_mss, 1460);
  const data = pattern(50000, 4);
  t.deepEqual(transfer(r, cli, srv, data), Array.from(data));
});

test('an ACK with a wrong cookie: SyncookiesFailed and a RST; with no recent overflow, just the RST', (t) => {
  const r = rig();
  r.a.ipv4.sysctl_tcp_syncookies = 2;
  const lst = tcpSocket(r.a);
  lst.bind({ family: AF_INET, addr: 0, port: 80 });
  lst.listen(16);
  // No SYN yet: the listener never overflowed, so the ACK is not a cookie.
  inject4(r, { sport: 40000, dport: 80, seq: 1000, ack: 123456, flags: F.ACK });
  r.pump();
  t.is(r.a.mib.net.SyncookiesFailed, 0);
  t.is(sent(r, 'a', F.RST).length, 1);
  // After a cookie was sent, a forged one fails the check.
  inject4(r, { sport: 40001, dport: 80, seq: 5000, flags: F.SYN });
  r.pump();
  t.is(r.a.mib.net.SyncookiesSent, 1);
  const synack = sent(r, 'a', F.SYN | F.ACK)[0]!;
  inject4(r, { sport: 40001, dport: 80, seq: 5001, ack: (synack.seq ^ 0x5a5a5a5a) >>> 0, flags: F.ACK });
  r.pump();
  t.is(r.a.mib.net.SyncookiesFailed, 1);
  t.is(sent(r, 'a', F.RST).length, 2);
  t.is(lst.accept(), -11);
  // The right cookie completes it.
  inject4(r, { sport: 40001, dport: 80, seq: 5001, ack: (synack.seq + 1) >>> 0, flags: F.ACK });
  r.pump();
  t.is(r.a.mib.net.SyncookiesRecv, 1);
  t.not(typeof lst.accept(), 'number');
});

test('IPv6 cookie handshake', (t) => {
  const r = rig();
  r.a.ipv4.sysctl_tcp_syncookies = 2;
  const { cli, srv } = connectPair(r, 443, AF_INET6);
  t.is(r.a.mib.net.SyncookiesSent, 1);
  t.is(r.a.mib.net.SyncookiesRecv, 1);
  const data = pattern(20000, 8);
  t.deepEqual(transfer(r, cli, srv, data), Array.from(data));
});

test('tcp_syncookies=1: cookies only once the SYN queue is full', (t) => {
  const r = rig();
  const lst = tcpSocket(r.a);
  lst.bind({ family: AF_INET, addr: 0, port: 80 });
  lst.listen(2);
  // b has no sockets for these: keep its RSTs off the requests.
  r.drop = (s) => s.from === 'b' && (s.flags & F.RST) !== 0;
  for (let i = 0; i < 4; i++) inject4(r, { sport: 41000 + i, dport: 80, seq: 100 * i, flags: F.SYN });
  r.pump();
  t.is(tp(lst).syn_queue_len, 2);
  t.is(r.a.mib.net.SyncookiesSent, 2);
  t.is(r.a.mib.net.TCPReqQFullDoCookies, 2);
  // The requests retransmit their SYN-ACKs: 1 s, 2 s, ... (TCPTimeouts, TCPSynRetrans).
  r.segs.length = 0;
  r.advance(3500);
  t.deepEqual(sent(r, 'a', F.SYN | F.ACK).map((s) => s.t % 1000), [0, 0, 0, 0]);
  t.is(r.a.mib.net.TCPSynRetrans, 4);
});

test('tcp_syncookies=0: SYNs beyond a full SYN queue are dropped (TCPReqQFullDrop, ListenDrops)', (t) => {
  const r = rig();
  r.a.ipv4.sysctl_tcp_syncookies = 0;
  const lst = tcpSocket(r.a);
  lst.bind({ family: AF_INET, addr: 0, port: 80 });
  lst.listen(2);
  r.drop = (s) => s.from === 'b' && (s.flags & F.RST) !== 0;
  for (let i = 0; i < 5; i++) inject4(r, { sport: 42000 + i, dport: 80, seq: 7 * i, flags: F.SYN });
  r.pump();
  t.is(tp(lst).syn_queue_len, 2);
  t.is(r.a.mib.net.TCPReqQFullDrop, 3);
  t.is(r.a.mib.net.ListenDrops, 3);
  t.is(r.a.mib.net.SyncookiesSent, 0);
  t.is(sent(r, 'a', F.SYN | F.ACK).length, 2);
  // After tcp_synack_retries (5) the requests go: 1+2+4+8+16+32 s.
  r.advance(64000);
  t.is(tp(lst).syn_queue_len, 0);
  t.is(sent(r, 'a', F.SYN | F.ACK).length, 12);
});

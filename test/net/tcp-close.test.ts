// Closing in each order: the active closer holds TIME_WAIT for 60 s (answering a retransmitted
// FIN), the passive closer goes through CLOSE_WAIT and LAST_ACK, a simultaneous close through
// CLOSING; close() with unread data or SO_LINGER 0 resets; a RST makes reads fail.
import test from 'ava';
import { F, connectPair, drain, inject4, pattern, rig, sent, tp, transfer } from './tcp-harness.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';
import { SOL_SOCKET, SO } from '../../net/core/socket-options.ts';
import { linger_bytes } from '../../net/core/sock-opts.ts';
import { inet_twsk } from '../../net/ipv4/inet-timewait-sock.ts';
import { __inet_lookup_established } from '../../net/ipv4/inet-hashtables.ts';
import type { Rig } from './tcp-harness.ts';

/** The client's ehash entry (a TIME_WAIT mini socket once closed) by its port. */
function lookupTw(r: Rig, port: number): ReturnType<typeof __inet_lookup_established> {
  return __inet_lookup_established(r.b, r.b.ipv4.tcp_hashinfo, r.a4, 80, r.b4, port, 0, 0);
}

test('active close: FIN_WAIT1, FIN_WAIT2, TIME_WAIT for 60 s (a retransmitted FIN is ACKed), then gone', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  const port = cli.sk.skc_num;
  t.is(cli.shutdown(1), 0);
  t.is(tp(cli).skc_state, TCP_STATES.TCP_FIN_WAIT1);
  r.pump();
  // The FIN's ACK is delayed (the passive side usually closes at once and sends FIN+ACK).
  t.is(tp(cli).skc_state, TCP_STATES.TCP_FIN_WAIT1);
  r.advance(300);
  t.is(tp(cli).skc_state, TCP_STATES.TCP_FIN_WAIT2);
  t.is(tp(srv).skc_state, TCP_STATES.TCP_CLOSE_WAIT);
  t.is(srv.recv(new Uint8Array(10)), 0);
  t.is(srv.close(), 0);
  t.is(tp(srv).skc_state, TCP_STATES.TCP_LAST_ACK);
  r.pump();
  t.is(tp(srv).skc_state, TCP_STATES.TCP_CLOSE);
  t.is(tp(cli).skc_state, TCP_STATES.TCP_CLOSE);
  const tw = lookupTw(r, port);
  t.truthy(tw);
  t.true(tw !== undefined && inet_twsk(tw));
  t.is(r.b.mib.tcp.CurrEstab, 0);
  t.is(r.a.mib.tcp.CurrEstab, 0);
  // The peer's FIN again (its ACK lost, say): TIME_WAIT ACKs it and restarts its 60 s.
  r.advance(30000);
  const fin = sent(r, 'a', F.FIN)[0]!;
  r.segs.length = 0;
  // a has no socket for the ACK TIME_WAIT sends and answers it with a RST, which (in window)
  // would end TIME_WAIT early (RFC 1337's assassination, allowed by default): drop it.
  r.drop = (s) => s.from === 'a' && (s.flags & F.RST) !== 0;
  inject4(r, { sport: 80, dport: port, seq: fin.seq, ack: fin.ack, flags: F.FIN | F.ACK, win: fin.win }, false);
  r.pump();
  t.is(sent(r, 'b', F.ACK).length, 1);
  t.is(sent(r, 'b', F.ACK)[0]!.ack, (fin.seq + 1) >>> 0);
  r.advance(59000);
  t.truthy(lookupTw(r, port));
  r.advance(1500);
  t.is(lookupTw(r, port), undefined);
  t.is(r.b.mib.net.TW, 1);
  t.is(r.b.mib.net.TWKilled, 0);
  cli.close();
});

test('close() on both: the orphaned active closer finishes alone; passive side LAST_ACK then CLOSE', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  const port = cli.sk.skc_num;
  const data = pattern(5000);
  t.deepEqual(transfer(r, cli, srv, data), Array.from(data));
  cli.close();
  r.pump();
  t.is(srv.recv(new Uint8Array(10)), 0);
  // The FIN is answered together with ours: FIN+ACK.
  srv.close();
  r.pump();
  t.is(tp(srv).skc_state, TCP_STATES.TCP_CLOSE);
  t.truthy(lookupTw(r, port));
  r.advance(61000);
  t.is(lookupTw(r, port), undefined);
  t.is(r.b.mib.net.TW, 1);
  t.is(r.b.mib.tcp.EstabResets + r.a.mib.tcp.EstabResets, 0);
});

test('simultaneous close: both FIN_WAIT1 -> CLOSING -> TIME_WAIT', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  const port = cli.sk.skc_num;
  cli.shutdown(1);
  srv.shutdown(1);
  t.is(tp(cli).skc_state, TCP_STATES.TCP_FIN_WAIT1);
  t.is(tp(srv).skc_state, TCP_STATES.TCP_FIN_WAIT1);
  r.pump();
  t.is(tp(cli).skc_state, TCP_STATES.TCP_CLOSE);
  t.is(tp(srv).skc_state, TCP_STATES.TCP_CLOSE);
  t.truthy(lookupTw(r, port));
  t.truthy(__inet_lookup_established(r.a, r.a.ipv4.tcp_hashinfo, r.b4, port, r.a4, 80, 0, 0));
  t.is(cli.recv(new Uint8Array(1)), 0);
  t.is(srv.recv(new Uint8Array(1)), 0);
});

test('close() with unread data sends a RST (TCPAbortOnClose); the peer reads ECONNRESET', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  cli.send(pattern(3000));
  r.advance(10);
  srv.close();
  t.is(r.a.mib.net.TCPAbortOnClose, 1);
  t.is(r.a.mib.tcp.OutRsts, 1);
  r.pump();
  t.is(sent(r, 'a', F.RST).length, 1);
  t.is(tp(cli).skc_state, TCP_STATES.TCP_CLOSE);
  t.is(cli.recv(new Uint8Array(10)), -104);
  t.is(cli.send(new Uint8Array(1)), -32);
  t.is(r.b.mib.tcp.EstabResets, 1);
});

test('SO_LINGER with 0 s: close() aborts with a RST and no TIME_WAIT', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  const port = cli.sk.skc_num;
  t.is(cli.setsockopt(SOL_SOCKET, SO.SO_LINGER, linger_bytes(1, 0)), 0);
  cli.close();
  r.pump();
  t.is(sent(r, 'b', F.RST).length, 1);
  t.is(lookupTw(r, port), undefined);
  t.is(tp(srv).skc_state, TCP_STATES.TCP_CLOSE);
  t.is(srv.recv(new Uint8Array(1)), -104);
});

test('the FIN_WAIT2 orphan times out after tcp_fin_timeout when the peer never closes', (t) => {
  const r = rig();
  r.b.ipv4.sysctl_tcp_fin_timeout = 5;
  const { cli, srv } = connectPair(r);
  const port = cli.sk.skc_num;
  cli.close();
  r.advance(300);
  t.is(tp(srv).skc_state, TCP_STATES.TCP_CLOSE_WAIT);
  const tw = lookupTw(r, port);
  t.true(tw !== undefined && inet_twsk(tw) && tw.tw_substate === TCP_STATES.TCP_FIN_WAIT2);
  r.advance(6000);
  t.is(lookupTw(r, port), undefined);
  // The peer's late data gets a RST.
  srv.send(new Uint8Array(10));
  r.pump();
  t.is(sent(r, 'b', F.RST).length, 1);
  t.deepEqual(drain(srv), []);
});

test('a RST in window ends TIME_WAIT at once, unless tcp_rfc1337', (t) => {
  for (const rfc1337 of [0, 1]) {
    const r = rig();
    r.b.ipv4.sysctl_tcp_rfc1337 = rfc1337;
    const { cli, srv } = connectPair(r);
    const port = cli.sk.skc_num;
    cli.shutdown(1);
    r.advance(300);
    srv.close();
    r.pump();
    t.truthy(lookupTw(r, port));
    const fin = sent(r, 'a', F.FIN)[0]!;
    inject4(r, { sport: 80, dport: port, seq: (fin.seq + 1) >>> 0, flags: F.RST }, false);
    r.pump();
    if (rfc1337) t.truthy(lookupTw(r, port));
    else {
      t.is(lookupTw(r, port), undefined);
      // Neither TW nor TWKilled: those count timer expiries.
      t.is(r.b.mib.net.TW + r.b.mib.net.TWKilled, 0);
    }
  }
});

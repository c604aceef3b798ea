// What tcp_v4_rcv and tcp_validate_incoming refuse: malformed headers (counted as Linux counts
// them), a bad checksum, options running past the header (ignored, as Linux does), SYN+FIN; on an
// established connection RFC 5961's rules for RST and SYN (challenge ACKs) and data outside the
// window.
import test from 'ava';
import { F, connectPair, inject4, rig, sent, tcpSocket, tp, type Rig } from './tcp-harness.ts';
import { AF_INET } from '../../net/core/socket-constants.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';
import { set_skb_drop_hook, drop_reason_name } from '../../net/core/skbuff.ts';
import { tcp_get_info } from '../../net/ipv4/tcp.ts';

function listener(r: Rig, port = 80): ReturnType<typeof tcpSocket> {
  const l = tcpSocket(r.a);
  l.bind({ family: AF_INET, addr: 0, port });
  l.listen(16);
  // b has no sockets for the crafted connections: keep its RSTs away from a.
  r.drop = (s) => s.from === 'b' && (s.flags & F.RST) !== 0;
  return l;
}

function drops<T>(fn: () => T): { reasons: string[]; value: T } {
  const reasons: string[] = [];
  // The test's own tc drops (of a's answers) are not TCP's.
  set_skb_drop_hook((_skb, reason) => {
    const name = drop_reason_name(reason);
    if (name !== 'TC_INGRESS') reasons.push(name);
  });
  try {
    return { reasons, value: fn() };
  } finally {
    set_skb_drop_hook(null);
  }
}

test('malformed segments: short header, doff < 5, doff past the data, bad checksum', (t) => {
  const r = rig();
  listener(r);
  const mib = r.a.mib.tcp;
  const d = drops(() => {
    inject4(r, { sport: 1234, dport: 80, seq: 1, flags: F.SYN, truncate: 12 });
    r.pump();
    t.is(mib.InSegs, 1);
    t.is(mib.InErrs, 0);
    inject4(r, { sport: 1234, dport: 80, seq: 1, flags: F.SYN, doff: 4 });
    r.pump();
    t.is(mib.InErrs, 1);
    inject4(r, { sport: 1234, dport: 80, seq: 1, flags: F.SYN, doff: 15 });
    r.pump();
    t.is(mib.InErrs, 1);
    inject4(r, { sport: 1234, dport: 80, seq: 1, flags: F.SYN, badCsum: true });
    r.pump();
    t.is(mib.InCsumErrors, 1);
    t.is(mib.InErrs, 2);
  });
  t.deepEqual(d.reasons, ['PKT_TOO_SMALL', 'PKT_TOO_SMALL', 'PKT_TOO_SMALL', 'TCP_CSUM']);
  t.is(mib.InSegs, 4);
  t.is(sent(r, 'a').length, 0);
});

test('an option running past the header ends option parsing: the SYN is still answered, MSS 536', (t) => {
  const r = rig();
  const l = listener(r);
  // MSS with length 8 in a 4-byte option area.
  inject4(r, { sport: 1234, dport: 80, seq: 1000, flags: F.SYN, opts: [2, 8, 0x05, 0xb4] });
  r.pump();
  const synack = sent(r, 'a', F.SYN | F.ACK)[0]!;
  t.truthy(synack);
  inject4(r, { sport: 1234, dport: 80, seq: 1001, ack: (synack.seq + 1) >>> 0, flags: F.ACK });
  r.pump();
  const c = l.accept();
  t.not(typeof c, 'number');
  if (typeof c === 'number') return;
  t.is(tcp_get_info(tp(c)).tcpi_snd_mss, 536);
});

test('SYN+FIN to a listener is dropped without an answer', (t) => {
  const r = rig();
  listener(r);
  const d = drops(() => {
    inject4(r, { sport: 1234, dport: 80, seq: 1, flags: F.SYN | F.FIN });
    r.pump();
  });
  t.deepEqual(d.reasons, ['TCP_FLAGS']);
  t.is(sent(r, 'a').length, 0);
});

test('RST validation: out of window ignored; in window but not rcv_nxt a challenge ACK; exact resets', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  const s = tp(srv);
  const cport = cli.sk.skc_num;
  r.drop = (x) => x.from === 'a';
  r.segs.length = 0;
  inject4(r, { sport: cport, dport: 80, seq: (s.rcv_nxt + 10_000_000) >>> 0, flags: F.RST });
  r.pump();
  t.is(s.skc_state, TCP_STATES.TCP_ESTABLISHED);
  t.is(r.a.mib.net.TCPChallengeACK, 0);
  inject4(r, { sport: cport, dport: 80, seq: (s.rcv_nxt + 100) >>> 0, flags: F.RST });
  r.pump();
  t.is(s.skc_state, TCP_STATES.TCP_ESTABLISHED);
  t.is(r.a.mib.net.TCPChallengeACK, 1);
  const ch = sent(r, 'a', F.ACK)[0]!;
  t.is(ch.ack, s.rcv_nxt);
  t.is(ch.seq, s.snd_nxt);
  inject4(r, { sport: cport, dport: 80, seq: s.rcv_nxt, flags: F.RST });
  r.pump();
  t.is(s.skc_state, TCP_STATES.TCP_CLOSE);
  t.is(srv.recv(new Uint8Array(1)), -104);
  t.is(r.a.mib.tcp.EstabResets, 1);
});

test('a SYN on an established connection gets a challenge ACK (TCPSYNChallenge)', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  const s = tp(srv);
  r.segs.length = 0;
  r.drop = (x) => x.from === 'a';
  inject4(r, { sport: cli.sk.skc_num, dport: 80, seq: (s.rcv_nxt + 5) >>> 0, flags: F.SYN });
  r.pump();
  t.is(s.skc_state, TCP_STATES.TCP_ESTABLISHED);
  t.is(r.a.mib.net.TCPSYNChallenge, 1);
  t.is(r.a.mib.net.TCPChallengeACK, 1);
  t.is(sent(r, 'a', F.ACK).length, 1);
});

test('data beyond the receive window is dropped and answered with a duplicate ACK', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  const s = tp(srv);
  r.segs.length = 0;
  r.drop = (x) => x.from === 'a';
  const d = drops(() => {
    inject4(r, { sport: cli.sk.skc_num, dport: 80, seq: (s.rcv_nxt + 1_000_000) >>> 0, ack: s.snd_nxt, flags: F.ACK, payload: new Uint8Array(100) });
    r.pump();
  });
  t.deepEqual(d.reasons, ['TCP_INVALID_SEQUENCE']);
  const ack = sent(r, 'a', F.ACK)[0]!;
  t.is(ack.ack, s.rcv_nxt);
  t.is(srv.recv(new Uint8Array(10)), -11);
});

test('an ACK for data never sent is dropped; one older than the window is challenged', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  const s = tp(srv);
  r.segs.length = 0;
  r.drop = (x) => x.from === 'a';
  const d = drops(() => {
    inject4(r, { sport: cli.sk.skc_num, dport: 80, seq: s.rcv_nxt, ack: (s.snd_nxt + 1000) >>> 0, flags: F.ACK });
    r.pump();
  });
  t.deepEqual(d.reasons, ['TCP_ACK_UNSENT_DATA']);
  inject4(r, { sport: cli.sk.skc_num, dport: 80, seq: s.rcv_nxt, ack: (s.snd_una - 10_000_000) >>> 0, flags: F.ACK });
  r.pump();
  t.is(r.a.mib.net.TCPChallengeACK, 1);
});

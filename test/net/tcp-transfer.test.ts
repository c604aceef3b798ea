// Bulk data and loss: 1 MB through a lossy path arrives byte-exact; three duplicate ACKs trigger
// fast retransmit without an RTO; a lost tail is recovered by the RTO (at least TCP_RTO_MIN);
// Nagle holds small writes; delayed ACKs; the zero window and its probes.
import test from 'ava';
import { F, connectPair, drain, pattern, rig, sent, tp, transfer } from './tcp-harness.ts';
import { SOL_TCP, TCP_OPTS } from '../../net/core/socket-options.ts';

test('1 MB over a path that drops every 13th data segment arrives byte-exact (SACK recovery)', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  let n = 0;
  r.drop = (s) => s.from === 'b' && s.len > 0 && ++n % 13 === 0;
  const data = pattern(1 << 20, 5);
  const got = transfer(r, cli, srv, data);
  t.is(got.length, data.length);
  t.true(got.every((x, i) => x === data[i]));
  t.true(r.b.mib.tcp.RetransSegs > 0);
  t.true(r.b.mib.net.TCPFastRetrans > 0);
  t.true(r.b.mib.net.TCPSackRecovery > 0);
  t.true(r.a.mib.net.TCPOFOQueue > 0);
});

test('1 MB without SACK (NewReno) over a lossy path, and with a small veth queue', (t) => {
  const r = rig({ queue_len: 8 });
  r.a.ipv4.sysctl_tcp_sack = 0;
  const { cli, srv } = connectPair(r);
  let n = 0;
  r.drop = (s) => s.from === 'b' && s.len > 0 && ++n % 17 === 0;
  const data = pattern(1 << 20, 6);
  const got = transfer(r, cli, srv, data);
  t.is(got.length, data.length);
  t.true(got.every((x, i) => x === data[i]));
  t.true(r.b.mib.net.TCPRenoRecovery > 0);
});

test('fast retransmit after three duplicate ACKs, no RTO', (t) => {
  const r = rig();
  r.a.ipv4.sysctl_tcp_sack = 0;
  const { cli, srv } = connectPair(r);
  // Open cwnd first.
  transfer(r, cli, srv, pattern(200000, 1));
  r.segs.length = 0;
  let dropped = false;
  r.drop = (s) => {
    if (!dropped && s.from === 'b' && s.len > 0) {
      dropped = true;
      return true;
    }
    return false;
  };
  const data = pattern(20 * 1448, 2);
  const got = transfer(r, cli, srv, data, 2000);
  t.deepEqual(got, Array.from(data));
  const lost = r.segs.find((s) => s.dropped)!;
  const dupacks = sent(r, 'a', F.ACK).filter((s) => s.ack === lost.seq && s.len === 0);
  t.true(dupacks.length >= 3);
  const rtx = r.segs.filter((s) => s.from === 'b' && s.seq === lost.seq && !s.dropped)[0]!;
  // Retransmitted as soon as the third duplicate arrived, well before any RTO.
  t.true(rtx.t - lost.t < 50);
  t.is(r.b.mib.net.TCPTimeouts, 0);
  t.true(r.b.mib.net.TCPFastRetrans >= 1);
  t.is(r.b.mib.net.TCPRenoRecovery, 1);
});

test('a lost last segment is recovered by the RTO, not before TCP_RTO_MIN, with backoff', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  t.deepEqual(transfer(r, cli, srv, pattern(1000)).length, 1000);
  let drops = 2;
  r.drop = (s) => s.from === 'b' && s.len > 0 && drops-- > 0;
  r.segs.length = 0;
  const start = r.now();
  cli.send(pattern(100, 7));
  r.advance(5000);
  t.deepEqual(drain(srv), Array.from(pattern(100, 7)));
  const tx = sent(r, 'b').filter((s) => s.len === 100).map((s) => s.t - start);
  t.is(tx.length, 3);
  t.true(tx[1]! - tx[0]! >= 200);
  // Exponential backoff: the second wait is twice the first.
  t.is(tx[2]! - tx[1]!, 2 * (tx[1]! - tx[0]!));
  t.is(r.b.mib.net.TCPTimeouts, 2);
  t.is(r.b.mib.tcp.RetransSegs, 2);
});

test('Nagle: a second small write waits for the ACK of the first; TCP_NODELAY sends at once', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  r.segs.length = 0;
  cli.send(new Uint8Array([1]));
  cli.send(new Uint8Array([2]));
  cli.send(new Uint8Array([3]));
  // Only the first small segment is out; the others wait (Minshall's Nagle).
  t.is(sent(r, 'b').filter((s) => s.len > 0).length, 0);
  r.pump();
  const first = sent(r, 'b').filter((s) => s.len > 0);
  t.deepEqual(first.map((s) => s.len), [1, 2]);
  r.advance(100);
  t.deepEqual(drain(srv), [1, 2, 3]);
  t.is(cli.setsockopt(SOL_TCP, TCP_OPTS.TCP_NODELAY, 1), 0);
  t.is(cli.getsockopt(SOL_TCP, TCP_OPTS.TCP_NODELAY).value, 1);
  r.segs.length = 0;
  cli.send(new Uint8Array([4]));
  cli.send(new Uint8Array([5]));
  cli.send(new Uint8Array([6]));
  r.pump();
  t.deepEqual(sent(r, 'b').filter((s) => s.len > 0).map((s) => s.len), [1, 1, 1]);
  // TCP_CORK holds even full writes' tails until uncorked.
  cli.setsockopt(SOL_TCP, TCP_OPTS.TCP_CORK, 1);
  r.segs.length = 0;
  cli.send(new Uint8Array(100));
  r.pump();
  t.is(sent(r, 'b').filter((s) => s.len > 0).length, 0);
  cli.setsockopt(SOL_TCP, TCP_OPTS.TCP_CORK, 0);
  r.pump();
  t.is(sent(r, 'b').filter((s) => s.len > 0).length, 1);
});

test('delayed ACK: one segment is ACKed when the delack timer fires; every second full segment at once', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  // A window well below the receive buffer (as autotuning makes it in Linux; not modelled here),
  // so data not yet read does not hold the window edge back.
  t.is(srv.setsockopt(SOL_TCP, TCP_OPTS.TCP_WINDOW_CLAMP, 32768), 0);
  // Use up the quick ACKs of the connection's start (and stay below an RTO of idleness, after
  // which the receiver would ACK quickly again).
  transfer(r, cli, srv, pattern(400000));
  r.advance(50);
  // The window has finished growing (growth itself asks for quick ACKs).
  t.is(tp(srv).rcv_ssthresh, tp(srv).window_clamp);
  r.segs.length = 0;
  const before = r.a.mib.net.DelayedACKs;
  const start = r.now();
  cli.send(pattern(500));
  r.pump();
  t.is(sent(r, 'a', F.ACK).length, 0);
  r.advance(100);
  const acks = sent(r, 'a', F.ACK);
  t.is(acks.length, 1);
  const delay = acks[0]!.t - start;
  t.true(delay >= 40 && delay <= 200, `delay ${delay}`);
  t.is(r.a.mib.net.DelayedACKs, before + 1);
  drain(srv);
  // Within an RTO of the last segment (a longer silence makes the receiver ACK quickly again).
  r.advance(20);
  r.segs.length = 0;
  cli.send(pattern(2 * 1448));
  r.pump();
  const a2 = sent(r, 'a', F.ACK);
  t.is(a2.length, 1);
  t.is(a2[0]!.t, r.now());
});

test('zero window: the sender stops, probes with backoff, and resumes when the reader drains', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  const data = pattern(400000, 11);
  let sentn = 0;
  for (let i = 0; i < 3000; i++) {
    const n = cli.send(data.subarray(sentn));
    if (n > 0) sentn += n;
    r.advance(1);
  }
  // Nobody reads on a: its window closed.
  const zw = sent(r, 'a', F.ACK).filter((s) => s.win === 0);
  t.true(zw.length > 0);
  t.true(r.a.mib.net.TCPToZeroWindowAdv > 0);
  r.advance(10000);
  const firstZero = zw[0]!.t;
  // Probes: pure ACKs with an old sequence number, the interval doubling from the RTO.
  const probes = sent(r, 'b').filter((s) => s.len === 0 && s.t > firstZero);
  t.true(probes.length >= 5, `probes ${probes.length}`);
  t.true(r.b.mib.net.TCPWinProbe >= 5);
  const gaps = probes.slice(1).map((p, i) => p.t - probes[i]!.t);
  for (let i = 1; i < gaps.length; i++) t.is(gaps[i], 2 * gaps[i - 1]!);
  t.true(gaps[0]! >= 200);
  // Each probe is answered with the (still zero) window.
  t.true(sent(r, 'a').filter((s) => s.t > firstZero && s.win === 0).length >= probes.length - 1);
  const all = drain(srv);
  for (let ms = 0; ms < 100000 && all.length < data.length; ms++) {
    const n = cli.send(data.subarray(sentn));
    if (n > 0) sentn += n;
    r.advance(1);
    drain(srv, all);
  }
  t.is(all.length, data.length);
  t.true(all.every((x, i) => x === data[i]));
  t.is(tp(cli).icsk_probes_out, 0);
});

// Malformed UDP and TCP (IPv4 and IPv6) fed to a stack with bound sockets, listeners and an
// established connection: lengths, checksums, data offsets, option lengths, flag combinations
// RFC 9293 and Linux refuse, segments outside the window, RSTs and ACKs that do not fit. Each is
// dropped and counted where __udp4_lib_rcv / __udp6_lib_rcv / tcp_v4_rcv / tcp_v6_rcv /
// tcp_validate_incoming / tcp_ack count it, and the stack goes on working.
import test from 'ava';
import {
  A, B, ETH, L4_4, L4_6, cut, mutate, tcp4, tcp6, udp4, udp6, victim, healthy, established, drainAll, MSG_DONTWAIT,
  type TcpSpec, sameBytes,
} from './support/frames.ts';
import { AF_INET, AF_INET6 } from '../../net/core/socket-constants.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';

const SYN = 2, FIN = 1, RST = 4, PSH = 8, ACK = 16, URG = 32;

/** Rewrites the IP length field so the datagram ends at the frame's end (a consistent cut). */
function relen(g: Uint8Array, dv: DataView): void {
  if (dv.getUint16(12) === 0x0800) dv.setUint16(ETH + 2, g.length - ETH);
  else dv.setUint16(ETH + 4, g.length - L4_6);
}

for (const fam of [4, 6] as const) {
  const L4 = fam === 4 ? L4_4 : L4_6;
  const udp = fam === 4 ? udp4 : udp6;
  const tcp = fam === 4 ? tcp4 : tcp6;

  test(`UDPv${fam}: header cut at every byte, length field larger and smaller than the datagram`, (t) => {
    const v = victim();
    const m = v.t.b.mib;
    const inErr = (): number => (fam === 4 ? m.udp.InErrors : m.ipv6.Udp6InErrors);
    const f = udp();
    for (let n = 0; n < 8; n++) {
      const e = inErr();
      t.is(v.feed(mutate(cut(f, L4 + n), relen)).kind, 'dropped', `udp length ${n}`);
      t.is(inErr(), e + 1, `${n}-byte UDP header: InErrors`);
    }
    // Over IPv6 a zero length means "jumbo: the IP payload length" (__udp6_lib_rcv), so it is delivered.
    for (const ulen of fam === 4 ? [0, 1, 7, 25, 0xffff] : [1, 7, 25, 0xffff]) {
      const e = inErr();
      t.is(v.feed(mutate(f, (_g, dv) => { dv.setUint16(L4 + 4, ulen); })).kind, 'dropped', `ulen ${ulen}`);
      t.is(inErr(), e + 1, `ulen ${ulen}: InErrors`);
    }
    // A length shorter than the datagram but covering the header: the rest is trimmed (Linux
    // pskb_trim_rcsum) and the datagram delivered with ulen - 8 bytes.
    const g = mutate(f, (_g, dv) => { dv.setUint16(L4 + 4, 8 + 5); });
    if (fam === 4) g[L4 + 6] = g[L4 + 7] = 0; // checksum "none": it was computed over the longer datagram
    else {
      // Recompute over the trimmed 13 bytes: fixChecksums uses payload_len, so shorten it, fix, restore.
      const dv = new DataView(g.buffer);
      const plen = dv.getUint16(ETH + 4);
      dv.setUint16(ETH + 4, 13);
      mutate(g, () => {}, true).forEach((b, i) => { g[i] = b; });
      dv.setUint16(ETH + 4, plen);
    }
    if (fam === 6) {
      drainAll(v.u6);
      t.is(v.feed(mutate(f, (_g, dv) => { dv.setUint16(L4 + 4, 0); })).kind, 'held', 'IPv6 ulen 0 is queued');
      t.is(v.u6.recv(new Uint8Array(64), MSG_DONTWAIT), 16, 'IPv6 ulen 0: the whole payload');
    }
    drainAll(fam === 4 ? v.u4 : v.u6);
    v.feed(g);
    const buf = new Uint8Array(64);
    t.is((fam === 4 ? v.u4 : v.u6).recv(buf, MSG_DONTWAIT), 5, 'trimmed to the UDP length');
    healthy(t, v);
    v.stop();
  });

  test(`UDPv${fam}: bad and zero checksums, to a bound socket and to a closed port`, (t) => {
    const v = victim();
    const m = v.t.b.mib;
    const cs = (): number => (fam === 4 ? m.udp.InCsumErrors : m.ipv6.Udp6InCsumErrors);
    const err = (): number => (fam === 4 ? m.udp.InErrors : m.ipv6.Udp6InErrors);
    const noports = (): number => (fam === 4 ? m.udp.NoPorts : m.ipv6.Udp6NoPorts);
    const s = fam === 4 ? v.u4 : v.u6;
    const bad = (dport: number): Uint8Array => mutate(udp({ dport }), (g) => { g[L4 + 6]! ^= 0x10; }, false);
    // Closed port: a checksum error, not "no port", and no ICMP.
    const c0 = cs(), e0 = err(), n0 = noports();
    t.is(v.feed(bad(6000)).kind, 'dropped');
    t.is(cs(), c0 + 1, 'closed port: InCsumErrors');
    t.is(err(), e0 + 1, 'closed port: InErrors');
    t.is(noports(), n0, 'closed port: not NoPorts');
    // Bound socket: queued, then dropped by recvmsg's checksum check (udp_recvmsg csum_copy_err).
    v.feed(bad(5000));
    const buf = new Uint8Array(64);
    t.true(s.recv(buf, MSG_DONTWAIT) < 0, 'the bad datagram is not returned');
    t.is(cs(), c0 + 2, 'bound socket: InCsumErrors at recvmsg');
    t.is(err(), e0 + 2, 'bound socket: InErrors at recvmsg');
    t.is(s.sk.sk_rmem_alloc, 0, 'its memory is uncharged');
    // Zero checksum: "none" over IPv4, forbidden over IPv6 (RFC 8200 8.1; udp6_csum_init).
    const z = mutate(udp({ dport: 5000 }), (g) => { g[L4 + 6] = g[L4 + 7] = 0; }, false);
    v.feed(z);
    if (fam === 4) t.is(s.recv(buf, MSG_DONTWAIT), 16, 'IPv4 zero checksum delivered');
    else {
      t.true(s.recv(buf, MSG_DONTWAIT) < 0, 'IPv6 zero checksum refused');
      t.is(cs(), c0 + 3, 'IPv6 zero checksum: Udp6InCsumErrors');
      t.is(err(), e0 + 3, 'IPv6 zero checksum: Udp6InErrors');
    }
    healthy(t, v);
    v.stop();
  });

  test(`TCPv${fam}: header cut at every byte, doff below 5 and past the segment, bad checksum`, (t) => {
    const v = victim();
    const m = v.t.b.mib.tcp;
    const f = tcp({ payload: new Uint8Array(4) });
    for (let n = 0; n < 20; n++) {
      const s0 = m.InSegs, e0 = m.InErrs;
      t.is(v.feed(mutate(cut(f, L4 + n), relen)).kind, 'dropped', `tcp length ${n}`);
      t.is(m.InSegs, s0 + 1, `${n}-byte TCP header: InSegs`);
      t.is(m.InErrs, e0, `${n}-byte TCP header: discarded, not InErrs (tcp_v4_rcv discard_it)`);
    }
    for (let doff = 0; doff < 5; doff++) {
      const e0 = m.InErrs;
      t.is(v.feed(mutate(f, (g) => { g[L4 + 12] = doff << 4; })).kind, 'dropped', `doff ${doff}`);
      t.is(m.InErrs, e0 + 1, `doff ${doff}: InErrs`);
    }
    for (const doff of [7, 15]) {
      const e0 = m.InErrs;
      t.is(v.feed(mutate(f, (g) => { g[L4 + 12] = doff << 4; })).kind, 'dropped', `doff ${doff} past the segment`);
      t.is(m.InErrs, e0, `doff ${doff}: discarded`);
    }
    const e0 = m.InErrs, c0 = m.InCsumErrors;
    t.is(v.feed(mutate(f, (g) => { g[L4 + 16]! ^= 1; }, false)).kind, 'dropped', 'bad checksum');
    t.is(m.InCsumErrors, c0 + 1);
    t.is(m.InErrs, e0 + 1);
    t.is((fam === 4 ? v.l4 : v.l6).sk.skc_state, TCP_STATES.TCP_LISTEN);
    healthy(t, v);
    v.stop();
  });

  test(`TCPv${fam}: SYNs with option lengths 0, 1 and past the header are still answered, nothing thrown`, (t) => {
    const v = victim();
    const m = v.t.b.mib.tcp;
    const opts: number[][] = [
      [2, 0, 0, 0], [2, 1, 5, 0xb4], [2, 40, 5, 0xb4], [3, 0, 7, 1], [3, 1, 7, 1], [4, 0, 1, 1], [8, 1, 0, 0],
      [5, 0, 0, 0], [5, 3, 0, 0], [99, 0, 0, 0], [99, 1, 0, 0], [99, 200, 0, 0], [8, 10, 0, 0, 0, 0, 0, 0],
      [5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 0], [1, 1, 1, 2], [30, 4, 0, 0], [34, 2, 0, 0], [254, 4, 0xf9, 0x89],
    ];
    let port = 41000;
    for (const o of opts) {
      const o0 = m.OutSegs;
      t.notThrows(() => v.feed(tcp({ sport: port++, flags: SYN, options: new Uint8Array(o) })), `options ${o.join(',')}`);
      t.is(m.OutSegs, o0 + 1, `options ${o.join(',')}: the parser stops, the SYN is answered (tcp_parse_options)`);
    }
    healthy(t, v);
    v.stop();
  });

  test(`TCPv${fam}: flag combinations a listener refuses (SYN+FIN, SYN+RST, none, FIN, xmas)`, (t) => {
    const v = victim();
    const m = v.t.b.mib.tcp;
    const lst = (fam === 4 ? v.l4 : v.l6).sk as unknown as { syn_queue_len: number };
    const cases: [string, number][] = [
      ['SYN+FIN', SYN | FIN], ['SYN+RST', SYN | RST], ['no flags', 0], ['FIN', FIN], ['FIN+PSH+URG', FIN | PSH | URG],
      ['SYN+FIN+PSH+URG', SYN | FIN | PSH | URG], ['RST', RST], ['all flags', 0xff],
    ];
    let port = 42000;
    for (const [what, flags] of cases) {
      const o0 = m.OutSegs;
      const fate = v.feed(tcp({ sport: port++, flags }));
      // Dropped, or consumed: with ACK set tcp_rcv_state_process returns 1 and the reset path
      // sends nothing for a segment carrying RST, then frees the skb with reason 1 (SKB_CONSUMED).
      t.not(fate.kind, 'held', what);
      t.is(m.OutSegs, o0, `${what}: no SYN-ACK, no RST`);
      t.is(lst.syn_queue_len, 0, `${what}: no request socket`);
    }
    // A bare ACK to a listener is answered with a RST (tcp_rcv_state_process returns 1).
    const r0 = m.OutRsts;
    v.feed(tcp({ sport: port++, flags: ACK, ack: 12345 }));
    t.is(m.OutRsts, r0 + 1);
    healthy(t, v);
    v.stop();
  });

  test(`TCPv${fam}: an established connection refuses data beyond the window, bad RSTs, ACKs of unsent data, SYNs`, (t) => {
    const v = victim();
    const family = fam === 4 ? AF_INET : AF_INET6;
    const c = established(v, family);
    const mx = v.t.b.mib.net;
    const m = v.t.b.mib.tcp;
    const from = (s: TcpSpec): Uint8Array => tcp({ sport: c.cport, dport: 80, ...s }, A, B);
    const seq = (): number => c.stp.rcv_nxt;
    const ack = (): number => c.stp.snd_nxt;
    const pay = new Uint8Array(100).fill(0xee);
    const buf = new Uint8Array(4096);
    // Data entirely beyond the receive window: dropped, answered with a duplicate ACK.
    let o0 = m.OutSegs;
    let fate = v.feed(from({ seq: (seq() + c.stp.rcv_wnd + 5000) >>> 0, ack: ack(), flags: ACK | PSH, payload: pay }));
    t.is(fate.kind, 'dropped', 'beyond the window');
    if (fate.kind === 'dropped') t.true(['TCP_OVERWINDOW', 'TCP_INVALID_SEQUENCE'].includes(fate.reason), fate.reason);
    t.is(m.OutSegs, o0 + 1, 'a duplicate ACK (tcp_send_dupack)');
    t.true(c.srv.recv(buf, MSG_DONTWAIT) < 0, 'nothing delivered');
    // Entirely old data (before rcv_nxt): dropped, duplicate ACK.
    o0 = m.OutSegs;
    fate = v.feed(from({ seq: (seq() - 1000) >>> 0, ack: ack(), flags: ACK | PSH, payload: pay }));
    t.is(fate.kind, 'dropped', 'old data');
    t.true(m.OutSegs >= o0 + 1, 'old data: duplicate ACK');
    t.true(c.srv.recv(buf, MSG_DONTWAIT) < 0, 'old data not delivered');
    // RST outside the window: silently dropped.
    o0 = m.OutSegs;
    fate = v.feed(from({ seq: (seq() + 0x40000000) >>> 0, ack: ack(), flags: RST | ACK }));
    t.is(fate.kind, 'dropped', 'RST outside the window');
    t.is(c.stp.skc_state, TCP_STATES.TCP_ESTABLISHED, 'RST outside the window ignored');
    // RST inside the window but not at rcv_nxt: a challenge ACK (RFC 5961 3.2).
    const ch0 = mx.TCPChallengeACK;
    fate = v.feed(from({ seq: (seq() + 10) >>> 0, ack: ack(), flags: RST | ACK }));
    t.is(c.stp.skc_state, TCP_STATES.TCP_ESTABLISHED, 'in-window RST not at rcv_nxt ignored');
    t.is(mx.TCPChallengeACK, ch0 + 1, 'challenge ACK for an in-window RST');
    // SYN on an established connection: challenge ACK (RFC 5961 4.2), TCPSYNChallenge.
    const sc0 = mx.TCPSYNChallenge;
    v.feed(from({ seq: seq(), flags: SYN }));
    t.is(c.stp.skc_state, TCP_STATES.TCP_ESTABLISHED, 'SYN does not reset');
    t.is(mx.TCPSYNChallenge, sc0 + 1, 'TCPSYNChallenge');
    // SYN+FIN at rcv_nxt, SYN+RST in the window but not at rcv_nxt: challenge ACKs, the connection
    // stays. (SYN+RST exactly at rcv_nxt does reset it in Linux: the RST check comes first.)
    for (const [flags, off] of [[SYN | FIN | ACK, 0], [SYN | RST, 10]] as const) {
      v.feed(from({ seq: (seq() + off) >>> 0, ack: ack(), flags }));
      t.is(c.stp.skc_state, TCP_STATES.TCP_ESTABLISHED, `flags ${flags} do not tear the connection down`);
    }
    // ACK of data never sent, with data: the segment is discarded (tcp_ack: TCP_ACK_UNSENT_DATA).
    fate = v.feed(from({ seq: seq(), ack: (ack() + 100000) >>> 0, flags: ACK | PSH, payload: pay }));
    t.is(fate.kind, 'dropped', 'ACK of unsent data');
    if (fate.kind === 'dropped') t.is(fate.reason, 'TCP_ACK_UNSENT_DATA');
    t.true(c.srv.recv(buf, MSG_DONTWAIT) < 0, 'its data not delivered');
    t.is(c.stp.snd_una, ack(), 'snd_una unmoved');
    // No ACK flag at all on data: dropped (RFC 9293 3.10.7.4 fifth check).
    fate = v.feed(from({ seq: seq(), flags: PSH, payload: pay }));
    t.is(fate.kind, 'dropped', 'data without ACK');
    t.true(c.srv.recv(buf, MSG_DONTWAIT) < 0, 'data without ACK not delivered');
    // Options with bad lengths on an in-window data segment: no throw.
    for (const o of [[8, 0, 0, 0], [5, 1, 0, 0], [99, 60, 0, 0]]) {
      t.notThrows(() => v.feed(from({ seq: (seq() + 5000) >>> 0, ack: ack(), flags: ACK, options: new Uint8Array(o), payload: pay })));
    }
    // The connection still carries data both ways, byte for byte.
    v.t.advance(300);
    drainAll(c.srv);
    drainAll(c.cli);
    const data = new Uint8Array(20000).map((_, i) => (i * 7) & 0xff);
    t.is(c.cli.send(data), data.length);
    const got: number[] = [];
    for (let i = 0; i < 2000 && got.length < data.length; i++) {
      v.t.advance(1);
      for (;;) {
        const n = c.srv.recv(buf, MSG_DONTWAIT);
        if (n <= 0) break;
        for (let k = 0; k < n; k++) got.push(buf[k]!);
      }
    }
    t.is(sameBytes(got, data), 'ok', 'a -> b after the attack, byte for byte');
    t.is(c.srv.send(new Uint8Array([1, 2, 3])), 3);
    v.t.advance(50);
    t.is(c.cli.recv(buf, MSG_DONTWAIT), 3, 'b -> a');
    healthy(t, v);
    v.stop();
  });
}

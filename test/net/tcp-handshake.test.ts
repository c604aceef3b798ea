// The three-way handshake on two stacks: options in Linux's order and what they negotiate, data
// both ways, RST for a closed port, SYN retransmission timing, the listen backlog, IPv6 and
// v4-mapped connections.
import test from 'ava';
import { F, connectPair, drain, pattern, rig, sent, tcpSocket, tp, transfer } from './tcp-harness.ts';
import { AF_INET, AF_INET6 } from '../../net/core/socket-constants.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';
import { SOL_TCP, TCP_OPTS } from '../../net/core/socket-options.ts';
import { tcp_get_info, TCPI_OPT } from '../../net/ipv4/tcp.ts';
import { In6Addr } from '../../net/core/in6-addr.ts';

test('handshake: SYN options MSS, SACK_PERM, TS, NOP, WS in Linux order; SYN-ACK answers; both ends ESTABLISHED', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  const syn = sent(r, 'b', F.SYN, F.ACK)[0]!;
  // 02 04 05 b4 | 04 02 08 0a <tsval> <tsecr=0> | 01 03 03 07
  t.deepEqual(syn.opts.slice(0, 8), [2, 4, 0x05, 0xb4, 4, 2, 8, 10]);
  t.deepEqual(syn.opts.slice(12, 20), [0, 0, 0, 0, 1, 3, 3, 7]);
  t.is(syn.doff, 40);
  t.is(syn.win, 64240);
  const synack = sent(r, 'a', F.SYN | F.ACK)[0]!;
  // The listener's window is a multiple of the MSS less timestamps (45 * 1448).
  t.is(synack.win, 65160);
  t.is(synack.ack, (syn.seq + 1) >>> 0);
  t.deepEqual(synack.opts.slice(0, 8), [2, 4, 0x05, 0xb4, 4, 2, 8, 10]);
  t.deepEqual(synack.opts.slice(16, 20), [1, 3, 3, 7]);
  // The SYN-ACK echoes the SYN's TSval.
  const synTsval = new DataView(new Uint8Array(syn.opts).buffer).getUint32(8);
  t.is(new DataView(new Uint8Array(synack.opts).buffer).getUint32(12), synTsval);
  const ack = r.segs.find((s) => s.from === 'b' && s.flags === F.ACK)!;
  t.is(ack.ack, (synack.seq + 1) >>> 0);
  t.is(tp(cli).skc_state, TCP_STATES.TCP_ESTABLISHED);
  t.is(tp(srv).skc_state, TCP_STATES.TCP_ESTABLISHED);
  for (const s of [cli, srv]) {
    const i = tcp_get_info(tp(s));
    t.is(i.tcpi_options & (TCPI_OPT.TCPI_OPT_TIMESTAMPS | TCPI_OPT.TCPI_OPT_SACK | TCPI_OPT.TCPI_OPT_WSCALE), 7);
    t.is(i.tcpi_snd_wscale, 7);
    t.is(i.tcpi_rcv_wscale, 7);
    t.is(i.tcpi_snd_mss, 1448);
  }
  t.is(r.b.mib.tcp.ActiveOpens, 1);
  t.is(r.a.mib.tcp.PassiveOpens, 1);
  t.is(r.a.mib.tcp.CurrEstab, 1);
  t.is(r.b.mib.tcp.CurrEstab, 1);
  const info = cli.getsockopt(SOL_TCP, TCP_OPTS.TCP_INFO);
  t.is(info.err, 0);
  t.true(info.value instanceof Uint8Array);
  t.is((info.value as Uint8Array)[0], TCP_STATES.TCP_ESTABLISHED);
});

test('handshake without timestamps, SACK or window scaling on the server: the client falls back', (t) => {
  const r = rig();
  r.a.ipv4.sysctl_tcp_timestamps = 0;
  r.a.ipv4.sysctl_tcp_sack = 0;
  r.a.ipv4.sysctl_tcp_window_scaling = 0;
  const { cli, srv } = connectPair(r);
  const synack = sent(r, 'a', F.SYN | F.ACK)[0]!;
  t.deepEqual(synack.opts, [2, 4, 0x05, 0xb4]);
  const i = tcp_get_info(tp(cli));
  t.is(i.tcpi_options, 0);
  t.is(i.tcpi_snd_mss, 1460);
  const data = pattern(20000);
  t.deepEqual(transfer(r, cli, srv, data), Array.from(data));
});

test('data both ways arrives byte-exact', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r);
  const up = pattern(50000, 3);
  const down = pattern(70000, 4);
  t.deepEqual(transfer(r, cli, srv, up), Array.from(up));
  t.deepEqual(transfer(r, srv, cli, down), Array.from(down));
  t.is(r.a.mib.tcp.RetransSegs + r.b.mib.tcp.RetransSegs, 0);
});

test('a SYN to a closed port gets a RST (OutRsts) and connect fails with ECONNREFUSED', (t) => {
  const r = rig();
  const cli = tcpSocket(r.b);
  t.is(cli.connect({ family: AF_INET, addr: r.a4, port: 9999 }), -115);
  r.pump();
  t.is(r.a.mib.tcp.OutRsts, 1);
  const rst = sent(r, 'a', F.RST | F.ACK)[0]!;
  t.is(rst.seq, 0);
  t.is(rst.ack, (sent(r, 'b', F.SYN)[0]!.seq + 1) >>> 0);
  t.is(cli.connect({ family: AF_INET, addr: r.a4, port: 9999 }), -111);
  t.is(r.b.mib.tcp.AttemptFails, 1);
});

test('SYN retransmission: 1 s initial RTO, doubling, then ETIMEDOUT after tcp_syn_retries', (t) => {
  const r = rig();
  r.b.ipv4.sysctl_tcp_syn_retries = 3;
  r.drop = (s) => s.from === 'b';
  const cli = tcpSocket(r.b);
  const dst = { family: AF_INET, addr: r.a4, port: 80 } as const;
  t.is(cli.connect(dst), -115);
  r.advance(20000);
  const syns = sent(r, 'b', F.SYN).map((s) => s.t);
  t.deepEqual(syns, [0, 1000, 3000, 7000]);
  t.is(r.b.mib.net.TCPTimeouts, 4);
  t.is(r.b.mib.net.TCPSynRetrans, 3);
  t.is(cli.connect(dst), -110);
});

test('listen backlog: SYNs beyond a full accept queue are dropped (ListenOverflows, ListenDrops)', (t) => {
  const r = rig();
  r.a.ipv4.sysctl_tcp_syncookies = 0;
  const lst = tcpSocket(r.a);
  lst.bind({ family: AF_INET, addr: 0, port: 80 });
  lst.listen(1);
  const clis = [0, 1, 2, 3].map(() => tcpSocket(r.b));
  for (const c of clis) {
    c.connect({ family: AF_INET, addr: r.a4, port: 80 });
    r.pump();
  }
  // backlog 1 admits two children (the kernel's test is ack_backlog > max_ack_backlog).
  t.is(tp(lst).sk_ack_backlog, 2);
  t.true(r.a.mib.net.ListenOverflows >= 1);
  t.true(r.a.mib.net.ListenDrops >= r.a.mib.net.ListenOverflows);
  t.not(lst.accept(), -11);
  t.not(lst.accept(), -11);
  t.is(lst.accept(), -11);
  // The dropped ones retransmit their SYN and get in once there is room.
  r.advance(4000);
  let n = 0;
  while (typeof lst.accept() !== 'number') n++;
  t.is(n, 2);
});

test('IPv6 handshake and data', (t) => {
  const r = rig();
  const { cli, srv } = connectPair(r, 8080, AF_INET6);
  t.is(tcp_get_info(tp(cli)).tcpi_snd_mss, 1500 - 40 - 20 - 12);
  const data = pattern(30000, 9);
  t.deepEqual(transfer(r, cli, srv, data), Array.from(data));
  t.deepEqual(transfer(r, srv, cli, data), Array.from(data));
});

test('a dual-stack client connects to a v4-mapped address over IPv4; a dual-stack listener accepts IPv4', (t) => {
  const r = rig();
  const lst = tcpSocket(r.a, AF_INET6);
  t.is(lst.bind({ family: AF_INET6, addr: new In6Addr(), port: 7 }), 0);
  t.is(lst.listen(8), 0);
  const cli = tcpSocket(r.b, AF_INET6);
  const mapped = new In6Addr(0, 0, 0xffff, r.a4);
  t.is(cli.connect({ family: AF_INET6, addr: mapped, port: 7 }), -115);
  r.pump();
  t.is(cli.connect({ family: AF_INET6, addr: mapped, port: 7 }), 0);
  const srv = lst.accept();
  t.true(typeof srv !== 'number');
  if (typeof srv === 'number') return;
  t.is(srv.sk.skc_daddr, r.b4);
  t.is(tcp_get_info(tp(cli)).tcpi_snd_mss, 1448);
  const data = pattern(10000);
  t.deepEqual(transfer(r, cli, srv, data), Array.from(data));
  t.deepEqual(transfer(r, srv, cli, data), Array.from(data));
  t.deepEqual(drain(cli), []);
});

test('simultaneous open: crossed SYNs, both SYN_RECV, then ESTABLISHED; data flows', (t) => {
  const r = rig();
  const x = tcpSocket(r.a);
  const y = tcpSocket(r.b);
  t.is(x.bind({ family: AF_INET, addr: 0, port: 1000 }), 0);
  t.is(y.bind({ family: AF_INET, addr: 0, port: 2000 }), 0);
  t.is(x.connect({ family: AF_INET, addr: r.b4, port: 2000 }), -115);
  t.is(y.connect({ family: AF_INET, addr: r.a4, port: 1000 }), -115);
  r.advance(10);
  t.is(tp(x).skc_state, TCP_STATES.TCP_ESTABLISHED);
  t.is(tp(y).skc_state, TCP_STATES.TCP_ESTABLISHED);
  t.is(x.connect({ family: AF_INET, addr: r.b4, port: 2000 }), 0);
  t.is(y.connect({ family: AF_INET, addr: r.a4, port: 1000 }), 0);
  const data = pattern(20000, 12);
  t.deepEqual(transfer(r, x, y, data), Array.from(data));
  t.deepEqual(transfer(r, y, x, data), Array.from(data));
});

test('closing a listener resets the children nobody accepted', (t) => {
  const r = rig();
  const { lst, cli } = connectPair(r);
  const c2 = tcpSocket(r.b);
  c2.connect({ family: AF_INET, addr: r.a4, port: 80 });
  r.pump();
  t.is(c2.connect({ family: AF_INET, addr: r.a4, port: 80 }), 0);
  lst.close();
  r.pump();
  t.is(tp(c2).skc_state, TCP_STATES.TCP_CLOSE);
  t.is(c2.recv(new Uint8Array(1)), -104);
  // The accepted one lives on.
  t.is(tp(cli).skc_state, TCP_STATES.TCP_ESTABLISHED);
});

test('TCP_DEFER_ACCEPT: the bare ACK is dropped; the child appears with the first data', (t) => {
  const r = rig();
  const lst = tcpSocket(r.a);
  lst.bind({ family: AF_INET, addr: 0, port: 80 });
  t.is(lst.setsockopt(SOL_TCP, TCP_OPTS.TCP_DEFER_ACCEPT, 10), 0);
  lst.listen(8);
  const cli = tcpSocket(r.b);
  cli.connect({ family: AF_INET, addr: r.a4, port: 80 });
  r.pump();
  t.is(cli.connect({ family: AF_INET, addr: r.a4, port: 80 }), 0);
  t.is(lst.accept(), -11);
  t.is(r.a.mib.net.TCPDeferAcceptDrop, 1);
  cli.send(new Uint8Array([7, 8, 9]));
  r.pump();
  const s = lst.accept();
  t.not(typeof s, 'number');
  if (typeof s === 'number') return;
  t.deepEqual(drain(s), [7, 8, 9]);
});

test('connect() picks distinct even ephemeral ports for one destination (bind() takes the odd ones)', (t) => {
  const r = rig();
  const lst = tcpSocket(r.a);
  lst.bind({ family: AF_INET, addr: 0, port: 80 });
  lst.listen(64);
  const ports = new Set<number>();
  for (let i = 0; i < 8; i++) {
    const c = tcpSocket(r.b);
    t.is(c.connect({ family: AF_INET, addr: r.a4, port: 80 }), -115);
    const p = c.sk.skc_num;
    t.true(p >= 32768 && p <= 60999);
    t.is(p % 2, 0);
    ports.add(p);
  }
  t.is(ports.size, 8);
  r.pump();
  let n = 0;
  while (typeof lst.accept() !== 'number') n++;
  t.is(n, 8);
});

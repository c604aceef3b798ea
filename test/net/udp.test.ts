// UDP over IPv4 between two stacks (twoHosts): delivery and lookup order through the socket API,
// ICMP port unreachable and ECONNREFUSED, the receive buffer, malformed datagrams and their
// counters, IP_PKTINFO / IP_ORIGDSTADDR and replying from the original address, reuseport.
import test from 'ava';
import { twoHosts, MAC_A, MAC_B, type TwoHosts } from './support/topology.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { Socket } from '../../net/socket.ts';
import { AF_INET, AF_UNSPEC, SOCK_DGRAM } from '../../net/core/socket-constants.ts';
import { EPOLL, IP_OPTS, MSG, SHUT, SO, SOL_IP, SOL_SOCKET, SOL_UDP } from '../../net/core/socket-options.ts';
import { UDP_CORK } from '../../net/ipv4/udp-cork.ts';
import type { Cmsg, MsgHdr, SockaddrIn } from '../../net/core/msghdr.ts';
import { E } from '../../net/core/sock-opts.ts';
import { inet_pton4 } from '../../net/core/inet-addr.ts';
import { inet_addr_add } from '../../net/ipv4/devinet.ts';
import { csum_partial, csum_tcpudp_magic, ip_fast_csum } from '../../net/core/checksum.ts';
import { IP_PMTUDISC } from '../../net/ipv4/af-inet.ts';

function hosts(o: { mtu?: number } = {}): TwoHosts {
  return twoHosts({ staticNeigh: true, mtu: o.mtu, init: (net) => udp_init(net) });
}

function udp(net: TwoHosts['a']): Socket {
  const s = Socket.create(net, AF_INET, SOCK_DGRAM);
  if (typeof s === 'number') throw new Error(`socket ${s}`);
  return s;
}

const sin = (addr: number, port: number): SockaddrIn => ({ family: AF_INET, addr, port });
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array, n: number): string => new TextDecoder().decode(b.subarray(0, n));

/** An Ethernet + IPv4 + UDP frame from a to b, with overridable length and checksum fields. */
function udp4_frame(saddr: number, daddr: number, sport: number, dport: number, payload: Uint8Array, o: { ulen?: number; csum?: number; iplen?: number } = {}): Uint8Array {
  const ulen = 8 + payload.length;
  const f = new Uint8Array(14 + 20 + ulen);
  const v = new DataView(f.buffer);
  f.set(MAC_B, 0);
  f.set(MAC_A, 6);
  v.setUint16(12, 0x0800);
  const ip = 14;
  v.setUint8(ip, 0x45);
  v.setUint16(ip + 2, o.iplen ?? 20 + ulen);
  v.setUint16(ip + 6, 0x4000);
  v.setUint8(ip + 8, 64);
  v.setUint8(ip + 9, 17);
  v.setUint32(ip + 12, saddr);
  v.setUint32(ip + 16, daddr);
  v.setUint16(ip + 10, ip_fast_csum(f, ip, 5));
  const th = ip + 20;
  v.setUint16(th, sport);
  v.setUint16(th + 2, dport);
  v.setUint16(th + 4, o.ulen ?? ulen);
  f.set(payload, th + 8);
  const c = csum_tcpudp_magic(saddr, daddr, ulen, 17, csum_partial(f, th, ulen, 0));
  v.setUint16(th + 6, o.csum ?? (c === 0 ? 0xffff : c));
  return f;
}

test('a datagram crosses from a to b: payload, source in msg_name, OutDatagrams and InDatagrams (counted when read)', (t) => {
  const h = hosts();
  const srv = udp(h.b);
  t.is(srv.bind(sin(0, 7000)), 0);
  const cli = udp(h.a);
  t.is(cli.sendto(bytes('hello'), sin(h.b4, 7000)), 5);
  t.is(h.a.mib.udp.OutDatagrams, 1);
  h.pump();
  t.is(h.b.mib.udp.InDatagrams, 0, 'not counted until read');
  t.true((srv.poll() & EPOLL.EPOLLIN) !== 0);
  const buf = new Uint8Array(64);
  const r = srv.recvfrom(buf);
  t.is(r.n, 5);
  t.is(text(buf, 5), 'hello');
  t.deepEqual(r.from, sin(h.a4, cli.getsockname().port));
  t.true(cli.getsockname().port >= 32768 && cli.getsockname().port <= 60999, 'autobound to an ephemeral port');
  t.is(h.b.mib.udp.InDatagrams, 1);
  t.is(srv.recv(buf), -E.EAGAIN);
  t.is(srv.poll() & EPOLL.EPOLLIN, 0);
});

test('a connected socket takes its peer\'s datagrams before the unconnected one on the same port', (t) => {
  const h = hosts();
  const any = udp(h.b);
  any.setsockopt(SOL_SOCKET, SO.SO_REUSEADDR, 1);
  t.is(any.bind(sin(0, 5000)), 0);
  const conn = udp(h.b);
  conn.setsockopt(SOL_SOCKET, SO.SO_REUSEADDR, 1);
  t.is(conn.bind(sin(0, 5000)), 0);
  t.is(conn.connect(sin(h.a4, 6000)), 0);
  t.deepEqual(conn.getsockname(), sin(h.b4, 5000), 'the route picked the source address');
  t.deepEqual(conn.getpeername(), sin(h.a4, 6000));
  const c1 = udp(h.a);
  c1.bind(sin(0, 6000));
  const c2 = udp(h.a);
  c2.bind(sin(0, 6001));
  c1.sendto(bytes('to-conn'), sin(h.b4, 5000));
  c2.sendto(bytes('to-any'), sin(h.b4, 5000));
  h.pump();
  const buf = new Uint8Array(64);
  t.is(text(buf, conn.recv(buf)), 'to-conn');
  t.is(conn.recv(buf), -E.EAGAIN);
  t.is(text(buf, any.recv(buf)), 'to-any');
  t.is(any.recv(buf), -E.EAGAIN);
  // The connected socket refuses everyone else: send() goes to its peer only.
  t.is(conn.send(bytes('back')), 4);
  h.pump();
  t.is(text(buf, c1.recv(buf)), 'back');
  // connect(AF_UNSPEC) dissolves the association and gives back the route's address.
  t.is(conn.connect({ family: AF_UNSPEC }), 0);
  t.is(conn.getpeername(), -E.ENOTCONN);
  t.is(conn.send(bytes('x')), -E.EDESTADDRREQ);
});

test('no socket on the port: NoPorts, an ICMP port unreachable back, and ECONNREFUSED on the connected sender\'s next recv', (t) => {
  const h = hosts();
  const cli = udp(h.a);
  t.is(cli.connect(sin(h.b4, 9999)), 0);
  let woke = 0;
  cli.onready = () => woke++;
  t.is(cli.send(bytes('anyone?')), 7);
  h.pump();
  t.is(h.b.mib.udp.NoPorts, 1);
  t.is(h.b.mib.icmp.OutDestUnreachs, 1);
  t.is(h.a.mib.icmp.InDestUnreachs, 1);
  t.true(woke > 0, 'sk_error_report woke the socket');
  t.true((cli.poll() & EPOLL.EPOLLERR) !== 0);
  const buf = new Uint8Array(16);
  t.is(cli.recv(buf), -E.ECONNREFUSED);
  t.is(cli.recv(buf), -E.EAGAIN, 'reported once');
  t.is(cli.getsockopt(SOL_SOCKET, SO.SO_ERROR).value, 0);
  // The pending error comes back on the next send too (sock_alloc_send_skb's sock_error).
  h.advance(1001);
  t.is(cli.send(bytes('again')), 5);
  h.pump();
  t.is(h.b.mib.udp.NoPorts, 2);
  t.is(cli.send(bytes('third')), -E.ECONNREFUSED);
  t.is(cli.send(bytes('fourth')), 6);
});

test('an unconnected sender hears of port unreachable only with IP_RECVERR', (t) => {
  const h = hosts();
  const plain = udp(h.a);
  const recverr = udp(h.a);
  t.is(recverr.setsockopt(SOL_IP, IP_OPTS.IP_RECVERR, 1), 0);
  plain.sendto(bytes('x'), sin(h.b4, 9998));
  h.advance(1001); // past the ICMP rate limit
  recverr.sendto(bytes('y'), sin(h.b4, 9998));
  h.pump();
  t.is(h.b.mib.udp.NoPorts, 2);
  const buf = new Uint8Array(16);
  t.is(plain.recv(buf), -E.EAGAIN);
  t.is(recverr.getsockopt(SOL_SOCKET, SO.SO_ERROR).value, E.ECONNREFUSED);
});

test('a full receive buffer drops: RcvbufErrors, InErrors and sk_drops; reading frees it', (t) => {
  const h = hosts();
  const srv = udp(h.b);
  srv.setsockopt(SOL_SOCKET, SO.SO_RCVBUF, 4096);
  t.is(srv.getsockopt(SOL_SOCKET, SO.SO_RCVBUF).value, 8192);
  srv.bind(sin(0, 7001));
  const cli = udp(h.a);
  cli.connect(sin(h.b4, 7001));
  for (let i = 0; i < 10; i++) cli.send(new Uint8Array(100));
  h.pump();
  // Each datagram charges its truesize (a 2 KiB buffer): 4 fit under 8192, the 5th overshoots, the rest drop.
  const truesize = srv.sk.sk_receive_queue.first!.truesize;
  const queued = srv.sk.sk_receive_queue.qlen;
  t.is(queued, Math.floor(8192 / truesize) + 1);
  t.is(h.b.mib.udp.RcvbufErrors, 10 - queued);
  t.is(h.b.mib.udp.InErrors, 10 - queued);
  t.is(srv.sk.sk_drops, 10 - queued);
  t.is(srv.sk.sk_rmem_alloc, queued * truesize);
  const buf = new Uint8Array(200);
  let n = 0;
  while (srv.recv(buf) === 100) n++;
  t.is(n, queued);
  t.is(srv.sk.sk_rmem_alloc, 0);
  t.is(h.b.mib.udp.InDatagrams, queued);
});

test('malformed datagrams are dropped and counted: short, bad length, bad checksum (with and without a socket)', (t) => {
  const h = hosts();
  const srv = udp(h.b);
  srv.bind(sin(0, 7002));
  const inject = (f: Uint8Array): void => {
    h.devb.rxq.push(f);
    h.pump();
  };
  const p = bytes('payload!');
  // UDP length beyond the IP payload.
  inject(udp4_frame(h.a4, h.b4, 1234, 7002, p, { ulen: 100 }));
  t.is(h.b.mib.udp.InErrors, 1);
  // UDP length below the header.
  inject(udp4_frame(h.a4, h.b4, 1234, 7002, p, { ulen: 4 }));
  t.is(h.b.mib.udp.InErrors, 2);
  // IP payload shorter than a UDP header.
  const tiny = udp4_frame(h.a4, h.b4, 1234, 7002, new Uint8Array(0), { iplen: 24 });
  inject(tiny.subarray(0, 14 + 24));
  t.is(h.b.mib.udp.InErrors, 3);
  t.is(h.b.mib.udp.InCsumErrors, 0);
  // A bad checksum to a socket: queued, then dropped when read (InCsumErrors + InErrors), the next one read.
  inject(udp4_frame(h.a4, h.b4, 1234, 7002, p, { csum: 0x1234 }));
  inject(udp4_frame(h.a4, h.b4, 1234, 7002, bytes('good')));
  const buf = new Uint8Array(64);
  t.is(text(buf, srv.recv(buf)), 'good');
  t.is(h.b.mib.udp.InCsumErrors, 1);
  t.is(h.b.mib.udp.InErrors, 4);
  t.is(h.b.mib.udp.InDatagrams, 1);
  t.is(srv.sk.sk_drops, 1);
  // A bad checksum to no socket: a checksum error, not NoPorts, and no ICMP.
  inject(udp4_frame(h.a4, h.b4, 1234, 7777, p, { csum: 0x1234 }));
  t.is(h.b.mib.udp.InCsumErrors, 2);
  t.is(h.b.mib.udp.NoPorts, 0);
  t.is(h.b.mib.icmp.OutDestUnreachs, 0);
  // A zero checksum means none over IPv4: accepted.
  inject(udp4_frame(h.a4, h.b4, 1234, 7002, bytes('nocsum'), { csum: 0 }));
  t.is(text(buf, srv.recv(buf)), 'nocsum');
});

test('SO_NO_CHECK sends a zero checksum, which IPv4 accepts', (t) => {
  const h = hosts();
  const srv = udp(h.b);
  srv.bind(sin(0, 7003));
  const cli = udp(h.a);
  t.is(cli.setsockopt(SOL_SOCKET, SO.SO_NO_CHECK, 1), 0);
  cli.sendto(bytes('zero'), sin(h.b4, 7003));
  h.pump();
  const buf = new Uint8Array(16);
  t.is(text(buf, srv.recv(buf)), 'zero');
});

test('IP_PKTINFO and IP_ORIGDSTADDR report the destination; replying with IP_PKTINFO answers from that address', (t) => {
  const h = hosts();
  const b2 = inet_pton4('10.0.0.3');
  t.is(inet_addr_add(h.devb, b2, 24), 0);
  const srv = udp(h.b);
  srv.bind(sin(0, 5353));
  t.is(srv.setsockopt(SOL_IP, IP_OPTS.IP_PKTINFO, 1), 0);
  t.is(srv.setsockopt(SOL_IP, IP_OPTS.IP_RECVORIGDSTADDR, 1), 0);
  // The client connects to the second address: only a reply from 10.0.0.3 reaches it.
  const cli = udp(h.a);
  cli.connect(sin(b2, 5353));
  cli.send(bytes('query'));
  h.pump();
  const buf = new Uint8Array(64);
  const msg: MsgHdr = { msg_flags: 0 };
  t.is(srv.recvmsg(buf, msg), 5);
  const ctl = msg.msg_control!;
  const pk = ctl.find((c) => c.kind === 'IP_PKTINFO');
  t.deepEqual(pk, { kind: 'IP_PKTINFO', ifindex: h.devb.ifindex, spec_dst: b2, addr: b2 });
  t.deepEqual(ctl.find((c) => c.kind === 'IP_ORIGDSTADDR'), { kind: 'IP_ORIGDSTADDR', addr: sin(b2, 5353) });
  // Without IP_PKTINFO the reply would leave from 10.0.0.2 (the route's source) and miss the client.
  const reply: Cmsg[] = [{ kind: 'IP_PKTINFO', ifindex: 0, spec_dst: b2, addr: 0 }];
  t.is(srv.sendmsg(bytes('answer'), { msg_name: msg.msg_name, msg_control: reply }), 6);
  h.pump();
  const r = cli.recvfrom(buf);
  t.is(text(buf, r.n), 'answer');
  t.deepEqual(r.from, sin(b2, 5353));
  // The same reply without control messages comes from 10.0.0.2: the connected client does not take it.
  srv.sendto(bytes('stray'), msg.msg_name!);
  h.pump();
  t.is(cli.recv(buf), -E.EAGAIN);
  t.is(h.a.mib.udp.NoPorts, 1);
});

test('an SO_REUSEPORT group spreads flows by hash, each flow staying on one socket', (t) => {
  const h = hosts();
  const group: Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = udp(h.b);
    t.is(s.setsockopt(SOL_SOCKET, SO.SO_REUSEPORT, 1), 0);
    t.is(s.bind(sin(0, 8000)), 0);
    group.push(s);
  }
  const outsider = udp(h.b);
  t.is(outsider.bind(sin(0, 8000)), -E.EADDRINUSE, 'without SO_REUSEPORT the port is taken');
  const buf = new Uint8Array(16);
  const owner = new Map<number, number>();
  for (let round = 0; round < 2; round++) {
    for (let port = 20000; port < 20040; port++) {
      const c = udp(h.a);
      c.bind(sin(0, port + round * 100));
      c.sendto(Uint8Array.of(port & 0xff), sin(h.b4, 8000));
      c.close();
      h.pump();
      const who = group.findIndex((s) => s.recv(buf) === 1);
      t.true(who >= 0);
      if (round === 0) owner.set(port, who);
    }
  }
  const used = new Set(owner.values());
  t.true(used.size >= 3, `flows spread over ${used.size} sockets`);
  // The same 4-tuple always lands on the same member.
  for (const [port, who] of [...owner].slice(0, 5)) {
    const c = udp(h.a);
    c.bind(sin(0, port));
    c.sendto(Uint8Array.of(1), sin(h.b4, 8000));
    h.pump();
    t.is(group[who]!.recv(buf), 1);
    c.close();
  }
});

test('MSG_PEEK leaves the datagram, MSG_TRUNC reports its length, a short buffer sets MSG_TRUNC in msg_flags', (t) => {
  const h = hosts();
  const srv = udp(h.b);
  srv.bind(sin(0, 7004));
  const cli = udp(h.a);
  cli.sendto(bytes('0123456789'), sin(h.b4, 7004));
  h.pump();
  const small = new Uint8Array(4);
  const msg: MsgHdr = { msg_flags: 0 };
  t.is(srv.recvmsg(small, msg, MSG.MSG_PEEK), 4);
  t.is(msg.msg_flags & MSG.MSG_TRUNC, MSG.MSG_TRUNC);
  t.is(h.b.mib.udp.InDatagrams, 0, 'a peek is not a read');
  t.is(srv.recvmsg(small, msg, MSG.MSG_PEEK | MSG.MSG_TRUNC), 10);
  t.is(srv.recv(small, MSG.MSG_TRUNC), 10);
  t.is(text(small, 4), '0123');
  t.is(srv.recv(small), -E.EAGAIN, 'the rest of a datagram is discarded');
});

test('send errors: EMSGSIZE over 65507 bytes and over the MTU with IP_PMTUDISC_DO, EDESTADDRREQ, EINVAL port 0, EPIPE after SHUT_WR', (t) => {
  const h = hosts();
  const s = udp(h.a);
  t.is(s.sendto(new Uint8Array(65508), sin(h.b4, 9)), -E.EMSGSIZE);
  t.is(s.setsockopt(SOL_IP, IP_OPTS.IP_MTU_DISCOVER, IP_PMTUDISC.IP_PMTUDISC_DO), 0);
  t.is(s.sendto(new Uint8Array(1473), sin(h.b4, 9)), -E.EMSGSIZE);
  t.is(s.sendto(new Uint8Array(1472), sin(h.b4, 9)), 1472);
  t.is(s.send(bytes('x')), -E.EDESTADDRREQ);
  t.is(s.sendto(bytes('x'), sin(h.b4, 0)), -E.EINVAL);
  t.is(s.sendto(bytes('x'), sin(inet_pton4('192.168.77.1'), 9)), -E.ENETUNREACH);
  t.is(s.shutdown(SHUT.SHUT_WR), -E.ENOTCONN, 'unconnected: ENOTCONN, yet the direction is shut');
  t.is(s.sendto(bytes('x'), sin(h.b4, 9)), -E.EPIPE);
  t.is(h.a.mib.ip.OutNoRoutes, 1);
});

test('a broadcast needs SO_BROADCAST', (t) => {
  const h = hosts();
  const s = udp(h.a);
  const bcast = inet_pton4('10.0.0.255');
  t.is(s.sendto(bytes('hi'), sin(bcast, 9)), -E.EACCES);
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_BROADCAST, 1), 0);
  const srv = udp(h.b);
  srv.bind(sin(0, 9));
  t.is(s.sendto(bytes('hi'), sin(bcast, 9)), 2);
  h.pump();
  const buf = new Uint8Array(8);
  t.is(srv.recv(buf), 2);
});

test('onready fires when a datagram arrives; poll reports EPOLLOUT while the send buffer has room', (t) => {
  const h = hosts();
  const srv = udp(h.b);
  srv.bind(sin(0, 7005));
  const seen: number[] = [];
  srv.onready = (s) => seen.push(s.poll());
  t.is(srv.poll(), EPOLL.EPOLLOUT | EPOLL.EPOLLWRNORM | EPOLL.EPOLLWRBAND);
  const cli = udp(h.a);
  cli.sendto(bytes('x'), sin(h.b4, 7005));
  h.pump();
  t.is(seen.length, 1);
  t.true((seen[0]! & EPOLL.EPOLLIN) !== 0);
  t.is(srv.shutdown(SHUT.SHUT_RDWR), -E.ENOTCONN);
  const buf = new Uint8Array(8);
  t.is(srv.recv(buf), 1, 'queued data is still read after SHUT_RD');
  t.is(srv.recv(buf), 0, 'then EOF');
  t.true((srv.poll() & EPOLL.EPOLLHUP) !== 0);
});

test('over lo: a datagram to 127.0.0.1 comes back through the loopback device; the sender\'s buffer is free at once', (t) => {
  const h = hosts();
  const srv = udp(h.b);
  srv.bind(sin(inet_pton4('127.0.0.1'), 7006));
  const cli = udp(h.b);
  t.is(cli.sendto(bytes('local'), sin(inet_pton4('127.0.0.1'), 7006)), 5);
  t.is(cli.sk.sk_wmem_alloc, 0, 'lo orphans the skb on transmit');
  h.pump();
  const buf = new Uint8Array(16);
  const r = srv.recvfrom(buf);
  t.is(text(buf, r.n), 'local');
  t.deepEqual(r.from, sin(inet_pton4('127.0.0.1'), cli.getsockname().port));
});

test('IP_TTL and IP_TOS reach the wire', (t) => {
  const h = hosts();
  const srv = udp(h.b);
  srv.bind(sin(0, 7007));
  const cli = udp(h.a);
  cli.setsockopt(SOL_IP, IP_OPTS.IP_TTL, 7);
  cli.setsockopt(SOL_IP, IP_OPTS.IP_TOS, 0xb8);
  cli.sendto(bytes('x'), sin(h.b4, 7007));
  h.pump();
  const skb = srv.sk.sk_receive_queue.first!;
  t.is(skb.head[skb.network_header + 8], 7);
  t.is(skb.head[skb.network_header + 1], 0xb8);
});

test('UDP_CORK and MSG_MORE collect one datagram, sent when the cork comes off or a send ends it', (t) => {
  const h = hosts();
  const srv = udp(h.b);
  srv.bind(sin(0, 7008));
  const cli = udp(h.a);
  t.is(cli.setsockopt(SOL_UDP, UDP_CORK, 1), 0);
  t.is(cli.getsockopt(SOL_UDP, UDP_CORK).value, 1);
  t.is(cli.sendto(bytes('ab'), sin(h.b4, 7008)), 2);
  t.is(cli.sendto(bytes('cd'), sin(h.b4, 9)), 2, 'appended: the first send fixed the destination');
  h.pump();
  const buf = new Uint8Array(16);
  t.is(srv.recv(buf), -E.EAGAIN, 'nothing left while corked');
  t.is(h.a.mib.udp.OutDatagrams, 0);
  t.is(cli.setsockopt(SOL_UDP, UDP_CORK, 0), 0);
  h.pump();
  t.is(text(buf, srv.recv(buf)), 'abcd');
  t.is(h.a.mib.udp.OutDatagrams, 1);
  t.is(cli.sendto(bytes('x'), sin(h.b4, 7008), MSG.MSG_MORE), 1);
  t.is(cli.sendto(bytes('y'), sin(h.b4, 7008), MSG.MSG_MORE), 1);
  t.is(cli.sendto(bytes('z'), sin(h.b4, 7008)), 1);
  h.pump();
  t.is(text(buf, srv.recv(buf)), 'xyz');
  t.is(cli.sendto(new Uint8Array(40000), sin(h.b4, 7008), MSG.MSG_MORE), 40000);
  t.is(cli.sendto(new Uint8Array(30000), sin(h.b4, 7008)), -E.EMSGSIZE, 'over 65507 bytes: the pending datagram is dropped');
  t.is(cli.sendto(bytes('ok'), sin(h.b4, 7008)), 2);
  h.pump();
  t.is(text(buf, srv.recv(buf)), 'ok');
});

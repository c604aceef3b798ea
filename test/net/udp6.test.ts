// UDP over IPv6 and dual-stack sockets between two stacks: delivery, v4-mapped sources on
// AF_INET6 sockets, IPV6_V6ONLY and net.ipv6.bindv6only, the mandatory checksum, ICMPv6 port
// unreachable, IPV6_RECVPKTINFO / IPV6_RECVORIGDSTADDR.
import test from 'ava';
import { twoHosts, MAC_A, MAC_B, type TwoHosts } from './support/topology.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { Socket } from '../../net/socket.ts';
import { AF_INET, AF_INET6, SOCK_DGRAM } from '../../net/core/socket-constants.ts';
import { IPV6_OPTS, IP_OPTS, MSG, SOL_IP, SOL_IPV6 } from '../../net/core/socket-options.ts';
import type { MsgHdr, SockaddrIn6 } from '../../net/core/msghdr.ts';
import { E } from '../../net/core/sock-opts.ts';
import { In6Addr, in6addr_any, ipv6_addr_set_v4mapped, type ReadonlyIn6Addr } from '../../net/core/in6-addr.ts';
import { inet_pton6 } from '../../net/core/inet-addr.ts';
import { csum_ipv6_magic, csum_partial } from '../../net/core/checksum.ts';
import { ipv6_addr_add } from '../../net/ipv6/addrconf.ts';

function hosts(): TwoHosts {
  return twoHosts({ staticNeigh: true, init: (net) => udp_init(net) });
}

function udp6(net: TwoHosts['a']): Socket {
  const s = Socket.create(net, AF_INET6, SOCK_DGRAM);
  if (typeof s === 'number') throw new Error(`socket ${s}`);
  return s;
}

const sin6 = (addr: ReadonlyIn6Addr, port: number): SockaddrIn6 => ({ family: AF_INET6, addr, port });
const mapped = (v4: number): In6Addr => ipv6_addr_set_v4mapped(v4, new In6Addr());
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array, n: number): string => new TextDecoder().decode(b.subarray(0, n));

function udp6_frame(saddr: ReadonlyIn6Addr, daddr: ReadonlyIn6Addr, sport: number, dport: number, payload: Uint8Array, csum?: number): Uint8Array {
  const ulen = 8 + payload.length;
  const f = new Uint8Array(14 + 40 + ulen);
  const v = new DataView(f.buffer);
  f.set(MAC_B, 0);
  f.set(MAC_A, 6);
  v.setUint16(12, 0x86dd);
  const ip = 14;
  v.setUint32(ip, 0x60000000);
  v.setUint16(ip + 4, ulen);
  v.setUint8(ip + 6, 17);
  v.setUint8(ip + 7, 64);
  for (const [off, a] of [[8, saddr], [24, daddr]] as const) {
    v.setUint32(ip + off, a.w0);
    v.setUint32(ip + off + 4, a.w1);
    v.setUint32(ip + off + 8, a.w2);
    v.setUint32(ip + off + 12, a.w3);
  }
  const th = ip + 40;
  v.setUint16(th, sport);
  v.setUint16(th + 2, dport);
  v.setUint16(th + 4, ulen);
  f.set(payload, th + 8);
  const c = csum_ipv6_magic(saddr, daddr, ulen, 17, csum_partial(f, th, ulen, 0));
  v.setUint16(th + 6, csum ?? (c === 0 ? 0xffff : c));
  return f;
}

test('an IPv6 datagram crosses: payload, source, Udp6 counters', (t) => {
  const h = hosts();
  const srv = udp6(h.b);
  t.is(srv.bind(sin6(in6addr_any, 7000)), 0);
  const cli = udp6(h.a);
  t.is(cli.sendto(bytes('hello6'), sin6(h.b6, 7000)), 6);
  h.pump();
  const buf = new Uint8Array(64);
  const r = srv.recvfrom(buf);
  t.is(text(buf, r.n), 'hello6');
  const from = r.from as SockaddrIn6;
  t.is(from.family, AF_INET6);
  t.deepEqual({ ...from.addr }, { ...h.a6 });
  t.is(from.port, cli.getsockname().port);
  t.is(h.a.mib.ipv6.Udp6OutDatagrams, 1);
  t.is(h.b.mib.ipv6.Udp6InDatagrams, 1);
  t.is(h.b.mib.udp.InDatagrams, 0);
});

test('a dual-stack socket on :: takes IPv4 datagrams, reporting the source v4-mapped; a v6-only one does not', (t) => {
  const h = hosts();
  const dual = udp6(h.b);
  t.is(dual.bind(sin6(in6addr_any, 7100)), 0);
  const v4cli = Socket.create(h.a, AF_INET, SOCK_DGRAM) as Socket;
  v4cli.sendto(bytes('v4'), { family: AF_INET, addr: h.b4, port: 7100 });
  h.pump();
  const buf = new Uint8Array(16);
  const r = dual.recvfrom(buf);
  t.is(text(buf, r.n), 'v4');
  t.deepEqual({ ...(r.from as SockaddrIn6).addr }, { ...mapped(h.a4) });
  t.is(h.b.mib.udp.InDatagrams, 1, 'an IPv4 datagram counts in Udp');
  // The dual-stack socket answers over IPv4 to the v4-mapped address.
  t.is(dual.sendto(bytes('re'), r.from!), 2);
  h.pump();
  t.is(text(buf, v4cli.recv(buf)), 're');
  t.is(h.b.mib.udp.OutDatagrams, 1);

  const only = udp6(h.b);
  t.is(only.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_V6ONLY, 1), 0);
  t.is(only.bind(sin6(in6addr_any, 7101)), 0);
  v4cli.sendto(bytes('v4'), { family: AF_INET, addr: h.b4, port: 7101 });
  h.pump();
  t.is(only.recv(buf), -E.EAGAIN);
  t.is(h.b.mib.udp.NoPorts, 1);
  t.is(only.sendto(bytes('x'), { family: AF_INET6, addr: mapped(h.a4), port: 9 }), -E.ENETUNREACH);
  t.is(only.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_V6ONLY, 0), -E.EINVAL, 'fixed once bound');
  // A v6-only socket and an IPv4 one share a port; a dual-stack one conflicts.
  const v4same = Socket.create(h.b, AF_INET, SOCK_DGRAM) as Socket;
  t.is(v4same.bind({ family: AF_INET, addr: 0, port: 7101 }), 0);
  const v4clash = Socket.create(h.b, AF_INET, SOCK_DGRAM) as Socket;
  t.is(v4clash.bind({ family: AF_INET, addr: 0, port: 7100 }), -E.EADDRINUSE);
});

test('net.ipv6.bindv6only makes new AF_INET6 sockets v6-only; a v4-mapped bind is then refused', (t) => {
  const h = hosts();
  h.b.ipv6.sysctl_bindv6only = 1;
  const s = udp6(h.b);
  t.is(s.getsockopt(SOL_IPV6, IPV6_OPTS.IPV6_V6ONLY).value, 1);
  t.is(s.bind(sin6(mapped(h.b4), 7200)), -E.EINVAL);
  t.is(s.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_V6ONLY, 0), 0);
  t.is(s.bind(sin6(mapped(h.b4), 7200)), 0);
  t.deepEqual(s.getsockname(), { family: AF_INET6, addr: mapped(h.b4), port: 7200, flowinfo: 0, scope_id: 0 });
});

test('a zero or wrong checksum is an error over IPv6; no socket and a good checksum is NoPorts with ICMPv6', (t) => {
  const h = hosts();
  const srv = udp6(h.b);
  srv.bind(sin6(in6addr_any, 7300));
  const inject = (f: Uint8Array): void => {
    h.devb.rxq.push(f);
    h.pump();
  };
  inject(udp6_frame(h.a6, h.b6, 1000, 7300, bytes('zero'), 0));
  t.is(h.b.mib.ipv6.Udp6InCsumErrors, 1);
  t.is(h.b.mib.ipv6.Udp6InErrors, 1);
  inject(udp6_frame(h.a6, h.b6, 1000, 7300, bytes('bad'), 0x4321));
  inject(udp6_frame(h.a6, h.b6, 1000, 7300, bytes('good')));
  const buf = new Uint8Array(16);
  t.is(text(buf, srv.recv(buf)), 'good');
  t.is(h.b.mib.ipv6.Udp6InCsumErrors, 2);
  inject(udp6_frame(h.a6, h.b6, 1000, 7399, bytes('nobody')));
  t.is(h.b.mib.ipv6.Udp6NoPorts, 1);
  t.is(h.b.mib.ipv6.Icmp6OutDestUnreachs, 1);
});

test('ICMPv6 port unreachable: ECONNREFUSED on the connected sender', (t) => {
  const h = hosts();
  const cli = udp6(h.a);
  t.is(cli.connect(sin6(h.b6, 9999)), 0);
  t.deepEqual({ ...(cli.getsockname() as SockaddrIn6).addr }, { ...h.a6 });
  cli.send(bytes('x'));
  h.pump();
  t.is(h.b.mib.ipv6.Udp6NoPorts, 1);
  const buf = new Uint8Array(8);
  t.is(cli.recv(buf), -E.ECONNREFUSED);
  t.is(cli.recv(buf), -E.EAGAIN);
});

test('IPV6_RECVPKTINFO and IPV6_RECVORIGDSTADDR; IPV6_PKTINFO on send picks the source address', (t) => {
  const h = hosts();
  const srv = udp6(h.b);
  srv.bind(sin6(in6addr_any, 7400));
  t.is(srv.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_RECVPKTINFO, 1), 0);
  t.is(srv.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_RECVORIGDSTADDR, 1), 0);
  t.is(srv.setsockopt(SOL_IP, IP_OPTS.IP_PKTINFO, 1), 0);
  const cli = udp6(h.a);
  cli.connect(sin6(h.b6, 7400));
  cli.send(bytes('q'));
  h.pump();
  const buf = new Uint8Array(8);
  const msg: MsgHdr = { msg_flags: 0 };
  t.is(srv.recvmsg(buf, msg), 1);
  const ctl = msg.msg_control!;
  const pk = ctl.find((c) => c.kind === 'IPV6_PKTINFO');
  t.truthy(pk);
  if (pk?.kind === 'IPV6_PKTINFO') {
    t.is(pk.ifindex, h.devb.ifindex);
    t.deepEqual({ ...pk.addr }, { ...h.b6 });
  }
  const od = ctl.find((c) => c.kind === 'IPV6_ORIGDSTADDR');
  t.is(od?.kind === 'IPV6_ORIGDSTADDR' ? od.addr.port : 0, 7400);
  // An IPv4 datagram to the dual-stack socket: IP_PKTINFO and a v4-mapped IPV6_PKTINFO.
  const v4 = Socket.create(h.a, AF_INET, SOCK_DGRAM) as Socket;
  v4.sendto(bytes('4'), { family: AF_INET, addr: h.b4, port: 7400 });
  h.pump();
  const m4: MsgHdr = { msg_flags: 0 };
  t.is(srv.recvmsg(buf, m4), 1);
  t.deepEqual(m4.msg_control!.map((c) => c.kind).sort(), ['IPV6_PKTINFO', 'IP_PKTINFO']);
  // A second address on b: a client connected to it only takes replies from it, which
  // IPV6_PKTINFO on send gives.
  const b2 = inet_pton6('fd00::22');
  t.is(ipv6_addr_add(h.devb, b2, 64), 0);
  const cli2 = udp6(h.a);
  cli2.connect(sin6(b2, 7400));
  cli2.send(bytes('q2'));
  h.pump();
  const m2: MsgHdr = { msg_flags: 0 };
  t.is(srv.recvmsg(buf, m2), 2);
  const pk2 = m2.msg_control!.find((c) => c.kind === 'IPV6_PKTINFO');
  t.is(srv.sendmsg(bytes('r'), { msg_name: m2.msg_name, msg_control: pk2 !== undefined ? [pk2] : [] }), 1);
  h.pump();
  const rr = cli2.recvfrom(buf);
  t.is(text(buf, rr.n), 'r');
  t.deepEqual({ ...(rr.from as SockaddrIn6).addr }, { ...b2 });
});

test('connect to a v4-mapped address from a dual-stack socket goes over IPv4', (t) => {
  const h = hosts();
  const srv = Socket.create(h.b, AF_INET, SOCK_DGRAM) as Socket;
  srv.bind({ family: AF_INET, addr: 0, port: 7500 });
  const cli = udp6(h.a);
  t.is(cli.connect(sin6(mapped(h.b4), 7500)), 0);
  t.deepEqual({ ...(cli.getpeername() as SockaddrIn6).addr }, { ...mapped(h.b4) });
  t.deepEqual({ ...(cli.getsockname() as SockaddrIn6).addr }, { ...mapped(h.a4) });
  t.is(cli.send(bytes('m')), 1);
  h.pump();
  const buf = new Uint8Array(8);
  const r = srv.recvfrom(buf);
  t.is(r.n, 1);
  t.deepEqual(r.from, { family: AF_INET, addr: h.a4, port: cli.getsockname().port });
  srv.sendto(bytes('n'), r.from!);
  h.pump();
  t.is(cli.recv(buf), 1);
});

test('IPV6_UNICAST_HOPS and IPV6_TCLASS reach the wire', (t) => {
  const h = hosts();
  const srv = udp6(h.b);
  srv.bind(sin6(in6addr_any, 7600));
  const cli = udp6(h.a);
  cli.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_UNICAST_HOPS, 9);
  cli.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_TCLASS, 0xb8);
  cli.sendto(bytes('x'), sin6(h.b6, 7600));
  h.pump();
  const skb = srv.sk.sk_receive_queue.first!;
  const nh = skb.network_header;
  t.is(skb.head[nh + 7], 9);
  t.is(((skb.view.getUint32(nh) >>> 20) & 0xff), 0xb8);
});

test('MSG_MORE on an AF_INET6 socket collects one IPv6 datagram', (t) => {
  const h = hosts();
  const srv = udp6(h.b);
  srv.bind(sin6(in6addr_any, 7700));
  const cli = udp6(h.a);
  cli.connect(sin6(h.b6, 7700));
  t.is(cli.send(bytes('he'), MSG.MSG_MORE), 2);
  t.is(cli.send(bytes('llo')), 3);
  h.pump();
  const buf = new Uint8Array(16);
  t.is(text(buf, srv.recv(buf)), 'hello');
  t.is(h.a.mib.ipv6.Udp6OutDatagrams, 1);
});

// The socket API (net/socket.ts, af_inet's proto_ops): socket(2)'s errors, bind and connect
// error codes as Linux returns them, getsockname/getpeername, listen/accept on datagram sockets,
// shutdown, close, fcntl.
import test from 'ava';
import { twoHosts, type TwoHosts } from './support/topology.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { SOCK_NONBLOCK, Socket, SS_UNCONNECTED, SS_FREE } from '../../net/socket.ts';
import { AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, SOCK_DGRAM, SOCK_RAW } from '../../net/core/socket-constants.ts';
import { FCNTL, IP_OPTS, IPV6_OPTS, SHUT, SOL_IP, SOL_IPV6 } from '../../net/core/socket-options.ts';
import { E } from '../../net/core/sock-opts.ts';
import { In6Addr, in6addr_any, ipv6_addr_set_v4mapped } from '../../net/core/in6-addr.ts';
import { inet_pton4, inet_pton6 } from '../../net/core/inet-addr.ts';

function hosts(): TwoHosts {
  return twoHosts({ staticNeigh: true, init: (net) => udp_init(net) });
}

function udp(net: TwoHosts['a'], family: number = AF_INET, uid = 0): Socket {
  const s = Socket.create(net, family, SOCK_DGRAM, 0, uid);
  if (typeof s === 'number') throw new Error(`socket ${s}`);
  return s;
}

test('socket(2) errors: EAFNOSUPPORT, ESOCKTNOSUPPORT, EPROTONOSUPPORT, EINVAL; SOCK_NONBLOCK sets O_NONBLOCK', (t) => {
  const h = hosts();
  t.is(Socket.create(h.a, 1 /* AF_UNIX */, SOCK_DGRAM), -E.EAFNOSUPPORT);
  t.is(Socket.create(h.a, AF_INET, SOCK_RAW), -E.ESOCKTNOSUPPORT);
  t.is(Socket.create(h.a, AF_INET, 7), -E.ESOCKTNOSUPPORT);
  t.is(Socket.create(h.a, AF_INET, SOCK_DGRAM, IPPROTO_TCP), -E.EPROTONOSUPPORT);
  t.is(Socket.create(h.a, AF_INET, SOCK_DGRAM | 0x100), -E.EINVAL);
  const s = Socket.create(h.a, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDP) as Socket;
  t.is(s.sk.sk_protocol, IPPROTO_UDP);
  t.is(s.sk.sk_prot!.name, 'UDPv6');
  t.is(s.fcntl(FCNTL.F_GETFL) & FCNTL.O_NONBLOCK, FCNTL.O_NONBLOCK);
  t.is(s.fcntl(FCNTL.F_SETFL, 0), 0);
  t.is(s.fcntl(FCNTL.F_GETFL) & FCNTL.O_NONBLOCK, 0);
  t.is(s.state, SS_UNCONNECTED);
});

test('bind errors: EADDRNOTAVAIL (unless IP_FREEBIND), EACCES below 1024 for non-root, EINVAL when bound, EADDRINUSE, EAFNOSUPPORT', (t) => {
  const h = hosts();
  const s = udp(h.b);
  t.is(s.bind({ family: AF_INET, addr: inet_pton4('10.9.9.9'), port: 4000 }), -E.EADDRNOTAVAIL);
  t.is(s.setsockopt(SOL_IP, IP_OPTS.IP_FREEBIND, 1), 0);
  t.is(s.bind({ family: AF_INET, addr: inet_pton4('10.9.9.9'), port: 4000 }), 0);
  t.is(s.bind({ family: AF_INET, addr: 0, port: 4001 }), -E.EINVAL, 'already bound');
  t.is(udp(h.b, AF_INET, 1000).bind({ family: AF_INET, addr: 0, port: 53 }), -E.EACCES);
  t.is(udp(h.b).bind({ family: AF_INET, addr: 0, port: 53 }), 0, 'root may');
  t.is(udp(h.b).bind({ family: AF_INET, addr: h.b4, port: 53 }), -E.EADDRINUSE);
  t.is(udp(h.b).bind({ family: AF_INET6, addr: in6addr_any, port: 1 }), -E.EAFNOSUPPORT);
  t.is(udp(h.b).bind({ family: AF_INET, addr: inet_pton4('127.0.0.1'), port: 4002 }), 0, 'loopback is local');
  const s6 = udp(h.b, AF_INET6);
  t.is(s6.bind({ family: AF_INET6, addr: inet_pton6('fd00::99'), port: 4000 }), -E.EADDRNOTAVAIL);
  t.is(s6.bind({ family: AF_INET6, addr: ipv6_addr_set_v4mapped(inet_pton4('10.9.9.9'), new In6Addr()), port: 4000 }), -E.EADDRNOTAVAIL);
  t.is(s6.bind({ family: AF_INET6, addr: h.b6, port: 4000 }), 0);
  t.is(s6.getsockopt(SOL_IPV6, IPV6_OPTS.IPV6_V6ONLY).value, 1, 'a specific IPv6 address makes the socket v6-only, as getsockopt then says');
});

test('getsockname / getpeername: ENOTCONN before connect, the autobound port after a send', (t) => {
  const h = hosts();
  const s = udp(h.a);
  t.deepEqual(s.getsockname(), { family: AF_INET, addr: 0, port: 0 });
  t.is(s.getpeername(), -E.ENOTCONN);
  s.sendto(new Uint8Array(1), { family: AF_INET, addr: h.b4, port: 9 });
  const port = s.getsockname().port;
  t.true(port >= 32768);
  t.is(s.connect({ family: AF_INET, addr: h.b4, port: 9 }), 0);
  t.deepEqual(s.getsockname(), { family: AF_INET, addr: h.a4, port });
  t.deepEqual(s.getpeername(), { family: AF_INET, addr: h.b4, port: 9 });
  t.is(s.connect({ family: AF_INET, addr: inet_pton4('172.16.0.1'), port: 9 }), -E.ENETUNREACH);
  t.is(s.connect({ family: AF_INET6, addr: in6addr_any, port: 9 }), -E.EAFNOSUPPORT);
});

test('datagram sockets do not listen or accept (EOPNOTSUPP); shutdown checks its argument', (t) => {
  const h = hosts();
  const s = udp(h.a);
  t.is(s.listen(5), -E.EOPNOTSUPP);
  t.is(s.accept(), -E.EOPNOTSUPP);
  t.is(s.shutdown(3), -E.EINVAL);
  t.is(s.shutdown(SHUT.SHUT_RD), -E.ENOTCONN);
  s.connect({ family: AF_INET, addr: h.b4, port: 9 });
  t.is(s.shutdown(SHUT.SHUT_WR), 0);
  t.is(s.send(new Uint8Array(1)), -E.EPIPE);
});

test('close: the port is free again, later calls say EBADF', (t) => {
  const h = hosts();
  const s = udp(h.b);
  t.is(s.bind({ family: AF_INET, addr: 0, port: 4500 }), 0);
  t.is(s.close(), 0);
  t.is(s.state, SS_FREE);
  t.is(s.close(), -E.EBADF);
  t.is(s.send(new Uint8Array(1)), -E.EBADF);
  t.is(s.bind({ family: AF_INET, addr: 0, port: 4500 }), -E.EBADF);
  t.is(udp(h.b).bind({ family: AF_INET, addr: 0, port: 4500 }), 0);
});

test('AF_INET6 connect errors: a v4-mapped peer on a v6-only socket (ENETUNREACH), AF_INET on one (EAFNOSUPPORT), no route (ENETUNREACH)', (t) => {
  const h = hosts();
  const s = udp(h.a, AF_INET6);
  t.is(s.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_V6ONLY, 1), 0);
  t.is(s.connect({ family: AF_INET6, addr: ipv6_addr_set_v4mapped(h.b4, new In6Addr()), port: 9 }), -E.ENETUNREACH);
  t.is(s.connect({ family: AF_INET, addr: h.b4, port: 9 }), -E.EAFNOSUPPORT);
  t.is(s.connect({ family: AF_INET6, addr: inet_pton6('2001:db8::1'), port: 9 }), -E.ENETUNREACH);
  t.is(s.connect({ family: AF_INET6, addr: h.b6, port: 9 }), 0);
  const d = udp(h.a, AF_INET6);
  t.is(d.connect({ family: AF_INET, addr: h.b4, port: 9 }), 0, 'a dual-stack socket takes an AF_INET peer');
  t.deepEqual(d.getpeername(), { family: AF_INET6, addr: ipv6_addr_set_v4mapped(h.b4, new In6Addr()), port: 9, flowinfo: 0, scope_id: 0 });
});

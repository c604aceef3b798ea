// The stream side of the socket layer over TCP (inet_stream_connect, inet_listen, inet_accept,
// inet_shutdown, inet_release): the non-blocking connect's return sequence, a refused connect's
// sk_err, accept's EAGAIN, listen's checks. (Apart from socket.test.ts so the datagram tests run
// whatever state TCP is in.)
import test from 'ava';
import { twoHosts, type TwoHosts } from './support/topology.ts';
import { tcp_init } from '../../net/ipv4/tcp.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { SIOC, Socket, SS_CONNECTED, SS_CONNECTING, SS_UNCONNECTED } from '../../net/socket.ts';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { EPOLL, IP_OPTS, SHUT, SO, SOL_IP, SOL_SOCKET, SOL_TCP, TCP_OPTS } from '../../net/core/socket-options.ts';
import { E, linger_bytes } from '../../net/core/sock-opts.ts';
import { TCP_ESTABLISHED, TCP_LISTEN } from '../../net/core/tcp-states.ts';
import { in6addr_any } from '../../net/core/in6-addr.ts';

function hosts(): TwoHosts {
  return twoHosts({ staticNeigh: true, init: (net) => { udp_init(net); tcp_init(net); } });
}

function tcp(net: TwoHosts['a'], family: number = AF_INET): Socket {
  const s = Socket.create(net, family, SOCK_STREAM);
  if (typeof s === 'number') throw new Error(`socket ${s}`);
  return s;
}

test('non-blocking connect: EINPROGRESS, EALREADY while the handshake runs, 0 once established, then EISCONN', (t) => {
  const h = hosts();
  const l = tcp(h.b);
  t.is(l.bind({ family: AF_INET, addr: 0, port: 80 }), 0);
  t.is(l.listen(8), 0);
  t.is(l.sk.skc_state, TCP_LISTEN);
  t.is(l.getsockopt(SOL_SOCKET, SO.SO_ACCEPTCONN).value, 1);
  t.is(l.accept(), -E.EAGAIN);
  const c = tcp(h.a);
  let woke = 0;
  c.onready = () => woke++;
  const to = { family: AF_INET, addr: h.b4, port: 80 } as const;
  t.is(c.connect(to), -E.EINPROGRESS);
  t.is(c.state, SS_CONNECTING);
  t.is(c.connect(to), -E.EALREADY);
  t.is(c.getpeername(), -E.ENOTCONN, 'SYN_SENT has no peer yet');
  h.pump();
  t.true(woke > 0);
  t.is(c.sk.skc_state, TCP_ESTABLISHED);
  t.true((c.poll() & EPOLL.EPOLLOUT) !== 0);
  t.is(c.connect(to), 0);
  t.is(c.state, SS_CONNECTED);
  t.is(c.connect(to), -E.EISCONN);
  const a = l.accept();
  t.true(a instanceof Socket);
  const as = a as Socket;
  t.is(as.state, SS_CONNECTED);
  t.deepEqual(as.getpeername(), c.getsockname());
  t.deepEqual(as.getsockname(), { family: AF_INET, addr: h.b4, port: 80 });
  t.is(l.accept(), -E.EAGAIN);
  t.is(c.listen(5), -E.EINVAL, 'a connected socket cannot listen');
  // Data and EOF.
  t.is(c.send(Uint8Array.of(1, 2, 3)), 3);
  t.is(c.shutdown(SHUT.SHUT_WR), 0);
  h.pump();
  const buf = new Uint8Array(8);
  t.is(as.recv(buf), 3);
  t.is(as.recv(buf), 0, 'EOF after the FIN');
  t.is(as.close(), 0);
  t.is(c.close(), 0);
  h.advance(100);
});

test('a refused connect: RST, then connect() reports ECONNREFUSED once and the socket is unconnected', (t) => {
  const h = hosts();
  const c = tcp(h.a);
  const to = { family: AF_INET, addr: h.b4, port: 81 } as const;
  t.is(c.connect(to), -E.EINPROGRESS);
  h.pump();
  t.true((c.poll() & EPOLL.EPOLLERR) !== 0 || c.sk.sk_err !== 0);
  t.is(c.connect(to), -E.ECONNREFUSED);
  t.is(c.state, SS_UNCONNECTED);
  t.is(c.getsockopt(SOL_SOCKET, SO.SO_ERROR).value, 0, 'the error was reported');
});

test('listen checks: backlog clamped to somaxconn; an AF_INET6 listener takes IPv4 connections', (t) => {
  const h = hosts();
  const l = tcp(h.b, AF_INET6);
  t.is(l.bind({ family: AF_INET6, addr: in6addr_any, port: 8080 }), 0);
  t.is(l.listen(1 << 20), 0);
  t.is(l.sk.sk_max_ack_backlog, h.b.core.sysctl_somaxconn);
  const c = tcp(h.a);
  t.is(c.connect({ family: AF_INET, addr: h.b4, port: 8080 }), -E.EINPROGRESS);
  h.pump();
  t.is(c.connect({ family: AF_INET, addr: h.b4, port: 8080 }), 0);
  const a = l.accept();
  t.true(a instanceof Socket);
  const peer = (a as Socket).getpeername();
  t.is(typeof peer === 'object' ? peer.family : 0, AF_INET6);
});

test('options through the socket layer on a TCP socket: SOL_TCP goes to tcp_prot, SO_KEEPALIVE reaches TCP, SO_LINGER round trips', (t) => {
  const h = hosts();
  const s = tcp(h.a);
  t.is(s.getsockopt(SOL_TCP, TCP_OPTS.TCP_NODELAY).value, 0);
  t.is(s.setsockopt(SOL_TCP, TCP_OPTS.TCP_NODELAY, 1), 0);
  t.is(s.getsockopt(SOL_TCP, TCP_OPTS.TCP_NODELAY).value, 1);
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_KEEPALIVE, 1), 0);
  t.is(s.getsockopt(SOL_SOCKET, SO.SO_KEEPALIVE).value, 1);
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_LINGER, linger_bytes(1, 0)), 0);
  t.deepEqual(s.getsockopt(SOL_SOCKET, SO.SO_LINGER).value, linger_bytes(1, 0));
  t.is(s.getsockopt(SOL_SOCKET, SO.SO_TYPE).value, SOCK_STREAM);
  t.is(s.setsockopt(SOL_IP, IP_OPTS.IP_TOS, 0x13), 0);
  t.is(s.getsockopt(SOL_IP, IP_OPTS.IP_TOS).value, 0x10, 'TCP keeps the ECN bits its own');
});

test('ioctl SIOCINQ / SIOCOUTQ on TCP and UDP sockets', (t) => {
  const h = hosts();
  const l = tcp(h.b);
  l.bind({ family: AF_INET, addr: 0, port: 90 });
  l.listen(4);
  t.is(l.ioctl(SIOC.SIOCINQ), -E.EINVAL, 'a listener has no queue to ask about');
  const c = tcp(h.a);
  c.connect({ family: AF_INET, addr: h.b4, port: 90 });
  h.pump();
  c.connect({ family: AF_INET, addr: h.b4, port: 90 });
  const a = l.accept() as Socket;
  t.is(c.send(new Uint8Array(1000)), 1000);
  t.is(c.ioctl(SIOC.SIOCOUTQ), 1000, 'sent, not yet acknowledged');
  h.pump();
  t.is(a.ioctl(SIOC.SIOCINQ), 1000);
  a.recv(new Uint8Array(400));
  t.is(a.ioctl(SIOC.SIOCINQ), 600);
  h.advance(300);
  t.is(c.ioctl(SIOC.SIOCOUTQ), 0, 'acknowledged');
  t.is(c.ioctl(0x1234), -E.ENOTTY);
  const u = Socket.create(h.b, AF_INET, SOCK_DGRAM) as Socket;
  u.bind({ family: AF_INET, addr: 0, port: 91 });
  const v = Socket.create(h.a, AF_INET, SOCK_DGRAM) as Socket;
  v.sendto(new Uint8Array(33), { family: AF_INET, addr: h.b4, port: 91 });
  v.sendto(new Uint8Array(44), { family: AF_INET, addr: h.b4, port: 91 });
  h.pump();
  t.is(u.ioctl(SIOC.SIOCINQ), 33, 'UDP: the next datagram\'s length');
});

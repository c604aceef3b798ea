// Socket options round trips with Linux's values: SOL_SOCKET (buffer doubling and clamps,
// SO_ERROR clearing, SO_LINGER, SO_COOKIE, privileges), SOL_IP and SOL_IPV6.
import test from 'ava';
import { twoHosts, type TwoHosts } from './support/topology.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { Socket } from '../../net/socket.ts';
import { AF_INET, AF_INET6, IPPROTO_UDP, SOCK_DGRAM } from '../../net/core/socket-constants.ts';
import { IPV6_OPTS, IP_OPTS, SO, SOL_IP, SOL_IPV6, SOL_SOCKET, SOL_TCP } from '../../net/core/socket-options.ts';
import {
  E,
  SOCK_MIN_RCVBUF,
  SOCK_MIN_SNDBUF,
  SO_RCVTIMEO,
  SO_SNDTIMEO,
  SO_ZEROCOPY,
  linger_bytes,
  sock_rcvtimeo,
  sock_sndtimeo,
  timeval_bytes,
} from '../../net/core/sock-opts.ts';

function hosts(): TwoHosts {
  return twoHosts({ staticNeigh: true, init: (net) => udp_init(net) });
}

function udp(net: TwoHosts['a'], family: number = AF_INET, uid = 0): Socket {
  const s = Socket.create(net, family, SOCK_DGRAM, 0, uid);
  if (typeof s === 'number') throw new Error(`socket ${s}`);
  return s;
}

const get = (s: Socket, level: number, opt: number) => s.getsockopt(level, opt);

test('SO_RCVBUF / SO_SNDBUF: stored doubled, clamped to rmem_max/wmem_max and to the minimums', (t) => {
  const h = hosts();
  const s = udp(h.a);
  t.is(get(s, SOL_SOCKET, SO.SO_RCVBUF).value, 212992);
  t.is(get(s, SOL_SOCKET, SO.SO_SNDBUF).value, 212992);
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_RCVBUF, 10000), 0);
  t.is(get(s, SOL_SOCKET, SO.SO_RCVBUF).value, 20000);
  s.setsockopt(SOL_SOCKET, SO.SO_RCVBUF, 1);
  t.is(get(s, SOL_SOCKET, SO.SO_RCVBUF).value, SOCK_MIN_RCVBUF);
  t.is(SOCK_MIN_RCVBUF, 2304);
  s.setsockopt(SOL_SOCKET, SO.SO_RCVBUF, 1 << 30);
  t.is(get(s, SOL_SOCKET, SO.SO_RCVBUF).value, 2 * 212992, 'clamped to net.core.rmem_max');
  s.setsockopt(SOL_SOCKET, SO.SO_RCVBUF, -1);
  t.is(get(s, SOL_SOCKET, SO.SO_RCVBUF).value, 2 * 212992, 'a negative int is a huge u32');
  s.setsockopt(SOL_SOCKET, SO.SO_SNDBUF, 1);
  t.is(get(s, SOL_SOCKET, SO.SO_SNDBUF).value, SOCK_MIN_SNDBUF);
  t.is(SOCK_MIN_SNDBUF, 4608);
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_RCVBUFFORCE, 1 << 22), 0, 'root may exceed rmem_max');
  t.is(get(s, SOL_SOCKET, SO.SO_RCVBUF).value, 1 << 23);
  t.is(udp(h.a, AF_INET, 1000).setsockopt(SOL_SOCKET, SO.SO_RCVBUFFORCE, 1 << 22), -E.EPERM);
  // A 4-byte little-endian optval is an int too.
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_SNDBUF, Uint8Array.of(0x10, 0x27, 0, 0)), 0);
  t.is(get(s, SOL_SOCKET, SO.SO_SNDBUF).value, 20000);
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_SNDBUF, Uint8Array.of(1, 2)), -E.EINVAL, 'optlen < sizeof(int)');
});

test('SOL_SOCKET round trips: REUSEADDR, REUSEPORT, KEEPALIVE, LINGER, PRIORITY, MARK, RCVLOWAT, INCOMING_CPU, BROADCAST', (t) => {
  const h = hosts();
  const s = udp(h.a);
  for (const o of [SO.SO_REUSEADDR, SO.SO_REUSEPORT, SO.SO_KEEPALIVE, SO.SO_BROADCAST]) {
    t.is(get(s, SOL_SOCKET, o).value, 0);
    t.is(s.setsockopt(SOL_SOCKET, o, 1), 0);
    t.is(get(s, SOL_SOCKET, o).value, 1);
  }
  t.deepEqual(get(s, SOL_SOCKET, SO.SO_LINGER).value, linger_bytes(0, 0));
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_LINGER, linger_bytes(1, 5)), 0);
  t.deepEqual(get(s, SOL_SOCKET, SO.SO_LINGER).value, linger_bytes(1, 5));
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_LINGER, 1), -E.EINVAL);
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_PRIORITY, 6), 0);
  t.is(get(s, SOL_SOCKET, SO.SO_PRIORITY).value, 6);
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_MARK, 0x42), 0);
  t.is(get(s, SOL_SOCKET, SO.SO_MARK).value, 0x42);
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_RCVLOWAT, 0), 0);
  t.is(get(s, SOL_SOCKET, SO.SO_RCVLOWAT).value, 1);
  t.deepEqual(get(s, SOL_SOCKET, SO.SO_INCOMING_CPU), { err: 0, value: -1 });
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_INCOMING_CPU, 1), 0);
  t.is(get(s, SOL_SOCKET, SO.SO_INCOMING_CPU).value, 1);
  const user = udp(h.a, AF_INET, 1000);
  t.is(user.setsockopt(SOL_SOCKET, SO.SO_PRIORITY, 7), -E.EPERM);
  t.is(user.setsockopt(SOL_SOCKET, SO.SO_MARK, 1), -E.EPERM);
  t.is(s.setsockopt(SOL_SOCKET, 9999, 1), -E.ENOPROTOOPT);
  t.is(get(s, SOL_SOCKET, 9999).err, -E.ENOPROTOOPT);
});

test('read-only SOL_SOCKET options: TYPE, PROTOCOL, DOMAIN, ACCEPTCONN, COOKIE; SO_ERROR reads and clears', (t) => {
  const h = hosts();
  const s = udp(h.a, AF_INET6);
  t.is(get(s, SOL_SOCKET, SO.SO_TYPE).value, SOCK_DGRAM);
  t.is(get(s, SOL_SOCKET, SO.SO_PROTOCOL).value, IPPROTO_UDP);
  t.is(get(s, SOL_SOCKET, SO.SO_DOMAIN).value, AF_INET6);
  t.is(get(s, SOL_SOCKET, SO.SO_ACCEPTCONN).value, 0);
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_TYPE, 1), -E.ENOPROTOOPT);
  const c1 = get(s, SOL_SOCKET, SO.SO_COOKIE).value as number;
  t.true(c1 > 0);
  t.is(get(s, SOL_SOCKET, SO.SO_COOKIE).value, c1, 'stable');
  t.not(get(udp(h.a), SOL_SOCKET, SO.SO_COOKIE).value, c1);
  s.sk.sk_err = E.ECONNREFUSED;
  t.is(get(s, SOL_SOCKET, SO.SO_ERROR).value, E.ECONNREFUSED);
  t.is(get(s, SOL_SOCKET, SO.SO_ERROR).value, 0);
});

test('SO_BINDTODEVICE by name or ifindex; ENODEV for none; a bound socket takes only its device\'s datagrams', (t) => {
  const h = hosts();
  const s = udp(h.b);
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_BINDTODEVICE, 'nosuch0'), -E.ENODEV);
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_BINDTODEVICE, 'veth0'), 0);
  t.is(get(s, SOL_SOCKET, SO.SO_BINDTODEVICE).value, 'veth0');
  t.is(s.sk.skc_bound_dev_if, h.devb.ifindex);
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_BINDTODEVICE, ''), 0);
  t.is(get(s, SOL_SOCKET, SO.SO_BINDTODEVICE).value, '');
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_BINDTODEVICE, 999), -E.ENODEV);
  const lo = h.b.loopback_dev!;
  t.is(s.setsockopt(SOL_SOCKET, SO.SO_BINDTODEVICE, lo.ifindex), 0);
  s.bind({ family: AF_INET, addr: 0, port: 6100 });
  const c = udp(h.a);
  c.sendto(Uint8Array.of(1), { family: AF_INET, addr: h.b4, port: 6100 });
  h.pump();
  t.is(s.recv(new Uint8Array(4)), -E.EAGAIN, 'bound to lo, the veth datagram is not for it');
  t.is(h.b.mib.udp.NoPorts, 1);
});

test('SOL_IP: IP_TTL (default, range, -1 resets), IP_TOS sets the priority, IP_MTU_DISCOVER range, IP_TRANSPARENT needs root, IP_MTU needs a connection', (t) => {
  const h = hosts();
  const s = udp(h.a);
  t.is(get(s, SOL_IP, IP_OPTS.IP_TTL).value, 64);
  t.is(s.setsockopt(SOL_IP, IP_OPTS.IP_TTL, 0), -E.EINVAL);
  t.is(s.setsockopt(SOL_IP, IP_OPTS.IP_TTL, 256), -E.EINVAL);
  t.is(s.setsockopt(SOL_IP, IP_OPTS.IP_TTL, 7), 0);
  t.is(get(s, SOL_IP, IP_OPTS.IP_TTL).value, 7);
  t.is(s.setsockopt(SOL_IP, IP_OPTS.IP_TTL, -1), 0);
  t.is(get(s, SOL_IP, IP_OPTS.IP_TTL).value, 64);
  t.is(s.setsockopt(SOL_IP, IP_OPTS.IP_TOS, 0x10), 0); // IPTOS_LOWDELAY
  t.is(get(s, SOL_IP, IP_OPTS.IP_TOS).value, 0x10);
  t.is(get(s, SOL_SOCKET, SO.SO_PRIORITY).value, 6, 'TC_PRIO_INTERACTIVE');
  t.is(s.setsockopt(SOL_IP, IP_OPTS.IP_MTU_DISCOVER, 6), -E.EINVAL);
  t.is(get(s, SOL_IP, IP_OPTS.IP_MTU_DISCOVER).value, 1, 'IP_PMTUDISC_WANT by default');
  for (const o of [IP_OPTS.IP_PKTINFO, IP_OPTS.IP_RECVORIGDSTADDR, IP_OPTS.IP_FREEBIND, IP_OPTS.IP_BIND_ADDRESS_NO_PORT, IP_OPTS.IP_RECVERR]) {
    t.is(s.setsockopt(SOL_IP, o, 1), 0);
    t.is(get(s, SOL_IP, o).value, 1);
  }
  t.is(udp(h.a, AF_INET, 1000).setsockopt(SOL_IP, IP_OPTS.IP_TRANSPARENT, 1), -E.EPERM);
  t.is(s.setsockopt(SOL_IP, IP_OPTS.IP_TRANSPARENT, 1), 0);
  t.is(get(s, SOL_IP, IP_OPTS.IP_MTU).err, -E.ENOTCONN);
  s.connect({ family: AF_INET, addr: h.b4, port: 9 });
  t.is(get(s, SOL_IP, IP_OPTS.IP_MTU).value, 1500);
  t.is(s.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_V6ONLY, 1), -E.ENOPROTOOPT, 'no SOL_IPV6 on AF_INET');
  t.is(s.setsockopt(SOL_TCP, 1, 1), -E.ENOPROTOOPT, 'UDP has no SOL_TCP');
});

test('SOL_IPV6: V6ONLY only before bind, UNICAST_HOPS and TCLASS ranges and defaults', (t) => {
  const h = hosts();
  const s = udp(h.a, AF_INET6);
  t.is(get(s, SOL_IPV6, IPV6_OPTS.IPV6_V6ONLY).value, 0);
  t.is(s.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_V6ONLY, 1), 0);
  t.is(get(s, SOL_IPV6, IPV6_OPTS.IPV6_UNICAST_HOPS).value, 64);
  t.is(s.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_UNICAST_HOPS, 256), -E.EINVAL);
  t.is(s.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_UNICAST_HOPS, 3), 0);
  t.is(get(s, SOL_IPV6, IPV6_OPTS.IPV6_UNICAST_HOPS).value, 3);
  t.is(s.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_TCLASS, 256), -E.EINVAL);
  t.is(s.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_TCLASS, 0xb8), 0);
  t.is(get(s, SOL_IPV6, IPV6_OPTS.IPV6_TCLASS).value, 0xb8);
  t.is(s.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_TCLASS, -1), 0);
  t.is(get(s, SOL_IPV6, IPV6_OPTS.IPV6_TCLASS).value, 0);
  t.is(s.setsockopt(SOL_IP, IP_OPTS.IP_TTL, 9), 0, 'an AF_INET6 socket takes SOL_IP options for its IPv4 side');
  s.sendto(Uint8Array.of(1), { family: AF_INET6, addr: h.b6, port: 9 });
  t.is(s.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_V6ONLY, 0), -E.EINVAL, 'bound (autobind) now');
});

test('SO_RCVTIMEO / SO_SNDTIMEO take a timeval, kept in jiffies (EDOM for a bad tv_usec); SO_ZEROCOPY round trips', (t) => {
  const h = hosts();
  const s = udp(h.a);
  t.deepEqual(s.getsockopt(SOL_SOCKET, SO_RCVTIMEO).value, timeval_bytes(0, 0));
  t.is(sock_rcvtimeo(s.sk), Infinity);
  t.is(s.setsockopt(SOL_SOCKET, SO_RCVTIMEO, timeval_bytes(2, 500_000)), 0);
  t.is(sock_rcvtimeo(s.sk), 2500);
  t.deepEqual(s.getsockopt(SOL_SOCKET, SO_RCVTIMEO).value, timeval_bytes(2, 500_000));
  t.is(s.setsockopt(SOL_SOCKET, SO_SNDTIMEO, timeval_bytes(0, 1_000_000)), -33 /* -EDOM */);
  t.is(s.setsockopt(SOL_SOCKET, SO_SNDTIMEO, timeval_bytes(0, 1)), 0);
  t.is(sock_sndtimeo(s.sk), 1, 'rounded up to a jiffy');
  t.is(s.setsockopt(SOL_SOCKET, SO_SNDTIMEO, 5), -E.EINVAL);
  t.is(s.setsockopt(SOL_SOCKET, SO_ZEROCOPY, 1), 0);
  t.is(s.getsockopt(SOL_SOCKET, SO_ZEROCOPY).value, 1);
});

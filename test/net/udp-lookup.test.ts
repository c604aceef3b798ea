// UDP socket lookup in the order of sockets.md §1.2: connected sockets first (their 4-tuple scores
// highest), then sockets bound to the exact address, then the wildcard; AF_INET over a dual-stack
// AF_INET6 socket, v6-only sockets never for IPv4, a bound device scoring and required; reuseport
// selection for unconnected group members only.
import test from 'ava';
import { inet_pton4 as ip4, inet_pton6 as ip6 } from '../../net/core/inet-addr.ts';
import { AF_INET6 } from '../../net/core/socket-constants.ts';
import { TCP_ESTABLISHED } from '../../net/core/tcp-states.ts';
import { __udp4_lib_lookup } from '../../net/ipv4/udp-lookup.ts';
import { udp_lib_unhash } from '../../net/ipv4/udp-table.ts';
import { __udp6_lib_lookup } from '../../net/ipv6/udp6-lookup.ts';
import { SERVER4 as S, stack, udpBound, udpConnect, udpSock, bind, type Stack } from './helpers.ts';
const lookup4 = (s: Stack, src: string, sport: number, daddr: number, dport: number, dif = 1) =>
  __udp4_lib_lookup(s.net, s.udp, ip4(src), sport, daddr, dport, dif, 0, null);
const lookup6 = (s: Stack, src: string, sport: number, dst: string, dport: number, dif = 1) =>
  __udp6_lib_lookup(s.net, s.udp, ip6(src), sport, ip6(dst), dport, dif, 0, null);

test('a connected socket gets its peer\'s datagrams before any unconnected socket', (t) => {
  const s = stack();
  const wild = udpBound(s, '0.0.0.0', 53, { reuseaddr: true });
  const exact = udpBound(s, '10.0.0.1', 53, { reuseaddr: true });
  const conn = udpBound(s, '0.0.0.0', 53, { reuseaddr: true });
  t.is(udpConnect(s, conn, '10.0.0.2', 5000, '10.0.0.1'), 0);
  t.is(conn.skc_state, TCP_ESTABLISHED);
  t.is(conn.skc_rcv_saddr, S, 'connect took the route\'s source address and rehashed');
  t.is(lookup4(s, '10.0.0.2', 5000, S, 53), conn);
  t.is(lookup4(s, '10.0.0.2', 5001, S, 53), exact, 'another source port: not the connected socket');
  t.is(lookup4(s, '10.0.0.3', 5000, S, 53), exact);
  t.is(lookup4(s, '10.0.0.3', 5000, ip4('10.0.0.7'), 53), wild);
  udp_lib_unhash(s.udp, conn);
  t.is(lookup4(s, '10.0.0.2', 5000, S, 53), exact);
  t.is(conn.skc_num, 0, 'unhash gives the port back');
});

test('an exact-address socket beats a wildcard one; AF_INET beats a dual-stack AF_INET6 one', (t) => {
  const s = stack();
  const v6wild = udpBound(s, '::', 53, { family: AF_INET6, reuseaddr: true });
  t.is(lookup4(s, '10.0.0.2', 1, S, 53), v6wild, 'dual-stack: IPv4 reaches the :: socket');
  const v4wild = udpBound(s, '0.0.0.0', 53, { reuseaddr: true });
  t.is(lookup4(s, '10.0.0.2', 1, S, 53), v4wild);
  const mapped = udpBound(s, '::ffff:10.0.0.1', 53, { family: AF_INET6, reuseaddr: true });
  t.is(lookup4(s, '10.0.0.2', 1, S, 53), mapped, 'an exact (v4-mapped) address beats any wildcard');
  const exact = udpBound(s, '10.0.0.1', 53, { reuseaddr: true });
  t.is(lookup4(s, '10.0.0.2', 1, S, 53), exact, 'and AF_INET beats AF_INET6 at the same address');
  t.is(lookup6(s, '2001:db8::2', 1, '2001:db8::1', 53), v6wild, 'IPv6 only reaches AF_INET6 sockets');
});

test('v6-only sockets never get IPv4', (t) => {
  const s = stack();
  const only = udpBound(s, '::', 53, { family: AF_INET6, v6only: true });
  t.is(lookup4(s, '10.0.0.2', 1, S, 53), undefined);
  t.is(lookup6(s, '2001:db8::2', 1, '2001:db8::1', 53), only);
  const specific = udpBound(s, '2001:db8::1', 54, { family: AF_INET6 });
  t.true(specific.skc_ipv6only);
  t.is(lookup4(s, '10.0.0.2', 1, ip4('127.0.0.6'), 54), undefined);
  t.is(lookup6(s, '2001:db8::2', 1, '2001:db8::1', 54), specific);
});

test('a device-bound socket scores higher and only receives from its device', (t) => {
  const s = stack();
  const bound = udpBound(s, '0.0.0.0', 53, { dev: 2, reuseaddr: true });
  const plain = udpBound(s, '0.0.0.0', 53, { reuseaddr: true });
  t.is(lookup4(s, '10.0.0.2', 1, S, 53, 2), bound);
  t.is(lookup4(s, '10.0.0.2', 1, S, 53, 3), plain);
  udp_lib_unhash(s.udp, plain);
  t.is(lookup4(s, '10.0.0.2', 1, S, 53, 3), undefined);
});

test('reuseport picks among unconnected members by udp_ehashfn; a connected member keeps its 4-tuple and is never picked for others', (t) => {
  const s = stack();
  const group = [0, 1, 2, 3].map(() => udpBound(s, '10.0.0.1', 53, { reuseport: true }));
  const reuse = group[0]!.sk_reuseport_cb!;
  t.true(group.every((sk) => sk.sk_reuseport_cb === reuse));
  const seen = new Set<unknown>();
  for (let p = 1; p <= 400; p++) seen.add(lookup4(s, '10.0.0.2', p, S, 53));
  t.is(seen.size, 4);
  // A member bound to the exact address stays in the group when it connects: has_conns.
  const conn = group[2]!;
  t.is(udpConnect(s, conn, '10.0.0.2', 7000, '10.0.0.1'), 0);
  t.is(conn.sk_reuseport_cb, reuse);
  t.true(reuse.has_conns);
  t.is(lookup4(s, '10.0.0.2', 7000, S, 53), conn);
  for (let p = 1; p <= 400; p++) {
    const sk = lookup4(s, '10.0.0.3', p, S, 53);
    t.not(sk, conn, 'a connected member is skipped by hash selection');
    t.true(group.includes(sk as never));
  }
});

test('a wildcard-bound socket that connects leaves its reuseport group (rehash)', (t) => {
  const s = stack();
  const a = udpBound(s, '0.0.0.0', 53, { reuseport: true });
  const b = udpBound(s, '0.0.0.0', 53, { reuseport: true });
  t.is(a.sk_reuseport_cb, b.sk_reuseport_cb);
  udpConnect(s, b, '10.0.0.2', 9, '10.0.0.1');
  t.is(b.sk_reuseport_cb, null);
  t.is(a.sk_reuseport_cb!.num_socks, 1);
  t.is(lookup4(s, '10.0.0.2', 9, S, 53), b);
  t.is(lookup4(s, '10.0.0.2', 10, S, 53), a);
});

test('IPv6: connected first, then exact, then ::; unbound sockets get an ephemeral port on connect', (t) => {
  const s = stack();
  const wild = udpBound(s, '::', 53, { family: AF_INET6, reuseaddr: true });
  const exact = udpBound(s, '2001:db8::1', 53, { family: AF_INET6, reuseaddr: true });
  const conn = udpBound(s, '::', 53, { family: AF_INET6, reuseaddr: true });
  t.is(udpConnect(s, conn, '2001:db8::2', 5000, '2001:db8::1'), 0);
  t.is(lookup6(s, '2001:db8::2', 5000, '2001:db8::1', 53), conn);
  t.is(lookup6(s, '2001:db8::2', 5001, '2001:db8::1', 53), exact);
  t.is(lookup6(s, '2001:db8::2', 5001, '2001:db8::9', 53), wild);
  const client = udpSock(s, { family: AF_INET6 });
  t.is(udpConnect(s, client, '2001:db8::1', 53, '2001:db8::2'), 0);
  t.true(client.skc_num >= 32768 && client.skc_num <= 60999);
  t.is(lookup6(s, '2001:db8::1', 53, '2001:db8::2', client.skc_num), client);
  const v6only = udpSock(s, { family: AF_INET6, v6only: true });
  t.is(udpConnect(s, v6only, '::ffff:10.0.0.1', 53, '::ffff:10.0.0.2'), -101);
  t.is(bind(s, udpSock(s, { family: AF_INET6, v6only: true }), '::ffff:10.0.0.1', 99), -22, 'v4-mapped bind on a v6-only socket');
});

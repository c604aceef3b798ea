// TCP socket lookup in the order of sockets.md §1.1: the skb's socket, ehash (full, request and
// TIME_WAIT sockets) before any listener, then listeners scored by compute_score: an exact-address
// listener over a wildcard one, AF_INET over a dual-stack AF_INET6 one, a device-bound one over an
// unbound one (and only on its device), never a v6-only socket for IPv4; reuseport on the best one.
import test from 'ava';
import { inet_pton4 as ip4, inet_pton6 as ip6 } from '../../net/core/inet-addr.ts';
import { in6addr_any } from '../../net/core/in6-addr.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { inet_reqsk_alloc } from '../../net/core/request-sock.ts';
import { AF_INET6 } from '../../net/core/socket-constants.ts';
import { sk_daddr_set, sk_rcv_saddr_set } from '../../net/core/sock-common.ts';
import { TCP_ESTABLISHED, TCP_NEW_SYN_RECV, TCP_TIME_WAIT } from '../../net/core/tcp-states.ts';
import { reciprocal_scale } from '../../net/core/math.ts';
import { inet_put_port } from '../../net/ipv4/inet-bind-bucket.ts';
import { inet_ehash_insert, inet_unhash } from '../../net/ipv4/inet-hash.ts';
import { inet_ehashfn } from '../../net/ipv4/inet-hashfn.ts';
import { __inet_lookup, __inet_lookup_established, __inet_lookup_listener, __inet_lookup_skb } from '../../net/ipv4/inet-hashtables.ts';
import { __inet6_lookup, __inet6_lookup_skb } from '../../net/ipv6/inet6-hashtables.ts';
import { CLIENT4 as C, SERVER4 as S, established, listener, stack, tcpSock, timeWait, type Stack } from './helpers.ts';

/** The socket an IPv4 segment from C:sport to daddr:dport reaches (dif 1). */
const lookup4 = (s: Stack, daddr: number, dport: number, sport = 40000, dif = 1) => __inet_lookup(s.net, s.tcp, null, 20, C, sport, daddr, dport, dif, 0);
const lookup6 = (s: Stack, daddr: string, dport: number, sport = 40000, dif = 1) =>
  __inet6_lookup(s.net, s.tcp, null, 20, ip6('2001:db8::2'), sport, ip6(daddr), dport, dif, 0);

test('ehash is searched before the listeners: an established connection gets its own segments', (t) => {
  const s = stack();
  const l = listener(s, '0.0.0.0', 80, { reuseaddr: true });
  const conn = established(s, '10.0.0.1', 80, '10.0.0.2', 40000, { reuseaddr: true });
  t.is(lookup4(s, S, 80, 40000), conn);
  t.is(lookup4(s, S, 80, 40001), l, 'another source port: the listener');
  t.is(__inet_lookup_established(s.net, s.tcp, C, 40001, S, 80, 1, 0), undefined);
  t.is(__inet_lookup_established(s.net, s.tcp, C, 40000, S, 80, 1, 0), conn);
  inet_unhash(s.tcp, conn);
  t.is(lookup4(s, S, 80, 40000), l);
});

test('request sockets (TCP_NEW_SYN_RECV) and TIME_WAIT sockets answer from ehash before the listener', (t) => {
  const s = stack();
  const l = listener(s, '0.0.0.0', 80);
  const req = inet_reqsk_alloc(l);
  sk_rcv_saddr_set(req, S);
  sk_daddr_set(req, C);
  req.skc_dport = 40000;
  t.true(inet_ehash_insert(s.tcp, req, null, true));
  t.is(lookup4(s, S, 80, 40000)?.skc_state, TCP_NEW_SYN_RECV);
  t.is(lookup4(s, S, 80, 40000), req);

  const conn = established(s, '10.0.0.1', 80, '10.0.0.2', 40002);
  const tw = timeWait(s, conn);
  t.is(lookup4(s, S, 80, 40002), tw, 'the TIME_WAIT socket took the connection\'s place');
  t.is(tw.skc_state, TCP_TIME_WAIT);
  s.clock.advance(61e9);
  t.is(lookup4(s, S, 80, 40002), l, 'after TCP_TIMEWAIT_LEN the listener again');
});

test('a duplicate connection stays out of ehash when asked to check', (t) => {
  const s = stack();
  const l = listener(s, '0.0.0.0', 80);
  const mk = () => {
    const r = inet_reqsk_alloc(l);
    sk_rcv_saddr_set(r, S);
    sk_daddr_set(r, C);
    r.skc_dport = 40000;
    return r;
  };
  t.true(inet_ehash_insert(s.tcp, mk(), null, true));
  t.false(inet_ehash_insert(s.tcp, mk(), null, true));
});

test('an exact-address listener beats a wildcard one on the same port, in either creation order', (t) => {
  for (const exactFirst of [true, false]) {
    const s = stack();
    const mk = (a: string) => listener(s, a, 80, { reuseport: true });
    const [exact, wild] = exactFirst ? [mk('10.0.0.1'), mk('0.0.0.0')] : [undefined, mk('0.0.0.0')];
    const ex = exact ?? mk('10.0.0.1');
    t.not(ex.sk_reuseport_cb, wild.sk_reuseport_cb, 'different addresses: different groups');
    t.is(lookup4(s, S, 80), ex);
    t.is(lookup4(s, ip4('10.0.0.9'), 80), wild, 'another local address: the wildcard one');
  }
});

test('an AF_INET listener beats a dual-stack AF_INET6 one for IPv4; without it the dual-stack one serves IPv4', (t) => {
  for (const v6First of [true, false]) {
    const s = stack();
    const v6 = v6First ? listener(s, '::', 80, { family: AF_INET6, reuseport: true }) : undefined;
    const v4 = listener(s, '0.0.0.0', 80, { reuseport: true });
    const six = v6 ?? listener(s, '::', 80, { family: AF_INET6, reuseport: true });
    t.is(lookup4(s, S, 80), v4);
    t.is(lookup6(s, '2001:db8::1', 80), six, 'IPv6 only reaches AF_INET6 sockets');
    inet_unhash(s.tcp, v4);
    t.is(lookup4(s, S, 80), six, 'dual-stack: IPv4 reaches the :: listener');
  }
  // v4-mapped: an AF_INET6 socket bound to ::ffff:10.0.0.1 takes IPv4 to 10.0.0.1 only.
  const s = stack();
  const mapped = listener(s, '::ffff:10.0.0.1', 80, { family: AF_INET6 });
  t.is(lookup4(s, S, 80), mapped);
  t.is(lookup4(s, ip4('10.0.0.9'), 80), undefined);
});

test('v6-only sockets never get IPv4, whether by IPV6_V6ONLY or by a specific IPv6 address', (t) => {
  const s = stack();
  const only = listener(s, '::', 80, { family: AF_INET6, v6only: true });
  t.is(lookup4(s, S, 80), undefined);
  t.is(lookup6(s, '2001:db8::1', 80), only);
  const specific = listener(s, '2001:db8::5', 81, { family: AF_INET6 });
  t.true(specific.skc_ipv6only, 'binding a non-mapped address made it v6-only');
  t.is(lookup4(s, S, 81), undefined);
  t.is(lookup4(s, ip4('127.0.0.6'), 81), undefined, 'its IPv4 view (LOOPBACK4_IPV6) is never matched');
  t.is(lookup6(s, '2001:db8::5', 81), specific);
  t.is(lookup6(s, '2001:db8::6', 81), undefined);
});

test('a device-bound listener scores higher, and only takes segments from its device', (t) => {
  const s = stack();
  // Created first, so it sits behind the unbound one in the chain: the best score still wins.
  const bound = listener(s, '0.0.0.0', 80, { dev: 2, reuseport: true });
  const unbound = listener(s, '0.0.0.0', 80, { reuseport: true });
  t.not(bound.sk_reuseport_cb, unbound.sk_reuseport_cb, 'a different device: a different group');
  t.is(lookup4(s, S, 80, 40000, 2), bound);
  t.is(lookup4(s, S, 80, 40000, 3), unbound);
  inet_unhash(s.tcp, unbound);
  inet_put_port(s.tcp, unbound);
  t.is(lookup4(s, S, 80, 40000, 3), undefined, 'a bound listener requires its device');
  // Two devices need no SO_REUSEPORT at all.
  const d3 = listener(s, '0.0.0.0', 80, { dev: 3 });
  t.is(lookup4(s, S, 80, 40000, 3), d3);
  t.is(lookup4(s, S, 80, 40000, 2), bound);
});

test('the established match includes the netns and the bound device', (t) => {
  const s = stack();
  const other = new Net(s.boot, { hash_mix: 0 });
  const conn = established(s, '10.0.0.1', 80, '10.0.0.2', 40000, { dev: 2 });
  t.is(__inet_lookup_established(s.net, s.tcp, C, 40000, S, 80, 2, 0), conn);
  t.is(__inet_lookup_established(s.net, s.tcp, C, 40000, S, 80, 3, 0), undefined);
  t.is(__inet_lookup_established(other, s.tcp, C, 40000, S, 80, 2, 0), undefined);
  const l = listener(s, '0.0.0.0', 8080, { net: other });
  t.is(__inet_lookup_listener(other, s.tcp, null, 20, C, 1, S, 8080, 1, 0), l);
  t.is(__inet_lookup_listener(s.net, s.tcp, null, 20, C, 1, S, 8080, 1, 0), undefined, 'another netns: not found');
});

test('__inet_lookup_skb: the socket on the skb first, bypassing ehash; a prefetched listener goes through reuseport', (t) => {
  const s = stack();
  const group = [0, 1, 2, 3].map(() => listener(s, '0.0.0.0', 80, { reuseport: true }));
  const other = listener(s, '0.0.0.0', 81);
  const conn = established(s, '10.0.0.1', 80, '10.0.0.2', 40000, { reuseport: true });
  const at = (skb_sk: ReturnType<typeof tcpSock> | null, prefetched: boolean, sport = 40000) =>
    __inet_lookup_skb(s.net, s.tcp, null, 20, skb_sk, prefetched, C, sport, S, 80, 1, 0);
  t.is(at(other, false), other, 'early demux or an assigned socket: used as is, even over ehash');
  t.is(at(null, false), conn, 'nothing on the skb: ehash');
  t.is(at(other, true), other, 'a prefetched listener alone in no group stays');
  const socks = group[0]!.sk_reuseport_cb!.socks;
  const picks = new Set<unknown>();
  for (let p = 1; p <= 200; p++) {
    const sk = at(group[0]!, true, p);
    picks.add(sk);
    // The prefetched socket's group hashes the packet's real destination...
    t.is(sk, socks[reciprocal_scale(inet_ehashfn(s.net, S, 80, C, p), 4)]);
    // ...while the wildcard lhash2 pass hashes INADDR_ANY, the daddr it was called with, as the kernel's does.
    const viaTable = __inet_lookup_listener(s.net, s.tcp, null, 20, C, p, S, 80, 1, 0);
    t.is(viaTable, socks[reciprocal_scale(inet_ehashfn(s.net, 0, 80, C, p), 4)]);
  }
  t.is(picks.size, 4);
  t.is(at(conn, true), conn, 'a prefetched established socket is not a reuseport candidate');
});

test('IPv6: ehash before listeners, exact before ::, and the skb socket first', (t) => {
  const s = stack();
  const wild = listener(s, '::', 443, { family: AF_INET6, reuseport: true });
  const exact = listener(s, '2001:db8::1', 443, { family: AF_INET6, reuseport: true });
  const conn = established(s, '2001:db8::1', 443, '2001:db8::2', 40000, { family: AF_INET6 });
  t.is(conn.skc_state, TCP_ESTABLISHED);
  t.is(lookup6(s, '2001:db8::1', 443, 40000), conn);
  t.is(lookup6(s, '2001:db8::1', 443, 40001), exact);
  t.is(lookup6(s, '2001:db8::9', 443, 40001), wild);
  t.is(lookup4(s, S, 443), wild, 'the dual-stack :: listener serves IPv4');
  t.is(__inet6_lookup_skb(s.net, s.tcp, null, 20, wild, false, ip6('2001:db8::2'), 40000, ip6('2001:db8::1'), 443, 1, 0), wild);
  t.is(__inet6_lookup(s.net, s.tcp, null, 20, ip6('2001:db8::2'), 1, in6addr_any, 444, 1, 0), undefined);
});

test('an IPv4 segment finds an AF_INET6 connection whose addresses are v4-mapped', (t) => {
  const s = stack();
  const conn = established(s, '::ffff:10.0.0.1', 80, '::ffff:10.0.0.2', 40000, { family: AF_INET6 });
  t.is(conn.skc_rcv_saddr, S);
  t.is(lookup4(s, S, 80, 40000), conn);
  // It sits in ehash under inet_ehashfn, as the kernel's does: the IPv6 lookup never finds it (and
  // IPv6 input drops packets from v4-mapped sources before any lookup).
  t.is(__inet6_lookup(s.net, s.tcp, null, 20, ip6('::ffff:10.0.0.2'), 40000, ip6('::ffff:10.0.0.1'), 80, 1, 0), undefined);
});

test('lhash2 keeps IPv6 SO_REUSEPORT listeners at the tail of their chain, the others at the head', (t) => {
  const s = stack({ small: true });
  const a = listener(s, '::', 80, { family: AF_INET6, reuseport: true });
  const b = listener(s, '0.0.0.0', 80, { reuseport: true });
  const c = listener(s, '::', 80, { family: AF_INET6, reuseport: true });
  const d = listener(s, '0.0.0.0', 80, { reuseport: true });
  const chain = s.tcp.lhash2.find((ch) => ch !== undefined && ch.includes(a))!;
  t.deepEqual(
    chain.filter((x) => [a, b, c, d].includes(x)),
    [d, b, a, c],
  );
  t.is(c.sk_reuseport_cb, a.sk_reuseport_cb);
  t.is(d.sk_reuseport_cb, b.sk_reuseport_cb);
});

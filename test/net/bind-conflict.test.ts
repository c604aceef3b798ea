// Who may share a port: TCP's inet_csk_bind_conflict and UDP's udp_lib_lport_inuse, as a matrix of
// a first socket (bound, maybe listening) and a second binding the same port: SO_REUSEADDR,
// SO_REUSEPORT with the same or another owner, wildcard against specific addresses, v6-only
// against dual-stack sockets, devices, netns, and TIME_WAIT sockets holding the port.
import test from 'ava';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { inet_pton6 } from '../../net/core/inet-addr.ts';
import { __inet6_bind } from '../../net/ipv6/af-inet6.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { AF_INET, AF_INET6, SK_FORCE_REUSE, SOCK_BINDPORT_LOCK, type InetFamily } from '../../net/core/socket-constants.ts';
import { inet_put_port } from '../../net/ipv4/inet-bind-bucket.ts';
import { inet_unhash } from '../../net/ipv4/inet-hash.ts';
import { inet_twsk_deschedule_put } from '../../net/ipv4/inet-timewait-sock.ts';
import { bind, established, listen, stack, tcpSock, timeWait, udpSock, type SockOpts, type Stack } from './helpers.ts';

const OK = 0;
const INUSE = -ERRNO.EADDRINUSE;

interface Side extends SockOpts {
  addr: string;
  listen?: boolean;
}

/** Bind (and maybe listen) `first`, then bind `second` to the same port; the second bind's result. */
function tcpPair(first: Side, second: Side, s: Stack = stack()): number {
  const a = tcpSock(s, first);
  if (bind(s, a, first.addr, 80) !== 0) throw new Error(`first bind failed: ${JSON.stringify(first)}`);
  if (first.listen && listen(s, a) !== 0) throw new Error('first listen failed');
  const b = tcpSock(s, second);
  const r = bind(s, b, second.addr, 80);
  if (r === 0 && second.listen) return listen(s, b);
  return r;
}

function udpPair(first: Side, second: Side): number {
  const s = stack();
  if (bind(s, udpSock(s, first), first.addr, 53) !== 0) throw new Error('first bind failed');
  return bind(s, udpSock(s, second), second.addr, 53);
}

const v4 = (addr: string, o: Omit<Side, 'addr'> = {}): Side => ({ addr, family: AF_INET as InetFamily, ...o });
const v6 = (addr: string, o: Omit<Side, 'addr'> = {}): Side => ({ addr, family: AF_INET6 as InetFamily, ...o });

const TCP_MATRIX: [string, Side, Side, number][] = [
  ['no options, same address', v4('10.0.0.1'), v4('10.0.0.1'), INUSE],
  ['SO_REUSEADDR on both, first not listening', v4('10.0.0.1', { reuseaddr: true }), v4('10.0.0.1', { reuseaddr: true }), OK],
  ['SO_REUSEADDR on both, first listening', v4('10.0.0.1', { reuseaddr: true, listen: true }), v4('10.0.0.1', { reuseaddr: true }), INUSE],
  ['SO_REUSEADDR on the second only', v4('10.0.0.1'), v4('10.0.0.1', { reuseaddr: true }), INUSE],
  ['SO_REUSEADDR on both, then both listen', v4('10.0.0.1', { reuseaddr: true, listen: true }), v4('10.0.0.1', { reuseaddr: true, listen: true }), INUSE],
  ['SO_REUSEPORT, same uid, listening', v4('10.0.0.1', { reuseport: true, listen: true, uid: 1000 }), v4('10.0.0.1', { reuseport: true, listen: true, uid: 1000 }), OK],
  ['SO_REUSEPORT, other uid', v4('10.0.0.1', { reuseport: true, listen: true, uid: 1000 }), v4('10.0.0.1', { reuseport: true, uid: 1001 }), INUSE],
  ['SO_REUSEPORT on the second only', v4('10.0.0.1', { listen: true }), v4('10.0.0.1', { reuseport: true }), INUSE],
  ['wildcard first, then specific', v4('0.0.0.0'), v4('10.0.0.1'), INUSE],
  ['specific first, then wildcard', v4('10.0.0.1'), v4('0.0.0.0'), INUSE],
  ['two specific addresses', v4('10.0.0.1', { listen: true }), v4('10.0.0.2', { listen: true }), OK],
  ['wildcard and specific with SO_REUSEPORT', v4('0.0.0.0', { reuseport: true, listen: true }), v4('10.0.0.1', { reuseport: true, listen: true }), OK],
  ['dual-stack :: then 0.0.0.0', v6('::'), v4('0.0.0.0'), INUSE],
  ['0.0.0.0 then dual-stack ::', v4('0.0.0.0'), v6('::'), INUSE],
  ['dual-stack :: then 10.0.0.1', v6('::'), v4('10.0.0.1'), INUSE],
  ['v6-only :: then 0.0.0.0', v6('::', { v6only: true }), v4('0.0.0.0'), OK],
  ['0.0.0.0 then v6-only ::', v4('0.0.0.0'), v6('::', { v6only: true }), OK],
  ['v6-only :: then 10.0.0.1', v6('::', { v6only: true, listen: true }), v4('10.0.0.1', { listen: true }), OK],
  ['2001:db8::1 (v6-only by its address) then 0.0.0.0', v6('2001:db8::1'), v4('0.0.0.0'), OK],
  ['::ffff:10.0.0.1 then 10.0.0.1', v6('::ffff:10.0.0.1'), v4('10.0.0.1'), INUSE],
  ['::ffff:10.0.0.1 then 10.0.0.2', v6('::ffff:10.0.0.1'), v4('10.0.0.2'), OK],
  ['0.0.0.0 then ::ffff:10.0.0.1', v4('0.0.0.0'), v6('::ffff:10.0.0.1'), INUSE],
  [':: then 2001:db8::1', v6('::'), v6('2001:db8::1'), INUSE],
  ['v6-only :: then v6-only ::', v6('::', { v6only: true }), v6('::', { v6only: true }), INUSE],
  ['2001:db8::1 then 2001:db8::2', v6('2001:db8::1'), v6('2001:db8::2'), OK],
  ['devices 2 and 3', v4('10.0.0.1', { dev: 2, listen: true }), v4('10.0.0.1', { dev: 3, listen: true }), OK],
  ['device 2, then no device', v4('10.0.0.1', { dev: 2 }), v4('10.0.0.1'), INUSE],
  ['no device, then device 2', v4('0.0.0.0'), v4('10.0.0.1', { dev: 2 }), INUSE],
];

for (const [name, first, second, expected] of TCP_MATRIX) {
  test(`TCP bind conflict: ${name}`, (t) => {
    t.is(tcpPair(first, second), expected);
  });
}

test('TCP: sockets in other netns never conflict; SK_FORCE_REUSE always shares', (t) => {
  const s = stack();
  const a = tcpSock(s);
  t.is(bind(s, a, '0.0.0.0', 80), OK);
  t.is(listen(s, a), OK);
  const other = new Net(s.boot, { hash_mix: 0 });
  const b = tcpSock(s, { net: other });
  t.is(bind(s, b, '0.0.0.0', 80), OK, 'the same port in another netns');
  const c = tcpSock(s);
  c.skc_reuse = SK_FORCE_REUSE;
  t.is(bind(s, c, '0.0.0.0', 80), OK);
  t.is(bind(s, c, '0.0.0.0', 81), -ERRNO.EINVAL, 'binding twice');
  t.is(__inet6_bind(tcpSock(s), inet_pton6('2001:db8::1'), 82, () => 0), -ERRNO.EAFNOSUPPORT, 'inet6_bind on an AF_INET socket');
  t.is(bind(s, tcpSock(s, { family: AF_INET6 }), 'ff02::1', 82), -ERRNO.EINVAL, 'multicast for TCP');
  t.is(bind(s, tcpSock(s, { family: AF_INET6 }), 'fe80::1', 82), -ERRNO.EINVAL, 'link-local without a device');
  t.is(bind(s, tcpSock(s, { family: AF_INET6, dev: 2 }), 'fe80::1', 82), OK);
  t.is(c.sk_userlocks & SOCK_BINDPORT_LOCK, SOCK_BINDPORT_LOCK);
});

test('TCP: a refused bind leaves the socket unbound, its address cleared', (t) => {
  const s = stack();
  const a = tcpSock(s, { family: AF_INET6 });
  t.is(bind(s, a, '::', 80), OK);
  const b = tcpSock(s, { family: AF_INET6 });
  t.is(bind(s, b, '2001:db8::1', 80), INUSE);
  t.is(b.skc_num, 0);
  t.false(b.skc_ipv6only, 'the v6-only implied by the address is undone');
  t.is(b.skc_v6_rcv_saddr.w0, 0);
  inet_put_port(s.tcp, a);
  t.is(bind(s, b, '2001:db8::1', 80), OK, 'the port is free again once the holder gives it back');
});

test('TCP: TIME_WAIT holds the port; SO_REUSEADDR on both (or SO_REUSEPORT, any uid) shares it; expiry frees it', (t) => {
  const s = stack();
  const conn = established(s, '10.0.0.1', 80, '10.0.0.2', 40000, { reuseaddr: true, reuseport: true, uid: 1 });
  const tw = timeWait(s, conn);
  inet_unhash(s.tcp, conn);
  inet_put_port(s.tcp, conn);
  t.is(conn.icsk_bind_hash, null);
  t.is(tw.tw_tb!.owners.length, 1, 'the TIME_WAIT socket alone holds the port');

  const plain = tcpSock(s);
  t.is(bind(s, plain, '10.0.0.1', 80), INUSE);
  const reuse = tcpSock(s, { reuseaddr: true });
  t.is(bind(s, reuse, '10.0.0.1', 80), OK, 'SO_REUSEADDR on the new socket and on the TIME_WAIT one');
  const rp = tcpSock(s, { reuseport: true, uid: 2 });
  t.is(bind(s, rp, '0.0.0.0', 80), INUSE, 'the SO_REUSEADDR socket bound meanwhile has no SO_REUSEPORT');
  inet_put_port(s.tcp, reuse);
  t.is(bind(s, rp, '0.0.0.0', 80), OK, 'SO_REUSEPORT against TIME_WAIT: the owner does not matter');
  inet_put_port(s.tcp, rp);

  s.clock.advance(59e9);
  t.is(bind(s, tcpSock(s), '10.0.0.1', 80), INUSE);
  s.clock.advance(2e9);
  t.is(tw.tw_tb, null);
  t.is(bind(s, plain, '10.0.0.1', 80), OK, 'the TIME_WAIT socket expired after TCP_TIMEWAIT_LEN');
});

test('TCP: a TIME_WAIT socket without SO_REUSEADDR keeps even SO_REUSEADDR sockets off; deschedule frees at once', (t) => {
  const s = stack();
  const conn = established(s, '10.0.0.1', 80, '10.0.0.2', 40000);
  const tw = timeWait(s, conn);
  inet_put_port(s.tcp, conn);
  t.is(bind(s, tcpSock(s, { reuseaddr: true }), '10.0.0.1', 80), INUSE);
  inet_twsk_deschedule_put(tw);
  t.is(s.clock.pending_count, 0);
  t.is(bind(s, tcpSock(s), '10.0.0.1', 80), OK);
});

const UDP_MATRIX: [string, Side, Side, number][] = [
  ['no options', v4('10.0.0.1'), v4('10.0.0.1'), INUSE],
  ['SO_REUSEADDR on both', v4('0.0.0.0', { reuseaddr: true }), v4('0.0.0.0', { reuseaddr: true }), OK],
  ['SO_REUSEADDR on one', v4('0.0.0.0', { reuseaddr: true }), v4('0.0.0.0'), INUSE],
  ['SO_REUSEPORT, same uid', v4('0.0.0.0', { reuseport: true, uid: 7 }), v4('0.0.0.0', { reuseport: true, uid: 7 }), OK],
  ['SO_REUSEPORT, other uid', v4('0.0.0.0', { reuseport: true, uid: 7 }), v4('0.0.0.0', { reuseport: true, uid: 8 }), INUSE],
  ['wildcard then specific', v4('0.0.0.0'), v4('10.0.0.1'), INUSE],
  ['two specific', v4('10.0.0.1'), v4('10.0.0.2'), OK],
  ['dual-stack :: then 0.0.0.0', v6('::'), v4('0.0.0.0'), INUSE],
  ['v6-only :: then 0.0.0.0', v6('::', { v6only: true }), v4('0.0.0.0'), OK],
  ['0.0.0.0 then ::ffff:10.0.0.1', v4('0.0.0.0'), v6('::ffff:10.0.0.1'), INUSE],
  ['devices 2 and 3', v4('0.0.0.0', { dev: 2 }), v4('0.0.0.0', { dev: 3 }), OK],
  ['device 2 then none', v4('0.0.0.0', { dev: 2 }), v4('0.0.0.0'), INUSE],
];

for (const [name, first, second, expected] of UDP_MATRIX) {
  test(`UDP bind conflict: ${name}`, (t) => {
    t.is(udpPair(first, second), expected);
  });
}

test('UDP: SO_REUSEPORT groups form per (family, v6only, address, device, uid)', (t) => {
  const s = stack();
  const a = udpSock(s, { reuseport: true });
  const b = udpSock(s, { reuseport: true });
  const c = udpSock(s, { reuseport: true, family: AF_INET6 });
  const d = udpSock(s, { reuseport: true, family: AF_INET6, v6only: true });
  t.is(bind(s, a, '0.0.0.0', 53), OK);
  t.is(bind(s, b, '0.0.0.0', 53), OK);
  t.is(bind(s, c, '::', 53), OK);
  t.is(bind(s, d, '::', 53), OK);
  t.is(a.sk_reuseport_cb, b.sk_reuseport_cb);
  t.not(c.sk_reuseport_cb, a.sk_reuseport_cb);
  t.not(d.sk_reuseport_cb, c.sk_reuseport_cb);
  t.is(a.sk_reuseport_cb!.num_socks, 2);
  t.true(a.sk_reuseport_cb!.bind_inany);
});

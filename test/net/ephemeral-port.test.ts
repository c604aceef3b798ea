// bind(0) and listen() on an unbound socket: a port from net.ipv4.ip_local_port_range
// (32768-60999) that no overlapping socket holds; TCP starts at an odd port (connect() gets the
// even ones), SO_REUSEADDR sockets search the lower half first, reserved ports are skipped, a
// full range is EADDRINUSE, and a fixed seed gives the same ports every run.
import test from 'ava';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { AF_INET6 } from '../../net/core/socket-constants.ts';
import { bindEphemeral, listen, stack, tcpSock, udpSock, type SockOpts, type Stack } from './helpers.ts';

const tcpAuto = (s: Stack, o: SockOpts = {}) => bindEphemeral(s, tcpSock(s, o));

test('TCP bind(0): distinct ports in 32768-60999, odd ones first', (t) => {
  const s = stack();
  const ports = Array.from({ length: 300 }, () => tcpAuto(s));
  t.true(ports.every((p) => p >= 32768 && p <= 60999));
  t.is(new Set(ports).size, 300);
  t.true(ports.every((p) => p % 2 === 1));
});

test('TCP bind(0): a range of four gives each port once (odd, then even), then EADDRINUSE', (t) => {
  const s = stack();
  s.net.ipv4.ip_local_port_range = [40000, 40003];
  const ports = [tcpAuto(s), tcpAuto(s), tcpAuto(s), tcpAuto(s)];
  t.deepEqual([...ports].sort(), [40000, 40001, 40002, 40003]);
  t.true(ports[0]! % 2 === 1 && ports[1]! % 2 === 1);
  t.is(tcpAuto(s), -ERRNO.EADDRINUSE);
});

test('TCP bind(0): SO_REUSEADDR sockets take the lower half first, and never share a port', (t) => {
  const s = stack();
  s.net.ipv4.ip_local_port_range = [40000, 40099];
  const lower = Array.from({ length: 50 }, () => tcpAuto(s, { reuseaddr: true }));
  t.true(lower.every((p) => p >= 40000 && p < 40050));
  t.is(new Set(lower).size, 50);
  const next = tcpAuto(s, { reuseaddr: true });
  t.true(next >= 40050 && next <= 40099);
});

test('TCP bind(0): reserved ports are skipped; ip_autobind_reuse lets SO_REUSEADDR sockets share as a last resort', (t) => {
  const s = stack();
  s.net.ipv4.ip_local_port_range = [40000, 40003];
  s.net.ipv4.sysctl_local_reserved_ports.add(40001).add(40003);
  t.deepEqual([tcpAuto(s), tcpAuto(s)].sort(), [40000, 40002]);
  t.is(tcpAuto(s), -ERRNO.EADDRINUSE);

  const r = stack();
  r.net.ipv4.ip_local_port_range = [40000, 40000];
  t.is(tcpAuto(r, { reuseaddr: true }), 40000);
  t.is(tcpAuto(r, { reuseaddr: true }), -ERRNO.EADDRINUSE);
  r.net.ipv4.sysctl_ip_autobind_reuse = true;
  t.is(tcpAuto(r, { reuseaddr: true }), 40000);
  t.is(tcpAuto(r), -ERRNO.EADDRINUSE, 'not without SO_REUSEADDR');
});

test('TCP listen() on an unbound socket binds an ephemeral port; ports are reproducible from the seed', (t) => {
  const s = stack();
  const sk = tcpSock(s, { family: AF_INET6 });
  t.is(listen(s, sk), 0);
  t.true(sk.skc_num >= 32768 && sk.skc_num <= 60999);
  const run = (seed: number) => {
    const x = stack({ seed });
    return Array.from({ length: 20 }, () => tcpAuto(x));
  };
  t.deepEqual(run(5), run(5));
  t.notDeepEqual(run(5), run(6));
});

test('UDP bind(0): distinct ports in range, every port of a small range once, then EADDRINUSE', (t) => {
  const s = stack();
  const auto = () => bindEphemeral(s, udpSock(s));
  const ports = Array.from({ length: 300 }, auto);
  t.true(ports.every((p) => p >= 32768 && p <= 60999));
  t.is(new Set(ports).size, 300);
  s.net.ipv4.ip_local_port_range = [40000, 40003];
  t.deepEqual([auto(), auto(), auto(), auto()].sort(), [40000, 40001, 40002, 40003]);
  t.is(auto(), -ERRNO.EADDRINUSE);
  s.net.ipv4.ip_local_port_range = [40000, 40005];
  s.net.ipv4.sysctl_local_reserved_ports.add(40004);
  t.is(auto(), 40005);
});

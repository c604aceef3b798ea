// The tubular-like dispatcher on a real stack: bindings steer connections and datagrams for whole
// prefixes and every port to one socket each, through scenarios/sk/dispatch.o attached as an
// SK_LOOKUP program, on both engines. Two stacks joined by a veth pair on a virtual clock: "a" is
// the client, "b" runs the dispatcher and routes 192.0.2.0/24 and 198.51.100.1 to itself (`ip route
// add local ... dev lo`, as tubular's hosts do).
import test from 'ava';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { inet_pton4 } from '../../net/core/inet-addr.ts';
import type { Net } from '../../net/core/net-namespace.ts';
import { AF_INET } from '../../net/core/socket-constants.ts';
import { fib_table_insert, ip_route_add, RT_SCOPE, RTN } from '../../net/ipv4/route.ts';
import { tcp_init } from '../../net/ipv4/tcp.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { TcpServer } from '../../net/apps/tcp-server.ts';
import { tcp_connect } from '../../net/apps/tcp-client.ts';
import { UdpSink } from '../../net/apps/discard.ts';
import { Socket } from '../../net/socket.ts';
import { SOCK_DGRAM } from '../../net/core/socket-constants.ts';
import { Dispatcher } from '../../scenarios/dispatch/dispatcher.ts';
import { metricsBalanced } from '../../scenarios/dispatch/metrics.ts';
import { DispatchError } from '../../scenarios/dispatch/errors.ts';
import { parsePrefix, encodeBindKey } from '../../scenarios/dispatch/binding.ts';
import { twoHosts, type TwoHosts } from '../net/support/topology.ts';

function hosts(): TwoHosts {
  const h = twoHosts({ staticNeigh: true, init: (net) => { udp_init(net); tcp_init(net); } });
  // b owns the service prefixes; a routes them to b.
  for (const [dst, len] of [[inet_pton4('192.0.2.0'), 24], [inet_pton4('198.51.100.1'), 32]] as const) {
    const r = fib_table_insert(h.b, { dst, prefixlen: len, type: RTN.RTN_LOCAL, scope: RT_SCOPE.RT_SCOPE_HOST, dev: h.b.loopback_dev! });
    if (r < 0) throw new Error(`local route: ${r}`);
    if (ip_route_add(h.a, dst, len, h.deva, h.b4) < 0) throw new Error('route on a');
  }
  return h;
}

function udpClient(net: Net): Socket {
  return Socket.create(net, AF_INET, SOCK_DGRAM, 0) as Socket;
}

for (const engine of ENGINES) {
  test(`[${engine}] a /24 on one port and every port of one address, each to one socket`, (t) => {
    const h = hosts();
    const web = new TcpServer(h.b, { family: AF_INET, addr: inet_pton4('127.0.0.1'), port: 8080 });
    const dns = new UdpSink(h.b, { family: AF_INET, addr: inet_pton4('127.0.0.1'), port: 5353 });
    const d = new Dispatcher(h.b, { engine });
    d.addBinding({ label: 'web', protocol: 'tcp', prefix: '192.0.2.0/24', port: 80 });
    d.addBinding({ label: 'dns', protocol: 'udp', prefix: '198.51.100.1', port: 0 });
    d.registerSocket('web', web.sock.sk);
    d.registerSocket('dns', dns.sock.sk);

    let connected = 0;
    for (const last of [1, 7, 254]) {
      tcp_connect(h.a, { server: { family: AF_INET, addr: inet_pton4(`192.0.2.${last}`), port: 80 }, onconnect: (c) => { connected++; c.end(); } });
    }
    const u = udpClient(h.a);
    for (const port of [53, 1234, 65535]) u.sendto(new Uint8Array(8), { family: AF_INET, addr: inet_pton4('198.51.100.1'), port });
    h.advance(100);

    t.is(connected, 3);
    t.is(web.accepted, 3, 'every address of the /24 reached the one listener');
    t.is(dns.packets, 3, 'every port reached the one UDP socket');
    const m = d.metrics();
    t.true(m.assigned >= 6, `assigned ${m.assigned}`);
    t.is(m.missing_socket, 0);
    t.true(metricsBalanced(m), JSON.stringify(m));
    const dests = d.destinations();
    t.is(dests.length, 2);
    t.true(dests.every((x) => x.cookie !== undefined && x.metrics.lookups > 0));
    d.close();
  });

  test(`[${engine}] a binding whose socket is gone drops (RST), traffic without a binding goes to the tables`, (t) => {
    const h = hosts();
    const web = new TcpServer(h.b, { family: AF_INET, addr: inet_pton4('127.0.0.1'), port: 8080 });
    const plain = new TcpServer(h.b, { family: AF_INET, addr: 0, port: 22 });
    const d = new Dispatcher(h.b, { engine });
    d.addBinding({ label: 'web', protocol: 'tcp', prefix: '192.0.2.0/24', port: 80 });
    d.registerSocket('web', web.sock.sk);
    d.unregisterSocket('web', 4, 'tcp');
    let refused = 0;
    tcp_connect(h.a, { server: { family: AF_INET, addr: inet_pton4('192.0.2.9'), port: 80 }, onerror: () => { refused++; } });
    tcp_connect(h.a, { server: { family: AF_INET, addr: h.b4, port: 22 } });
    h.advance(100);
    t.is(web.accepted, 0);
    t.is(refused, 1, 'the SYN was dropped by SK_DROP and answered with a RST');
    t.is(plain.accepted, 1, 'no binding: the regular lookup found the listener');
    const m = d.metrics();
    t.true(m.missing_socket >= 1);
    t.true(m.no_binding >= 1);
    t.true(metricsBalanced(m));
  });
}

test('bindings: prefixes are normalised, bad ones refused with EINVAL', (t) => {
  t.is(parsePrefix('192.0.2.77/24').text, '192.0.2.0/24');
  t.is(parsePrefix('2001:db8::1/32').text, '2001:db8::/32');
  const key = encodeBindKey('tcp', parsePrefix('192.0.2.0/24'), 80);
  t.is(new DataView(key.buffer).getUint32(0, true), 24 + 96 + 24);
  t.throws(() => parsePrefix('192.0.2.0/33'), { instanceOf: DispatchError, message: /0\.\.32/ });
  t.throws(() => parsePrefix('nonsense/8'), { instanceOf: DispatchError });
  t.throws(() => encodeBindKey('udp', parsePrefix('::/0'), 70000), { instanceOf: DispatchError });
});

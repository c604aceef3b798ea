// The applications on two stacks and the virtual clock: UDP echo, the sink, the UDP
// client/server pair, netperf's UDP_STREAM and UDP_RR (and the TCP ones when TCP is there).
import test from 'ava';
import { twoHosts, type TwoHosts } from './support/topology.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { AF_INET, AF_INET6 } from '../../net/core/socket-constants.ts';
import { in6addr_any } from '../../net/core/in6-addr.ts';
import { inet_pton4 } from '../../net/core/inet-addr.ts';
import { inet_addr_add } from '../../net/ipv4/devinet.ts';
import { E } from '../../net/core/sock-opts.ts';
import { UdpEchoServer } from '../../net/apps/echo.ts';
import { UdpSink } from '../../net/apps/discard.ts';
import { UdpServer } from '../../net/apps/udp-server.ts';
import { UdpClient } from '../../net/apps/udp-client.ts';
import { NetServer } from '../../net/apps/netserver.ts';
import { netperf, type NetperfResult } from '../../net/apps/netperf.ts';
import { UdpFlood } from '../../net/apps/flood.ts';

function hosts(): TwoHosts {
  return twoHosts({ staticNeigh: true, init: (net) => udp_init(net) });
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

test('UDP echo over IPv4 and IPv6 (one dual-stack server), replies from the address asked', (t) => {
  const h = hosts();
  const b2 = inet_pton4('10.0.0.3');
  inet_addr_add(h.devb, b2, 24);
  const echo = new UdpEchoServer(h.b, { family: AF_INET6, addr: in6addr_any, port: 7 });
  const got: string[] = [];
  const c4 = new UdpClient(h.a, { server: { family: AF_INET, addr: b2, port: 7 }, onmessage: (d) => got.push(`4:${text(d)}`) });
  const c6 = new UdpClient(h.a, { server: { family: AF_INET6, addr: h.b6, port: 7 }, onmessage: (d) => got.push(`6:${text(d)}`) });
  c4.send(bytes('ping'));
  c6.send(bytes('pong'));
  h.pump();
  t.deepEqual(got.sort(), ['4:ping', '6:pong']);
  t.is(echo.echoed, 2);
  t.is(echo.bytes, 8);
  t.is(echo.send_errors, 0);
});

test('the sink reads and counts everything; a connected client to a closed port sees ECONNREFUSED', (t) => {
  const h = hosts();
  const sink = new UdpSink(h.b, { port: 9 });
  const c = new UdpClient(h.a, { server: { family: AF_INET, addr: h.b4, port: 9 } });
  for (let i = 0; i < 50; i++) c.send(new Uint8Array(100 + i));
  h.pump();
  t.is(sink.packets, 50);
  t.is(sink.bytes, 50 * 100 + (49 * 50) / 2);
  sink.close();
  c.send(bytes('x'));
  h.pump();
  t.deepEqual(c.errors, [-E.ECONNREFUSED]);
});

test('the UDP client/server pair: a request handler, unconnected client', (t) => {
  const h = hosts();
  const srv = new UdpServer(h.b, { port: 5000 }, (req, _from, to) => bytes(`${text(req).toUpperCase()}@${to?.port}`));
  const replies: string[] = [];
  const c = new UdpClient(h.a, { server: { family: AF_INET, addr: h.b4, port: 5000 }, connect: false, onmessage: (d) => replies.push(text(d)) });
  c.send(bytes('abc'));
  c.send(bytes('def'));
  h.pump();
  t.deepEqual(replies, ['ABC@5000', 'DEF@5000']);
  t.is(srv.requests, 2);
  t.is(srv.replies, 2);
});

function run(h: TwoHosts, start: (done: (r: NetperfResult) => void) => void, ms: number): NetperfResult {
  let result: NetperfResult | null = null;
  start((r) => (result = r));
  for (let i = 0; i < ms && result === null; i++) h.advance(1);
  if (result === null) throw new Error('netperf did not finish');
  return result;
}

test('netperf UDP_STREAM on the virtual clock: what was sent arrives, throughput from the machine clock', (t) => {
  const h = hosts();
  const server = new NetServer(h.b);
  const r = run(h, (ondone) => netperf(h.a, { test: 'UDP_STREAM', server, host: h.b4, length_s: 1, message_size: 1472, per_jiffy: 20, ondone }), 1100);
  t.is(r.test, 'UDP_STREAM');
  t.is(r.elapsed_s, 1);
  t.is(r.message_size, 1472);
  t.is(r.messages_sent, 20 * 1000);
  t.is(r.send_errors, 0);
  t.is(r.messages_received, r.messages_sent);
  // 20 messages of 1472 bytes per ms: 235.52 Mbit/s.
  t.is(r.send_mbps, (20 * 1472 * 8 * 1000) / 1e6);
  t.is(r.recv_mbps, r.send_mbps);
  t.regex(r.text, /10\^6bits\/sec/);
  t.is(h.a.mib.udp.OutDatagrams, 20000);
  t.is(h.b.mib.udp.InDatagrams, 20000);
});

test('netperf UDP_STREAM with 18-byte messages and a small receive buffer: the receive line shows the loss', (t) => {
  const h = hosts();
  const server = new NetServer(h.b);
  // The receiver reads on every wake-up, so to lose datagrams it must not be woken: a sink that reads late.
  const r = run(h, (ondone) => {
    const np = netperf(h.a, { test: 'UDP_STREAM', server, host: h.b4, length_s: 0.1, message_size: 18, per_jiffy: 200, recv_socket_size: 4096, ondone });
    np.ep.sock.onready = null;
  }, 200);
  t.is(r.messages_sent, 200 * 100);
  t.is(r.messages_received, 0, 'nobody read');
  t.true(h.b.mib.udp.RcvbufErrors > 0);
  t.is(h.b.mib.udp.RcvbufErrors + server.endpoints[0]!.sock.sk.sk_receive_queue.qlen, 20000);
});

test('netperf UDP_RR: one transaction at a time, counted on the machine clock (IPv4 and IPv6)', (t) => {
  for (const family of [AF_INET, AF_INET6] as const) {
    const h = hosts();
    const server = new NetServer(h.b, { family });
    const host = family === AF_INET ? h.b4 : h.b6;
    const r = run(h, (ondone) => netperf(h.a, { test: 'UDP_RR', family, server, host, length_s: 2, per_jiffy: 5, ondone }), 2100);
    t.is(r.elapsed_s, 2);
    t.is(r.transactions, 5 * 2000);
    t.is(r.trans_per_sec, 5000);
    t.is(r.request_size, 1);
    t.is(r.response_size, 1);
    t.is(server.endpoints[0]!.responses, 10000);
    t.regex(r.text, /Trans\.\nSend {3}Recv/);
  }
});


test('a paced UDP flood into a reuseport group of sinks: every datagram counted once', (t) => {
  const h = hosts();
  const sinks = [0, 1, 2, 3].map(() => new UdpSink(h.b, { port: 9, reuseport: true }));
  const flood = new UdpFlood(h.a, { target: { family: AF_INET, addr: h.b4, port: 9 }, per_jiffy: 100, flows: 16, count: 5000 });
  flood.start();
  h.advance(60);
  t.is(flood.sent, 5000);
  t.false(flood.running);
  const total = sinks.reduce((a, s) => a + s.packets, 0);
  t.is(total, 5000);
  t.true(sinks.filter((s) => s.packets > 0).length >= 3, 'flows spread over the group');
  t.is(h.b.mib.udp.InDatagrams, 5000);
  flood.close();
});

// The TCP applications on two stacks and the virtual clock: echo, the sink, the client/server
// pair, netperf's TCP_STREAM and TCP_RR. (Apart from apps.test.ts so the UDP ones run whatever
// state TCP is in.)
import test from 'ava';
import { twoHosts, type TwoHosts } from './support/topology.ts';
import { tcp_init } from '../../net/ipv4/tcp.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { AF_INET, AF_INET6 } from '../../net/core/socket-constants.ts';
import { TcpEchoServer } from '../../net/apps/echo.ts';
import { TcpSink } from '../../net/apps/discard.ts';
import { TcpServer } from '../../net/apps/tcp-server.ts';
import { tcp_connect } from '../../net/apps/tcp-client.ts';
import { NetServer } from '../../net/apps/netserver.ts';
import { netperf, type NetperfResult } from '../../net/apps/netperf.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function tcpHosts(): TwoHosts {
  return twoHosts({ staticNeigh: true, init: (net) => { udp_init(net); tcp_init(net); } });
}

function run(h: TwoHosts, start: (done: (r: NetperfResult) => void) => void, ms: number): NetperfResult {
  let result: NetperfResult | null = null;
  start((r) => (result = r));
  for (let i = 0; i < ms && result === null; i++) h.advance(1);
  if (result === null) throw new Error('netperf did not finish');
  return result;
}

test('TCP echo: a client writes, reads the same bytes back, ends; the server closes after the FIN', (t) => {
  const h = tcpHosts();
  const echo = new TcpEchoServer(h.b, { port: 7 });
  const chunks: string[] = [];
  let ended = false;
  const conn = tcp_connect(h.a, {
    server: { family: AF_INET, addr: h.b4, port: 7 },
    onconnect: (c) => {
      c.write(bytes('hello, '));
      c.write(bytes('echo'));
      c.end();
    },
    ondata: (_c, d) => chunks.push(text(d)),
    onend: () => (ended = true),
  });
  h.advance(50);
  t.is(chunks.join(''), 'hello, echo');
  t.true(ended);
  t.is(echo.accepted, 1);
  t.is(echo.bytes, 11);
  t.is(conn.error, 0);
});

test('TCP sink: counts a bulk transfer to the last byte', (t) => {
  const h = tcpHosts();
  const sink = new TcpSink(h.b, { port: 9 });
  const data = new Uint8Array(200_000);
  tcp_connect(h.a, { server: { family: AF_INET, addr: h.b4, port: 9 }, onconnect: (c) => { c.write(data); c.end(); } });
  h.advance(2000);
  t.is(sink.bytes, 200_000);
  t.is(sink.finished, 1);
});

test('TCP client/server pair: request handler answering per read', (t) => {
  const h = tcpHosts();
  const srv = new TcpServer(h.b, { port: 8080 }, { ondata: (c, d) => c.write(bytes(text(d).toUpperCase())) });
  let got = '';
  tcp_connect(h.a, { server: { family: AF_INET, addr: h.b4, port: 8080 }, onconnect: (c) => c.write(bytes('get /')), ondata: (_c, d) => (got += text(d)) });
  h.advance(20);
  t.is(got, 'GET /');
  t.is(srv.accepted, 1);
});

test('netperf TCP_STREAM and TCP_RR on the virtual clock', (t) => {
  const h = tcpHosts();
  const server = new NetServer(h.b);
  const s = run(h, (ondone) => netperf(h.a, { test: 'TCP_STREAM', server, host: h.b4, length_s: 1, message_size: 16384, per_jiffy: 4, ondone }), 5000);
  t.is(s.test, 'TCP_STREAM');
  t.true(s.elapsed_s >= 1);
  t.true(s.bytes_received! > 0);
  t.is(s.bytes_received, s.bytes_sent);
  t.is(s.recv_mbps, (s.bytes_received! * 8) / s.elapsed_s / 1e6);
  const r = run(h, (ondone) => netperf(h.a, { test: 'TCP_RR', server, host: h.b4, length_s: 1, per_jiffy: 3, ondone }), 2000);
  t.is(r.transactions, 3000);
  t.is(r.trans_per_sec, 3000);
});

test('netperf TCP_RR over IPv6, and TCP echo to a dual-stack server from an IPv4 client', (t) => {
  const h = tcpHosts();
  const server = new NetServer(h.b, { family: AF_INET6 });
  const r = run(h, (ondone) => netperf(h.a, { test: 'TCP_RR', family: AF_INET6, server, host: h.b6, length_s: 0.5, per_jiffy: 2, request_size: 100, response_size: 200, ondone }), 1000);
  t.is(r.transactions, 1000);
  t.is(r.request_size, 100);
  t.is(r.response_size, 200);
  t.is(server.endpoints[0]!.bytes, 100 * 1000);
  const echo = new TcpEchoServer(h.b, { family: AF_INET6, port: 7 });
  let got = '';
  tcp_connect(h.a, { server: { family: AF_INET, addr: h.b4, port: 7 }, onconnect: (c) => c.write(bytes('dual')), ondata: (_c, d) => (got += text(d)) });
  h.advance(20);
  t.is(got, 'dual');
  t.is(echo.accepted, 1);
});

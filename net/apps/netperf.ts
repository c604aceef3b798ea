// netperf's four classic tests as doc/netperf.texi defines them (sockets.md §8), against a
// NetServer on another machine, timed by the sending machine's clock:
//   UDP_STREAM  messages of `message_size` (-m) as fast as allowed, no flow control; a send line
//               (messages sent, errors, 10^6 bits/s) and a receive line (what arrived).
//   TCP_STREAM  bulk data in `message_size` sends; 10^6 bits/s over the time from the first send
//               to the receiver's end of the data (the flush of the tail included).
//   UDP_RR      one request (`request_size`) and one response (`response_size`) at a time on a
//               connect()ed socket (netserver's is not connected); a lost datagram stalls the
//               test until its end, as in netperf. Transactions per second.
//   TCP_RR      the same over one TCP connection.
//   TCP_CRR     a connection per transaction (send_tcp_conn_rr): socket, bind to the next client
//               port (5000..65535, skipping netserver's; EADDRINUSE moves on), connect, the
//               request, the response, shutdown(SHUT_WR), read until netserver's close (EOF,
//               so the TIME_WAIT is netserver's), close. Transactions per second = connections
//               per second.
//
// Pacing: a machine's clock does not move while its packets do (on the virtual clock, not at
// all until the test harness advances it), so an unbounded send loop would never let the test
// end. netperf's own pacing (--enable-burst's -b burst every -w interval) is what this does:
// at most `per_jiffy` messages (STREAM) or transactions (RR) per jiffy. Rates are therefore
// bounded by per_jiffy * HZ; what a test measures is the stack's delivery against that offer.
import type { Net } from '../core/net-namespace.ts';
import type { ReadonlyIn6Addr } from '../core/in6-addr.ts';
import { in6addr_any } from '../core/in6-addr.ts';
import type { Sockaddr } from '../core/msghdr.ts';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM, type InetFamily } from '../core/socket-constants.ts';
import { SO, SOL_SOCKET } from '../core/socket-options.ts';
import { NSEC_PER_SEC, TimerList } from '../core/clock.ts';
import { E } from '../core/sock-opts.ts';
import { Socket } from '../socket.ts';
import { check } from './echo.ts';
import { TcpConn, type TcpConnHandlers } from './tcp-conn.ts';
import { NetServer, netperf_rr, type DataEndpoint, type NetperfTest } from './netserver.ts';

/** netperf's client_port_min / client_port_max (-p's local range): TCP_CRR's local ports. */
export const CLIENT_PORT_MIN = 5000;
export const CLIENT_PORT_MAX = 65535;

export interface NetperfOptions {
  test: NetperfTest;
  server: NetServer;
  /** The server machine's address (netperf -H). */
  host: number | ReadonlyIn6Addr;
  family?: InetFamily;
  /** Test length in seconds of the machine's clock (netperf -l), default 10. */
  length_s?: number;
  /** STREAM send size (-m): default 1472 for UDP (1500 - 20 - 8), 16384 for TCP. */
  message_size?: number;
  /** RR sizes (-r req,rsp), default 1,1. */
  request_size?: number;
  response_size?: number;
  /** Messages (STREAM) or transactions (RR) at most per jiffy; see the file comment. Default 10. */
  per_jiffy?: number;
  /** SO_SNDBUF / SO_RCVBUF of netperf's data socket (-s), and of netserver's (-S). */
  send_socket_size?: number;
  recv_socket_size?: number;
  ondone?: (r: NetperfResult) => void;
}

export interface NetperfResult {
  test: NetperfTest;
  elapsed_s: number;
  send_socket_size: number;
  recv_socket_size: number;
  /** STREAM */
  message_size?: number;
  messages_sent?: number;
  send_errors?: number;
  bytes_sent?: number;
  send_mbps?: number;
  messages_received?: number;
  bytes_received?: number;
  recv_mbps?: number;
  /** RR */
  request_size?: number;
  response_size?: number;
  transactions?: number;
  trans_per_sec?: number;
  /** TCP_CRR: connections that failed (the transaction not counted). */
  conn_errors?: number;
  /** The report as netperf prints it. */
  text: string;
}

const mbps = (bytes: number, secs: number): number => (secs > 0 ? (bytes * 8) / secs / 1e6 : 0);
const f2 = (x: number): string => x.toFixed(2);

/** One netperf run: starts when created, `result` once done (and ondone called). */
export class Netperf {
  readonly net: Net;
  readonly o: NetperfOptions;
  readonly test: NetperfTest;
  readonly ep: DataEndpoint;
  result: NetperfResult | null = null;
  private sock: Socket | null = null;
  private conn: TcpConn | null = null;
  private readonly timer: TimerList;
  private start_ns = 0;
  private end_ns = 0;
  private running = false;
  private tick_jiffy = -1;
  private tick_count = 0;
  private readonly per_jiffy: number;
  private readonly payload: Uint8Array;
  private readonly rbuf = new Uint8Array(65536);
  // counters
  private sent = 0;
  private send_errors = 0;
  private bytes_sent = 0;
  private transactions = 0;
  private outstanding = false;
  private rsp_pending = 0;
  // TCP_CRR
  private readonly peer: Sockaddr;
  private readonly local: Sockaddr;
  private myport = CLIENT_PORT_MIN;
  private sndbuf = 0;
  private conn_errors = 0;
  /** The response is in; netperf's shutdown waits for the process to run again. */
  private crr_rsp_done = false;
  /** One handler set for every TCP_CRR connection (the callbacks get the connection). */
  private readonly crr: TcpConnHandlers = {
    onconnect: (c) => c.write(this.payload),
    ondata: (c, d) => this.crr_data(c, d.length),
    onend: (c) => this.crr_end(c),
    onerror: (c, err) => this.crr_error(c, err),
  };

  constructor(net: Net, o: NetperfOptions) {
    this.net = net;
    this.o = o;
    this.test = o.test;
    this.per_jiffy = o.per_jiffy ?? 10;
    const family = o.family ?? AF_INET;
    const rr = netperf_rr(o.test);
    const size = rr ? (o.request_size ?? 1) : (o.message_size ?? (o.test === 'UDP_STREAM' ? 1472 : 16384));
    this.payload = new Uint8Array(size);
    for (let i = 0; i < size; i++) this.payload[i] = i & 0xff;
    this.ep = o.server.open(o.test, { request_size: o.request_size, response_size: o.response_size, recv_socket_size: o.recv_socket_size });
    this.timer = new TimerList(() => this.tick());
    const peer = NetServer.data_addr(family, o.host, this.ep.port);
    this.peer = peer;
    this.local = family === AF_INET6 ? { family: AF_INET6, addr: in6addr_any, port: 0 } : { family: AF_INET, addr: 0, port: 0 };
    if (o.test === 'TCP_CRR') {
      // The clock starts before the first connect, as send_tcp_conn_rr's timer does.
      this.begin();
    } else if (o.test === 'UDP_STREAM' || o.test === 'UDP_RR') {
      const s = Socket.create(net, family, SOCK_DGRAM);
      if (typeof s === 'number') throw new Error(`socket: ${s}`);
      this.sock = s;
      if (o.send_socket_size !== undefined) s.setsockopt(SOL_SOCKET, SO.SO_SNDBUF, o.send_socket_size);
      check(s.connect(peer), 'connect');
      s.onready = () => (o.test === 'UDP_RR' ? this.udp_rr_read() : this.pump_stream());
      this.begin();
    } else {
      const s = Socket.create(net, family, 1 /* SOCK_STREAM */);
      if (typeof s === 'number') throw new Error(`socket: ${s}`);
      this.sock = s;
      if (o.send_socket_size !== undefined) s.setsockopt(SOL_SOCKET, SO.SO_SNDBUF, o.send_socket_size);
      this.conn = new TcpConn(s, {
        onconnect: () => this.begin(),
        ondata: (_c, d) => this.tcp_rr_data(d.length),
        ondrain: () => {
          if (this.test === 'TCP_STREAM') this.pump_stream();
        },
        onend: () => this.tcp_end(),
        onerror: (_c, err) => this.fail(err),
      }, false);
      this.conn.connect(peer);
    }
  }

  private get clock() {
    return this.net.boot.clock;
  }

  private begin(): void {
    this.start_ns = this.clock.ktime_get_ns();
    this.end_ns = this.start_ns + (this.o.length_s ?? 10) * NSEC_PER_SEC;
    this.running = true;
    this.clock.mod_timer(this.timer, this.clock.get_jiffies_64() + 1);
    this.kick();
  }

  /** Whether this jiffy's budget allows one more message or transaction (and counts it). */
  private budget(): boolean {
    const j = this.clock.get_jiffies_64();
    if (j !== this.tick_jiffy) {
      this.tick_jiffy = j;
      this.tick_count = 0;
    }
    if (this.tick_count >= this.per_jiffy) return false;
    this.tick_count++;
    return true;
  }

  private tick(): void {
    if (this.crr_rsp_done) {
      this.crr_rsp_done = false;
      this.conn?.end();
    }
    if (!this.running) return;
    if (this.clock.ktime_get_ns() >= this.end_ns) return this.stop();
    this.clock.mod_timer(this.timer, this.clock.get_jiffies_64() + 1);
    this.kick();
  }

  private kick(): void {
    if (this.test === 'UDP_STREAM' || this.test === 'TCP_STREAM') this.pump_stream();
    else if (!this.outstanding) this.request();
  }

  private pump_stream(): void {
    if (!this.running) return;
    if (this.test === 'TCP_STREAM') {
      const conn = this.conn!;
      // Keep one message queued beyond what the socket holds, no more.
      while (conn.queued === 0 && this.budget()) {
        conn.write(this.payload);
        this.sent++;
        this.bytes_sent += this.payload.length;
      }
      return;
    }
    const s = this.sock!;
    while (this.budget()) {
      const r = s.send(this.payload);
      if (r >= 0) {
        this.sent++;
        this.bytes_sent += r;
      } else {
        this.send_errors++;
        if (r === -E.EAGAIN) return;
      }
    }
  }

  private request(): void {
    if (!this.running || this.outstanding || !this.budget()) return;
    this.outstanding = true;
    this.rsp_pending = this.o.response_size ?? 1;
    if (this.test === 'TCP_CRR') {
      this.crr_connect();
      return;
    }
    if (this.test === 'TCP_RR') {
      this.conn!.write(this.payload);
      return;
    }
    const r = this.sock!.send(this.payload);
    if (r < 0) {
      this.send_errors++;
      this.outstanding = false;
    }
  }

  private complete(): void {
    this.outstanding = false;
    this.transactions++;
    if (this.running && this.clock.ktime_get_ns() < this.end_ns) this.request();
  }

  private udp_rr_read(): void {
    const s = this.sock!;
    for (;;) {
      const n = s.recv(this.rbuf);
      if (n === -E.EAGAIN) return;
      if (n < 0) {
        this.send_errors++;
        continue;
      }
      if (this.outstanding) this.complete();
    }
  }

  private tcp_rr_data(n: number): void {
    if (this.test !== 'TCP_RR' || !this.outstanding) return;
    this.rsp_pending -= n;
    if (this.rsp_pending <= 0) this.complete();
  }

  /** send_tcp_conn_rr's newport: a socket bound to the next client port, connecting to netserver. */
  private crr_connect(): void {
    const family = this.o.family ?? AF_INET;
    for (let tries = 0; tries < CLIENT_PORT_MAX - CLIENT_PORT_MIN; tries++) {
      if (++this.myport >= CLIENT_PORT_MAX) this.myport = CLIENT_PORT_MIN;
      if (this.myport === this.peer.port) this.myport++;
      const s = Socket.create(this.net, family, SOCK_STREAM);
      if (typeof s === 'number') return this.fail(s);
      // create_data_socket's SO_REUSEADDR: a port whose last connection is still closing binds.
      s.setsockopt(SOL_SOCKET, SO.SO_REUSEADDR, 1);
      if (this.o.send_socket_size !== undefined) s.setsockopt(SOL_SOCKET, SO.SO_SNDBUF, this.o.send_socket_size);
      this.local.port = this.myport;
      const r = s.bind(this.local);
      if (r === -E.EADDRINUSE) {
        s.close();
        continue;
      }
      if (r < 0) {
        s.close();
        return this.fail(r);
      }
      this.sock = s;
      this.sndbuf = s.getsockopt(SOL_SOCKET, SO.SO_SNDBUF).value as number;
      this.conn = new TcpConn(s, this.crr, false);
      this.conn.connect(this.peer);
      return;
    }
    this.fail(-E.EADDRINUSE);
  }

  private crr_data(c: TcpConn, n: number): void {
    if (c !== this.conn || !this.outstanding) return;
    this.rsp_pending -= n;
    // The whole response: netperf's shutdown(SHUT_WR) and its read of netserver's close come when
    // the process next runs, which is not inside this wake-up: by then the delivery that woke it
    // has usually brought netserver's FIN too (sent right behind the response), and netperf's
    // FIN answers it. So the process goes on at the next wake-up (the FIN: crr_end) or the next
    // tick, whichever is first.
    if (this.rsp_pending <= 0) this.crr_rsp_done = true;
  }

  private crr_end(c: TcpConn): void {
    this.crr_rsp_done = false;
    c.close();
    if (c !== this.conn) return;
    this.conn = null;
    if (this.rsp_pending > 0) {
      // netserver closed before answering in full: not a transaction.
      this.conn_errors++;
      this.outstanding = false;
      if (this.running) this.request();
      return;
    }
    this.complete();
  }

  private crr_error(c: TcpConn, err: number): void {
    this.crr_rsp_done = false;
    c.sock.close();
    if (c !== this.conn) return;
    this.conn = null;
    this.outstanding = false;
    // connect()'s EADDRINUSE / EADDRNOTAVAIL: the 4-tuple is taken; netperf goes to the next port.
    if (err === -E.EADDRINUSE || err === -E.EADDRNOTAVAIL) {
      if (this.running) this.request();
      return;
    }
    this.conn_errors++;
    if (this.running) this.request();
  }

  private tcp_end(): void {
    if (this.test === 'TCP_STREAM' && this.result === null) this.finish(this.clock.ktime_get_ns());
  }

  private fail(err: number): void {
    this.running = false;
    this.clock.del_timer(this.timer);
    if (this.result === null) {
      this.result = { test: this.test, elapsed_s: 0, send_socket_size: 0, recv_socket_size: 0, text: `netperf: ${this.test}: errno ${-err}` };
      this.o.ondone?.(this.result);
    }
  }

  /** The test time is over: STREAM over TCP still flushes (elapsed ends at the receiver's EOF). */
  private stop(): void {
    this.running = false;
    this.clock.del_timer(this.timer);
    if (this.test === 'TCP_STREAM') {
      this.conn!.end();
      return;
    }
    this.finish(this.clock.ktime_get_ns());
  }

  private finish(now: number): void {
    const secs = (now - this.start_ns) / NSEC_PER_SEC;
    const sndbuf = this.test === 'TCP_CRR' ? this.sndbuf : this.sock!.getsockopt(SOL_SOCKET, SO.SO_SNDBUF).value as number;
    const rcvbuf = this.ep.recv_socket_size;
    const r: NetperfResult = { test: this.test, elapsed_s: secs, send_socket_size: sndbuf, recv_socket_size: rcvbuf, text: '' };
    const ep = this.ep;
    switch (this.test) {
      case 'UDP_STREAM': {
        r.message_size = this.payload.length;
        r.messages_sent = this.sent;
        r.send_errors = this.send_errors;
        r.bytes_sent = this.bytes_sent;
        r.send_mbps = mbps(this.bytes_sent, secs);
        r.messages_received = ep.messages;
        r.bytes_received = ep.bytes;
        r.recv_mbps = mbps(ep.bytes, secs);
        r.text = [
          'Socket  Message  Elapsed      Messages',
          'Size    Size     Time         Okay Errors   Throughput',
          'bytes   bytes    secs            #      #   10^6bits/sec',
          '',
          `${String(sndbuf).padEnd(8)}${String(r.message_size).padStart(7)}  ${f2(secs).padStart(6)}  ${String(this.sent).padStart(10)} ${String(this.send_errors).padStart(6)}  ${f2(r.send_mbps).padStart(10)}`,
          `${String(rcvbuf).padEnd(8)}         ${f2(secs).padStart(6)}  ${String(ep.messages).padStart(10)}         ${f2(r.recv_mbps).padStart(10)}`,
        ].join('\n');
        break;
      }
      case 'TCP_STREAM': {
        r.message_size = this.payload.length;
        r.messages_sent = this.sent;
        r.bytes_sent = this.conn!.bytes_out;
        r.bytes_received = ep.bytes;
        r.recv_mbps = mbps(ep.bytes, secs);
        r.send_mbps = r.recv_mbps;
        r.text = [
          'Recv   Send    Send',
          'Socket Socket  Message  Elapsed',
          'Size   Size    Size     Time     Throughput',
          'bytes  bytes   bytes    secs.    10^6bits/sec',
          '',
          `${String(rcvbuf).padEnd(7)}${String(sndbuf).padEnd(8)}${String(r.message_size).padEnd(9)}${f2(secs).padEnd(9)}${f2(r.recv_mbps)}`,
        ].join('\n');
        break;
      }
      default: {
        r.request_size = this.o.request_size ?? 1;
        r.response_size = this.o.response_size ?? 1;
        r.transactions = this.transactions;
        r.trans_per_sec = secs > 0 ? this.transactions / secs : 0;
        r.send_errors = this.send_errors;
        if (this.test === 'TCP_CRR') r.conn_errors = this.conn_errors;
        r.text = [
          'Local /Remote',
          'Socket Size   Request  Resp.   Elapsed  Trans.',
          'Send   Recv   Size     Size    Time     Rate',
          'bytes  Bytes  bytes    bytes   secs.    per sec',
          '',
          `${String(sndbuf).padEnd(7)}${String(rcvbuf).padEnd(7)}${String(r.request_size).padEnd(9)}${String(r.response_size).padEnd(8)}${f2(secs).padEnd(9)}${f2(r.trans_per_sec)}`,
        ].join('\n');
      }
    }
    this.result = r;
    if (this.test === 'TCP_CRR') {
      // A transaction under way when the time ran out is abandoned, as netperf's alarm does.
      this.conn?.sock.close();
      this.conn = null;
    } else if (this.test !== 'TCP_STREAM') this.sock!.close();
    else this.conn!.close();
    this.o.ondone?.(r);
  }
}

/** Starts a netperf test (netperf -t TEST -H host -l len ...). */
export function netperf(net: Net, o: NetperfOptions): Netperf {
  return new Netperf(net, o);
}

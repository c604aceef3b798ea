// netperf's sending half for a run across two machines (two workers that share no objects): the
// data connection to netserver's data port on the other machine, which the runner gives both
// sides (what netperf would learn over its control connection on 12865), and the four tests as
// doc/netperf.texi defines them (sockets.md §8). The result is assembled by the runner from both
// machines' counters over the measured window.
//
// No pacing on the real clock: a STREAM sender sends until the socket refuses (EAGAIN, or an
// error such as ENOBUFS, counted) and resumes when the socket wakes it (TCP's write space, an RR
// response). Wake-ups run the test's step at once, as netperf's blocked send() or recv() returning
// would, so a response or ACK the NAPI poll delivers is answered in the same poll, whose one
// flush carries the next request. The loop's poll also runs it, and gives the loop back after a
// batch, as a process's time slice ends: a UDP send that the driver drops still "succeeds"
// (udp_send_skb hides ENOBUFS without IP_RECVERR), so a UDP sender that looped until refused
// could loop for ever; UDP_STREAM therefore sends from the poll only.
//
// TCP_CRR (send_tcp_conn_rr) makes a connection per transaction: a socket bound to the next
// client port (netperf's 5000..65535, skipping the server's port, the next one on EADDRINUSE),
// connect, the request, the response, shutdown(SHUT_WR), then a read until netserver's close
// (EOF), close; the next connection starts in the same step, as netperf's loop goes round at
// once. It runs from the loop's poll only, not in wake-ups: a process reading the response is
// scheduled after the softirq that delivered it, which by then has also delivered netserver's
// FIN (sent right behind the response), so netperf's shutdown answers that FIN and netserver
// keeps the TIME_WAIT, as on Linux. Run from the wake-up of the response, the two FINs would
// cross and both sides would keep one.
import type { Net } from '../../net/core/net-namespace.ts';
import type { Sockaddr } from '../../net/core/msghdr.ts';
import { AF_INET6, SOCK_DGRAM, SOCK_STREAM, type InetFamily } from '../../net/core/socket-constants.ts';
import { in6addr_any } from '../../net/core/in6-addr.ts';
import { E } from '../../net/core/sock-opts.ts';
import { SHUT, SO, SOL_SOCKET } from '../../net/core/socket-options.ts';
import { Socket } from '../../net/socket.ts';
import { netperf_tcp, type NetperfTest } from '../../net/apps/netserver.ts';
import { CLIENT_PORT_MAX, CLIENT_PORT_MIN } from '../../net/apps/netperf.ts';

/** Sends (or receive attempts) per loop round at most: a time slice. */
const BATCH = 64;

/** TCP_CRR's connection: none yet, connecting, waiting for the response, waiting for netserver's close. */
const CRR = { IDLE: 0, CONNECTING: 1, RESPONSE: 2, EOF: 3 } as const;
type CrrState = (typeof CRR)[keyof typeof CRR];

export interface NetperfSenderOptions {
  test: NetperfTest;
  family: InetFamily;
  peer: Sockaddr;
  /** STREAM: the send size; RR: the request size. */
  size: number;
  /** RR: the response size. */
  responseSize: number;
}

export class NetperfSender {
  readonly o: NetperfSenderOptions;
  /** The data socket (TCP_CRR: the current connection's, or the last one's). */
  sock: Socket;
  /** Messages (sends) and bytes the socket took; sends refused with an error other than EAGAIN. */
  sent = 0;
  bytes_sent = 0;
  send_errors = 0;
  /** RR: completed transactions (TCP_CRR: connections that did the whole exchange). */
  transactions = 0;
  /** TCP_CRR: connections made (connect() called) and those that failed (reset, refused, timed out, short response). */
  connects = 0;
  conn_errors = 0;
  /** TCP_CRR: the errno of the last failed connection (negative), or 0. */
  last_error = 0;
  connected = false;
  /** The connect failed (errno, negative), or 0. */
  error = 0;
  private readonly payload: Uint8Array;
  private readonly rbuf = new Uint8Array(65536);
  private started = false;
  private outstanding = false;
  private rsp_pending = 0;
  private readonly stream: boolean;
  private readonly tcp: boolean;
  /** Inside a step: a wake-up from our own send or recv is folded into it. */
  private busy = false;
  private readonly net: Net;
  // TCP_CRR
  private crr: CrrState = CRR.IDLE;
  private myport = CLIENT_PORT_MIN;
  private readonly local: Sockaddr;

  constructor(net: Net, o: NetperfSenderOptions) {
    this.o = o;
    this.net = net;
    this.tcp = netperf_tcp(o.test);
    this.stream = o.test === 'TCP_STREAM' || o.test === 'UDP_STREAM';
    this.local = o.family === AF_INET6 ? { family: AF_INET6, addr: in6addr_any, port: 0 } : { family: o.family, addr: 0, port: 0 };
    const s = Socket.create(net, o.family, this.tcp ? SOCK_STREAM : SOCK_DGRAM);
    if (typeof s === 'number') throw new Error(`netperf: socket: errno ${-s}`);
    // TCP_CRR: a socket that stays unconnected, for SO_SNDBUF's report until the first connection.
    this.sock = s;
    if (o.test !== 'UDP_STREAM' && o.test !== 'TCP_CRR') s.onready = () => { if (!this.busy) this.poll(); };
    this.payload = new Uint8Array(o.size);
    for (let i = 0; i < o.size; i++) this.payload[i] = i & 0xff;
  }

  /** One loop round (or a wake-up): connect on the first, then the test's work. Returns the work done. */
  poll(): number {
    if (this.error !== 0 || this.busy) return 0;
    this.busy = true;
    try {
      return this.o.test === 'TCP_CRR' ? this.crr_step() : this.step();
    } finally {
      this.busy = false;
    }
  }

  private step(): number {
    if (!this.started) {
      this.started = true;
      const r = this.sock.connect(this.o.peer);
      if (r === 0) this.connected = true;
      else if (r !== -E.EINPROGRESS) this.error = r;
      return 1;
    }
    if (!this.connected) {
      // A non-blocking connect completes when connect() says 0 (or EISCONN).
      const r = this.sock.connect(this.o.peer);
      if (r === 0 || r === -E.EISCONN) this.connected = true;
      else if (r !== -E.EALREADY && r !== -E.EINPROGRESS) this.error = r;
      return 0;
    }
    return this.stream ? this.send_stream() : this.rr();
  }

  private send_stream(): number {
    const s = this.sock, p = this.payload;
    let n = 0;
    for (; n < BATCH; n++) {
      const r = s.send(p);
      if (r >= 0) {
        this.sent++;
        this.bytes_sent += r;
        continue;
      }
      if (r !== -E.EAGAIN) this.send_errors++;
      break;
    }
    return n;
  }

  private rr(): number {
    let work = 0;
    // Read whatever of the response has come.
    if (this.outstanding) {
      for (let i = 0; i < BATCH; i++) {
        const r = this.sock.recv(this.rbuf);
        if (r === -E.EAGAIN) break;
        if (r < 0) {
          this.send_errors++;
          continue;
        }
        work++;
        if (this.tcp) this.rsp_pending -= r;
        else this.rsp_pending = 0;
        if (this.rsp_pending <= 0) {
          this.outstanding = false;
          this.transactions++;
          break;
        }
      }
    }
    if (!this.outstanding) {
      const r = this.sock.send(this.payload);
      if (r >= 0) {
        this.sent++;
        this.bytes_sent += r;
        this.outstanding = true;
        this.rsp_pending = this.o.responseSize;
        work++;
      } else if (r !== -E.EAGAIN) this.send_errors++;
    }
    return work;
  }

  /**
   * TCP_CRR: moves the current connection as far as it can go; a finished one is closed and the
   * next one started, at most BATCH connections a step (a time slice).
   */
  private crr_step(): number {
    let work = 0;
    for (let conns = 0; conns < BATCH; ) {
      switch (this.crr) {
        case CRR.IDLE:
          if (!this.crr_open()) return work;
          conns++;
          work++;
          continue;
        case CRR.CONNECTING: {
          const r = this.sock.connect(this.o.peer);
          if (r === -E.EALREADY || r === -E.EINPROGRESS) return work;
          if (r !== 0 && r !== -E.EISCONN) {
            this.crr_fail(r);
            continue;
          }
          this.connected = true;
          const n = this.sock.send(this.payload);
          if (n === -E.EAGAIN) return work;
          if (n < 0) {
            this.crr_fail(n);
            continue;
          }
          this.sent++;
          this.bytes_sent += n;
          this.rsp_pending = this.o.responseSize;
          this.crr = CRR.RESPONSE;
          work++;
          continue;
        }
        case CRR.RESPONSE: {
          const r = this.sock.recv(this.rbuf);
          if (r === -E.EAGAIN) return work;
          if (r <= 0) {
            // netserver closed (or reset) before the whole response: not a transaction.
            this.crr_fail(r === 0 ? -E.ECONNRESET : r);
            continue;
          }
          work++;
          this.rsp_pending -= r;
          if (this.rsp_pending > 0) continue;
          this.sock.shutdown(SHUT.SHUT_WR);
          this.crr = CRR.EOF;
          continue;
        }
        case CRR.EOF: {
          const r = this.sock.recv(this.rbuf);
          if (r === -E.EAGAIN) return work;
          if (r > 0) continue;
          if (r < 0) {
            this.crr_fail(r);
            continue;
          }
          this.transactions++;
          this.sock.close();
          this.crr = CRR.IDLE;
          work++;
          continue;
        }
      }
    }
    return work;
  }

  /** send_tcp_conn_rr's newport: a socket bound to the next client port, connect started. False when none could be made. */
  private crr_open(): boolean {
    const o = this.o;
    for (let tries = 0; tries < CLIENT_PORT_MAX - CLIENT_PORT_MIN; tries++) {
      if (++this.myport >= CLIENT_PORT_MAX) this.myport = CLIENT_PORT_MIN;
      if (this.myport === o.peer.port) this.myport++;
      const s = Socket.create(this.net, o.family, SOCK_STREAM);
      if (typeof s === 'number') {
        this.error = s;
        return false;
      }
      // create_data_socket's SO_REUSEADDR.
      s.setsockopt(SOL_SOCKET, SO.SO_REUSEADDR, 1);
      this.local.port = this.myport;
      let r = s.bind(this.local);
      if (r === 0) r = s.connect(o.peer);
      // The port (bind) or the 4-tuple (connect) is taken: the next port.
      if (r === -E.EADDRINUSE || r === -E.EADDRNOTAVAIL) {
        s.close();
        continue;
      }
      // The first connection replaces the placeholder socket.
      if (this.connects === 0) this.sock.close();
      this.sock = s;
      this.connects++;
      if (r !== 0 && r !== -E.EINPROGRESS) {
        this.crr_fail(r);
        return true;
      }
      this.crr = CRR.CONNECTING;
      return true;
    }
    this.error = -E.EADDRINUSE;
    return false;
  }

  private crr_fail(err: number): void {
    // netperf exits on any of these; here the run goes on and counts them (app_np_send_errors).
    this.conn_errors++;
    this.send_errors++;
    this.last_error = err;
    this.sock.close();
    this.crr = CRR.IDLE;
  }

  close(): void {
    this.sock.close();
  }
}

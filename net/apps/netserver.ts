// netserver, netperf's receiving side (HewlettPackard/netperf, doc/netperf.texi; sockets.md §8):
// for each test it opens a data endpoint and serves it: UDP_STREAM and TCP_STREAM receive and
// count (a sink), UDP_RR answers each request with a response of the agreed size by
// recvfrom/sendto (its socket is not connected), TCP_RR answers each request on the connection,
// TCP_CRR (recv_tcp_conn_rr) accepts a connection per transaction, reads the request, writes the
// response and closes at once: netserver closes first, so the TIME_WAIT is the server's and
// netperf's ports can be reused as it cycles through them.
//
// netperf sets a test up over a TCP control connection to port 12865. Both programs here run in
// one process, so the control exchange is a method call (`open`); the data path is real sockets.
import type { Net } from '../core/net-namespace.ts';
import type { MsgHdr, Sockaddr } from '../core/msghdr.ts';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM, type InetFamily } from '../core/socket-constants.ts';
import { SO, SOL_SOCKET } from '../core/socket-options.ts';
import type { ReadonlyIn6Addr } from '../core/in6-addr.ts';
import { E } from '../core/sock-opts.ts';
import type { Socket } from '../socket.ts';
import { check, open_server_socket } from './echo.ts';
import { TcpConn } from './tcp-conn.ts';

/** netserver's control port. */
export const NETSERVER_PORT = 12865;

export type NetperfTest = 'UDP_STREAM' | 'TCP_STREAM' | 'UDP_RR' | 'TCP_RR' | 'TCP_CRR';

/** The tests over TCP (a listening data socket on netserver's side). */
export const netperf_tcp = (t: NetperfTest): boolean => t === 'TCP_STREAM' || t === 'TCP_RR' || t === 'TCP_CRR';
/** The request/response tests (transactions per second). */
export const netperf_rr = (t: NetperfTest): boolean => t === 'UDP_RR' || t === 'TCP_RR' || t === 'TCP_CRR';

/** recv_tcp_conn_rr's listen(2) backlog. */
const CRR_BACKLOG = 128;

export interface NetServerOptions {
  family?: InetFamily;
  addr?: number | ReadonlyIn6Addr;
}

export interface DataEndpointOptions {
  /** RR: request and response sizes (netperf -r req,rsp), default 1,1. */
  request_size?: number;
  response_size?: number;
  /** The data port; 0 (default) for an ephemeral one, as netserver takes. */
  port?: number;
  /** SO_RCVBUF / SO_SNDBUF for the data socket (netperf -S / -s), unset by default. */
  recv_socket_size?: number;
  send_socket_size?: number;
}

/** The receiving side of one test: what it has read and answered. */
export class DataEndpoint {
  readonly test: NetperfTest;
  readonly sock: Socket;
  readonly port: number;
  /** Messages (datagrams, or reads for TCP) and bytes received; RR responses sent. */
  messages = 0;
  bytes = 0;
  responses = 0;
  errors = 0;
  /** TCP: the connection reached EOF (the sender's FIN). */
  finished = false;
  /** TCP_CRR: connections accepted. */
  accepted = 0;
  readonly conns: TcpConn[] = [];
  /** TCP_CRR's accepted sockets until each closes (a long run keeps none). */
  private readonly crr_open = new Set<Socket>();
  private readonly buf = new Uint8Array(65536);
  private readonly msg: MsgHdr = { msg_flags: 0 };
  private readonly rsp: Uint8Array;
  private readonly req_size: number;

  constructor(net: Net, family: InetFamily, addr: number | ReadonlyIn6Addr | undefined, test: NetperfTest, o: DataEndpointOptions) {
    this.test = test;
    this.req_size = o.request_size ?? 1;
    this.rsp = new Uint8Array(o.response_size ?? 1);
    const stream = netperf_tcp(test);
    this.sock = open_server_socket(net, { family, addr, port: o.port ?? 0 }, stream ? SOCK_STREAM : SOCK_DGRAM);
    if (o.recv_socket_size !== undefined) this.sock.setsockopt(SOL_SOCKET, SO.SO_RCVBUF, o.recv_socket_size);
    if (o.send_socket_size !== undefined) this.sock.setsockopt(SOL_SOCKET, SO.SO_SNDBUF, o.send_socket_size);
    this.port = this.sock.getsockname().port;
    if (stream) {
      check(this.sock.listen(test === 'TCP_CRR' ? CRR_BACKLOG : 16), 'listen');
      this.sock.onready = () => this.accept();
    } else {
      this.sock.onready = test === 'UDP_RR' ? () => this.udp_rr() : () => this.udp_stream();
    }
  }

  /** The receive socket's SO_RCVBUF as netperf reports it. */
  get recv_socket_size(): number {
    return this.sock.getsockopt(SOL_SOCKET, SO.SO_RCVBUF).value as number;
  }

  private udp_stream(): void {
    const s = this.sock;
    const buf = this.buf;
    for (;;) {
      const n = s.recv(buf);
      if (n === -E.EAGAIN) return;
      if (n < 0) {
        this.errors++;
        continue;
      }
      this.messages++;
      this.bytes += n;
    }
  }

  private udp_rr(): void {
    const s = this.sock;
    const msg = this.msg;
    for (;;) {
      const n = s.recvmsg(this.buf, msg);
      if (n === -E.EAGAIN) return;
      if (n < 0) {
        this.errors++;
        continue;
      }
      this.messages++;
      this.bytes += n;
      if (s.sendmsg(this.rsp, { msg_name: msg.msg_name }) >= 0) this.responses++;
      else this.errors++;
    }
  }

  private accept(): void {
    for (;;) {
      const c = this.sock.accept();
      if (typeof c === 'number') return;
      if (this.test === 'TCP_CRR') {
        this.accept_crr(c);
        continue;
      }
      let pending = 0;
      const conn = new TcpConn(c, {
        ondata: (cn, d) => {
          this.messages++;
          this.bytes += d.length;
          if (this.test !== 'TCP_RR') return;
          pending += d.length;
          while (pending >= this.req_size) {
            pending -= this.req_size;
            cn.write(this.rsp);
            this.responses++;
          }
        },
        onend: (cn) => {
          this.finished = true;
          cn.close();
        },
        onerror: (cn) => {
          this.errors++;
          cn.sock.close();
        },
      }, true);
      this.conns.push(conn);
      conn.run();
    }
  }

  /**
   * One TCP_CRR transaction on an accepted socket: read the request, send the response, close.
   * Driven by the socket's wake-ups directly rather than a TcpConn: the close comes in the middle
   * of a read loop, which must stop there.
   */
  private accept_crr(c: Socket): void {
    this.accepted++;
    this.crr_open.add(c);
    let pending = this.req_size;
    let sent = 0;
    const done = (): void => {
      c.close();
      this.crr_open.delete(c);
    };
    const step = (): void => {
      while (pending > 0) {
        const n = c.recv(this.buf);
        if (n === -E.EAGAIN) return;
        if (n <= 0) {
          // netperf's FIN or an error before the whole request: nothing to answer.
          if (n < 0) this.errors++;
          return done();
        }
        this.messages++;
        this.bytes += n;
        pending -= n;
      }
      while (sent < this.rsp.length) {
        const n = c.send(sent === 0 ? this.rsp : this.rsp.subarray(sent));
        if (n === -E.EAGAIN) return;
        if (n < 0) {
          this.errors++;
          return done();
        }
        sent += n;
      }
      this.responses++;
      done();
    };
    c.onready = step;
    step();
  }

  close(): void {
    for (const c of this.conns) if (c.error === 0 && !c.ended) c.sock.close();
    for (const c of this.crr_open) c.close();
    this.crr_open.clear();
    this.sock.close();
  }
}

export class NetServer {
  readonly net: Net;
  readonly family: InetFamily;
  readonly addr: number | ReadonlyIn6Addr | undefined;
  readonly endpoints: DataEndpoint[] = [];

  constructor(net: Net, o: NetServerOptions = {}) {
    this.net = net;
    this.family = o.family ?? AF_INET;
    this.addr = o.addr;
  }

  /** The control connection's "set up a test": a data endpoint listening for netperf. */
  open(test: NetperfTest, o: DataEndpointOptions = {}): DataEndpoint {
    const ep = new DataEndpoint(this.net, this.family, this.addr, test, o);
    this.endpoints.push(ep);
    return ep;
  }

  /** The data endpoint's address, for netperf to connect to (the host's address given). */
  static data_addr(family: InetFamily, host: number | ReadonlyIn6Addr, port: number): Sockaddr {
    if (family === AF_INET6) return { family: AF_INET6, addr: host as ReadonlyIn6Addr, port };
    return { family: AF_INET, addr: host as number, port };
  }

  close(): void {
    for (const e of this.endpoints) e.close();
  }
}

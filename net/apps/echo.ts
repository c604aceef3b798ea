// The echo service (RFC 862) over UDP and TCP. The UDP server answers each datagram to its
// source from the address it was sent to (IP_PKTINFO / IPV6_RECVPKTINFO: a server bound to the
// wildcard, or handed its socket by an SK_LOOKUP dispatcher, replies from the original address);
// the TCP server writes back what each connection sends and closes after the peer's FIN.
import type { Net } from '../core/net-namespace.ts';
import type { Cmsg, MsgHdr, Sockaddr } from '../core/msghdr.ts';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM, type InetFamily } from '../core/socket-constants.ts';
import { IP_OPTS, IPV6_OPTS, SOL_IP, SOL_IPV6, SOL_SOCKET, SO } from '../core/socket-options.ts';
import { in6addr_any, type ReadonlyIn6Addr } from '../core/in6-addr.ts';
import { E } from '../core/sock-opts.ts';
import { Socket } from '../socket.ts';
import type { TcpConn } from './tcp-conn.ts';
import { TcpServer } from './tcp-server.ts';

export interface ServerOptions {
  family?: InetFamily;
  /** Local address: a u32 for AF_INET, an In6Addr for AF_INET6; the wildcard by default. */
  addr?: number | ReadonlyIn6Addr;
  port: number;
  /** SO_REUSEPORT before bind. */
  reuseport?: boolean;
  /** An already created socket to serve on (a dispatcher's); bind is skipped if it has a port. */
  sock?: Socket;
  backlog?: number;
}

/** The sockaddr for a server's bind. */
export function server_sockaddr(o: ServerOptions): Sockaddr {
  const family = o.family ?? AF_INET;
  if (family === AF_INET6) return { family: AF_INET6, addr: typeof o.addr === 'object' ? o.addr : in6addr_any, port: o.port };
  return { family: AF_INET, addr: typeof o.addr === 'number' ? o.addr : 0, port: o.port };
}

/** socket + SO_REUSEPORT + bind, throwing (with the errno) when the setup fails: a program's startup. */
export function open_server_socket(net: Net, o: ServerOptions, type: number): Socket {
  if (o.sock !== undefined) {
    if (o.sock.sk.skc_num === 0) check(o.sock.bind(server_sockaddr(o)), 'bind');
    return o.sock;
  }
  const s = Socket.create(net, o.family ?? AF_INET, type);
  if (typeof s === 'number') throw new Error(`socket: ${s}`);
  if (o.reuseport === true) check(s.setsockopt(SOL_SOCKET, SO.SO_REUSEPORT, 1), 'SO_REUSEPORT');
  if (type === SOCK_STREAM) check(s.setsockopt(SOL_SOCKET, SO.SO_REUSEADDR, 1), 'SO_REUSEADDR');
  check(s.bind(server_sockaddr(o)), 'bind');
  return s;
}

export function check(r: number, what: string): void {
  if (r < 0) throw new Error(`${what}: errno ${-r}`);
}

/** The reply's source from a datagram's control messages: its destination, as IP_PKTINFO / IPV6_PKTINFO to send with. */
export function reply_control(ctl: Cmsg[] | undefined): Cmsg[] | undefined {
  if (ctl === undefined) return undefined;
  for (const c of ctl) {
    if (c.kind === 'IP_PKTINFO') return [{ kind: 'IP_PKTINFO', ifindex: 0, spec_dst: c.spec_dst, addr: 0 }];
    if (c.kind === 'IPV6_PKTINFO') return [{ kind: 'IPV6_PKTINFO', ifindex: 0, addr: c.addr }];
  }
  return undefined;
}

/** Asks for the destination of each datagram (IP_PKTINFO, and IPV6_RECVPKTINFO on AF_INET6). */
export function want_pktinfo(s: Socket): void {
  s.setsockopt(SOL_IP, IP_OPTS.IP_PKTINFO, 1);
  if (s.sk.skc_family === AF_INET6) s.setsockopt(SOL_IPV6, IPV6_OPTS.IPV6_RECVPKTINFO, 1);
}

export class UdpEchoServer {
  readonly sock: Socket;
  /** Datagrams echoed, bytes echoed, replies the socket refused (-EAGAIN and others). */
  echoed = 0;
  bytes = 0;
  send_errors = 0;
  private readonly buf = new Uint8Array(65536);
  private readonly msg: MsgHdr = { msg_flags: 0 };

  constructor(net: Net, o: ServerOptions) {
    this.sock = open_server_socket(net, o, SOCK_DGRAM);
    want_pktinfo(this.sock);
    this.sock.onready = () => this.serve();
    this.serve();
  }

  private serve(): void {
    const s = this.sock;
    const msg = this.msg;
    for (;;) {
      msg.msg_control = undefined;
      msg.msg_name = undefined;
      const n = s.recvmsg(this.buf, msg);
      if (n === -E.EAGAIN) return;
      if (n < 0) continue; // a pending ICMP error (sk_err) is reported once; keep serving
      const r = s.sendmsg(this.buf.subarray(0, n), { msg_name: msg.msg_name, msg_control: reply_control(msg.msg_control) });
      if (r < 0) this.send_errors++;
      else {
        this.echoed++;
        this.bytes += n;
      }
    }
  }

  close(): void {
    this.sock.close();
  }
}

export class TcpEchoServer {
  private readonly server: TcpServer;
  bytes = 0;

  constructor(net: Net, o: ServerOptions) {
    this.server = new TcpServer(net, o, {
      ondata: (cn, d) => {
        this.bytes += d.length;
        cn.write(d);
      },
    });
  }

  get sock(): Socket {
    return this.server.sock;
  }
  get conns(): Set<TcpConn> {
    return this.server.conns;
  }
  get accepted(): number {
    return this.server.accepted;
  }

  close(): void {
    this.server.close();
  }
}

export { AF_INET, AF_INET6 };

// The echo service (RFC 862) over UDP and TCP. The UDP server answers each datagram to its
// source from the address it was sent to (IP_PKTINFO / IPV6_RECVPKTINFO: a server bound to the
// wildcard, or handed its socket by an SK_LOOKUP dispatcher, replies from the original address);
// the TCP server writes back what each connection sends and closes after the peer's FIN.
import type { Net } from '../core/net-namespace.ts';
import type { Cmsg, MsgHdr } from '../core/msghdr.ts';
import { AF_INET, AF_INET6, SOCK_DGRAM } from '../core/socket-constants.ts';
import { IP_OPTS, IPV6_OPTS, SOL_IP, SOL_IPV6 } from '../core/socket-options.ts';
import { E } from '../core/sock-opts.ts';
import { Socket } from '../socket.ts';
import type { TcpConn } from './tcp-conn.ts';
import { TcpServer } from './tcp-server.ts';
import { open_server_socket, type ServerOptions } from './server-socket.ts';

export { check, open_server_socket, server_sockaddr, type ServerOptions } from './server-socket.ts';

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

/**
 * The read loop of a UDP server: each datagram (`n` bytes in buf, its source and control
 * messages in msg) goes to `request`, until the queue is empty. A pending ICMP error (sk_err) is
 * reported once by recvmsg; the loop keeps serving.
 */
export function udp_serve(s: Socket, buf: Uint8Array, msg: MsgHdr, request: (n: number) => void): void {
  for (;;) {
    msg.msg_control = undefined;
    msg.msg_name = undefined;
    const n = s.recvmsg(buf, msg);
    if (n === -E.EAGAIN) return;
    if (n < 0) continue;
    request(n);
  }
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

  private readonly serve = (): void => udp_serve(this.sock, this.buf, this.msg, this.echo);

  private readonly echo = (n: number): void => {
    const msg = this.msg;
    const r = this.sock.sendmsg(this.buf.subarray(0, n), { msg_name: msg.msg_name, msg_control: reply_control(msg.msg_control) });
    if (r < 0) this.send_errors++;
    else {
      this.echoed++;
      this.bytes += n;
    }
  };

  close(): void {
    this.sock.close();
  }
}

export class TcpEchoServer extends TcpServer {
  bytes = 0;

  constructor(net: Net, o: ServerOptions) {
    super(net, o);
  }

  protected override ondata(conn: TcpConn, d: Uint8Array): void {
    this.bytes += d.length;
    conn.write(d);
  }
}

export { AF_INET, AF_INET6 };

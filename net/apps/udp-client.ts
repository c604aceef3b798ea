// A UDP client: sends datagrams to one server, connected (send/recv, so ICMP errors come back
// as ECONNREFUSED and only the server's datagrams are taken) or not (sendto/recvfrom), and hands
// each reply to `onmessage`. The client half of the UDP client/server pair (udp-server.ts).
import type { Net } from '../core/net-namespace.ts';
import type { MsgHdr, Sockaddr } from '../core/msghdr.ts';
import { SOCK_DGRAM } from '../core/socket-constants.ts';
import { E } from '../core/sock-opts.ts';
import { Socket } from '../socket.ts';
import { check } from './echo.ts';

export interface UdpClientOptions {
  server: Sockaddr;
  /** connect() to the server (default true). */
  connect?: boolean;
  /** A local address/port to bind first. */
  bind?: Sockaddr;
  onmessage?: (data: Uint8Array, from: Sockaddr | undefined) => void;
  onerror?: (err: number) => void;
}

export class UdpClient {
  readonly sock: Socket;
  readonly o: UdpClientOptions;
  sent = 0;
  received = 0;
  /** Errors send or recv returned, in order (e.g. -ECONNREFUSED after a port unreachable). */
  readonly errors: number[] = [];
  private readonly buf = new Uint8Array(65536);
  private readonly msg: MsgHdr = { msg_flags: 0 };

  constructor(net: Net, o: UdpClientOptions) {
    this.o = o;
    const s = Socket.create(net, o.server.family, SOCK_DGRAM);
    if (typeof s === 'number') throw new Error(`socket: ${s}`);
    this.sock = s;
    if (o.bind !== undefined) check(s.bind(o.bind), 'bind');
    if (o.connect !== false) check(s.connect(o.server), 'connect');
    s.onready = () => this.read();
  }

  /** Sends one datagram: bytes sent or -errno. */
  send(data: Uint8Array): number {
    const r = this.o.connect !== false ? this.sock.send(data) : this.sock.sendto(data, this.o.server);
    if (r < 0) this.error(r);
    else this.sent++;
    return r;
  }

  private error(err: number): void {
    this.errors.push(err);
    this.o.onerror?.(err);
  }

  read(): void {
    const msg = this.msg;
    for (;;) {
      msg.msg_name = undefined;
      const n = this.sock.recvmsg(this.buf, msg);
      if (n === -E.EAGAIN) return;
      if (n < 0) {
        this.error(n);
        continue;
      }
      this.received++;
      this.o.onmessage?.(this.buf.subarray(0, n), msg.msg_name);
    }
  }

  close(): void {
    this.sock.close();
  }
}

// The discard service (RFC 863) as a sink: reads everything and throws it away, counting
// datagrams (or reads) and bytes. The UDP flood's receiver and netserver's stream receiver.
import type { Net } from '../core/net-namespace.ts';
import { SOCK_DGRAM } from '../core/socket-constants.ts';
import { E } from '../core/sock-opts.ts';
import type { Socket } from '../socket.ts';
import type { TcpConn } from './tcp-conn.ts';
import { TcpServer } from './tcp-server.ts';
import { open_server_socket, type ServerOptions } from './server-socket.ts';

export class UdpSink {
  readonly sock: Socket;
  /** Datagrams and payload bytes read. */
  packets = 0;
  bytes = 0;
  /** Errors recv returned (a pending ICMP error, reported once). */
  errors = 0;
  private readonly buf: Uint8Array;

  constructor(net: Net, o: ServerOptions & { bufsize?: number }) {
    this.sock = open_server_socket(net, o, SOCK_DGRAM);
    this.buf = new Uint8Array(o.bufsize ?? 65536);
    this.sock.onready = () => this.drain();
  }

  /** Reads until the queue is empty. Allocates nothing: recv reuses the socket's msghdr. */
  drain(): void {
    const s = this.sock;
    const buf = this.buf;
    for (;;) {
      const n = s.recv(buf);
      if (n >= 0) {
        this.packets++;
        this.bytes += n;
        continue;
      }
      if (n === -E.EAGAIN) return;
      this.errors++;
    }
  }

  close(): void {
    this.sock.close();
  }
}

export class TcpSink extends TcpServer {
  bytes = 0;
  /** Connections that ended (the peer's FIN read). */
  finished = 0;

  constructor(net: Net, o: ServerOptions) {
    super(net, o);
  }

  protected override ondata(_conn: TcpConn, d: Uint8Array): void {
    this.bytes += d.length;
  }

  protected override onend(conn: TcpConn): void {
    this.finished++;
    conn.close();
  }
}

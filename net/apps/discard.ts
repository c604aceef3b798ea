// The discard service (RFC 863) as a sink: reads everything and throws it away, counting
// datagrams (or reads) and bytes. The UDP flood's receiver and netserver's stream receiver.
import type { Net } from '../core/net-namespace.ts';
import { SOCK_DGRAM, SOCK_STREAM } from '../core/socket-constants.ts';
import { E } from '../core/sock-opts.ts';
import type { Socket } from '../socket.ts';
import { TcpConn } from './tcp-conn.ts';
import { check, open_server_socket, type ServerOptions } from './echo.ts';

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

export class TcpSink {
  readonly sock: Socket;
  readonly conns = new Set<TcpConn>();
  accepted = 0;
  bytes = 0;
  /** Connections that ended (the peer's FIN read). */
  finished = 0;

  constructor(net: Net, o: ServerOptions) {
    this.sock = open_server_socket(net, o, SOCK_STREAM);
    check(this.sock.listen(o.backlog ?? 128), 'listen');
    this.sock.onready = () => this.accept();
  }

  private accept(): void {
    for (;;) {
      const c = this.sock.accept();
      if (typeof c === 'number') return;
      this.accepted++;
      const conn = new TcpConn(c, {
        ondata: (_cn, d) => {
          this.bytes += d.length;
        },
        onend: (cn) => {
          this.finished++;
          cn.close();
          this.conns.delete(cn);
        },
        onerror: (cn) => {
          cn.sock.close();
          this.conns.delete(cn);
        },
      }, true);
      this.conns.add(conn);
      conn.run();
    }
  }

  close(): void {
    for (const c of this.conns) c.sock.close();
    this.sock.close();
  }
}

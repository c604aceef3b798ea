// A TCP server: accepts connections and hands each one's data to a handler that may write back
// (TcpConn queues what the socket cannot take yet). The server half of the TCP client/server
// pair (tcp-client.ts); echo's and discard's TCP servers are subclasses (ondata, onend).
import type { Net } from '../core/net-namespace.ts';
import { SOCK_STREAM } from '../core/socket-constants.ts';
import type { Socket } from '../socket.ts';
import { TcpConn } from './tcp-conn.ts';
import { check, open_server_socket, type ServerOptions } from './server-socket.ts';

export interface TcpServerHandlers {
  onconnection?: (conn: TcpConn) => void;
  ondata?: (conn: TcpConn, data: Uint8Array) => void;
  /** The peer finished; by default the server closes its side too. */
  onend?: (conn: TcpConn) => void;
}

export class TcpServer {
  readonly sock: Socket;
  readonly conns = new Set<TcpConn>();
  accepted = 0;
  private readonly h: TcpServerHandlers;

  constructor(net: Net, o: ServerOptions, h: TcpServerHandlers = {}) {
    this.h = h;
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
        ondata: (cn, d) => this.ondata(cn, d),
        onend: (cn) => {
          this.onend(cn);
          this.conns.delete(cn);
        },
        onerror: (cn) => {
          cn.sock.close();
          this.conns.delete(cn);
        },
      }, true);
      this.conns.add(conn);
      this.h.onconnection?.(conn);
      conn.run();
    }
  }

  /** A connection's data (a subclass's service, or the handler's). */
  protected ondata(conn: TcpConn, d: Uint8Array): void {
    this.h.ondata?.(conn, d);
  }

  /** The peer finished: the handler's, or the server closes its side too. */
  protected onend(conn: TcpConn): void {
    if (this.h.onend !== undefined) this.h.onend(conn);
    else conn.close();
  }

  close(): void {
    for (const c of this.conns) c.sock.close();
    this.sock.close();
  }
}

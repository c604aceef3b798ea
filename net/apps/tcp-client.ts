// A TCP client: a non-blocking connect, then writes queued until the socket takes them and
// reads handed to `ondata`; `end()` sends FIN after the queue, and the peer's FIN is `onend`.
// The client half of the TCP client/server pair (tcp-server.ts).
import type { Net } from '../core/net-namespace.ts';
import type { Sockaddr } from '../core/msghdr.ts';
import { SOCK_STREAM } from '../core/socket-constants.ts';
import { Socket } from '../socket.ts';
import { TcpConn, type TcpConnHandlers } from './tcp-conn.ts';
import { check } from './echo.ts';

export interface TcpClientOptions extends TcpConnHandlers {
  server: Sockaddr;
  bind?: Sockaddr;
}

/** Opens a connection to o.server; the returned TcpConn reports onconnect / onerror. */
export function tcp_connect(net: Net, o: TcpClientOptions): TcpConn {
  const s = Socket.create(net, o.server.family, SOCK_STREAM);
  if (typeof s === 'number') throw new Error(`socket: ${s}`);
  if (o.bind !== undefined) check(s.bind(o.bind), 'bind');
  const conn = new TcpConn(s, o, false);
  conn.connect(o.server);
  return conn;
}

// What every server of net/apps opens first: its socket, SO_REUSEPORT (and SO_REUSEADDR for a
// stream), bound to the service's address, or a socket handed over by a dispatcher.
import type { Net } from '../core/net-namespace.ts';
import type { Sockaddr } from '../core/msghdr.ts';
import { AF_INET, AF_INET6, SOCK_STREAM, type InetFamily } from '../core/socket-constants.ts';
import { SOL_SOCKET, SO } from '../core/socket-options.ts';
import { in6addr_any, type ReadonlyIn6Addr } from '../core/in6-addr.ts';
import { Socket } from '../socket.ts';

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

// struct sock with the inet_sock and inet_connection_sock fields the socket tables use. Protocol
// state (queues, TCP's sequence space) comes with the protocols; they extend this class, so every
// full socket in a table has this shape.
import { SockCommon } from './sock-common.ts';
import { TCP_STATES, TCP_CLOSE, type TcpState } from './tcp-states.ts';
import type { InetFamily } from './socket-constants.ts';
import type { Net } from './net-namespace.ts';
import type { SockReuseport } from './sock-reuseport.ts';
import type { InetBindBucket } from '../ipv4/inet-bind-bucket.ts';

export class Sock extends SockCommon {
  /** SOCK_STREAM or SOCK_DGRAM. */
  readonly sk_type: number;
  /** IPPROTO_TCP or IPPROTO_UDP. */
  readonly sk_protocol: number;
  /** The owner's uid (sk_uid): SO_REUSEPORT groups and shares ports only within one user. */
  sk_uid: number;
  /** SOCK_BINDADDR_LOCK / SOCK_BINDPORT_LOCK: what bind() fixed. */
  sk_userlocks = 0;
  /** The SO_REUSEPORT group, while the socket is in one. */
  sk_reuseport_cb: SockReuseport | null = null;
  /** inet_connection_sock's icsk_bind_hash: the TCP bind bucket holding the port. */
  icsk_bind_hash: InetBindBucket | null = null;

  constructor(net: Net, family: InetFamily, type: number, protocol: number, uid: number, state: TcpState = TCP_CLOSE) {
    super(net, family, state);
    this.sk_type = type;
    this.sk_protocol = protocol;
    this.sk_uid = uid;
  }
}

/** sk_alloc + sock_init_data: a closed, unbound socket owned by `uid`. */
export function sk_alloc(net: Net, family: InetFamily, type: number, protocol: number, uid = 0): Sock {
  return new Sock(net, family, type, protocol, uid);
}

const NOT_FULL = (1 << TCP_STATES.TCP_TIME_WAIT) | (1 << TCP_STATES.TCP_NEW_SYN_RECV);

/** sk_fullsock: not a TIME_WAIT or request mini socket. */
export function sk_fullsock(sk: SockCommon): sk is Sock {
  return ((1 << sk.skc_state) & NOT_FULL) === 0;
}

/** sock_i_uid / sk_uid. */
export function sock_i_uid(sk: Sock): number {
  return sk.sk_uid;
}

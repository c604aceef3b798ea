// struct sock with the inet_sock and inet_connection_sock fields the socket tables use. Protocol
// state (queues, TCP's sequence space) comes with the protocols; they extend this class, so every
// full socket in a table has this shape.
import type { SkFilter } from './sk-filter.ts';
import { SockCommon } from './sock-common.ts';
import { In6Addr } from './in6-addr.ts';
import { TCP_STATES, TCP_CLOSE, type TcpState } from './tcp-states.ts';
import type { InetFamily } from './socket-constants.ts';
import type { Net } from './net-namespace.ts';
import type { SockReuseport } from './sock-reuseport.ts';
import type { InetBindBucket } from '../ipv4/inet-bind-bucket.ts';
import { SkBuffHead } from './skbuff.ts';
import type { Proto } from './proto.ts';
import type { Socket } from './socket-ref.ts';

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
  /** SO_ATTACH_BPF's socket filter (sk-filter.ts), run by sk_filter_trim_cap on receive. */
  sk_filter: SkFilter | null = null;
  /** inet_connection_sock's icsk_bind_hash: the TCP bind bucket holding the port. */
  icsk_bind_hash: InetBindBucket | null = null;

  // --- struct sock: queues, buffers, errors and the callbacks the socket layer sets ---
  /** The protocol's operations (tcp_prot, udp_prot, tcpv6_prot, udpv6_prot). */
  sk_prot: Proto | null = null;
  /** The socket this sock belongs to (sk->sk_socket), null for one not yet accepted or orphaned. */
  sk_socket: Socket | null = null;
  readonly sk_receive_queue = new SkBuffHead();
  readonly sk_write_queue = new SkBuffHead();
  readonly sk_error_queue = new SkBuffHead();
  /** SO_RCVBUF / SO_SNDBUF (the doubled values the kernel stores) and what is charged against them. */
  sk_rcvbuf = 212992;
  sk_sndbuf = 212992;
  sk_rmem_alloc = 0;
  sk_wmem_alloc = 0;
  sk_wmem_queued = 0;
  sk_forward_alloc = 0;
  /** Pending error (sock_error reads and clears it) and the soft error an ICMP leaves. */
  sk_err = 0;
  sk_err_soft = 0;
  /** RCV_SHUTDOWN | SEND_SHUTDOWN. */
  sk_shutdown = 0;
  /** SOCK_DONE, SOCK_DEAD, ... (sock_flag), as a bit set. */
  sk_flags = 0;
  sk_ack_backlog = 0;
  sk_max_ack_backlog = 0;
  sk_rcvlowat = 1;
  sk_mark = 0;
  sk_priority = 0;
  /** SO_LINGER: on, and the time in seconds. */
  sk_lingertime = 0;
  /** The route cached for a connected socket (sk_dst_cache); the IP layer's own type. */
  sk_dst_cache: unknown = null;
  /** Drops charged to this socket (sk_drops: rcvbuf full, filter). */
  sk_drops = 0;
  /** SO_TIMESTAMP and the other socket-level booleans the stack reads. */
  sk_no_check_tx = false;
  sk_txhash = 0;
  /** sk->sk_state_change, sk_data_ready, sk_write_space, sk_error_report: the socket layer's wake-ups. */
  sk_state_change: (sk: Sock) => void = sock_noop;
  sk_data_ready: (sk: Sock) => void = sock_noop;
  sk_write_space: (sk: Sock) => void = sock_noop;
  sk_error_report: (sk: Sock) => void = sock_noop;

  // --- struct inet_sock ---
  /** inet_saddr: the source address packets carry (the bound one, or the route's at connect). */
  inet_saddr = 0;
  /** inet_sport: the source port, host order (equals skc_num once bound). */
  inet_sport = 0;
  /** IP_TTL (-1: the route's / sysctl default), IP_TOS. */
  uc_ttl = -1;
  tos = 0;
  /** inet_id: the IP ID counter of a connected socket. */
  inet_id = 0;
  /** IP_PKTINFO / IP_RECVORIGDSTADDR / ... as IP_CMSG_* bits (cmsg_flags). */
  cmsg_flags = 0;
  /** IP_RECVERR, IP_FREEBIND, IP_TRANSPARENT, IP_BIND_ADDRESS_NO_PORT. */
  recverr = false;
  freebind = false;
  transparent = false;
  bind_address_no_port = false;
  /** IP_MTU_DISCOVER (IP_PMTUDISC_*). */
  pmtudisc = 1;

  // --- struct ipv6_pinfo (AF_INET6 sockets) ---
  /** The IPv6 source address packets carry (np->saddr). */
  readonly v6_saddr = new In6Addr();
  /** IPV6_UNICAST_HOPS (-1: default), IPV6_TCLASS. */
  hop_limit = -1;
  tclass = 0;
  /** IPV6_RECVPKTINFO / IPV6_RECVORIGDSTADDR as bits (rxopt). */
  rxopt = 0;

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

function sock_noop(_sk: Sock): void {}

/** enum sock_flags, the bits of sk_flags (sock_flag / sock_set_flag). */
export const SOCK_FLAGS = {
  SOCK_DEAD: 1 << 0,
  SOCK_DONE: 1 << 1,
  SOCK_URGINLINE: 1 << 2,
  SOCK_KEEPOPEN: 1 << 3,
  SOCK_LINGER: 1 << 4,
  SOCK_DESTROY: 1 << 5,
  SOCK_BROADCAST: 1 << 6,
  SOCK_TIMESTAMP: 1 << 7,
  SOCK_ZAPPED: 1 << 8,
  SOCK_RCVTSTAMP: 1 << 9,
} as const;

export function sock_flag(sk: Sock, flag: number): boolean {
  return (sk.sk_flags & flag) !== 0;
}
export function sock_set_flag(sk: Sock, flag: number): void {
  sk.sk_flags |= flag;
}
export function sock_reset_flag(sk: Sock, flag: number): void {
  sk.sk_flags &= ~flag;
}

/** sock_error: the pending error as a negative errno, cleared by reading it. */
export function sock_error(sk: Sock): number {
  const e = sk.sk_err;
  if (e === 0) return 0;
  sk.sk_err = 0;
  return -e;
}

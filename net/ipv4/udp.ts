// UDP over IPv4 (net/ipv4/udp.c): struct proto udp_prot and udp_init. The receive path is in
// udp-rcv.ts (__udp4_lib_rcv), ICMP errors in udp-err.ts, sending in udp-sendmsg.ts, reading in
// udp-recvmsg.ts, corking in udp-cork.ts; the tables and lookup are udp-table.ts and udp-lookup.ts.
import type { Sock } from '../core/sock.ts';
import type { Proto, SockoptValue } from '../core/proto.ts';
import type { MsgHdr, Sockaddr } from '../core/msghdr.ts';
import { SOCK_FLAGS, sock_set_flag } from '../core/sock.ts';
import { AF_INET, AF_INET6, IPPROTO_UDP, SOCK_BINDADDR_LOCK, SOCK_BINDPORT_LOCK, SOCK_DGRAM } from '../core/socket-constants.ts';
import { EPOLL, RCV_SHUTDOWN, SHUTDOWN_MASK, SOL_IP, SOL_IPV6, SOL_UDP } from '../core/socket-options.ts';
import { SKB_DROP_REASONS, __skb_dequeue, consume_skb, skb_queue_purge_reason, skb_queue_empty } from '../core/skbuff.ts';
import { TCP_CLOSE } from '../core/tcp-states.ts';
import { sk_daddr_set, sk_v6_daddr_set } from '../core/sock-common.ts';
import { in6addr_any } from '../core/in6-addr.ts';
import type { Net } from '../core/net-namespace.ts';
import { inet_add_protocol } from './protocol.ts';
import { E, sockopt_int } from '../core/sock-opts.ts';
import { UDP_CORK, udp_corked, udp_flush_pending_frames, udp_set_cork } from './udp-cork.ts';
import { inet_register_protosw, inet_reset_saddr } from './af-inet.ts';
import { udp_lib_unhash, udp_v4_get_port, udp_v4_rehash, udp_v6_rehash } from './udp-table.ts';
import { __ip4_datagram_connect } from './datagram.ts';
import { ip_getsockopt, ip_setsockopt } from './ip-sockglue.ts';
import { ipv6_getsockopt, ipv6_setsockopt } from '../ipv6/ipv6-sockglue.ts';
import { udp_rcv } from './udp-rcv.ts';
import { udp_err } from './udp-err.ts';
import { SOCK_NOSPACE, udp_sendmsg } from './udp-sendmsg.ts';
import { udp_recvmsg } from './udp-recvmsg.ts';
import { udpv6_init } from '../ipv6/udp.ts';

/** udp_init_sock: nothing beyond what inet_create set (no encapsulation, no GRO state here). */
export function udp_init_sock(_sk: Sock): number {
  return 0;
}

/** sk_common_release via udp_lib_close: out of the tables, the receive queue freed. */
export function udp_lib_close(sk: Sock, _timeout: number): void {
  sk.sk_shutdown = SHUTDOWN_MASK;
  udp_lib_unhash(sk.skc_net.ipv4.udp_table, sk);
  sk.skc_state = TCP_CLOSE;
  sock_set_flag(sk, SOCK_FLAGS.SOCK_DEAD);
  udp_flush_pending_frames(sk);
  udp_rmem_purge(sk);
  skb_queue_purge_reason(sk.sk_error_queue, SKB_DROP_REASONS.SKB_DROP_REASON_QUEUE_PURGE);
  sk.sk_dst_cache = null;
}

/** Frees the receive queue, giving back what it charged to sk_rmem_alloc. */
export function udp_rmem_purge(sk: Sock): void {
  for (let skb = __skb_dequeue(sk.sk_receive_queue); skb !== null; skb = __skb_dequeue(sk.sk_receive_queue)) {
    sk.sk_rmem_alloc -= skb.truesize;
    consume_skb(skb);
  }
}

/** udp_lib_rehash through the socket's family. */
export function udp_rehash(sk: Sock): void {
  const t = sk.skc_net.ipv4.udp_table;
  if (sk.skc_family === AF_INET6) udp_v6_rehash(t, sk);
  else udp_v4_rehash(t, sk);
}

/**
 * __udp_disconnect: connect(AF_UNSPEC). The remote end goes; an address or port bind() did not
 * fix is given back (the socket is rehashed or unhashed).
 */
export function udp_disconnect(sk: Sock, _flags: number): number {
  sk.skc_state = TCP_CLOSE;
  if (sk.skc_family === AF_INET6) sk_v6_daddr_set(sk, in6addr_any);
  else sk_daddr_set(sk, 0);
  sk.skc_dport = 0;
  sk.skc_bound_dev_if = 0;
  if ((sk.sk_userlocks & SOCK_BINDADDR_LOCK) === 0) {
    inet_reset_saddr(sk);
    sk.inet_saddr = 0;
    if (sk.skc_family === AF_INET6) sk.v6_saddr.set(0, 0, 0, 0);
    if (sk.skc_hashed) udp_rehash(sk);
  }
  if ((sk.sk_userlocks & SOCK_BINDPORT_LOCK) === 0) {
    udp_lib_unhash(sk.skc_net.ipv4.udp_table, sk);
    sk.inet_sport = 0;
  }
  sk.sk_dst_cache = null;
  return 0;
}

/** sock_writeable: less than half the send buffer in flight. */
export function sock_writeable(sk: Sock): boolean {
  return sk.sk_wmem_alloc < sk.sk_sndbuf >> 1;
}

/** udp_poll (datagram_poll): readable, writable, errors, shutdowns. */
export function udp_poll(sk: Sock): number {
  let mask = 0;
  if (sk.sk_err !== 0 || !skb_queue_empty(sk.sk_error_queue)) mask |= EPOLL.EPOLLERR;
  if (sk.sk_shutdown & RCV_SHUTDOWN) mask |= EPOLL.EPOLLRDHUP | EPOLL.EPOLLIN | EPOLL.EPOLLRDNORM;
  if (sk.sk_shutdown === SHUTDOWN_MASK) mask |= EPOLL.EPOLLHUP;
  if (!skb_queue_empty(sk.sk_receive_queue)) mask |= EPOLL.EPOLLIN | EPOLL.EPOLLRDNORM;
  if (sock_writeable(sk)) mask |= EPOLL.EPOLLOUT | EPOLL.EPOLLWRNORM | EPOLL.EPOLLWRBAND;
  else sk.sk_flags |= SOCK_NOSPACE;
  return mask;
}

/**
 * udp_setsockopt: SOL_UDP's UDP_CORK (udp-cork.ts); the others (UDP_SEGMENT, encapsulation) are
 * not modelled (-ENOPROTOOPT). The IP levels go to ip_setsockopt / ipv6_setsockopt.
 */
export function udp_setsockopt(sk: Sock, level: number, optname: number, value: SockoptValue): number {
  if (level === SOL_IP) return ip_setsockopt(sk, level, optname, value);
  if (level === SOL_IPV6) return ipv6_setsockopt(sk, level, optname, value);
  if (level !== SOL_UDP) return -E.ENOPROTOOPT;
  if (optname === UDP_CORK) {
    const v = sockopt_int(value);
    if (v === undefined) return -E.EINVAL;
    udp_set_cork(sk, v !== 0);
    return 0;
  }
  return -E.ENOPROTOOPT;
}

export function udp_getsockopt(sk: Sock, level: number, optname: number): SockoptValue {
  if (level === SOL_IP) return ip_getsockopt(sk, level, optname);
  if (level === SOL_IPV6) return ipv6_getsockopt(sk, level, optname);
  if (level === SOL_UDP && optname === UDP_CORK) return udp_corked(sk) ? 1 : 0;
  return -E.ENOPROTOOPT;
}

function udp_shutdown(_sk: Sock, _how: number): void {}

export const udp_prot: Proto = {
  name: 'UDP',
  init: udp_init_sock,
  close: udp_lib_close,
  connect: (sk: Sock, addr: Sockaddr) => __ip4_datagram_connect(sk, addr),
  disconnect: udp_disconnect,
  shutdown: udp_shutdown,
  setsockopt: udp_setsockopt,
  getsockopt: udp_getsockopt,
  sendmsg: (sk: Sock, msg: MsgHdr, data: Uint8Array, flags: number) => udp_sendmsg(sk, msg, data, flags),
  recvmsg: (sk: Sock, msg: MsgHdr, buf: Uint8Array, flags: number) => udp_recvmsg(sk, msg, buf, flags),
  poll: udp_poll,
  hash: () => 0,
  unhash: (sk: Sock) => udp_lib_unhash(sk.skc_net.ipv4.udp_table, sk),
  get_port: (sk: Sock, snum: number) => udp_v4_get_port(sk.skc_net.ipv4.udp_table, sk, snum),
};

inet_register_protosw(SOCK_DGRAM, IPPROTO_UDP, AF_INET, udp_prot);

/** udp_init: UDP's handlers in inet_protos and inet6_protos (per boot; a second Net re-registers the same). */
export function udp_init(net?: Net): void {
  inet_add_protocol({ handler: udp_rcv, err_handler: udp_err }, IPPROTO_UDP);
  udpv6_init(net);
}

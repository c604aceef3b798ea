// net/ipv4/af_inet.c: the AF_INET socket layer. Its table part, __inet_bind: the socket takes the
// address, then the protocol's get_port takes the port (TCP: inet_csk_get_port; UDP:
// udp_v4_get_port), and a refused port leaves the socket unbound. Its socket part (below the
// line): socket(2) through the inet_protosw registry (inet_create), and the proto_ops
// inet_stream_ops / inet_dgram_ops, which check what the socket layer checks (addresses this host
// owns, privileged ports, the non-blocking connect's states) and hand the rest to struct proto.
import { ERRNO } from '../../bpf-vm/errno.ts';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  INADDR_ANY,
  IPPROTO_IP,
  SOCK_BINDADDR_LOCK,
  SOCK_BINDPORT_LOCK,
  SOCK_STREAM,
  type InetFamily,
} from '../core/socket-constants.ts';
import { sk_alloc, sock_error, type Sock } from '../core/sock.ts';
import { sk_daddr_set, sk_rcv_saddr_set } from '../core/sock-common.ts';
import { TCP_CLOSE, TCP_LISTEN, TCP_SYN_SENT, TCPF_STATES } from '../core/tcp-states.ts';
import type { Net } from '../core/net-namespace.ts';
import type { Proto } from '../core/proto.ts';
import type { MsgHdr, Sockaddr } from '../core/msghdr.ts';
import { FCNTL, RCV_SHUTDOWN, SHUTDOWN_MASK } from '../core/socket-options.ts';
import { E, sock_linger_jiffies } from '../core/sock-opts.ts';
import { sock_map_close } from '../core/sock-map.ts';
import { inet_addr_type } from './devinet.ts';
import { RTN } from './route.ts';

/** A protocol's get_port: take `snum` (0: any ephemeral port) for sk. 0 or a negative errno. */
export type GetPort = (sk: Sock, snum: number) => number;

/** inet_reset_saddr: forget the bound address (after a refused port, or on disconnect). */
export function inet_reset_saddr(sk: Sock): void {
  sk.skc_rcv_saddr = 0;
  if (sk.skc_family === AF_INET6) sk.skc_v6_rcv_saddr.set(0, 0, 0, 0);
  else sk.skc_v6_rcv_saddr.set(0, 0, 0xffff, 0);
}

/**
 * __inet_bind: bind an AF_INET socket to (addr, snum). 0, -EINVAL (already bound, or not closed),
 * -EAFNOSUPPORT (not an AF_INET socket) or -EADDRINUSE.
 */
export function __inet_bind(sk: Sock, addr: number, snum: number, get_port: GetPort): number {
  if (sk.skc_family !== AF_INET) return -ERRNO.EAFNOSUPPORT;
  if (sk.skc_state !== TCP_CLOSE || sk.skc_num !== 0) return -ERRNO.EINVAL;
  sk_rcv_saddr_set(sk, addr);
  if (get_port(sk, snum) !== 0) {
    inet_reset_saddr(sk);
    return -ERRNO.EADDRINUSE;
  }
  if (addr !== 0) sk.sk_userlocks |= SOCK_BINDADDR_LOCK;
  if (snum !== 0) sk.sk_userlocks |= SOCK_BINDPORT_LOCK;
  sk_daddr_set(sk, 0);
  sk.skc_dport = 0;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// The AF_INET socket layer (net/ipv4/af_inet.c): socket(2) through inet_create, and the
// proto_ops the socket calls (inet_stream_ops, inet_dgram_ops), which check the socket-level
// state and hand the rest to the protocol's struct proto.

/** socket_state (include/uapi/linux/net.h): the socket's view, apart from the sock's TCP state. */
export const SS = { SS_FREE: 0, SS_UNCONNECTED: 1, SS_CONNECTING: 2, SS_CONNECTED: 3, SS_DISCONNECTING: 4 } as const;
export const { SS_FREE, SS_UNCONNECTED, SS_CONNECTING, SS_CONNECTED, SS_DISCONNECTING } = SS;

/** connect(AF_UNSPEC): dissolves a datagram association (or aborts a TCP connection). */
export interface SockaddrUnspec {
  family: typeof AF_UNSPEC;
}

/** What proto_ops see of struct socket (net/socket.ts's Socket). */
export interface SocketCore {
  readonly sk: Sock;
  readonly type: number;
  state: number;
  file_flags: number;
}

/** struct proto_ops: the family's socket calls. accept returns the child sock; the socket layer wraps it. */
export interface ProtoOps {
  readonly family: InetFamily;
  release(sock: SocketCore): number;
  bind(sock: SocketCore, addr: Sockaddr): number;
  connect(sock: SocketCore, addr: Sockaddr | SockaddrUnspec, flags: number): number;
  accept(sock: SocketCore, flags: number): Sock | number;
  getname(sock: SocketCore, peer: boolean): Sockaddr | number;
  poll(sock: SocketCore): number;
  listen(sock: SocketCore, backlog: number): number;
  shutdown(sock: SocketCore, how: number): number;
  sendmsg(sock: SocketCore, msg: MsgHdr, data: Uint8Array, flags: number): number;
  recvmsg(sock: SocketCore, msg: MsgHdr, buf: Uint8Array, flags: number): number;
}

/** A protocol's constructor of its sock (the kernel's prot->obj_size: tcp_sock for TCP). */
export type ProtoSkAlloc = (net: Net, family: InetFamily, type: number, protocol: number, uid: number) => Sock;

/** struct inet_protosw: one (type, protocol) a family's socket(2) accepts. */
export interface InetProtosw {
  type: number;
  protocol: number;
  family: InetFamily;
  prot: Proto;
  /** The sock's class (TcpSock for TCP); sk_alloc when absent. */
  sk_alloc?: ProtoSkAlloc;
  /** INET_PROTOSW_PERMANENT-like: no autobind on sendmsg (TCP). */
  no_autobind?: boolean;
}

/** inetsw[]: per boot, like inet_protos (both machines run the same protocol code). */
const inetsw: InetProtosw[] = [];

/**
 * inet_register_protosw: makes socket(family, type, protocol) create `prot` sockets. TCP's
 * tcp_init() registers tcp_prot and tcpv6_prot here; udp_init() registers UDP. Registering the
 * same (type, protocol, family) again replaces it.
 */
export function inet_register_protosw(
  type: number,
  protocol: number,
  family: InetFamily,
  prot: Proto,
  sk_alloc?: ProtoSkAlloc,
  no_autobind = type === SOCK_STREAM,
): void {
  const i = inetsw.findIndex((p) => p.type === type && p.protocol === protocol && p.family === family);
  const e: InetProtosw = { type, protocol, family, prot, sk_alloc, no_autobind };
  if (i >= 0) inetsw[i] = e;
  else inetsw.push(e);
}

/** inet_protosw_lookup: the entry for (type, protocol), IPPROTO_IP taking the type's first. */
export function inet_protosw_lookup(family: InetFamily, type: number, protocol: number): InetProtosw | number {
  let err = -E.ESOCKTNOSUPPORT;
  for (const p of inetsw) {
    if (p.family !== family || p.type !== type) continue;
    if (protocol === p.protocol || protocol === IPPROTO_IP) return p;
    err = -E.EPROTONOSUPPORT;
  }
  return err;
}

/**
 * inet_create / inet6_create's common part: the protosw for (type, protocol), a sock of the
 * protocol's class with sk_prot set, and the protocol's init. The sock, or -ESOCKTNOSUPPORT /
 * -EPROTONOSUPPORT / the init's error.
 */
export function inet_create(net: Net, family: InetFamily, type: number, protocol: number, uid: number): Sock | number {
  const p = inet_protosw_lookup(family, type, protocol);
  if (typeof p === 'number') return p;
  const proto = p.protocol;
  const sk = p.sk_alloc !== undefined ? p.sk_alloc(net, family, type, proto, uid) : sk_alloc(net, family, type, proto, uid);
  sk.sk_prot = p.prot;
  sk.sk_rcvbuf = net.core.sysctl_rmem_default;
  sk.sk_sndbuf = net.core.sysctl_wmem_default;
  sk.pmtudisc = net.ipv4.sysctl_ip_no_pmtu_disc !== 0 ? IP_PMTUDISC.IP_PMTUDISC_DONT : IP_PMTUDISC.IP_PMTUDISC_WANT;
  if (family === AF_INET6) sk.skc_ipv6only = net.ipv6.sysctl_bindv6only !== 0;
  else inet_reset_saddr(sk);
  if (p.no_autobind) noAutobind.add(sk.sk_prot);
  const err = p.prot.init(sk);
  if (err < 0) {
    p.prot.close(sk, 0);
    return err;
  }
  return sk;
}

/** The protocols that never autobind on sendmsg (prot->no_autobind). */
const noAutobind = new WeakSet<Proto>();

/** ip_mtu_discover values (include/uapi/linux/in.h). */
export const IP_PMTUDISC = {
  IP_PMTUDISC_DONT: 0,
  IP_PMTUDISC_WANT: 1,
  IP_PMTUDISC_DO: 2,
  IP_PMTUDISC_PROBE: 3,
  IP_PMTUDISC_INTERFACE: 4,
  IP_PMTUDISC_OMIT: 5,
} as const;

/** net.ipv4.ip_unprivileged_port_start: below it, binding needs CAP_NET_BIND_SERVICE (root here). */
export const IP_UNPRIVILEGED_PORT_START = 1024;

/** inet_port_requires_bind_service without the capability: binding `port` needs root. */
export function inet_port_requires_bind_service(sk: Sock, port: number): boolean {
  return port !== 0 && port < IP_UNPRIVILEGED_PORT_START && sk.sk_uid !== 0;
}

/** inet_addr_valid_or_nonlocal: a local (or multicast/broadcast) address, or a socket allowed any. */
export function inet_addr_valid_or_nonlocal(sk: Sock, addr: number, chk_addr_ret: number): boolean {
  return (
    sk.freebind ||
    sk.transparent ||
    addr === INADDR_ANY ||
    chk_addr_ret === RTN.RTN_LOCAL ||
    chk_addr_ret === RTN.RTN_MULTICAST ||
    chk_addr_ret === RTN.RTN_BROADCAST
  );
}

function prot_get_port(sk: Sock): GetPort {
  const prot = sk.sk_prot!;
  return (s, snum) => prot.get_port(s, snum);
}

/**
 * inet_bind: bind(2) for AF_INET. 0, -EAFNOSUPPORT, -EADDRNOTAVAIL (not one of this host's
 * addresses, unless IP_FREEBIND / IP_TRANSPARENT), -EACCES (a port below 1024 for a non-root
 * owner), -EINVAL (already bound) or -EADDRINUSE.
 */
export function inet_bind(sock: SocketCore, uaddr: Sockaddr): number {
  const sk = sock.sk;
  const prot = sk.sk_prot!;
  if (prot.bind !== undefined) return prot.bind(sk, uaddr);
  if (uaddr.family !== AF_INET) return -E.EAFNOSUPPORT;
  const addr = uaddr.addr >>> 0;
  const snum = uaddr.port;
  const chk = inet_addr_type(sk.skc_net, addr);
  if (!inet_addr_valid_or_nonlocal(sk, addr, chk)) return -E.EADDRNOTAVAIL;
  if (inet_port_requires_bind_service(sk, snum)) return -E.EACCES;
  if (snum === 0 && sk.bind_address_no_port) {
    // IP_BIND_ADDRESS_NO_PORT: fix the address now, the port at connect().
    if (sk.skc_state !== TCP_CLOSE || sk.skc_num !== 0) return -E.EINVAL;
    sk_rcv_saddr_set(sk, addr);
    if (addr !== 0) sk.sk_userlocks |= SOCK_BINDADDR_LOCK;
  } else {
    const err = __inet_bind(sk, addr, snum, prot_get_port(sk));
    if (err !== 0) return err;
  }
  sk.inet_saddr = chk === RTN.RTN_MULTICAST || chk === RTN.RTN_BROADCAST ? 0 : addr;
  sk.inet_sport = sk.skc_num;
  sk.sk_dst_cache = null;
  return 0;
}

/** inet_autobind: an unbound socket takes an ephemeral port before it sends. 0 or -EAGAIN. */
export function inet_autobind(sk: Sock): number {
  if (sk.skc_num === 0) {
    if (sk.sk_prot!.get_port(sk, 0) !== 0) return -E.EAGAIN;
    sk.inet_sport = sk.skc_num;
  }
  return 0;
}

/** inet_send_prepare: autobind for the protocols that want it (UDP). */
export function inet_send_prepare(sk: Sock): number {
  if (sk.skc_num === 0 && !noAutobind.has(sk.sk_prot!) && inet_autobind(sk) !== 0) return -E.EAGAIN;
  return 0;
}

/** inet_dgram_connect: AF_UNSPEC disconnects; otherwise autobind, then the protocol's connect. */
export function inet_dgram_connect(sock: SocketCore, uaddr: Sockaddr | SockaddrUnspec, flags: number): number {
  const sk = sock.sk;
  const prot = sk.sk_prot!;
  if (uaddr.family === AF_UNSPEC) return prot.disconnect(sk, flags);
  if (sk.skc_num === 0 && inet_autobind(sk) !== 0) return -E.EAGAIN;
  return prot.connect(sk, uaddr);
}

const TCPF_CONNECTING = TCPF_STATES.TCPF_SYN_SENT | TCPF_STATES.TCPF_SYN_RECV;

/**
 * inet_stream_connect (__inet_stream_connect) as a non-blocking connect: the first call sends
 * the SYN and says -EINPROGRESS; while the handshake runs, -EALREADY; once established, 0 (and
 * SS_CONNECTED), then -EISCONN. A connection that ended (RST, timeout, ICMP) reports its error
 * (sk_err, e.g. -ECONNREFUSED) once, and the socket may connect again.
 */
export function inet_stream_connect(sock: SocketCore, uaddr: Sockaddr | SockaddrUnspec, flags: number): number {
  const sk = sock.sk;
  const prot = sk.sk_prot!;
  if (uaddr.family === AF_UNSPEC) {
    const err = prot.disconnect(sk, flags);
    sock.state = err !== 0 ? SS_DISCONNECTING : SS_UNCONNECTED;
    return err;
  }
  let err: number;
  switch (sock.state) {
    case SS_CONNECTED:
      return -E.EISCONN;
    case SS_CONNECTING:
      err = -E.EALREADY;
      break;
    case SS_UNCONNECTED:
      if (sk.skc_state !== TCP_CLOSE) return -E.EISCONN;
      err = prot.connect(sk, uaddr);
      if (err < 0) return err;
      sock.state = SS_CONNECTING;
      err = -E.EINPROGRESS;
      break;
    default:
      return -E.EINVAL;
  }
  if (((1 << sk.skc_state) & TCPF_CONNECTING) !== 0) return err;
  if (sk.skc_state === TCP_CLOSE) {
    const e = sock_error(sk);
    sock.state = SS_UNCONNECTED;
    if (prot.disconnect(sk, flags) !== 0) sock.state = SS_DISCONNECTING;
    return e !== 0 ? e : -E.ECONNABORTED;
  }
  sock.state = SS_CONNECTED;
  return 0;
}

/** inet_listen: a SOCK_STREAM socket that is unconnected and closed (or listening) starts listening. */
export function inet_listen(sock: SocketCore, backlog: number): number {
  const sk = sock.sk;
  if (sock.state !== SS_UNCONNECTED || sock.type !== SOCK_STREAM) return -E.EINVAL;
  const old = sk.skc_state;
  if (old !== TCP_CLOSE && old !== TCP_LISTEN) return -E.EINVAL;
  const somaxconn = sk.skc_net.core.sysctl_somaxconn;
  if (backlog >>> 0 > somaxconn) backlog = somaxconn;
  sk.sk_max_ack_backlog = backlog;
  if (old !== TCP_LISTEN) {
    const prot = sk.sk_prot!;
    if (prot.listen === undefined) return -E.EOPNOTSUPP;
    const err = prot.listen(sk, backlog);
    if (err !== 0) return err;
  }
  return 0;
}

/** inet_accept: the next established child of a listener, or -EAGAIN / -EINVAL. */
export function inet_accept(sock: SocketCore, flags: number): Sock | number {
  const sk = sock.sk;
  const prot = sk.sk_prot!;
  if (sk.skc_state !== TCP_LISTEN) return -E.EINVAL;
  if (prot.accept === undefined) return -E.EOPNOTSUPP;
  return prot.accept(sk, flags);
}

/** inet_release: close(2); SO_LINGER's time goes to the protocol. */
export function inet_release(sock: SocketCore): number {
  const sk = sock.sk;
  sock_map_close(sk);
  sk.sk_prot!.close(sk, sock_linger_jiffies(sk));
  return 0;
}

/** inet_getname: getsockname / getpeername (-ENOTCONN for a peer not there yet). */
export function inet_getname(sock: SocketCore, peer: boolean): Sockaddr | number {
  const sk = sock.sk;
  if (peer) {
    if (sk.skc_dport === 0 || ((1 << sk.skc_state) & (TCPF_STATES.TCPF_CLOSE | TCPF_STATES.TCPF_SYN_SENT)) !== 0) return -E.ENOTCONN;
    return { family: AF_INET, addr: sk.skc_daddr, port: sk.skc_dport };
  }
  const addr = sk.skc_rcv_saddr !== 0 ? sk.skc_rcv_saddr : sk.inet_saddr;
  return { family: AF_INET, addr, port: sk.inet_sport !== 0 ? sk.inet_sport : sk.skc_num };
}

/**
 * inet_shutdown: sets the sk_shutdown bits and tells the protocol (TCP sends its FIN). An
 * unconnected socket says -ENOTCONN but still takes the bits, so a reader polling it sees HUP.
 */
export function inet_shutdown(sock: SocketCore, how: number): number {
  const sk = sock.sk;
  how++;
  if ((how & ~SHUTDOWN_MASK) !== 0 || how === 0) return -E.EINVAL;
  if (sock.state === SS_CONNECTING) {
    sock.state = ((1 << sk.skc_state) & (TCPF_CONNECTING | TCPF_STATES.TCPF_CLOSE)) !== 0 ? SS_DISCONNECTING : SS_CONNECTED;
  }
  let err = 0;
  const prot = sk.sk_prot!;
  switch (sk.skc_state) {
    case TCP_LISTEN:
      if ((how & RCV_SHUTDOWN) === 0) break;
      err = prot.disconnect(sk, FCNTL.O_NONBLOCK);
      sock.state = err !== 0 ? SS_DISCONNECTING : SS_UNCONNECTED;
      break;
    case TCP_SYN_SENT:
      err = prot.disconnect(sk, FCNTL.O_NONBLOCK);
      sock.state = err !== 0 ? SS_DISCONNECTING : SS_UNCONNECTED;
      break;
    case TCP_CLOSE:
      err = -E.ENOTCONN;
      sk.sk_shutdown |= how;
      prot.shutdown(sk, how);
      break;
    default:
      sk.sk_shutdown |= how;
      prot.shutdown(sk, how);
  }
  sk.sk_state_change(sk);
  return err;
}

export function inet_sendmsg(sock: SocketCore, msg: MsgHdr, data: Uint8Array, flags: number): number {
  const sk = sock.sk;
  if (inet_send_prepare(sk) !== 0) return -E.EAGAIN;
  return sk.sk_prot!.sendmsg(sk, msg, data, flags);
}

export function inet_recvmsg(sock: SocketCore, msg: MsgHdr, buf: Uint8Array, flags: number): number {
  const sk = sock.sk;
  return sk.sk_prot!.recvmsg(sk, msg, buf, flags);
}

function inet_poll(sock: SocketCore): number {
  return sock.sk.sk_prot!.poll(sock.sk);
}

function sock_no_listen(_sock: SocketCore, _backlog: number): number {
  return -E.EOPNOTSUPP;
}

function sock_no_accept(_sock: SocketCore, _flags: number): number {
  return -E.EOPNOTSUPP;
}

export const inet_stream_ops: ProtoOps = {
  family: AF_INET,
  release: inet_release,
  bind: inet_bind,
  connect: inet_stream_connect,
  accept: inet_accept,
  getname: inet_getname,
  poll: inet_poll,
  listen: inet_listen,
  shutdown: inet_shutdown,
  sendmsg: inet_sendmsg,
  recvmsg: inet_recvmsg,
};

export const inet_dgram_ops: ProtoOps = {
  family: AF_INET,
  release: inet_release,
  bind: inet_bind,
  connect: inet_dgram_connect,
  accept: sock_no_accept,
  getname: inet_getname,
  poll: inet_poll,
  listen: sock_no_listen,
  shutdown: inet_shutdown,
  sendmsg: inet_sendmsg,
  recvmsg: inet_recvmsg,
};

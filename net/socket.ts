// struct socket and the system calls on it (net/socket.c), for emulated applications, the
// packetdrill runner and tests: no file descriptors, one object per socket. The calls never
// block: what would block returns -EAGAIN (connect: -EINPROGRESS / -EALREADY), whatever
// O_NONBLOCK says; a caller wanting blocking semantics waits for `onready` and retries.
// O_NONBLOCK is still stored and reported (fcntl F_GETFL), as is SOCK_NONBLOCK at creation.
//
// The protocols wake the socket through sk_data_ready / sk_write_space / sk_state_change /
// sk_error_report, which all fire `onready` (sock_def_readable and friends, one shared function:
// no closure per socket).
import type { Net } from './core/net-namespace.ts';
import { SOCK_FLAGS, sock_flag, type Sock } from './core/sock.ts';
import { TCP_LISTEN, TCPF_STATES } from './core/tcp-states.ts';
import { TcpSock } from './ipv4/tcp-sock.ts';
import type { Socket as SocketRef } from './core/socket-ref.ts';
import type { MsgHdr, Sockaddr } from './core/msghdr.ts';
import type { SockoptValue } from './core/proto.ts';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM, type InetFamily } from './core/socket-constants.ts';
import { FCNTL, SO, SOL_IP, SOL_IPV6, SOL_SOCKET } from './core/socket-options.ts';
import { E, sock_getsockopt, sock_setsockopt } from './core/sock-opts.ts';
import {
  SS_CONNECTED,
  SS_FREE,
  SS_UNCONNECTED,
  inet_create,
  inet_dgram_ops,
  inet_stream_ops,
  type ProtoOps,
  type SockaddrUnspec,
} from './ipv4/af-inet.ts';
import { inet6_dgram_ops, inet6_stream_ops } from './ipv6/af-inet6.ts';
import { ip_getsockopt, ip_setsockopt } from './ipv4/ip-sockglue.ts';
import { ipv6_getsockopt, ipv6_setsockopt } from './ipv6/ipv6-sockglue.ts';
import './ipv4/udp.ts';
import './ipv6/udp.ts';

export { SS, SS_FREE, SS_UNCONNECTED, SS_CONNECTING, SS_CONNECTED, SS_DISCONNECTING, type SockaddrUnspec } from './ipv4/af-inet.ts';

/** The socket ioctls (include/uapi/linux/sockios.h, asm-generic/ioctls.h). */
export const SIOC = { SIOCINQ: 0x541b, FIONREAD: 0x541b, SIOCOUTQ: 0x5411, SIOCOUTQNSQ: 0x894b } as const;

/** SOCK_NONBLOCK / SOCK_CLOEXEC, or'ed into socket(2)'s type. */
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
const SOCK_TYPE_MASK = 0xf;

/** fcntl(F_SETFL) changes only these. */
const SETFL_MASK = FCNTL.O_NONBLOCK;

/** sock_def_wakeup & co.: every protocol wake-up fires the socket's onready. */
function sock_def_wakeup(sk: Sock): void {
  const sock = sk.sk_socket as Socket | null;
  if (sock !== null && sock.onready !== null) sock.onready(sock);
}

/** sock_graft: sk belongs to sock from now on, and wakes it. */
function sock_graft(sk: Sock, sock: Socket): void {
  sk.sk_socket = sock;
  sk.sk_data_ready = sock_def_wakeup;
  sk.sk_write_space = sock_def_wakeup;
  sk.sk_state_change = sock_def_wakeup;
  sk.sk_error_report = sock_def_wakeup;
}

function ops_for(family: InetFamily, type: number): ProtoOps {
  if (family === AF_INET6) return type === SOCK_STREAM ? inet6_stream_ops : inet6_dgram_ops;
  return type === SOCK_STREAM ? inet_stream_ops : inet_dgram_ops;
}

export class Socket implements SocketRef {
  /**
   * socket(2): a socket of `family` (AF_INET, AF_INET6), `type` (SOCK_STREAM, SOCK_DGRAM, or'ed
   * with SOCK_NONBLOCK) and `protocol` (0 for the type's default) owned by `uid`. A negative
   * errno on failure: -EAFNOSUPPORT, -EINVAL (a bad type), -ESOCKTNOSUPPORT, -EPROTONOSUPPORT.
   */
  static create(net: Net, family: number, type: number, protocol = 0, uid = 0): Socket | number {
    if (family !== AF_INET && family !== AF_INET6) return -E.EAFNOSUPPORT;
    const flags = type & ~SOCK_TYPE_MASK;
    if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0) return -E.EINVAL;
    type &= SOCK_TYPE_MASK;
    const sk = inet_create(net, family, type, protocol, uid);
    if (typeof sk === 'number') return sk;
    const sock = new Socket(sk, type, ops_for(family, type));
    if ((flags & SOCK_NONBLOCK) !== 0) sock.file_flags |= FCNTL.O_NONBLOCK;
    return sock;
  }

  readonly sk: Sock;
  /** SOCK_STREAM / SOCK_DGRAM (socket->type). */
  readonly type: number;
  readonly ops: ProtoOps;
  state: number = SS_UNCONNECTED;
  file_flags: number = FCNTL.O_RDWR;
  onready: ((s: Socket) => void) | null = null;
  /** recv()'s and send()'s msghdrs, reused: a hot loop of recv/send allocates nothing (recv's keeps the sockaddr it fills). */
  private readonly rscratch: MsgHdr = { msg_flags: 0 };
  private readonly sscratch: MsgHdr = { msg_flags: 0 };

  constructor(sk: Sock, type: number, ops: ProtoOps) {
    this.sk = sk;
    this.type = type;
    this.ops = ops;
    sock_graft(sk, this);
  }

  private get closed(): boolean {
    return this.state === SS_FREE;
  }

  bind(addr: Sockaddr): number {
    if (this.closed) return -E.EBADF;
    return this.ops.bind(this, addr);
  }

  listen(backlog: number): number {
    if (this.closed) return -E.EBADF;
    return this.ops.listen(this, backlog);
  }

  /** accept(2): a connected socket, or -EAGAIN while none is ready (-EINVAL if not listening). */
  accept(): Socket | number {
    if (this.closed) return -E.EBADF;
    const child = this.ops.accept(this, this.file_flags);
    if (typeof child === 'number') return child;
    const sock = new Socket(child, this.type, this.ops);
    sock.state = SS_CONNECTED;
    return sock;
  }

  /** connect(2): see inet_stream_connect / inet_dgram_connect. `{ family: AF_UNSPEC }` dissolves. */
  connect(addr: Sockaddr | SockaddrUnspec): number {
    if (this.closed) return -E.EBADF;
    return this.ops.connect(this, addr, this.file_flags);
  }

  /** sendmsg(2): bytes taken or -errno; msg.msg_name is sendto's address, msg_control IP_PKTINFO. */
  sendmsg(data: Uint8Array, msg?: Partial<MsgHdr>, flags = 0): number {
    if (this.closed) return -E.EBADF;
    const m: MsgHdr = msg === undefined ? this.sscratch : { msg_flags: 0, msg_name: msg.msg_name, msg_control: msg.msg_control };
    return this.ops.sendmsg(this, m, data, flags);
  }

  /** recvmsg(2): bytes (0 at EOF), -EAGAIN when empty; fills msg.msg_name, msg_control, msg_flags. */
  recvmsg(buf: Uint8Array, msg?: MsgHdr, flags = 0): number {
    if (this.closed) return -E.EBADF;
    let m = msg;
    if (m === undefined) {
      m = this.rscratch;
      m.msg_control = undefined;
    }
    m.msg_flags = 0;
    return this.ops.recvmsg(this, m, buf, flags);
  }

  send(data: Uint8Array, flags = 0): number {
    return this.sendmsg(data, undefined, flags);
  }

  recv(buf: Uint8Array, flags = 0): number {
    return this.recvmsg(buf, undefined, flags);
  }

  sendto(data: Uint8Array, addr: Sockaddr, flags = 0): number {
    return this.sendmsg(data, { msg_name: addr }, flags);
  }

  recvfrom(buf: Uint8Array, flags = 0): { n: number; from?: Sockaddr } {
    const m: MsgHdr = { msg_flags: 0 };
    const n = this.recvmsg(buf, m, flags);
    return n >= 0 ? { n, from: m.msg_name } : { n };
  }

  /** shutdown(2): SHUT_RD, SHUT_WR, SHUT_RDWR. */
  shutdown(how: number): number {
    if (this.closed) return -E.EBADF;
    return this.ops.shutdown(this, how);
  }

  /** close(2): the protocol takes over the sock (TCP finishes its FIN exchange on its own). */
  close(): number {
    if (this.closed) return -E.EBADF;
    const sk = this.sk;
    this.ops.release(this);
    sk.sk_socket = null;
    this.state = SS_FREE;
    this.onready = null;
    return 0;
  }

  /**
   * setsockopt(2). SOL_SOCKET options are sock_setsockopt's, SOL_IP ip_setsockopt's, SOL_IPV6
   * ipv6_setsockopt's (the kernel reaches the last two through the protocol: udp_setsockopt and
   * TCP's icsk_af_ops); everything else (SOL_TCP, SOL_UDP) goes to sk_prot.setsockopt.
   */
  setsockopt(level: number, optname: number, value: SockoptValue): number {
    if (this.closed) return -E.EBADF;
    const sk = this.sk;
    if (level === SOL_SOCKET) return sock_setsockopt(sk, optname, value);
    if (level === SOL_IP) return ip_setsockopt(sk, level, optname, value);
    if (level === SOL_IPV6) return ipv6_setsockopt(sk, level, optname, value);
    return sk.sk_prot!.setsockopt(sk, level, optname, value);
  }

  /** getsockopt(2): err 0 and the value, or err -errno. */
  getsockopt(level: number, optname: number): { err: number; value: SockoptValue } {
    if (this.closed) return { err: -E.EBADF, value: 0 };
    const sk = this.sk;
    let v: SockoptValue;
    if (level === SOL_SOCKET) v = sock_getsockopt(sk, optname);
    else if (level === SOL_IP) v = ip_getsockopt(sk, level, optname);
    else if (level === SOL_IPV6) v = ipv6_getsockopt(sk, level, optname);
    else v = sk.sk_prot!.getsockopt(sk, level, optname);
    // SO_INCOMING_CPU's "unset" is -1, a value; every other negative number is an errno.
    if (typeof v === 'number' && v < 0 && !(level === SOL_SOCKET && optname === SO.SO_INCOMING_CPU)) return { err: v, value: 0 };
    return { err: 0, value: v };
  }

  getsockname(): Sockaddr {
    const r = this.ops.getname(this, false);
    if (typeof r === 'number') return this.sk.skc_family === AF_INET6 ? { family: AF_INET6, addr: this.sk.skc_v6_rcv_saddr, port: 0 } : { family: AF_INET, addr: 0, port: 0 };
    return r;
  }

  /** getpeername(2): the peer, or -ENOTCONN. */
  getpeername(): Sockaddr | number {
    if (this.closed) return -E.EBADF;
    return this.ops.getname(this, true);
  }

  /** fcntl(2): F_GETFL, F_SETFL (O_NONBLOCK). */
  fcntl(cmd: number, arg = 0): number {
    if (this.closed) return -E.EBADF;
    if (cmd === FCNTL.F_GETFL) return this.file_flags;
    if (cmd === FCNTL.F_SETFL) {
      this.file_flags = (this.file_flags & ~SETFL_MASK) | (arg & SETFL_MASK);
      return 0;
    }
    return -E.EINVAL;
  }

  /**
   * ioctl(2) with the socket requests programs read queues with: SIOCINQ (FIONREAD: TCP's unread
   * bytes, a FIN not counted; UDP's next datagram's length), SIOCOUTQ (TCP: unacknowledged bytes;
   * UDP: the send buffer in use), SIOCOUTQNSQ (TCP: bytes not yet sent). A value or -errno.
   */
  ioctl(cmd: number): number {
    if (this.closed) return -E.EBADF;
    const sk = this.sk;
    if (sk instanceof TcpSock) {
      if (cmd !== SIOC.SIOCINQ && cmd !== SIOC.SIOCOUTQ && cmd !== SIOC.SIOCOUTQNSQ) return -E.ENOTTY;
      if (sk.skc_state === TCP_LISTEN) return -E.EINVAL;
      if (cmd === SIOC.SIOCINQ) {
        if (((1 << sk.skc_state) & (TCPF_STATES.TCPF_SYN_SENT | TCPF_STATES.TCPF_SYN_RECV)) !== 0) return 0;
        let answ = (sk.rcv_nxt - sk.copied_seq) >>> 0;
        if (answ !== 0 && sock_flag(sk, SOCK_FLAGS.SOCK_DONE)) answ--;
        return answ;
      }
      if (((1 << sk.skc_state) & (TCPF_STATES.TCPF_SYN_SENT | TCPF_STATES.TCPF_SYN_RECV)) !== 0) return 0;
      return (sk.write_seq - (cmd === SIOC.SIOCOUTQ ? sk.snd_una : sk.snd_nxt)) >>> 0;
    }
    if (cmd === SIOC.SIOCINQ) return sk.sk_receive_queue.first?.len ?? 0;
    if (cmd === SIOC.SIOCOUTQ) return sk.sk_wmem_alloc;
    return -E.ENOTTY;
  }

  /** poll(2): the EPOLL* bits now. */
  poll(): number {
    if (this.closed) return 0;
    return this.ops.poll(this);
  }
}

export { SOCK_STREAM, SOCK_DGRAM };

// struct proto: a transport protocol's socket operations (tcp_prot, udp_prot, tcpv6_prot,
// udpv6_prot). The socket layer (net/socket.ts, af_inet's inet_stream_ops / inet_dgram_ops)
// calls these; they return 0, a count, or a negative errno, never throw for what a program can
// cause (a refused connect, a full buffer).
import type { Sock } from './sock.ts';
import type { MsgHdr, Sockaddr } from './msghdr.ts';

export type SockoptValue = number | Uint8Array | string;

export interface Proto {
  /** "TCP", "UDP", "TCPv6", "UDPv6", as /proc/net/protocols names them. */
  readonly name: string;
  /** Sets up protocol state on a new socket (tcp_v4_init_sock, udp_init_sock). */
  init(sk: Sock): number;
  /** close(2): the socket layer is done with sk; `timeout` is SO_LINGER's time in jiffies (0: none). */
  close(sk: Sock, timeout: number): void;
  /** connect(2) on a bound or unbound socket; TCP returns 0 after sending the SYN (the socket layer waits or says EINPROGRESS). */
  connect(sk: Sock, addr: Sockaddr): number;
  /** connect(AF_UNSPEC): dissolves the association. */
  disconnect(sk: Sock, flags: number): number;
  /** accept(2) on a listener: the next established child, or -EAGAIN / another negative errno. */
  accept?(sk: Sock, flags: number): Sock | number;
  /** listen(2) (inet_listen calls inet_csk_listen_start through this for TCP). */
  listen?(sk: Sock, backlog: number): number;
  /** shutdown(2) with SEND_SHUTDOWN / RCV_SHUTDOWN bits. */
  shutdown(sk: Sock, how: number): void;
  setsockopt(sk: Sock, level: number, optname: number, value: SockoptValue): number;
  /** The option's value, or a negative errno. */
  getsockopt(sk: Sock, level: number, optname: number): SockoptValue;
  /** Queues or sends `data`; returns bytes taken (may be fewer for a stream) or a negative errno. */
  sendmsg(sk: Sock, msg: MsgHdr, data: Uint8Array, flags: number): number;
  /** Copies into `buf`; returns bytes copied (0 at EOF) or a negative errno (-EAGAIN when empty). */
  recvmsg(sk: Sock, msg: MsgHdr, buf: Uint8Array, flags: number): number;
  /** bind(2) beyond inet_bind's generic part (none for TCP/UDP: inet_bind does it all). */
  bind?(sk: Sock, addr: Sockaddr): number;
  /** The EPOLL* bits now (tcp_poll, udp_poll). */
  poll(sk: Sock): number;
  hash(sk: Sock): number;
  unhash(sk: Sock): void;
  /** get_port: binds to snum (0: an ephemeral port); 0 or -EADDRINUSE. */
  get_port(sk: Sock, snum: number): number;
}

// The socket API's numbers, as the uapi headers define them: option levels and names
// (asm-generic/socket.h, linux/in.h, linux/in6.h, linux/tcp.h), MSG_* flags (linux/socket.h),
// shutdown directions, poll bits (linux/eventpoll.h) and O_NONBLOCK (asm-generic/fcntl.h), so a
// packetdrill script's `setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4)` maps to the same numbers.

export const SOL = { SOL_IP: 0, SOL_SOCKET: 1, SOL_TCP: 6, SOL_UDP: 17, SOL_IPV6: 41 } as const;
export const { SOL_IP, SOL_SOCKET, SOL_TCP, SOL_UDP, SOL_IPV6 } = SOL;

/** asm-generic/socket.h */
export const SO = {
  SO_DEBUG: 1,
  SO_REUSEADDR: 2,
  SO_TYPE: 3,
  SO_ERROR: 4,
  SO_DONTROUTE: 5,
  SO_BROADCAST: 6,
  SO_SNDBUF: 7,
  SO_RCVBUF: 8,
  SO_KEEPALIVE: 9,
  SO_OOBINLINE: 10,
  SO_NO_CHECK: 11,
  SO_PRIORITY: 12,
  SO_LINGER: 13,
  SO_REUSEPORT: 15,
  SO_RCVLOWAT: 18,
  SO_SNDLOWAT: 19,
  SO_BINDTODEVICE: 25,
  SO_TIMESTAMP: 29,
  SO_ACCEPTCONN: 30,
  SO_SNDBUFFORCE: 32,
  SO_RCVBUFFORCE: 33,
  SO_PROTOCOL: 38,
  SO_DOMAIN: 39,
  SO_MARK: 36,
  SO_INCOMING_CPU: 49,
  SO_COOKIE: 57,
} as const;

/** linux/in.h */
export const IP_OPTS = {
  IP_TOS: 1,
  IP_TTL: 2,
  IP_HDRINCL: 3,
  IP_OPTIONS: 4,
  IP_PKTINFO: 8,
  IP_MTU_DISCOVER: 10,
  IP_RECVERR: 11,
  IP_RECVTTL: 12,
  IP_RECVTOS: 13,
  IP_MTU: 14,
  IP_FREEBIND: 15,
  IP_TRANSPARENT: 19,
  IP_ORIGDSTADDR: 20,
  IP_RECVORIGDSTADDR: 20,
  IP_BIND_ADDRESS_NO_PORT: 24,
} as const;

/** linux/in6.h */
export const IPV6_OPTS = {
  IPV6_UNICAST_HOPS: 16,
  IPV6_V6ONLY: 26,
  IPV6_RECVPKTINFO: 49,
  IPV6_PKTINFO: 50,
  IPV6_TCLASS: 67,
  IPV6_RECVORIGDSTADDR: 74,
  IPV6_ORIGDSTADDR: 74,
  IPV6_FREEBIND: 78,
  IPV6_TRANSPARENT: 75,
} as const;

/** linux/tcp.h */
export const TCP_OPTS = {
  TCP_NODELAY: 1,
  TCP_MAXSEG: 2,
  TCP_CORK: 3,
  TCP_KEEPIDLE: 4,
  TCP_KEEPINTVL: 5,
  TCP_KEEPCNT: 6,
  TCP_SYNCNT: 7,
  TCP_LINGER2: 8,
  TCP_DEFER_ACCEPT: 9,
  TCP_WINDOW_CLAMP: 10,
  TCP_INFO: 11,
  TCP_QUICKACK: 12,
  TCP_CONGESTION: 13,
  TCP_USER_TIMEOUT: 18,
  TCP_NOTSENT_LOWAT: 25,
} as const;

/** linux/socket.h */
export const MSG = {
  MSG_OOB: 1,
  MSG_PEEK: 2,
  MSG_DONTROUTE: 4,
  MSG_CTRUNC: 8,
  MSG_TRUNC: 0x20,
  MSG_DONTWAIT: 0x40,
  MSG_EOR: 0x80,
  MSG_WAITALL: 0x100,
  MSG_ERRQUEUE: 0x2000,
  MSG_NOSIGNAL: 0x4000,
  MSG_MORE: 0x8000,
} as const;

/** shutdown(2)'s how, and the sk_shutdown bits it sets. */
export const SHUT = { SHUT_RD: 0, SHUT_WR: 1, SHUT_RDWR: 2 } as const;
export const RCV_SHUTDOWN = 1;
export const SEND_SHUTDOWN = 2;
export const SHUTDOWN_MASK = 3;

/** linux/eventpoll.h (the poll bits a socket's poll returns). */
export const EPOLL = {
  EPOLLIN: 0x1,
  EPOLLPRI: 0x2,
  EPOLLOUT: 0x4,
  EPOLLERR: 0x8,
  EPOLLHUP: 0x10,
  EPOLLRDNORM: 0x40,
  EPOLLRDBAND: 0x80,
  EPOLLWRNORM: 0x100,
  EPOLLWRBAND: 0x200,
  EPOLLRDHUP: 0x2000,
} as const;

/** asm-generic/fcntl.h */
export const FCNTL = { F_GETFL: 3, F_SETFL: 4, O_RDWR: 2, O_NONBLOCK: 0o4000 } as const;

// The symbolic names a script may use as system call arguments and results (packetdrill's
// symbols_linux.c: the Linux uapi values), and the errno names with strerror's text.
import { FCNTL, IPV6_OPTS, IP_OPTS, MSG, SHUT, SO, SOL, TCP_OPTS, EPOLL } from '../../net/core/socket-options.ts';

/** errno name -> [number, strerror text] (glibc's messages, as packetdrill prints them). */
export const ERRNOS: Record<string, [number, string]> = {
  EPERM: [1, 'Operation not permitted'],
  ENOENT: [2, 'No such file or directory'],
  EINTR: [4, 'Interrupted system call'],
  EIO: [5, 'Input/output error'],
  EBADF: [9, 'Bad file descriptor'],
  EAGAIN: [11, 'Resource temporarily unavailable'],
  EWOULDBLOCK: [11, 'Resource temporarily unavailable'],
  ENOMEM: [12, 'Cannot allocate memory'],
  EACCES: [13, 'Permission denied'],
  EFAULT: [14, 'Bad address'],
  EBUSY: [16, 'Device or resource busy'],
  EEXIST: [17, 'File exists'],
  ENODEV: [19, 'No such device'],
  EINVAL: [22, 'Invalid argument'],
  ENOSPC: [28, 'No space left on device'],
  EPIPE: [32, 'Broken pipe'],
  ERANGE: [34, 'Numerical result out of range'],
  ENOPROTOOPT: [92, 'Protocol not available'],
  EPROTONOSUPPORT: [93, 'Protocol not supported'],
  ESOCKTNOSUPPORT: [94, 'Socket type not supported'],
  EOPNOTSUPP: [95, 'Operation not supported'],
  EAFNOSUPPORT: [97, 'Address family not supported by protocol'],
  EADDRINUSE: [98, 'Address already in use'],
  EADDRNOTAVAIL: [99, 'Cannot assign requested address'],
  ENETDOWN: [100, 'Network is down'],
  ENETUNREACH: [101, 'Network is unreachable'],
  ECONNABORTED: [103, 'Software caused connection abort'],
  ECONNRESET: [104, 'Connection reset by peer'],
  ENOBUFS: [105, 'No buffer space available'],
  EISCONN: [106, 'Transport endpoint is already connected'],
  ENOTCONN: [107, 'Transport endpoint is not connected'],
  ESHUTDOWN: [108, 'Cannot send after transport endpoint shutdown'],
  ETIMEDOUT: [110, 'Connection timed out'],
  ECONNREFUSED: [111, 'Connection refused'],
  EHOSTDOWN: [112, 'Host is down'],
  EHOSTUNREACH: [113, 'No route to host'],
  EALREADY: [114, 'Operation already in progress'],
  EINPROGRESS: [115, 'Operation now in progress'],
  ENOTSOCK: [88, 'Socket operation on non-socket'],
  EDESTADDRREQ: [89, 'Destination address required'],
  EMSGSIZE: [90, 'Message too long'],
  EPROTOTYPE: [91, 'Protocol wrong type for socket'],
};

const ERRNO_BY_NUMBER = new Map<number, string>();
for (const [k, [v]] of Object.entries(ERRNOS)) if (!ERRNO_BY_NUMBER.has(v) && k !== 'EWOULDBLOCK') ERRNO_BY_NUMBER.set(v, k);

/** "11 (EAGAIN: Resource temporarily unavailable)" style text for an errno number. */
export function errnoText(n: number): string {
  const name = ERRNO_BY_NUMBER.get(n);
  return name === undefined ? `${n}` : `${n} (${name}: ${ERRNOS[name]![1]})`;
}

export function errnoName(n: number): string {
  return ERRNO_BY_NUMBER.get(n) ?? `E${n}`;
}

/** The integer symbols: the uapi values Linux gives them. */
export const SYMBOLS: Record<string, number> = {
  AF_UNSPEC: 0, AF_INET: 2, AF_INET6: 10, PF_UNSPEC: 0, PF_INET: 2, PF_INET6: 10,
  SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_RAW: 3, SOCK_NONBLOCK: 0o4000, SOCK_CLOEXEC: 0o2000000,
  IPPROTO_IP: 0, IPPROTO_ICMP: 1, IPPROTO_TCP: 6, IPPROTO_UDP: 17, IPPROTO_IPV6: 41, IPPROTO_ICMPV6: 58,
  INADDR_ANY: 0,
  ...SOL, ...SO, ...IP_OPTS, ...IPV6_OPTS, ...TCP_OPTS, ...MSG, ...SHUT, ...FCNTL, ...EPOLL,
  O_RDONLY: 0, O_WRONLY: 1,
  F_GETFD: 1, F_SETFD: 2,
  FIONREAD: 0x541b, SIOCINQ: 0x541b, SIOCOUTQ: 0x5411, FIONBIO: 0x5421,
  POLLIN: 0x1, POLLPRI: 0x2, POLLOUT: 0x4, POLLERR: 0x8, POLLHUP: 0x10, POLLNVAL: 0x20, POLLRDNORM: 0x40, POLLRDHUP: 0x2000,
  TCP_INQ: 36, TCP_FASTOPEN: 23, TCP_FASTOPEN_CONNECT: 30, TCP_REPAIR: 19,
  SO_ZEROCOPY: 60, SO_RCVTIMEO: 20, SO_SNDTIMEO: 21, SO_ATTACH_FILTER: 26,
  IP_MTU_DISCOVER_DO: 2, IP_PMTUDISC_DONT: 0, IP_PMTUDISC_WANT: 1, IP_PMTUDISC_DO: 2, IP_PMTUDISC_PROBE: 3,
};

/** ICMP type/code numbers for packetdrill's names. */
export function icmpNumbers(family: 4 | 6, type: string, code: string | undefined): [number, number | undefined] | undefined {
  const v4: Record<string, [number, Record<string, number>]> = {
    echo_reply: [0, {}], unreachable: [3, { net_unreachable: 0, host_unreachable: 1, protocol_unreachable: 2, port_unreachable: 3, frag_needed: 4, source_route_failed: 5 }],
    source_quench: [4, {}], redirect: [5, {}], echo_request: [8, {}], time_exceeded: [11, {}], parameter_problem: [12, {}],
  };
  const v6: Record<string, [number, Record<string, number>]> = {
    unreachable: [1, { no_route: 0, admin_prohibited: 1, beyond_scope: 2, address_unreachable: 3, port_unreachable: 4 }],
    packet_too_big: [2, {}], time_exceeded: [3, {}], parameter_problem: [4, {}], echo_request: [128, {}], echo_reply: [129, {}],
  };
  const e = (family === 4 ? v4 : v6)[type];
  if (e === undefined) return undefined;
  if (code === undefined) return [e[0], undefined];
  const c = e[1][code];
  return c === undefined ? undefined : [e[0], c];
}

// The SOL_IPV6 socket options (net/ipv6/ipv6_sockglue.c) of AF_INET6 sockets: IPV6_V6ONLY
// (settable only before bind), hop limit, traffic class, and the receive-side control messages
// (IPV6_RECVPKTINFO, IPV6_RECVORIGDSTADDR, kept as rxopt bits). An AF_INET socket has no SOL_IPV6
// options (-ENOPROTOOPT).
import type { Sock } from '../core/sock.ts';
import type { SockoptValue } from '../core/proto.ts';
import { AF_INET6 } from '../core/socket-constants.ts';
import { IPV6_OPTS, SOL_IPV6 } from '../core/socket-options.ts';
import { E, sockopt_int } from '../core/sock-opts.ts';

/** struct ipv6_pinfo's rxopt bits this stack reports (np->rxopt.bits.*). */
export const IPV6_RXOPT = {
  /** rxinfo: IPV6_RECVPKTINFO. */
  RXINFO: 1 << 0,
  /** rxorigdstaddr: IPV6_RECVORIGDSTADDR. */
  RXORIGDSTADDR: 1 << 1,
} as const;

/** include/uapi/linux/in6.h, the options not in socket-options.ts's table. */
export const IPV6_RECVERR = 25;
export const IPV6_MTU_DISCOVER = 23;

function set_rxopt(sk: Sock, bit: number, on: boolean): void {
  if (on) sk.rxopt |= bit;
  else sk.rxopt &= ~bit;
}

/** ipv6_setsockopt: 0 or -ENOPROTOOPT / -EINVAL / -EPERM. */
export function ipv6_setsockopt(sk: Sock, level: number, optname: number, value: SockoptValue): number {
  if (level !== SOL_IPV6 || sk.skc_family !== AF_INET6) return -E.ENOPROTOOPT;
  const val = sockopt_int(value);
  if (val === undefined) return -E.EINVAL;
  const on = val !== 0;
  switch (optname) {
    case IPV6_OPTS.IPV6_V6ONLY:
      // Fixed once the socket has a port: it decides which tables' conflicts the port passed.
      if (sk.skc_num !== 0) return -E.EINVAL;
      sk.skc_ipv6only = on;
      return 0;
    case IPV6_OPTS.IPV6_UNICAST_HOPS:
      if (val > 255 || val < -1) return -E.EINVAL;
      sk.hop_limit = val;
      sk.sk_dst_cache = null;
      return 0;
    case IPV6_OPTS.IPV6_TCLASS:
      if (val > 0xff || val < -1) return -E.EINVAL;
      sk.tclass = val === -1 ? 0 : val;
      return 0;
    case IPV6_OPTS.IPV6_RECVPKTINFO:
      set_rxopt(sk, IPV6_RXOPT.RXINFO, on);
      return 0;
    case IPV6_OPTS.IPV6_RECVORIGDSTADDR:
      set_rxopt(sk, IPV6_RXOPT.RXORIGDSTADDR, on);
      return 0;
    case IPV6_OPTS.IPV6_FREEBIND:
      sk.freebind = on;
      return 0;
    case IPV6_OPTS.IPV6_TRANSPARENT:
      if (sk.sk_uid !== 0) return -E.EPERM;
      sk.transparent = on;
      return 0;
    case IPV6_RECVERR:
      sk.recverr = on;
      return 0;
    case IPV6_MTU_DISCOVER:
      if (val < 0 || val > 5) return -E.EINVAL;
      sk.pmtudisc = val;
      return 0;
    default:
      return -E.ENOPROTOOPT;
  }
}

/** ipv6_getsockopt: the value, or a negative errno. Unset hop limits report the default. */
export function ipv6_getsockopt(sk: Sock, level: number, optname: number): SockoptValue {
  if (level !== SOL_IPV6 || sk.skc_family !== AF_INET6) return -E.ENOPROTOOPT;
  switch (optname) {
    case IPV6_OPTS.IPV6_V6ONLY:
      return sk.skc_ipv6only ? 1 : 0;
    case IPV6_OPTS.IPV6_UNICAST_HOPS:
      return sk.hop_limit >= 0 ? sk.hop_limit : sk.skc_net.ipv6.sysctl_hop_limit;
    case IPV6_OPTS.IPV6_TCLASS:
      return sk.tclass;
    case IPV6_OPTS.IPV6_RECVPKTINFO:
      return (sk.rxopt & IPV6_RXOPT.RXINFO) !== 0 ? 1 : 0;
    case IPV6_OPTS.IPV6_RECVORIGDSTADDR:
      return (sk.rxopt & IPV6_RXOPT.RXORIGDSTADDR) !== 0 ? 1 : 0;
    case IPV6_OPTS.IPV6_FREEBIND:
      return sk.freebind ? 1 : 0;
    case IPV6_OPTS.IPV6_TRANSPARENT:
      return sk.transparent ? 1 : 0;
    case IPV6_RECVERR:
      return sk.recverr ? 1 : 0;
    case IPV6_MTU_DISCOVER:
      return sk.pmtudisc;
    default:
      return -E.ENOPROTOOPT;
  }
}

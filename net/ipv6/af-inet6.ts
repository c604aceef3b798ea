// net/ipv6/af_inet6.c: the bind() of an AF_INET6 socket (__inet6_bind, the tables' part; inet6_bind,
// the address checks) and the AF_INET6 proto_ops (AF_INET's but for bind and getname).
// Binding to :: gives a dual-stack socket (unless IPV6_V6ONLY) that IPv4 packets reach too; to
// ::ffff:a.b.c.d, an IPv4 address (refused on a v6-only socket); to any other address, a socket
// that is v6-only from then on, since the address has no IPv4 view.
import { ERRNO } from '../../bpf-vm/errno.ts';
import { IPV6_ADDR_TYPES, In6Addr, in6addr_any, ipv6_addr_any, ipv6_addr_type, type ReadonlyIn6Addr } from '../core/in6-addr.ts';
import { AF_INET6, LOOPBACK4_IPV6, SOCK_BINDADDR_LOCK, SOCK_BINDPORT_LOCK, SOCK_STREAM } from '../core/socket-constants.ts';
import type { Sock } from '../core/sock.ts';
import { sk_v6_daddr_set, sk_v6_rcv_saddr_set } from '../core/sock-common.ts';
import { TCP_CLOSE, TCPF_STATES } from '../core/tcp-states.ts';
import type { Sockaddr } from '../core/msghdr.ts';
import { E } from '../core/sock-opts.ts';
import { dev_get_by_index } from '../core/dev.ts';
import {
  inet_addr_valid_or_nonlocal,
  inet_dgram_ops,
  inet_port_requires_bind_service,
  inet_reset_saddr,
  inet_stream_ops,
  type GetPort,
  type ProtoOps,
  type SocketCore,
} from '../ipv4/af-inet.ts';
import { inet_addr_type } from '../ipv4/devinet.ts';
import { RTN } from '../ipv4/route.ts';
import { ipv6_chk_addr } from './addrconf.ts';

const { IPV6_ADDR_ANY, IPV6_ADDR_MAPPED, IPV6_ADDR_MULTICAST, IPV6_ADDR_LINKLOCAL } = IPV6_ADDR_TYPES;

/**
 * __inet6_bind: bind an AF_INET6 socket to (addr, snum). 0, -EINVAL (already bound; multicast
 * for TCP; v4-mapped on a v6-only socket; link-local without a bound device), -EAFNOSUPPORT or
 * -EADDRINUSE.
 */
export function __inet6_bind(sk: Sock, addr: ReadonlyIn6Addr, snum: number, get_port: GetPort): number {
  if (sk.skc_family !== AF_INET6) return -ERRNO.EAFNOSUPPORT;
  const addr_type = ipv6_addr_type(addr);
  if (addr_type & IPV6_ADDR_MULTICAST && sk.sk_type === SOCK_STREAM) return -ERRNO.EINVAL;
  if (sk.skc_state !== TCP_CLOSE || sk.skc_num !== 0) return -ERRNO.EINVAL;
  if (addr_type === IPV6_ADDR_MAPPED && sk.skc_ipv6only) return -ERRNO.EINVAL;
  if (addr_type & IPV6_ADDR_LINKLOCAL && sk.skc_bound_dev_if === 0) return -ERRNO.EINVAL;
  sk_v6_rcv_saddr_set(sk, addr);
  const saved_ipv6only = sk.skc_ipv6only;
  if (addr_type !== IPV6_ADDR_ANY && addr_type !== IPV6_ADDR_MAPPED) sk.skc_ipv6only = true;
  if (get_port(sk, snum) !== 0) {
    sk.skc_ipv6only = saved_ipv6only;
    inet_reset_saddr(sk);
    return -ERRNO.EADDRINUSE;
  }
  if (addr_type !== IPV6_ADDR_ANY) sk.sk_userlocks |= SOCK_BINDADDR_LOCK;
  if (snum !== 0) sk.sk_userlocks |= SOCK_BINDPORT_LOCK;
  sk_v6_daddr_set(sk, in6addr_any);
  sk.skc_dport = 0;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// The AF_INET6 socket layer (net/ipv6/af_inet6.c): bind with the address checks, getname, and
// the proto_ops, which are AF_INET's except for those two.

/**
 * inet6_bind: bind(2) for AF_INET6. A v4-mapped address must be one of this host's IPv4
 * addresses, any other specific address one of its IPv6 ones (-EADDRNOTAVAIL), unless
 * IP_FREEBIND / IP_TRANSPARENT; ports below 1024 need root (-EACCES); then __inet6_bind.
 */
export function inet6_bind(sock: SocketCore, uaddr: Sockaddr): number {
  const sk = sock.sk;
  const prot = sk.sk_prot!;
  if (prot.bind !== undefined) return prot.bind(sk, uaddr);
  if (uaddr.family !== AF_INET6) return -E.EAFNOSUPPORT;
  const addr = uaddr.addr;
  const snum = uaddr.port;
  const addr_type = ipv6_addr_type(addr);
  const net = sk.skc_net;
  let v4addr = 0;
  let chk = RTN.RTN_UNICAST as number;
  if (addr_type === IPV6_ADDR_MAPPED) {
    if (sk.skc_ipv6only) return -E.EINVAL;
    v4addr = addr.w3;
    chk = inet_addr_type(net, v4addr);
    if (!inet_addr_valid_or_nonlocal(sk, v4addr, chk)) return -E.EADDRNOTAVAIL;
  } else if (addr_type !== IPV6_ADDR_ANY) {
    if (uaddr.scope_id !== undefined && uaddr.scope_id !== 0 && addr_type & IPV6_ADDR_LINKLOCAL) {
      if (sk.skc_bound_dev_if !== 0 && sk.skc_bound_dev_if !== uaddr.scope_id) return -E.EINVAL;
      sk.skc_bound_dev_if = uaddr.scope_id;
    }
    if (!(addr_type & IPV6_ADDR_MULTICAST) && !sk.freebind && !sk.transparent) {
      const dev = sk.skc_bound_dev_if !== 0 ? (dev_get_by_index(net, sk.skc_bound_dev_if) ?? null) : null;
      if (!ipv6_chk_addr(net, addr, dev)) return -E.EADDRNOTAVAIL;
    }
  }
  if (inet_port_requires_bind_service(sk, snum)) return -E.EACCES;
  const err = __inet6_bind(sk, addr, snum, (s, n) => prot.get_port(s, n));
  if (err !== 0) return err;
  // A non-mapped specific address has the IPv4 view LOOPBACK4_IPV6, as the kernel's inet_saddr.
  if (addr_type !== IPV6_ADDR_MAPPED && addr_type !== IPV6_ADDR_ANY) v4addr = LOOPBACK4_IPV6;
  sk.inet_saddr = chk === RTN.RTN_MULTICAST || chk === RTN.RTN_BROADCAST ? 0 : v4addr;
  if (!(addr_type & IPV6_ADDR_MULTICAST)) sk.v6_saddr.copy_from(addr);
  sk.inet_sport = sk.skc_num;
  sk.sk_dst_cache = null;
  return 0;
}

/** inet6_getname: getsockname / getpeername as a sockaddr_in6 (v4-mapped for IPv4 ends). */
export function inet6_getname(sock: SocketCore, peer: boolean): Sockaddr | number {
  const sk = sock.sk;
  let addr: In6Addr;
  let port: number;
  if (peer) {
    if (sk.skc_dport === 0 || ((1 << sk.skc_state) & (TCPF_STATES.TCPF_CLOSE | TCPF_STATES.TCPF_SYN_SENT)) !== 0) return -E.ENOTCONN;
    addr = new In6Addr().copy_from(sk.skc_v6_daddr);
    port = sk.skc_dport;
  } else {
    addr = new In6Addr().copy_from(ipv6_addr_any(sk.skc_v6_rcv_saddr) ? sk.v6_saddr : sk.skc_v6_rcv_saddr);
    port = sk.inet_sport !== 0 ? sk.inet_sport : sk.skc_num;
  }
  const scope_id = ipv6_addr_type(addr) & IPV6_ADDR_LINKLOCAL ? sk.skc_bound_dev_if : 0;
  return { family: AF_INET6, addr, port, flowinfo: 0, scope_id };
}

export const inet6_stream_ops: ProtoOps = { ...inet_stream_ops, family: AF_INET6, bind: inet6_bind, getname: inet6_getname };
export const inet6_dgram_ops: ProtoOps = { ...inet_dgram_ops, family: AF_INET6, bind: inet6_bind, getname: inet6_getname };

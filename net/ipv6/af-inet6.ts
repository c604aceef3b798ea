// The bind() of an AF_INET6 socket (__inet6_bind, net/ipv6/af_inet6.c), as far as the tables go.
// Binding to :: gives a dual-stack socket (unless IPV6_V6ONLY) that IPv4 packets reach too; to
// ::ffff:a.b.c.d, an IPv4 address (refused on a v6-only socket); to any other address, a socket
// that is v6-only from then on, since the address has no IPv4 view.
import { ERRNO } from '../../bpf-vm/errno.ts';
import { IPV6_ADDR_TYPES, in6addr_any, ipv6_addr_type, type ReadonlyIn6Addr } from '../core/in6-addr.ts';
import { AF_INET6, SOCK_BINDADDR_LOCK, SOCK_BINDPORT_LOCK, SOCK_STREAM } from '../core/socket-constants.ts';
import type { Sock } from '../core/sock.ts';
import { sk_v6_daddr_set, sk_v6_rcv_saddr_set } from '../core/sock-common.ts';
import { TCP_CLOSE } from '../core/tcp-states.ts';
import { inet_reset_saddr, type GetPort } from '../ipv4/af-inet.ts';

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

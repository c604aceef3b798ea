// connect() on an AF_INET6 datagram socket, as far as the tables go (__ip6_datagram_connect): as
// ip4_datagram_connect, with an IPv6 remote end. A v4-mapped destination connects the socket
// through its IPv4 view, as the kernel hands it to __ip4_datagram_connect.
import { ERRNO } from '../../bpf-vm/errno.ts';
import { ipv6_addr_any, ipv6_addr_v4mapped, type ReadonlyIn6Addr } from '../core/in6-addr.ts';
import type { Sock } from '../core/sock.ts';
import { sk_v6_daddr_set, sk_v6_rcv_saddr_set } from '../core/sock-common.ts';
import { ip_datagram_connected } from '../ipv4/datagram.ts';
import { udp_v6_get_port, udp_v6_rehash, type UdpTable } from '../ipv4/udp-table.ts';

/**
 * ip6_datagram_connect: connect sk to (daddr, dport); `saddr` is the route's source address. 0,
 * -EAGAIN (no ephemeral port) or -ENETUNREACH (a v4-mapped destination on a v6-only socket).
 */
export function ip6_datagram_connect(t: UdpTable, sk: Sock, daddr: ReadonlyIn6Addr, dport: number, saddr: ReadonlyIn6Addr): number {
  if (ipv6_addr_v4mapped(daddr) && sk.skc_ipv6only) return -ERRNO.ENETUNREACH;
  if (sk.skc_num === 0 && udp_v6_get_port(t, sk, 0) !== 0) return -ERRNO.EAGAIN;
  if (ipv6_addr_any(sk.skc_v6_rcv_saddr)) {
    sk_v6_rcv_saddr_set(sk, saddr);
    udp_v6_rehash(t, sk);
  }
  sk_v6_daddr_set(sk, daddr);
  return ip_datagram_connected(sk, dport);
}

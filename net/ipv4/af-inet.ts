// The bind() of an AF_INET socket (__inet_bind, net/ipv4/af_inet.c), as far as the socket tables
// go: the socket takes the address, then the protocol's get_port takes the port (TCP:
// inet_csk_get_port; UDP: udp_v4_get_port), and a refused port leaves the socket unbound. Whether
// the address is one of this host's (EADDRNOTAVAIL) is checked once the stack has addresses.
import { ERRNO } from '../../bpf-vm/errno.ts';
import { AF_INET, AF_INET6, SOCK_BINDADDR_LOCK, SOCK_BINDPORT_LOCK } from '../core/socket-constants.ts';
import type { Sock } from '../core/sock.ts';
import { sk_daddr_set, sk_rcv_saddr_set } from '../core/sock-common.ts';
import { TCP_CLOSE } from '../core/tcp-states.ts';

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

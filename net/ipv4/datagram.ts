// connect() on an AF_INET datagram socket, as far as the tables go (__ip4_datagram_connect): an
// unbound socket first takes an ephemeral port (inet_autobind); a socket bound to the wildcard
// takes the source address the route gives and moves to that address's hash2 slot; then the remote
// end is set and the socket is TCP_ESTABLISHED, so lookups take it first for its 4-tuple. Its
// reuseport group learns it has a connected member.
import { ERRNO } from '../../bpf-vm/errno.ts';
import type { Sock } from '../core/sock.ts';
import { sk_daddr_set, sk_rcv_saddr_set } from '../core/sock-common.ts';
import { reuseport_has_conns_set } from '../core/sock-reuseport.ts';
import { TCP_ESTABLISHED } from '../core/tcp-states.ts';
import { udp_v4_get_port, udp_v4_rehash, type UdpTable } from './udp-table.ts';

/**
 * ip4_datagram_connect: connect sk to (daddr, dport); `saddr` is the source address the route
 * lookup chose (the routing tables come with the IP layer). 0 or -EAGAIN (no ephemeral port).
 */
export function ip4_datagram_connect(t: UdpTable, sk: Sock, daddr: number, dport: number, saddr: number): number {
  if (sk.skc_num === 0 && udp_v4_get_port(t, sk, 0) !== 0) return -ERRNO.EAGAIN;
  if (sk.skc_rcv_saddr === 0) {
    sk_rcv_saddr_set(sk, saddr);
    udp_v4_rehash(t, sk);
  }
  sk_daddr_set(sk, daddr);
  return ip_datagram_connected(sk, dport);
}

/**
 * The end both families' connect() share, once the addresses are set: the remote port, the
 * reuseport group's has_conns, TCP_ESTABLISHED. 0.
 */
export function ip_datagram_connected(sk: Sock, dport: number): number {
  sk.skc_dport = dport;
  reuseport_has_conns_set(sk);
  sk.skc_state = TCP_ESTABLISHED;
  return 0;
}

// connect() on an AF_INET datagram socket, as far as the tables go (__ip4_datagram_connect): an
// unbound socket first takes an ephemeral port (inet_autobind); a socket bound to the wildcard
// takes the source address the route gives and moves to that address's hash2 slot; then the remote
// end is set and the socket is TCP_ESTABLISHED, so lookups take it first for its 4-tuple. Its
// reuseport group learns it has a connected member.
import { ERRNO } from '../../bpf-vm/errno.ts';
import { SOCK_FLAGS, sock_flag, type Sock } from '../core/sock.ts';
import { AF_INET } from '../core/socket-constants.ts';
import { Flowi4 } from '../core/flow.ts';
import type { Sockaddr } from '../core/msghdr.ts';
import { E } from '../core/sock-opts.ts';
import { ip_route_output_key, RTN } from './route.ts';
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

/** A reused flow key: connect() runs one route lookup at a time. */
const connect_fl4 = new Flowi4();

/**
 * __ip4_datagram_connect: connect(2) on an AF_INET datagram socket: the route to the peer
 * (-ENETUNREACH without one; -EACCES to a broadcast address without SO_BROADCAST) gives the
 * source address a wildcard-bound socket takes, then ip4_datagram_connect. An AF_INET6 socket's
 * v4-mapped connect comes here too (-EAFNOSUPPORT otherwise).
 */
export function __ip4_datagram_connect(sk: Sock, uaddr: Sockaddr): number {
  if (uaddr.family !== AF_INET) return -E.EAFNOSUPPORT;
  sk.sk_dst_cache = null;
  const net = sk.skc_net;
  const fl4 = connect_fl4;
  fl4.flowi4_oif = sk.skc_bound_dev_if;
  fl4.flowi4_iif = 0;
  fl4.flowi4_mark = sk.sk_mark;
  fl4.flowi4_tos = sk.tos;
  fl4.flowi4_proto = sk.sk_protocol;
  fl4.flowi4_flags = 0;
  fl4.saddr = sk.inet_saddr;
  fl4.daddr = uaddr.addr >>> 0;
  fl4.fl4_sport = sk.inet_sport;
  fl4.fl4_dport = uaddr.port;
  const rt = ip_route_output_key(net, fl4);
  if (typeof rt === 'number') {
    if (rt === -E.ENETUNREACH) net.mib.ip.OutNoRoutes++;
    return rt;
  }
  if (rt.rt_type === RTN.RTN_BROADCAST && !sock_flag(sk, SOCK_FLAGS.SOCK_BROADCAST)) return -E.EACCES;
  if (sk.inet_saddr === 0) sk.inet_saddr = fl4.saddr;
  const err = ip4_datagram_connect(net.ipv4.udp_table, sk, uaddr.addr >>> 0, uaddr.port, fl4.saddr);
  if (err !== 0) return err;
  sk.inet_sport = sk.skc_num;
  sk.inet_id = net.boot.random.get_random_u32() & 0xffff;
  sk.sk_dst_cache = rt;
  return 0;
}

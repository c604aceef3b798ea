// connect() on an AF_INET6 datagram socket, as far as the tables go (__ip6_datagram_connect): as
// ip4_datagram_connect, with an IPv6 remote end. A v4-mapped destination connects the socket
// through its IPv4 view, as the kernel hands it to __ip4_datagram_connect.
import { ERRNO } from '../../bpf-vm/errno.ts';
import {
  In6Addr,
  IPV6_ADDR_TYPES,
  in6addr_any,
  ipv6_addr_any,
  ipv6_addr_set_v4mapped,
  ipv6_addr_type,
  ipv6_addr_v4mapped,
  type ReadonlyIn6Addr,
} from '../core/in6-addr.ts';
import type { Sock } from '../core/sock.ts';
import { AF_INET, AF_INET6 } from '../core/socket-constants.ts';
import type { Cmsg, MsgHdr, Sockaddr } from '../core/msghdr.ts';
import type { SkBuff } from '../core/skbuff.ts';
import { Flowi6 } from '../core/flow.ts';
import { E } from '../core/sock-opts.ts';
import { __ip4_datagram_connect } from '../ipv4/datagram.ts';
import { ip6_route_output } from './route.ts';
import { IPV6_RXOPT } from './ipv6-sockglue.ts';

/** ::1 */
export const in6addr_loopback: ReadonlyIn6Addr = new In6Addr(0, 0, 0, 1);
const INADDR_LOOPBACK = 0x7f000001;
void in6addr_any;
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

const connect_fl6 = new Flowi6();
const mapped = new In6Addr();

/**
 * __ip6_datagram_connect: connect(2) on an AF_INET6 datagram socket. A v4-mapped (or AF_INET)
 * peer connects the IPv4 side (refused on a v6-only socket) and mirrors the addresses into the
 * IPv6 views; otherwise the route to the peer (-ENETUNREACH) gives the source address a
 * wildcard-bound socket takes, then ip6_datagram_connect. :: means this host (::1).
 */
export function __ip6_datagram_connect(sk: Sock, uaddr: Sockaddr): number {
  if (uaddr.family === AF_INET) {
    if (sk.skc_ipv6only) return -E.EAFNOSUPPORT;
    return ip6_datagram_connect_v4(sk, uaddr.addr, uaddr.port);
  }
  if (uaddr.family !== AF_INET6) return -E.EAFNOSUPPORT;
  let daddr: ReadonlyIn6Addr = uaddr.addr;
  if (ipv6_addr_any(daddr)) {
    daddr = ipv6_addr_v4mapped(sk.skc_v6_rcv_saddr) ? ipv6_addr_set_v4mapped(INADDR_LOOPBACK, new In6Addr()) : in6addr_loopback;
  }
  if (ipv6_addr_v4mapped(daddr)) {
    if (sk.skc_ipv6only) return -E.ENETUNREACH;
    return ip6_datagram_connect_v4(sk, daddr.w3, uaddr.port);
  }
  if (ipv6_addr_type(daddr) & IPV6_ADDR_TYPES.IPV6_ADDR_LINKLOCAL && uaddr.scope_id !== undefined && uaddr.scope_id !== 0) {
    if (sk.skc_bound_dev_if !== 0 && sk.skc_bound_dev_if !== uaddr.scope_id) return -E.EINVAL;
    sk.skc_bound_dev_if = uaddr.scope_id;
  }
  const net = sk.skc_net;
  sk.sk_dst_cache = null;
  const fl6 = connect_fl6;
  fl6.flowi6_oif = sk.skc_bound_dev_if;
  fl6.flowi6_iif = 0;
  fl6.flowi6_mark = sk.sk_mark;
  fl6.flowi6_proto = sk.sk_protocol;
  fl6.saddr.copy_from(sk.v6_saddr);
  fl6.daddr.copy_from(daddr);
  fl6.flowlabel = 0;
  fl6.fl6_sport = sk.inet_sport;
  fl6.fl6_dport = uaddr.port;
  const rt = ip6_route_output(net, fl6);
  if (typeof rt === 'number') return rt;
  if (ipv6_addr_any(sk.v6_saddr)) sk.v6_saddr.copy_from(fl6.saddr);
  const err = ip6_datagram_connect(net.ipv4.udp_table, sk, daddr, uaddr.port, fl6.saddr);
  if (err !== 0) return err;
  sk.inet_sport = sk.skc_num;
  sk.sk_dst_cache = rt;
  return 0;
}

/** The IPv4 side of an AF_INET6 socket's connect (the kernel's ipv4_connected path). */
function ip6_datagram_connect_v4(sk: Sock, daddr: number, dport: number): number {
  const err = __ip4_datagram_connect(sk, { family: AF_INET, addr: daddr, port: dport });
  if (err !== 0) return err;
  ipv6_addr_set_v4mapped(sk.skc_daddr, mapped);
  sk.skc_v6_daddr.copy_from(mapped);
  if (ipv6_addr_any(sk.v6_saddr) || (ipv6_addr_v4mapped(sk.v6_saddr) && sk.v6_saddr.w3 === 0)) {
    ipv6_addr_set_v4mapped(sk.inet_saddr, sk.v6_saddr);
  }
  return 0;
}

/** ip6_datagram_recv_common_ctl: IPV6_PKTINFO (also for IPv4 datagrams on a dual-stack socket, v4-mapped). */
export function ip6_datagram_recv_common_ctl(sk: Sock, msg: MsgHdr, skb: SkBuff): void {
  if ((sk.rxopt & IPV6_RXOPT.RXINFO) === 0) return;
  const nh = skb.network_header;
  const addr = new In6Addr();
  if (skb.head[nh]! >>> 4 === 4) ipv6_addr_set_v4mapped(skb.view.getUint32(nh + 16), addr);
  else addr.read(skb.head, nh + 24);
  const out: Cmsg[] = msg.msg_control ?? (msg.msg_control = []);
  out.push({ kind: 'IPV6_PKTINFO', ifindex: skb.cb.iif !== 0 ? skb.cb.iif : skb.skb_iif, addr });
}

/** ip6_datagram_recv_specific_ctl: IPV6_ORIGDSTADDR for IPv6 datagrams. */
export function ip6_datagram_recv_specific_ctl(sk: Sock, msg: MsgHdr, skb: SkBuff): void {
  if ((sk.rxopt & IPV6_RXOPT.RXORIGDSTADDR) === 0) return;
  const nh = skb.network_header;
  const addr = new In6Addr().read(skb.head, nh + 24);
  const port = skb.view.getUint16(skb.transport_header + 2);
  const out: Cmsg[] = msg.msg_control ?? (msg.msg_control = []);
  out.push({ kind: 'IPV6_ORIGDSTADDR', addr: { family: AF_INET6, addr, port } });
}

// struct sock_common: the head that full sockets, TIME_WAIT mini sockets and request sockets share,
// and all that the socket tables read. The kernel's code reaches these through the sk_* macros
// (sk_family is __sk_common.skc_family); here the fields keep their skc_ names.
//
// Addresses: IPv4 as a u32 in host order (10.0.0.1 is 0x0a000001), IPv6 as an In6Addr. Each socket
// carries both views, as the kernel's does: an AF_INET socket's IPv6 fields are the v4-mapped form
// of its IPv4 ones; an AF_INET6 socket's IPv4 fields are the mapped address, 0 for ::, or
// LOOPBACK4_IPV6 for any other address, so an IPv4 lookup compares skc_rcv_saddr alone and a
// dual-stack socket bound to :: or ::ffff:a.b.c.d still matches. Ports are host order (the kernel
// keeps skc_dport as __be16; the hash functions swap it back where the kernel hashes it raw).
import { In6Addr, ipv6_addr_any, ipv6_addr_set_v4mapped, ipv6_addr_v4mapped, type ReadonlyIn6Addr } from './in6-addr.ts';
import { AF_INET6, LOOPBACK4_IPV6, SK_NO_REUSE, type InetFamily } from './socket-constants.ts';
import type { Net } from './net-namespace.ts';
import type { TcpState } from './tcp-states.ts';

export class SockCommon {
  /** Remote IPv4 address (inet_daddr). */
  skc_daddr = 0;
  /** Bound local IPv4 address (inet_rcv_saddr); 0 is INADDR_ANY. */
  skc_rcv_saddr = 0;
  /** The table hash: the ehash value for TCP (sk_hash), udp_portaddr_hash for UDP. int32. */
  skc_hash = 0;
  /** Remote port, host order. */
  skc_dport = 0;
  /** Local port (inet_num), host order; 0 when unbound. */
  skc_num = 0;
  readonly skc_family: InetFamily;
  skc_state: TcpState;
  /** SO_REUSEADDR: SK_NO_REUSE, SK_CAN_REUSE or SK_FORCE_REUSE. */
  skc_reuse: number = SK_NO_REUSE;
  /** SO_REUSEPORT. */
  skc_reuseport = false;
  /** IPV6_V6ONLY (also set by binding an AF_INET6 socket to a non-mapped specific address). */
  skc_ipv6only = false;
  /** SO_BINDTODEVICE ifindex, 0 when unbound. */
  skc_bound_dev_if = 0;
  readonly skc_net: Net;
  readonly skc_v6_daddr = new In6Addr();
  readonly skc_v6_rcv_saddr = new In6Addr();
  /** Socket cookie (sock_gen_cookie), 0 until first asked for. */
  skc_cookie = 0;
  /** SO_INCOMING_CPU, -1 when unset. Matching the lookup's CPU adds one to the score. */
  skc_incoming_cpu = -1;
  /** In ehash, lhash2 or the UDP hashes (the kernel's !sk_unhashed()). */
  skc_hashed = false;

  constructor(net: Net, family: InetFamily, state: TcpState) {
    this.skc_net = net;
    this.skc_family = family;
    this.skc_state = state;
  }
}

export function sock_net(sk: SockCommon): Net {
  return sk.skc_net;
}

export function ipv6_only_sock(sk: SockCommon): boolean {
  return sk.skc_ipv6only;
}

export function sk_unhashed(sk: SockCommon): boolean {
  return !sk.skc_hashed;
}

/** sk_rcv_saddr_set: an IPv4 local address, with its v4-mapped IPv6 view. */
export function sk_rcv_saddr_set(sk: SockCommon, addr: number): void {
  sk.skc_rcv_saddr = addr >>> 0;
  ipv6_addr_set_v4mapped(addr >>> 0, sk.skc_v6_rcv_saddr);
}

/** sk_daddr_set: an IPv4 remote address, with its v4-mapped IPv6 view. */
export function sk_daddr_set(sk: SockCommon, addr: number): void {
  sk.skc_daddr = addr >>> 0;
  ipv6_addr_set_v4mapped(addr >>> 0, sk.skc_v6_daddr);
}

/** The IPv4 view of an IPv6 address, as inet6_bind and the IPv6 connect paths set it. */
export function ipv6_addr_v4_view(a: ReadonlyIn6Addr): number {
  if (ipv6_addr_v4mapped(a)) return a.w3;
  if (ipv6_addr_any(a)) return 0;
  return LOOPBACK4_IPV6;
}

/** An IPv6 local address and its IPv4 view. */
export function sk_v6_rcv_saddr_set(sk: SockCommon, a: ReadonlyIn6Addr): void {
  sk.skc_v6_rcv_saddr.copy_from(a);
  sk.skc_rcv_saddr = ipv6_addr_v4_view(a);
}

/** An IPv6 remote address and its IPv4 view. */
export function sk_v6_daddr_set(sk: SockCommon, a: ReadonlyIn6Addr): void {
  sk.skc_v6_daddr.copy_from(a);
  sk.skc_daddr = ipv6_addr_v4_view(a);
}

/** inet_rcv_saddr_any: bound to the wildcard of its family. */
export function inet_rcv_saddr_any(sk: SockCommon): boolean {
  if (sk.skc_family === AF_INET6) return ipv6_addr_any(sk.skc_v6_rcv_saddr);
  return sk.skc_rcv_saddr === 0;
}

/** inet6_rcv_saddr: the IPv6 local address of an AF_INET6 socket, undefined for AF_INET. */
export function inet6_rcv_saddr(sk: SockCommon): ReadonlyIn6Addr | undefined {
  return sk.skc_family === AF_INET6 ? sk.skc_v6_rcv_saddr : undefined;
}

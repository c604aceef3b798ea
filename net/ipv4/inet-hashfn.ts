// The hash functions of the socket tables, IPv4 and IPv6 together because the tables are shared:
// an IPv6 socket bound to :: or ::ffff:a.b.c.d hashes to the same lhash2 and UDP hash2 slot as an
// IPv4 one on 0.0.0.0 or a.b.c.d (ipv6_portaddr_hash hashes those as ipv4_portaddr_hash does), and
// that is what lets an IPv4 lookup find a dual-stack socket.
//
// Each is the kernel's: the same jhash over the same words with the same per-boot secret plus
// net_hash_mix, the addresses and remote port in their in-memory (big-endian) form as the kernel
// hashes them. The jhash forms are bpf-vm's (the kernel's lookup3, u32 results); the results here
// are int32 (`| 0`), the u32's bits, which V8 keeps as small integers.
import { jhash1word, jhash2, jhash3words } from '../../bpf-vm/maps/jhash.ts';
import { cpu_to_be16, cpu_to_be32 } from '../core/byteorder.ts';
import { ipv6_addr_any, ipv6_addr_v4mapped, type ReadonlyIn6Addr } from '../core/in6-addr.ts';
import type { Net } from '../core/net-namespace.ts';

/**
 * The flow hash of a connection, as ehash and reuseport selection use it, over the addresses of
 * one family (A: a u32 for IPv4, an In6Addr for IPv6); ports host order.
 */
export type Ehashfn<A> = (net: Net, laddr: A, lport: number, faddr: A, fport: number) => number;
export type InetEhashfn = Ehashfn<number>;
export type Inet6Ehashfn = Ehashfn<ReadonlyIn6Addr>;

/** __inet_ehashfn: jhash_3words(laddr, faddr, lport << 16 | fport). */
function __inet_ehashfn(laddr: number, lport: number, faddr: number, fport: number, initval: number): number {
  return jhash3words(cpu_to_be32(laddr), cpu_to_be32(faddr), (lport << 16) | cpu_to_be16(fport), initval) | 0;
}

export function inet_ehashfn(net: Net, laddr: number, lport: number, faddr: number, fport: number): number {
  return __inet_ehashfn(laddr, lport, faddr, fport, (net.boot.secrets.inet_ehash_secret + net.hash_mix) | 0);
}

export function udp_ehashfn(net: Net, laddr: number, lport: number, faddr: number, fport: number): number {
  return __inet_ehashfn(laddr, lport, faddr, fport, (net.boot.secrets.udp_ehash_secret + net.hash_mix) | 0);
}

/** __ipv6_addr_jhash: the remote address folded to one word. */
export function __ipv6_addr_jhash(a: ReadonlyIn6Addr, initval: number): number {
  return jhash3words(cpu_to_be32(a.w0) ^ cpu_to_be32(a.w1), cpu_to_be32(a.w2), cpu_to_be32(a.w3), initval) | 0;
}

/** __inet6_ehashfn: the local address contributes only its last word, as in the kernel. */
function __inet6_ehashfn(lhash: number, lport: number, fhash: number, fport: number, initval: number): number {
  return jhash3words(lhash, fhash, (lport << 16) | cpu_to_be16(fport), initval) | 0;
}

export function inet6_ehashfn(net: Net, laddr: ReadonlyIn6Addr, lport: number, faddr: ReadonlyIn6Addr, fport: number): number {
  const s = net.boot.secrets;
  const fhash = __ipv6_addr_jhash(faddr, s.tcp_ipv6_hash_secret);
  return __inet6_ehashfn(cpu_to_be32(laddr.w3), lport, fhash, fport, (s.inet6_ehash_secret + net.hash_mix) | 0);
}

export function udp6_ehashfn(net: Net, laddr: ReadonlyIn6Addr, lport: number, faddr: ReadonlyIn6Addr, fport: number): number {
  const s = net.boot.secrets;
  const fhash = __ipv6_addr_jhash(faddr, s.udp_ipv6_hash_secret);
  return __inet6_ehashfn(cpu_to_be32(laddr.w3), lport, fhash, fport, (s.udp6_ehash_secret + net.hash_mix) | 0);
}

/** ipv4_portaddr_hash: the lhash2 and UDP hash2 key of (address, port). */
export function ipv4_portaddr_hash(net: Net, saddr: number, port: number): number {
  return (saddr === 0 ? net.portaddr_hash_any : jhash1word(cpu_to_be32(saddr), net.hash_mix) | 0) ^ port;
}

/** The s6_addr32 words jhash2 reads, filled per call (one thread; nothing allocated). */
const s6_addr32 = new Int32Array(4);

/** ipv6_portaddr_hash: :: and v4-mapped addresses hash as their IPv4 views do. */
export function ipv6_portaddr_hash(net: Net, addr6: ReadonlyIn6Addr, port: number): number {
  const mix = net.hash_mix;
  let hash: number;
  if (ipv6_addr_any(addr6)) hash = net.portaddr_hash_any;
  else if (ipv6_addr_v4mapped(addr6)) hash = jhash1word(cpu_to_be32(addr6.w3), mix) | 0;
  else {
    s6_addr32[0] = cpu_to_be32(addr6.w0);
    s6_addr32[1] = cpu_to_be32(addr6.w1);
    s6_addr32[2] = cpu_to_be32(addr6.w2);
    s6_addr32[3] = cpu_to_be32(addr6.w3);
    hash = jhash2(s6_addr32, 0, 4, mix) | 0;
  }
  return hash ^ port;
}

/** inet_bhashfn: the bind bucket slot of a port. */
export function inet_bhashfn(net: Net, lport: number, bhash_size: number): number {
  return (lport + net.hash_mix) & (bhash_size - 1);
}

/** udp_hashfn: the primary UDP slot of a port. */
export function udp_hashfn(net: Net, num: number, mask: number): number {
  return (num + net.hash_mix) & mask;
}

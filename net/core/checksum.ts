// The Internet checksum (RFC 1071) as include/net/checksum.h and lib/checksum.c name its pieces:
// csum_partial sums bytes into a 32-bit accumulator, csum_fold folds and complements it,
// csum_tcpudp_magic / csum_ipv6_magic add the pseudo-header, ip_fast_csum checks an IPv4 header.
// Accumulators are plain numbers below 2^53, folded only at the end, so a sum over a whole
// packet needs no carries in the loop.
import type { ReadonlyIn6Addr } from './in6-addr.ts';

/** csum_partial: adds len bytes at off to sum (an unfolded accumulator). Odd lengths pad with zero. */
export function csum_partial(b: Uint8Array, off: number, len: number, sum: number): number {
  let s = sum;
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < end) s += b[i]! << 8;
  return s;
}

/** csum_fold: folds an accumulator to 16 bits and complements it (0..0xffff). */
export function csum_fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** csum_unfold-less helper: the folded, non-complemented 16-bit sum. */
export function csum16_add(a: number, b: number): number {
  const s = a + b;
  return (s & 0xffff) + (s >>> 16);
}

/** ip_fast_csum: the checksum of an IPv4 header of ihl words; 0 when the header's own checksum is right. */
export function ip_fast_csum(b: Uint8Array, off: number, ihl: number): number {
  return csum_fold(csum_partial(b, off, ihl * 4, 0));
}

/** csum_tcpudp_nofold: the IPv4 pseudo-header (addresses host-order u32s) added to sum. */
export function csum_tcpudp_nofold(saddr: number, daddr: number, len: number, proto: number, sum: number): number {
  return sum + (saddr >>> 16) + (saddr & 0xffff) + (daddr >>> 16) + (daddr & 0xffff) + proto + len;
}

/** csum_tcpudp_magic: the folded checksum of pseudo-header plus sum. */
export function csum_tcpudp_magic(saddr: number, daddr: number, len: number, proto: number, sum: number): number {
  return csum_fold(csum_tcpudp_nofold(saddr, daddr, len, proto, sum));
}

function add6(a: ReadonlyIn6Addr, s: number): number {
  return s + (a.w0 >>> 16) + (a.w0 & 0xffff) + (a.w1 >>> 16) + (a.w1 & 0xffff)
    + (a.w2 >>> 16) + (a.w2 & 0xffff) + (a.w3 >>> 16) + (a.w3 & 0xffff);
}

/** csum_ipv6_magic: the IPv6 pseudo-header (RFC 8200 §8.1) plus sum, folded. */
export function csum_ipv6_magic(saddr: ReadonlyIn6Addr, daddr: ReadonlyIn6Addr, len: number, proto: number, sum: number): number {
  return csum_fold(add6(daddr, add6(saddr, sum)) + (len >>> 16) + (len & 0xffff) + proto);
}

/**
 * The checksum to write into a UDP header: 0 means "no checksum" in UDP over IPv4, so a computed
 * 0 is sent as 0xffff (CSUM_MANGLED_0).
 */
export function csum_mangle_udp(csum: number): number {
  return csum === 0 ? 0xffff : csum;
}

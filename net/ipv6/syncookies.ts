// IPv6 SYN cookies (net/ipv6/syncookies.c): the IPv4 layout (ipv4/syncookies.ts) with its own
// per-boot secrets (syncookie6_secret[2]) and MSS table, the hash taken over the 40-byte struct
// { saddr, daddr, u32 count, __be16 sport, __be16 dport } as it lies in memory on x86-64, so with
// the same secret a cookie equals the kernel's. The timestamp encoding, the age limit and the
// overflow bookkeeping are IPv4's, shared.
import type { Net } from '../core/net-namespace.ts';
import type { BootState } from '../core/boot-state.ts';
import type { ReadonlyIn6Addr } from '../core/in6-addr.ts';
import { cpu_to_be16, cpu_to_be32 } from '../core/byteorder.ts';
import { type SiphashKey, siphash_u64s } from '../core/siphash.ts';
import { COOKIEBITS, COOKIEMASK, MAX_SYNCOOKIE_AGE, draw_siphash_keys, tcp_cookie_time } from '../ipv4/syncookies.ts';

/**
 * The MSS values an IPv6 cookie encodes: 60 below the MTUs of the IPv6 minimum (1280), PPPoE-like
 * encapsulation (1480), Ethernet (1500) and jumbo frames (9000). Sorted.
 */
export const msstab6: readonly number[] = Object.freeze([1280 - 60, 1480 - 60, 1500 - 60, 9000 - 60]);

const secrets = new WeakMap<BootState, readonly [SiphashKey, SiphashKey]>();

/** syncookie6_secret for this boot (drawn on first use; mutable keys for tests). */
export function syncookie6_secret(net: Net): readonly [SiphashKey, SiphashKey] {
  let s = secrets.get(net.boot);
  if (s === undefined) {
    s = draw_siphash_keys(net.boot);
    secrets.set(net.boot, s);
  }
  return s;
}

// The struct as five little-endian u64s (lo, hi pairs), plus room for siphash's final word.
const combined = new Int32Array(2 * 6);

function cookie_hash(
  key: SiphashKey, saddr: ReadonlyIn6Addr, daddr: ReadonlyIn6Addr, sport: number, dport: number, count: number,
): number {
  const m = combined;
  // An address's bytes are in network order, so a little-endian load of each 4 is the byte swap
  // of vxo's host-order word.
  m[0] = cpu_to_be32(saddr.w0); m[1] = cpu_to_be32(saddr.w1);
  m[2] = cpu_to_be32(saddr.w2); m[3] = cpu_to_be32(saddr.w3);
  m[4] = cpu_to_be32(daddr.w0); m[5] = cpu_to_be32(daddr.w1);
  m[6] = cpu_to_be32(daddr.w2); m[7] = cpu_to_be32(daddr.w3);
  m[8] = count;
  m[9] = cpu_to_be16(sport) | (cpu_to_be16(dport) << 16);
  return siphash_u64s(m, 5, key);
}

/** secure_tcp_syn_cookie (IPv6). */
export function secure_tcp_syn_cookie6(
  net: Net, saddr: ReadonlyIn6Addr, daddr: ReadonlyIn6Addr, sport: number, dport: number, sseq: number, data: number,
): number {
  const keys = syncookie6_secret(net);
  const k0 = keys[0], k1 = keys[1];
  const count = tcp_cookie_time(net);
  const h0 = cookie_hash(k0, saddr, daddr, sport, dport, 0);
  const h1 = cookie_hash(k1, saddr, daddr, sport, dport, count);
  return (h0 + sseq + (count << COOKIEBITS) + ((h1 + data) & COOKIEMASK)) >>> 0;
}

/** check_tcp_syn_cookie (IPv6): the MSS index, 0xffffffff when too old, anything for a forgery. */
export function check_tcp_syn_cookie6(
  net: Net, cookie: number, saddr: ReadonlyIn6Addr, daddr: ReadonlyIn6Addr, sport: number, dport: number, sseq: number,
): number {
  const keys = syncookie6_secret(net);
  const k0 = keys[0], k1 = keys[1];
  const count = tcp_cookie_time(net);
  const c = (cookie - (cookie_hash(k0, saddr, daddr, sport, dport, 0) + sseq)) >>> 0;
  const diff = (count - (c >>> COOKIEBITS)) & (0xffffffff >>> COOKIEBITS);
  if (diff >= MAX_SYNCOOKIE_AGE) return 0xffffffff;
  return (c - cookie_hash(k1, saddr, daddr, sport, dport, (count - diff) >>> 0)) & COOKIEMASK;
}

/** __cookie_v6_init_sequence: the cookie ISN; lowers mssp.mss to the table entry encoded (1220 at least). */
export function __cookie_v6_init_sequence(
  net: Net, saddr: ReadonlyIn6Addr, daddr: ReadonlyIn6Addr, sport: number, dport: number, seq: number,
  mssp: { mss: number },
): number {
  const mss = mssp.mss;
  let mssind = msstab6.length - 1;
  for (; mssind > 0; mssind--) if (mss >= msstab6[mssind]!) break;
  mssp.mss = msstab6[mssind]!;
  return secure_tcp_syn_cookie6(net, saddr, daddr, sport, dport, seq >>> 0, mssind);
}

/** __cookie_v6_check: the MSS, or 0. `seq` is the ACK's seq - 1, `cookie` its ack_seq - 1. */
export function __cookie_v6_check(
  net: Net, saddr: ReadonlyIn6Addr, daddr: ReadonlyIn6Addr, sport: number, dport: number, seq: number, cookie: number,
): number {
  const mssind = check_tcp_syn_cookie6(net, cookie >>> 0, saddr, daddr, sport, dport, seq >>> 0);
  return mssind < msstab6.length ? msstab6[mssind]! : 0;
}

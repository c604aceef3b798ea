// SYN cookies (net/ipv4/syncookies.c and the helpers of include/net/tcp.h). When the SYN queue is
// full a listener answers a SYN without keeping state: the SYN-ACK's ISN encodes a minute counter
// and the MSS index, authenticated by two SipHashes over the 4-tuple, and the ACK that echoes it
// (ack_seq - 1) is checked and decoded. With timestamps on, the low 6 bits of the SYN-ACK's TSval
// carry window scale, SACK and ECN, which come back in the ACK's TSecr.
//
// The cookie layout, from the top: 8 bits of minute counter plus carries, 24 bits of
// (hash2 + mssind) mod 2^24, the whole offset by hash1 + the client's ISN. With the same
// syncookie_secret a cookie here equals the kernel's on x86-64: the addresses and ports are hashed
// as the __be32/__be16 values a little-endian CPU loads (cpu_to_be32 of vxo's host-order values).
import type { Net } from '../core/net-namespace.ts';
import type { BootState } from '../core/boot-state.ts';
import { HZ } from '../core/clock.ts';
import { cpu_to_be16, cpu_to_be32 } from '../core/byteorder.ts';
import { SiphashKey, siphash_4u32 } from '../core/siphash.ts';
import type { TcpOptionsReceived, TcpSock } from './tcp-sock.ts';

/** Bits below the minute counter (the counter takes the top 8). */
export const COOKIEBITS = 24;
export const COOKIEMASK = (1 << COOKIEBITS) - 1;

/** A cookie is good while the minute counter has moved less than this since it was made: 1 to 2 minutes. */
export const MAX_SYNCOOKIE_AGE = 2;
/** The counter's period, jiffies. */
export const TCP_SYNCOOKIE_PERIOD = 60 * HZ;
/** How long after the last SYN queue overflow cookie ACKs are still checked, jiffies. */
export const TCP_SYNCOOKIE_VALID = MAX_SYNCOOKIE_AGE * TCP_SYNCOOKIE_PERIOD;

/** The option bits in the low TSBITS of a cookie SYN-ACK's TSval. WScale 0xf means no window scaling. */
export const TS_OPT_WSCALE_MASK = 0xf;
export const TS_OPT_SACK = 1 << 4;
export const TS_OPT_ECN = 1 << 5;
export const TSBITS = 6;

/**
 * The MSS values a cookie can encode (its 2-bit index): from the measured distribution of announced
 * MSS values; 1460 is the most common, 1440 covers PPPoE. Sorted.
 */
export const msstab: readonly number[] = Object.freeze([536, 1300, 1440, 1460]);

// The two per-boot keys (syncookie_secret[2]), drawn from the boot's PRNG on first use as
// net_get_random_once draws them. Every netns of a boot shares them, as the kernel's static does.
const secrets = new WeakMap<BootState, readonly [SiphashKey, SiphashKey]>();

/** Eight u32s from the boot's PRNG as two siphash keys (what get_random_bytes fills). */
export function draw_siphash_keys(boot: BootState): readonly [SiphashKey, SiphashKey] {
  const r = (): number => boot.random.get_random_u32();
  const a = SiphashKey.from_u32(r(), r(), r(), r());
  const b = SiphashKey.from_u32(r(), r(), r(), r());
  return [a, b];
}

/**
 * syncookie_secret for this boot. The keys are mutable so a test can fix them (to compare a
 * cookie with one computed elsewhere).
 */
export function syncookie_secret(net: Net): readonly [SiphashKey, SiphashKey] {
  let s = secrets.get(net.boot);
  if (s === undefined) {
    s = draw_siphash_keys(net.boot);
    secrets.set(net.boot, s);
  }
  return s;
}

/** tcp_cookie_time: the minute counter, jiffies / (60 * HZ) as a u32. */
export function tcp_cookie_time(net: Net): number {
  return Math.floor(net.boot.clock.get_jiffies_64() / TCP_SYNCOOKIE_PERIOD) >>> 0;
}

/** cookie_hash: siphash_4u32 of (saddr, daddr, ports, count) as the kernel loads them (byte-swapped); u32. */
function cookie_hash(key: SiphashKey, saddr: number, daddr: number, ports: number, count: number): number {
  return siphash_4u32(saddr, daddr, ports, count, key);
}

/** The third hashed word: (__be16 sport) << 16 | (__be16 dport), as a little-endian CPU loads them. */
function cookie_ports(sport: number, dport: number): number {
  return (cpu_to_be16(sport) << 16) | cpu_to_be16(dport);
}

/** secure_tcp_syn_cookie: the ISN for a SYN with sequence sseq, `data` (the MSS index) folded in. */
export function secure_tcp_syn_cookie(
  net: Net, saddr: number, daddr: number, sport: number, dport: number, sseq: number, data: number,
): number {
  const keys = syncookie_secret(net);
  const k0 = keys[0], k1 = keys[1];
  const s = cpu_to_be32(saddr), d = cpu_to_be32(daddr), p = cookie_ports(sport, dport);
  const count = tcp_cookie_time(net);
  const h0 = cookie_hash(k0, s, d, p, 0);
  const h1 = cookie_hash(k1, s, d, p, count);
  return (h0 + sseq + (count << COOKIEBITS) + ((h1 + data) & COOKIEMASK)) >>> 0;
}

/**
 * check_tcp_syn_cookie: the data (MSS index) a cookie carries, or 0xffffffff when its counter is
 * MAX_SYNCOOKIE_AGE minutes old or more. A forged cookie yields some value the caller must range-check.
 */
export function check_tcp_syn_cookie(
  net: Net, cookie: number, saddr: number, daddr: number, sport: number, dport: number, sseq: number,
): number {
  const keys = syncookie_secret(net);
  const k0 = keys[0], k1 = keys[1];
  const s = cpu_to_be32(saddr), d = cpu_to_be32(daddr), p = cookie_ports(sport, dport);
  const count = tcp_cookie_time(net);
  const c = (cookie - (cookie_hash(k0, s, d, p, 0) + sseq)) >>> 0;
  const diff = (count - (c >>> COOKIEBITS)) & (0xffffffff >>> COOKIEBITS);
  if (diff >= MAX_SYNCOOKIE_AGE) return 0xffffffff;
  return (c - cookie_hash(k1, s, d, p, (count - diff) >>> 0)) & COOKIEMASK;
}

/**
 * __cookie_v4_init_sequence: the cookie ISN for a SYN from saddr:sport to daddr:dport (host order)
 * with sequence `seq`. Lowers mssp.mss to the table entry it encodes (the largest not above it,
 * 536 at least).
 */
export function __cookie_v4_init_sequence(
  net: Net, saddr: number, daddr: number, sport: number, dport: number, seq: number, mssp: { mss: number },
): number {
  const mss = mssp.mss;
  let mssind = msstab.length - 1;
  for (; mssind > 0; mssind--) if (mss >= msstab[mssind]!) break;
  mssp.mss = msstab[mssind]!;
  return secure_tcp_syn_cookie(net, saddr, daddr, sport, dport, seq >>> 0, mssind);
}

/**
 * __cookie_v4_check: the MSS a cookie ACK encodes, or 0 if the cookie is not valid. `seq` is the
 * client's ISN (the ACK's seq - 1; the kernel's function subtracts it from th->seq itself) and
 * `cookie` the ACK's ack_seq - 1.
 */
export function __cookie_v4_check(
  net: Net, saddr: number, daddr: number, sport: number, dport: number, seq: number, cookie: number,
): number {
  const mssind = check_tcp_syn_cookie(net, cookie >>> 0, saddr, daddr, sport, dport, seq >>> 0);
  return mssind < msstab.length ? msstab[mssind]! : 0;
}

/** The options a request socket negotiated (inet_request_sock's bits cookie_init_timestamp reads). */
export interface CookieTsOptions {
  wscale_ok: boolean;
  snd_wscale: number;
  sack_ok: boolean;
  ecn_ok: boolean;
}

/**
 * cookie_init_timestamp: the TSval (ms, u32) for a cookie SYN-ACK sent at now_ms: the time with
 * its low 6 bits replaced by the options, stepped back 64 ms if that would be in the future, so
 * later timestamps of the connection never go backwards. Milliseconds even for a request with
 * req_usec_ts: the kernel reads tcp_ns_to_ts(false, now) and scales the result by the request's
 * unit only for tcp_skb_timestamp_ts to scale it back. (It returns ns; this returns the TSval.)
 */
export function cookie_init_timestamp(_net: Net, opts: CookieTsOptions, now_ms: number): number {
  let options = opts.wscale_ok ? opts.snd_wscale & TS_OPT_WSCALE_MASK : TS_OPT_WSCALE_MASK;
  if (opts.sack_ok) options |= TS_OPT_SACK;
  if (opts.ecn_ok) options |= TS_OPT_ECN;
  const ts_now = Math.floor(now_ms);
  let ts = ts_now - (ts_now % 64) + options;
  if (ts > ts_now) ts -= 1 << TSBITS;
  return ts >>> 0;
}

/** tcp_clear_options. */
function tcp_clear_options(rx_opt: TcpOptionsReceived): void {
  rx_opt.tstamp_ok = false;
  rx_opt.sack_ok = false;
  rx_opt.wscale_ok = false;
  rx_opt.snd_wscale = 0;
}

/**
 * cookie_timestamp_decode: restores SACK and window scaling from the echoed TSecr (already less
 * the connection's tsoff). Without a timestamp the options are cleared (none survive a cookie).
 * False if the ACK claims an option this host has turned off.
 */
export function cookie_timestamp_decode(net: Net, rx_opt: TcpOptionsReceived): boolean {
  const options = rx_opt.rcv_tsecr;
  if (!rx_opt.saw_tstamp) {
    tcp_clear_options(rx_opt);
    return true;
  }
  if (!net.ipv4.sysctl_tcp_timestamps) return false;
  rx_opt.sack_ok = (options & TS_OPT_SACK) !== 0;
  if (rx_opt.sack_ok && !net.ipv4.sysctl_tcp_sack) return false;
  if ((options & TS_OPT_WSCALE_MASK) === TS_OPT_WSCALE_MASK) return true;
  rx_opt.wscale_ok = true;
  rx_opt.snd_wscale = options & TS_OPT_WSCALE_MASK;
  return net.ipv4.sysctl_tcp_window_scaling !== 0;
}

/** cookie_ecn_ok: ECN was negotiated (the TSecr's ECN bit) and is on here (sysctl, or the route's feature). */
export function cookie_ecn_ok(rx_opt: TcpOptionsReceived, net: Net, dst_feature_ecn = false): boolean {
  if ((rx_opt.rcv_tsecr & TS_OPT_ECN) === 0) return false;
  if (net.ipv4.sysctl_tcp_ecn) return true;
  return dst_feature_ecn;
}

// --- the listener's "recently overflowed" state (include/net/tcp.h) ---
//
// The kernel keeps the jiffies of the last SYN queue overflow in the listener's
// rx_opt.ts_recent_stamp (unused on a listener otherwise), or in the reuseport group's
// synq_overflow_ts. Here the listener's are TcpSock.synq_overflow_ts with synq_overflow_valid
// set once it has overflowed: a fresh listener's 0 would otherwise read as "overflowed at boot"
// while jiffies are near 0 (the kernel's jiffies start 5 minutes before the wrap, which hides
// this). The group's stamp is SockReuseport.synq_overflow_ts, -1 until the first overflow.

/** time_between32(t, l, h): l <= t <= h in u32 wraparound arithmetic. */
function time_between32(t: number, l: number, h: number): boolean {
  return ((h - l) >>> 0) >= ((t - l) >>> 0);
}

/** tcp_synq_overflow: note that `sk`'s SYN queue overflowed now (the stamp moves at most once a second). */
export function tcp_synq_overflow(sk: TcpSock): void {
  const now = sk.skc_net.boot.clock.get_jiffies_64() >>> 0;
  if (sk.skc_reuseport) {
    const reuse = sk.sk_reuseport_cb;
    if (reuse !== null) {
      const last = reuse.synq_overflow_ts;
      if (last < 0 || !time_between32(now, last, (last + HZ) >>> 0)) reuse.synq_overflow_ts = now;
      return;
    }
  }
  const last = sk.synq_overflow_ts;
  if (!sk.synq_overflow_valid || !time_between32(now, last, (last + HZ) >>> 0)) {
    sk.synq_overflow_ts = now;
    sk.synq_overflow_valid = true;
  }
}

/**
 * tcp_synq_no_recent_overflow: true when `sk` has not overflowed within TCP_SYNCOOKIE_VALID, so an
 * ACK to it cannot be a cookie. The window starts a second early because tcp_synq_overflow moves
 * the stamp only once a second.
 */
export function tcp_synq_no_recent_overflow(sk: TcpSock): boolean {
  const now = sk.skc_net.boot.clock.get_jiffies_64() >>> 0;
  let last: number;
  if (sk.skc_reuseport && sk.sk_reuseport_cb !== null) {
    const ts = sk.sk_reuseport_cb.synq_overflow_ts;
    if (ts < 0) return true;
    last = ts;
  } else {
    if (!sk.synq_overflow_valid) return true;
    last = sk.synq_overflow_ts;
  }
  return !time_between32(now, (last - HZ) >>> 0, (last + TCP_SYNCOOKIE_VALID) >>> 0);
}

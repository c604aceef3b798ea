// net/core/secure_seq.c: initial sequence numbers (RFC 6528) and timestamp offsets. The ISN is a
// SipHash of the 4-tuple under a per-boot secret plus a clock that advances every 64 ns, so a new
// connection on a reused 4-tuple starts ahead of the old one and an off-path attacker cannot guess
// it. The clock is the machine's monotonic clock (the kernel reads the real-time clock), which is
// what makes a run on the virtual clock reproducible.
import type { Net } from './net-namespace.ts';
import type { BootState } from './boot-state.ts';
import type { ReadonlyIn6Addr } from './in6-addr.ts';
import { SiphashKey, siphash, siphash_2u32, siphash_3u32 } from './siphash.ts';
import { cpu_to_be16, cpu_to_be32 } from './byteorder.ts';

interface SeqSecrets {
  net_secret: SiphashKey;
  ts_secret: SiphashKey;
}
const secrets = new WeakMap<BootState, SeqSecrets>();

/** net_secret_init / ts_secret_init: drawn once per boot from its PRNG. */
function boot_secrets(boot: BootState): SeqSecrets {
  let s = secrets.get(boot);
  if (s === undefined) {
    const r = (): number => boot.random.get_random_u32();
    s = { net_secret: SiphashKey.from_u32(r(), r(), r(), r()), ts_secret: SiphashKey.from_u32(r(), r(), r(), r()) };
    secrets.set(boot, s);
  }
  return s;
}

/** seq_scale: the hash plus the time in 64 ns units. */
function seq_scale(net: Net, seq: number): number {
  return (seq + Math.floor(net.boot.clock.ktime_get_ns() / 64)) >>> 0;
}

/** secure_tcp_seq: the ISN for a connection from saddr:sport to daddr:dport (host order). */
export function secure_tcp_seq(net: Net, saddr: number, daddr: number, sport: number, dport: number): number {
  const { net_secret } = boot_secrets(net.boot);
  const ports = (cpu_to_be16(sport) << 16) | cpu_to_be16(dport);
  return seq_scale(net, siphash_3u32(cpu_to_be32(saddr), cpu_to_be32(daddr), ports, net_secret));
}

/** secure_tcp_ts_off: the per-pair offset added to our TSvals (0 unless tcp_timestamps is 1). */
export function secure_tcp_ts_off(net: Net, saddr: number, daddr: number): number {
  if (net.ipv4.sysctl_tcp_timestamps !== 1) return 0;
  const { ts_secret } = boot_secrets(net.boot);
  return siphash_2u32(cpu_to_be32(saddr), cpu_to_be32(daddr), ts_secret) >>> 0;
}

const buf6 = new Uint8Array(36);
const view6 = new DataView(buf6.buffer);
function put6(off: number, a: ReadonlyIn6Addr): void {
  view6.setUint32(off, a.w0);
  view6.setUint32(off + 4, a.w1);
  view6.setUint32(off + 8, a.w2);
  view6.setUint32(off + 12, a.w3);
}

/** secure_tcpv6_seq: the hash covers { saddr, daddr, sport, dport } as laid out in memory. */
export function secure_tcpv6_seq(net: Net, saddr: ReadonlyIn6Addr, daddr: ReadonlyIn6Addr, sport: number, dport: number): number {
  const { net_secret } = boot_secrets(net.boot);
  put6(0, saddr);
  put6(16, daddr);
  view6.setUint16(32, sport);
  view6.setUint16(34, dport);
  return seq_scale(net, siphash(buf6, 0, 36, net_secret));
}

/** secure_tcpv6_ts_off. */
export function secure_tcpv6_ts_off(net: Net, saddr: ReadonlyIn6Addr, daddr: ReadonlyIn6Addr): number {
  if (net.ipv4.sysctl_tcp_timestamps !== 1) return 0;
  const { ts_secret } = boot_secrets(net.boot);
  put6(0, saddr);
  put6(16, daddr);
  return siphash(buf6, 0, 32, ts_secret) >>> 0;
}

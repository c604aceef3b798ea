// net/ipv4/ip_options.c, the receive side: __ip_options_compile's walk over a received header's
// options, with its rules for each kind (lengths, pointers, one of each). An error answers ICMP
// parameter problem pointing at the offending byte, as ip_options_compile does. The options are
// checked, not acted on: record route and timestamp are not filled in for local delivery, and
// replies (ICMP echo) carry no options (ip_options_echo is not modelled).
import type { SkBuff } from '../core/skbuff.ts';
import { ICMP, icmp_send } from './icmp.ts';

/** IPOPT_* (include/uapi/linux/ip.h). */
export const IPOPT = {
  IPOPT_END: 0,
  IPOPT_NOOP: 1,
  IPOPT_SEC: 130,
  IPOPT_LSRR: 131,
  IPOPT_TIMESTAMP: 68,
  IPOPT_CIPSO: 134,
  IPOPT_RR: 7,
  IPOPT_SID: 136,
  IPOPT_SSRR: 137,
  IPOPT_RA: 148,
  IPOPT_TS_TSONLY: 0,
  IPOPT_TS_TSANDADDR: 1,
  IPOPT_TS_PRESPEC: 3,
} as const;

/**
 * ip_options_compile for a received datagram (network_header at its IPv4 header). Returns 0, 1 when
 * it carries a source route (the caller decides by accept_source_route), or -EINVAL after sending
 * a parameter problem.
 */
export function ip_options_compile(skb: SkBuff): number {
  const b = skb.head;
  const iph = skb.network_header;
  const end = iph + (b[iph]! & 0x0f) * 4;
  let p = iph + 20;
  let pp = -1;
  let srr = false, rr = false, ts = false;
  while (p < end) {
    const t = b[p]!;
    if (t === IPOPT.IPOPT_END) break;
    if (t === IPOPT.IPOPT_NOOP) {
      p++;
      continue;
    }
    const l = end - p;
    if (l < 2) { pp = p; break; }
    const optlen = b[p + 1]!;
    if (optlen < 2 || optlen > l) { pp = p; break; }
    if (t === IPOPT.IPOPT_SSRR || t === IPOPT.IPOPT_LSRR) {
      if (optlen < 3) { pp = p + 1; break; }
      if (b[p + 2]! < 4) { pp = p + 2; break; }
      if (srr) { pp = p; break; }
      srr = true;
    } else if (t === IPOPT.IPOPT_RR) {
      if (rr) { pp = p; break; }
      if (optlen < 3) { pp = p + 1; break; }
      if (b[p + 2]! < 4) { pp = p + 2; break; }
      if (b[p + 2]! <= optlen && b[p + 2]! + 3 > optlen) { pp = p + 2; break; }
      rr = true;
    } else if (t === IPOPT.IPOPT_TIMESTAMP) {
      if (ts) { pp = p; break; }
      if (optlen < 4) { pp = p + 1; break; }
      const ptr = b[p + 2]!;
      if (ptr < 5) { pp = p + 2; break; }
      const flg = b[p + 3]! & 0xf;
      if (ptr <= optlen) {
        if (ptr + 3 > optlen) { pp = p + 2; break; }
        if ((flg === IPOPT.IPOPT_TS_TSANDADDR || flg === IPOPT.IPOPT_TS_PRESPEC) && ptr + 7 > optlen) { pp = p + 2; break; }
      } else if (flg !== IPOPT.IPOPT_TS_PRESPEC && b[p + 3]! >>> 4 === 15) {
        // The overflow counter is full.
        pp = p + 3;
        break;
      }
      ts = true;
    } else if (t === IPOPT.IPOPT_RA) {
      if (optlen < 4) { pp = p + 1; break; }
    }
    // Other kinds (security, stream id, CIPSO, unknown) pass on receive.
    p += optlen;
  }
  if (pp < 0) return srr ? 1 : 0;
  icmp_send(skb, ICMP.ICMP_PARAMETERPROB, 0, ((pp - iph) << 24) >>> 0);
  return -22;
}

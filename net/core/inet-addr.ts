// inet_pton / inet_ntop for IPv4 (a u32 in host order: 10.0.0.1 is 0x0a000001) and IPv6 (an
// In6Addr), for tests, scenarios and socket listings. Not for the per-packet path, which reads
// addresses out of headers as numbers.
import { NetError } from './errors.ts';
import { In6Addr, ipv6_addr_v4mapped, type ReadonlyIn6Addr } from './in6-addr.ts';

const DEC_OCTET = /^(?:0|[1-9]\d{0,2})$/;

function pton4_or_undefined(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!DEC_OCTET.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v;
}

/** "10.0.0.1" -> 0x0a000001. Dotted quad only, as inet_pton(AF_INET) takes. */
export function inet_pton4(s: string): number {
  const v = pton4_or_undefined(s);
  if (v === undefined) throw new NetError('EINVAL', `not an IPv4 address: ${JSON.stringify(s)}`);
  return v;
}

export function inet_ntop4(addr: number): string {
  const a = addr >>> 0;
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** "2001:db8::1", "::ffff:10.0.0.1" -> In6Addr, as inet_pton(AF_INET6) takes them. */
export function inet_pton6(s: string, out: In6Addr = new In6Addr()): In6Addr {
  const bad = (why: string): NetError => new NetError('EINVAL', `not an IPv6 address (${why}): ${JSON.stringify(s)}`);
  const halves = s.split('::');
  if (halves.length > 2) throw bad('more than one "::"');
  const groups = (part: string, last: boolean): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    const fields = part.split(':');
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (last && i === fields.length - 1 && f.includes('.')) {
        const v4 = pton4_or_undefined(f);
        if (v4 === undefined) throw bad('bad embedded IPv4 address');
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (HEX_GROUP.test(f)) {
        out.push(parseInt(f, 16));
      } else {
        throw bad(`bad group ${JSON.stringify(f)}`);
      }
    }
    return out;
  };
  let g: number[];
  if (halves.length === 2) {
    const head = groups(halves[0]!, false);
    const tail = groups(halves[1]!, true);
    if (head.length + tail.length > 7) throw bad('"::" stands for no group');
    g = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    g = groups(halves[0]!, true);
    if (g.length !== 8) throw bad(`${g.length} groups`);
  }
  const w = (i: number): number => ((g[2 * i]! << 16) | g[2 * i + 1]!) >>> 0;
  return out.set(w(0), w(1), w(2), w(3));
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups as "::" (the first of equal runs), v4-mapped as ::ffff:a.b.c.d. */
export function inet_ntop6(a: ReadonlyIn6Addr): string {
  if (ipv6_addr_v4mapped(a)) return `::ffff:${inet_ntop4(a.w3)}`;
  const g = [a.w0 >>> 16, a.w0 & 0xffff, a.w1 >>> 16, a.w1 & 0xffff, a.w2 >>> 16, a.w2 & 0xffff, a.w3 >>> 16, a.w3 & 0xffff];
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => g.slice(from, to).map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(0, 8);
  return `${hex(0, best)}::${hex(best + bestLen, 8)}`;
}

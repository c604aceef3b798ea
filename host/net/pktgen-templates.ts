// pktgen's flood templates: TCP SYNs and UDP datagrams over IPv4 or IPv6, from a range of source
// addresses and a range of source ports, as the sk_lookup benchmarks sent them (a SYN flood from
// many ports against one listener; a 0-length UDP flood against one socket), to a range of
// destination addresses and ports (pktgen's dst_min..dst_max and udp_dst_min..udp_dst_max: every
// address of a prefix, every port of an address, as a dispatcher's bindings cover them). Every
// frame is valid: IPv4 header, TCP and UDP checksums are right for its addresses, ports and
// sequence number.
//
// A SYN looks like Linux's: MSS, SACK permitted, timestamps and window scale in tcp_options_write's
// order and packing ("mss 1460,sackOK,TS val .. ecr 0,nop,wscale 7"), the window the MSS rounds
// 65535 down to, DF set. Over IPv4 the ID is 0 and DF set (what Linux sends on a socket without
// inet_id; a receiver reads neither), no flow label over IPv6.
//
// Ranges advance per frame each on its own, as pktgen's sequential mode does (src_min..src_max,
// udp_src_min..udp_src_max, and the same for the destination): frame i comes from address base +
// i mod count and port base + i mod count and goes to address base + i mod count and port base +
// i mod count, so with pairwise coprime counts every combination occurs. Or, with `random`, each
// is drawn uniformly (xorshift32, seeded) as pktgen's IPSRC_RND / UDPSRC_RND / IPDST_RND /
// UDPDST_RND do (a destination range of one draws nothing, so a source-only spec's frames do not
// change with the destination ranges' existence). The TCP sequence number is seq + i, so SYNs of
// one 4-tuple are not retransmissions of each other.
//
// Per frame: a word copy of the template, then the varying fields and the checksums written as
// bytes. The checksums are incremental: the template's sums without the varying fields are kept, and
// each frame adds its own values (RFC 1624), so no byte of the payload is summed again.
import { HostNetError } from './errors.ts';
import { ETH_FRAME_LEN, ETH_ZLEN, parseIpv4, parseMac } from './pktgen.ts';
import { inet_pton6 } from '../../net/core/inet-addr.ts';

export type PktgenTemplateProto = 'tcp-syn' | 'udp';

export interface PktgenTemplateSpec {
  proto: PktgenTemplateProto;
  /** 4 (default) or 6. */
  family?: 4 | 6;
  srcMac?: string;
  dstMac?: string;
  /** Source address, the first of the range (IPv6: the low 32 bits vary, without carry). */
  srcIp?: string;
  /** Source addresses in the range (default 1). */
  srcIpCount?: number;
  /** Destination address, the first of the range (IPv6: the low 32 bits vary, without carry). */
  dstIp?: string;
  /** Destination addresses in the range (default 1): 256 from a /24's first address is the whole /24. */
  dstIpCount?: number;
  /** Source port, the first of the range. */
  srcPort?: number;
  /** Source ports in the range (default 1; base + count - 1 must stay at or below 65535). */
  srcPortCount?: number;
  dstPort?: number;
  /** Destination ports in the range (default 1; base + count - 1 must stay at or below 65535). */
  dstPortCount?: number;
  /** UDP payload bytes (default 0, the 0-length flood), zeros. */
  payload?: number;
  /** UDP checksum over IPv4 (default true). Over IPv6 it is mandatory and always set. */
  udpChecksum?: boolean;
  /** SYN options, Linux's by default: mss 1460 (IPv6: 1440), SACK, timestamps, wscale 7. */
  mss?: number;
  sack?: boolean;
  timestamps?: boolean;
  /** Window scale shift, or null for no option. */
  wscale?: number | null;
  /** TSval of every SYN (default 1). */
  tsval?: number;
  /** The first SYN's sequence number (default 0x10000000); frame i carries seq + i. */
  seq?: number;
  /** The SYN's window (default: 65535 rounded down to a multiple of the MSS, as tcp_select_initial_window). */
  window?: number;
  /** TTL / hop limit (default 64). */
  ttl?: number;
  /**
   * Pick the addresses and ports of each frame at random within their ranges (pktgen's
   * IPSRC_RND, UDPSRC_RND, IPDST_RND and UDPDST_RND flags) instead of cycling. Seeded (`seed`,
   * default 1): the same frames every run.
   */
  random?: boolean;
  seed?: number;
}

export const PKTGEN_TEMPLATE_DEFAULTS = {
  srcMac: '02:00:00:00:00:01',
  dstMac: '02:00:00:00:00:02',
  srcIp4: '10.0.0.1',
  dstIp4: '10.0.0.2',
  srcIp6: 'fd00::1',
  dstIp6: 'fd00::2',
  srcPort: 1024,
  dstPort: 80,
  ttl: 64,
  seq: 0x10000000,
  tsval: 1,
  wscale: 7,
} as const;

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IP_DF = 0x4000;
const TCPHDR_SYN = 0x02;

/** Byte offsets of what changes per frame, for one template. */
export interface PktgenTemplateLayout {
  /** Bytes of the frame (padded to ETH_ZLEN). */
  len: number;
  /** The L3 header, the L4 header. */
  l3: number;
  l4: number;
  /** The varying 32 bits of the source address (IPv4: all of it; IPv6: its last word). */
  srcVar: number;
  /** The same of the destination address. */
  dstVar: number;
  /** The IPv4 header checksum, -1 over IPv6. */
  ipCsum: number;
  /** The L4 checksum. */
  l4Csum: number;
  /** The TCP sequence number, -1 for UDP. */
  seq: number;
}

function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 8;
  b[off + 1] = v;
}

function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = v >>> 16;
  b[off + 2] = v >>> 8;
  b[off + 3] = v;
}

function sum16(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  let i = off;
  for (; i + 1 < off + len; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < off + len) s += b[i]! << 8;
  return s;
}

function fold(s: number): number {
  let x = s;
  while (x > 0xffff) x = (x & 0xffff) + Math.floor(x / 0x10000);
  return x;
}

function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new HostNetError('EINVAL', `pktgen template: ${name} ${v} (${min}..${max})`);
}

function parse6(text: string): Uint8Array {
  let a;
  try {
    a = inet_pton6(text);
  } catch (e) {
    throw new HostNetError('EINVAL', `bad IPv6 address ${JSON.stringify(text)}`, { cause: e });
  }
  const b = new Uint8Array(16);
  put32(b, 0, a.w0);
  put32(b, 4, a.w1);
  put32(b, 8, a.w2);
  put32(b, 12, a.w3);
  return b;
}

/** The SYN's options as tcp_options_write packs them. */
function synOptions(mss: number, sack: boolean, ts: boolean, wscale: number | null, tsval: number): Uint8Array {
  const o: number[] = [2, 4, mss >>> 8, mss & 0xff];
  if (ts) {
    o.push(...(sack ? [4, 2] : [1, 1]), 8, 10, tsval >>> 24, (tsval >>> 16) & 0xff, (tsval >>> 8) & 0xff, tsval & 0xff, 0, 0, 0, 0);
  } else if (sack) {
    o.push(1, 1, 4, 2);
  }
  if (wscale !== null) o.push(1, 3, 3, wscale);
  return Uint8Array.from(o);
}

/** A template frame and where its varying fields are. */
export function buildTemplate(spec: PktgenTemplateSpec): { frame: Uint8Array; layout: PktgenTemplateLayout } {
  const fam = spec.family ?? 4;
  if (fam !== 4 && fam !== 6) throw new HostNetError('EINVAL', `pktgen template: family ${String(fam)}`);
  if (spec.proto !== 'tcp-syn' && spec.proto !== 'udp') throw new HostNetError('EINVAL', `pktgen template: proto ${String(spec.proto)}`);
  const D = PKTGEN_TEMPLATE_DEFAULTS;
  const srcMac = parseMac(spec.srcMac ?? D.srcMac);
  const dstMac = parseMac(spec.dstMac ?? D.dstMac);
  const src = fam === 4 ? parseIpv4(spec.srcIp ?? D.srcIp4) : parse6(spec.srcIp ?? D.srcIp6);
  const dst = fam === 4 ? parseIpv4(spec.dstIp ?? D.dstIp4) : parse6(spec.dstIp ?? D.dstIp6);
  const sport = spec.srcPort ?? D.srcPort;
  const dport = spec.dstPort ?? D.dstPort;
  checkInt('source port', sport, 0, 0xffff);
  checkInt('destination port', dport, 0, 0xffff);
  checkInt('source port count', spec.srcPortCount ?? 1, 1, 0x10000 - sport);
  checkInt('source address count', spec.srcIpCount ?? 1, 1, 2 ** 32);
  checkInt('destination port count', spec.dstPortCount ?? 1, 1, 0x10000 - dport);
  checkInt('destination address count', spec.dstIpCount ?? 1, 1, 2 ** 32);
  const ttl = spec.ttl ?? D.ttl;
  checkInt('ttl', ttl, 1, 255);

  const l3 = 14;
  const l3len = fam === 4 ? 20 : 40;
  const l4 = l3 + l3len;
  let l4hdr: Uint8Array;
  let seqOff = -1;
  let l4CsumRel: number;
  if (spec.proto === 'tcp-syn') {
    const mss = spec.mss ?? (fam === 4 ? 1460 : 1440);
    checkInt('mss', mss, 1, 0xffff);
    const wscale = spec.wscale === undefined ? D.wscale : spec.wscale;
    if (wscale !== null) checkInt('wscale', wscale, 0, 14);
    const tsval = spec.tsval ?? D.tsval;
    checkInt('tsval', tsval, 0, 0xffffffff);
    const seq = spec.seq ?? D.seq;
    checkInt('seq', seq, 0, 0xffffffff);
    const window = spec.window ?? Math.floor(65535 / mss) * mss;
    checkInt('window', window, 0, 0xffff);
    const opts = synOptions(mss, spec.sack ?? true, spec.timestamps ?? true, wscale, tsval);
    l4hdr = new Uint8Array(20 + opts.length);
    put16(l4hdr, 0, sport);
    put16(l4hdr, 2, dport);
    put32(l4hdr, 4, seq);
    l4hdr[12] = (l4hdr.length / 4) << 4;
    l4hdr[13] = TCPHDR_SYN;
    put16(l4hdr, 14, window);
    l4hdr.set(opts, 20);
    seqOff = l4 + 4;
    l4CsumRel = 16;
  } else {
    const payload = spec.payload ?? 0;
    checkInt('UDP payload', payload, 0, ETH_FRAME_LEN - l4 - 8);
    l4hdr = new Uint8Array(8 + payload);
    put16(l4hdr, 0, sport);
    put16(l4hdr, 2, dport);
    put16(l4hdr, 4, l4hdr.length);
    l4CsumRel = 6;
  }
  const ipLen = l3len + l4hdr.length;
  const len = Math.max(ETH_ZLEN, l3 + ipLen);
  const b = new Uint8Array(len);
  b.set(dstMac, 0);
  b.set(srcMac, 6);
  const proto = spec.proto === 'tcp-syn' ? IPPROTO_TCP : IPPROTO_UDP;
  let srcVar: number;
  let dstVar: number;
  let ipCsum = -1;
  if (fam === 4) {
    put16(b, 12, ETH_P_IP);
    b[l3] = 0x45;
    put16(b, l3 + 2, ipLen);
    put16(b, l3 + 6, IP_DF);
    b[l3 + 8] = ttl;
    b[l3 + 9] = proto;
    b.set(src, l3 + 12);
    b.set(dst, l3 + 16);
    srcVar = l3 + 12;
    dstVar = l3 + 16;
    ipCsum = l3 + 10;
  } else {
    put16(b, 12, ETH_P_IPV6);
    b[l3] = 0x60;
    put16(b, l3 + 4, l4hdr.length);
    b[l3 + 6] = proto;
    b[l3 + 7] = ttl;
    b.set(src, l3 + 8);
    b.set(dst, l3 + 24);
    srcVar = l3 + 8 + 12;
    dstVar = l3 + 24 + 12;
  }
  b.set(l4hdr, l4);
  return { frame: b, layout: { len, l3, l4, srcVar, dstVar, ipCsum, l4Csum: l4 + l4CsumRel, seq: seqOff } };
}

/**
 * The frames of one template, cycling through the ranges. `fill` writes the next frame;
 * `skip` accounts one without writing it (it found no buffer at the receiver).
 */
export class PktgenTemplate {
  readonly len: number;
  readonly layout: PktgenTemplateLayout;
  readonly srcIpCount: number;
  readonly srcPortCount: number;
  readonly dstIpCount: number;
  readonly dstPortCount: number;
  private readonly tpl: Int32Array;
  private readonly words: number;
  private readonly srcBase: number;
  private readonly portBase: number;
  private readonly dstBase: number;
  private readonly dportBase: number;
  private readonly seqBase: number;
  private readonly udpNoCsum: boolean;
  /** A destination range of more than one: the floods' one destination stays in the template, unwritten. */
  private readonly dstVaries: boolean;
  /** Sums of the IPv4 header and of the L4 checksum's coverage (pseudo-header included) without the varying fields. */
  private readonly ipSum: number;
  private readonly l4Sum: number;
  private addrIdx = 0;
  private portIdx = 0;
  private dstIdx = 0;
  private dportIdx = 0;
  private n = 0;
  private readonly random: boolean;
  private rnd: number;

  constructor(spec: PktgenTemplateSpec) {
    const { frame, layout } = buildTemplate(spec);
    this.layout = layout;
    this.len = layout.len;
    this.srcIpCount = spec.srcIpCount ?? 1;
    this.srcPortCount = spec.srcPortCount ?? 1;
    this.dstIpCount = spec.dstIpCount ?? 1;
    this.dstPortCount = spec.dstPortCount ?? 1;
    this.dstVaries = this.dstIpCount > 1 || this.dstPortCount > 1;
    this.random = spec.random === true;
    const seed = spec.seed ?? 1;
    if (!Number.isInteger(seed)) throw new HostNetError('EINVAL', `pktgen template: seed ${seed}`);
    this.rnd = (seed | 0) === 0 ? 0x9e3779b9 | 0 : seed | 0;
    const b = frame;
    const L = layout;
    const get32 = (o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
    this.srcBase = get32(L.srcVar);
    this.portBase = (b[L.l4]! << 8) | b[L.l4 + 1]!;
    this.dstBase = get32(L.dstVar);
    this.dportBase = (b[L.l4 + 2]! << 8) | b[L.l4 + 3]!;
    this.seqBase = L.seq >= 0 ? get32(L.seq) : 0;
    const fam = b[L.l3]! >>> 4;
    this.udpNoCsum = spec.proto === 'udp' && fam === 4 && spec.udpChecksum === false;

    // The constant parts: zero the varying fields in a scratch copy and sum.
    const z = b.slice();
    z.fill(0, L.srcVar, L.srcVar + 4);
    z.fill(0, L.l4, L.l4 + 2);
    if (this.dstVaries) {
      z.fill(0, L.dstVar, L.dstVar + 4);
      z.fill(0, L.l4 + 2, L.l4 + 4);
    }
    if (L.seq >= 0) z.fill(0, L.seq, L.seq + 4);
    z.fill(0, L.l4Csum, L.l4Csum + 2);
    if (L.ipCsum >= 0) z.fill(0, L.ipCsum, L.ipCsum + 2);
    this.ipSum = fam === 4 ? sum16(z, L.l3, 20) : 0;
    const l4len = fam === 4 ? ((b[L.l3 + 2]! << 8) | b[L.l3 + 3]!) - 20 : (b[L.l3 + 4]! << 8) | b[L.l3 + 5]!;
    const proto = fam === 4 ? b[L.l3 + 9]! : b[L.l3 + 6]!;
    // Pseudo-header: the addresses (their varying words zeroed in z), the length, the protocol.
    const addrs = fam === 4 ? sum16(z, L.l3 + 12, 8) : sum16(z, L.l3 + 8, 32);
    this.l4Sum = addrs + l4len + proto + sum16(z, L.l4, l4len);

    this.words = (this.len + 3) >>> 2;
    this.tpl = new Int32Array(this.words);
    new Uint8Array(this.tpl.buffer).set(b);
    if (this.random) this.draw();
  }

  /** Writes the next frame at byte `offset` (4-aligned) of u8 / i32 (one buffer); its length. May write up to 3 bytes past it. */
  fill(u8: Uint8Array, i32: Int32Array, offset: number): number {
    const d = offset >>> 2;
    const t = this.tpl;
    for (let i = 0; i < this.words; i++) i32[d + i] = t[i]!;
    const L = this.layout;
    const addr = (this.srcBase + this.addrIdx) >>> 0;
    const port = this.portBase + this.portIdx;
    // The addresses are in the IPv4 header's sum and in the pseudo-header's.
    let vsum = (addr >>> 16) + (addr & 0xffff);
    let o = offset + L.srcVar;
    u8[o] = addr >>> 24; u8[o + 1] = addr >>> 16; u8[o + 2] = addr >>> 8; u8[o + 3] = addr;
    o = offset + L.l4;
    u8[o] = port >>> 8; u8[o + 1] = port;
    let l4 = this.l4Sum + port;
    if (this.dstVaries) {
      const daddr = (this.dstBase + this.dstIdx) >>> 0;
      const dport = this.dportBase + this.dportIdx;
      vsum += (daddr >>> 16) + (daddr & 0xffff);
      o = offset + L.dstVar;
      u8[o] = daddr >>> 24; u8[o + 1] = daddr >>> 16; u8[o + 2] = daddr >>> 8; u8[o + 3] = daddr;
      o = offset + L.l4 + 2;
      u8[o] = dport >>> 8; u8[o + 1] = dport;
      l4 += dport;
    }
    l4 += vsum;
    if (L.seq >= 0) {
      const seq = (this.seqBase + this.n) >>> 0;
      o = offset + L.seq;
      u8[o] = seq >>> 24; u8[o + 1] = seq >>> 16; u8[o + 2] = seq >>> 8; u8[o + 3] = seq;
      l4 += (seq >>> 16) + (seq & 0xffff);
    }
    if (L.ipCsum >= 0) {
      const c = ~fold(this.ipSum + vsum) & 0xffff;
      o = offset + L.ipCsum;
      u8[o] = c >>> 8; u8[o + 1] = c;
    }
    let c = this.udpNoCsum ? 0 : ~fold(l4) & 0xffff;
    // UDP sends a computed 0 as 0xffff (0 means "no checksum"); TCP's 0 is just 0.
    if (c === 0 && !this.udpNoCsum && L.seq < 0) c = 0xffff;
    o = offset + L.l4Csum;
    u8[o] = c >>> 8; u8[o + 1] = c;
    this.advance();
    return this.len;
  }

  skip(): number {
    this.advance();
    return this.len;
  }

  private advance(): void {
    this.n++;
    if (this.random) {
      this.draw();
      return;
    }
    if (++this.addrIdx === this.srcIpCount) this.addrIdx = 0;
    if (++this.portIdx === this.srcPortCount) this.portIdx = 0;
    if (!this.dstVaries) return;
    if (++this.dstIdx === this.dstIpCount) this.dstIdx = 0;
    if (++this.dportIdx === this.dstPortCount) this.dportIdx = 0;
  }

  /** Random indices into the ranges for the next frame. */
  private draw(): void {
    this.addrIdx = Math.floor((this.xorshift() * this.srcIpCount) / 4294967296);
    this.portIdx = Math.floor((this.xorshift() * this.srcPortCount) / 4294967296);
    if (this.dstIpCount > 1) this.dstIdx = Math.floor((this.xorshift() * this.dstIpCount) / 4294967296);
    if (this.dstPortCount > 1) this.dportIdx = Math.floor((this.xorshift() * this.dstPortCount) / 4294967296);
  }

  /** xorshift32: the next u32. */
  private xorshift(): number {
    let x = this.rnd;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rnd = x;
    return x >>> 0;
  }
}

// Wire bytes for the packets a script injects, and the parse of the packets the stack sends: an
// IPv4 or IPv6 header, then TCP (with options), UDP or ICMP. Inbound packets carry zero-filled
// payloads, as packetdrill's do, with correct checksums.
import { In6Addr } from '../../net/core/in6-addr.ts';
import { csum_fold, csum_ipv6_magic, csum_partial, csum_tcpudp_magic, csum_mangle_udp } from '../../net/core/checksum.ts';
import type { TcpOption } from './ast.ts';

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMP = 1;
export const IPPROTO_ICMPV6 = 58;

/** TCP header flag bits (byte 13), and AE (the low bit of byte 12). */
export const TCPHDR = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80, AE: 0x100 } as const;

/** An address on the wire: an IPv4 u32 (host order) or an IPv6 address. */
export type IpAddr = { family: 4; v4: number } | { family: 6; v6: In6Addr };

export interface Endpoint {
  ip: IpAddr;
  port: number;
}

export interface IpFields {
  tos: number;
  ttl: number;
  flowlabel: number;
}

export interface TcpFields {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** TCPHDR bits. */
  flags: number;
  win: number;
  urg: number;
  options: TcpOption[];
  payload_len: number;
}

/** "S." style text to TCPHDR bits. */
export function tcpFlagBits(flags: string): number {
  let b = 0;
  for (const c of flags) {
    switch (c) {
      case 'F': b |= TCPHDR.FIN; break;
      case 'S': b |= TCPHDR.SYN; break;
      case 'R': b |= TCPHDR.RST; break;
      case 'P': b |= TCPHDR.PSH; break;
      case '.': b |= TCPHDR.ACK; break;
      case 'U': b |= TCPHDR.URG; break;
      case 'E': b |= TCPHDR.ECE; break;
      case 'W': b |= TCPHDR.CWR; break;
      case 'A': b |= TCPHDR.AE; break;
      default: break;
    }
  }
  return b;
}

/** TCPHDR bits to text in tcpdump's order, as packetdrill prints them. */
export function tcpFlagText(bits: number): string {
  let s = '';
  if (bits & TCPHDR.FIN) s += 'F';
  if (bits & TCPHDR.SYN) s += 'S';
  if (bits & TCPHDR.RST) s += 'R';
  if (bits & TCPHDR.PSH) s += 'P';
  if (bits & TCPHDR.ACK) s += '.';
  if (bits & TCPHDR.URG) s += 'U';
  if (bits & TCPHDR.ECE) s += 'E';
  if (bits & TCPHDR.CWR) s += 'W';
  if (bits & TCPHDR.AE) s += 'A';
  return s;
}

export function writeTcpOptions(b: Uint8Array, off: number, options: readonly TcpOption[]): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = off;
  for (const o of options) {
    switch (o.kind) {
      case 'nop': b[p++] = 1; break;
      case 'eol': b[p++] = 0; break;
      case 'mss': b[p] = 2; b[p + 1] = 4; dv.setUint16(p + 2, o.mss); p += 4; break;
      case 'wscale': b[p] = 3; b[p + 1] = 3; b[p + 2] = o.shift; p += 3; break;
      case 'sackOK': b[p] = 4; b[p + 1] = 2; p += 2; break;
      case 'sack':
        b[p] = 5; b[p + 1] = 2 + 8 * o.blocks.length;
        for (let i = 0; i < o.blocks.length; i++) {
          dv.setUint32(p + 2 + 8 * i, o.blocks[i]![0] >>> 0);
          dv.setUint32(p + 6 + 8 * i, o.blocks[i]![1] >>> 0);
        }
        p += 2 + 8 * o.blocks.length;
        break;
      case 'ts': b[p] = 8; b[p + 1] = 10; dv.setUint32(p + 2, o.val >>> 0); dv.setUint32(p + 6, o.ecr >>> 0); p += 10; break;
      case 'fo': b[p] = 34; b[p + 1] = 2 + o.cookie.length; b.set(o.cookie, p + 2); p += 2 + o.cookie.length; break;
      case 'md5': b[p] = 19; b[p + 1] = 2 + o.digest.length; b.set(o.digest, p + 2); p += 2 + o.digest.length; break;
    }
  }
  return p - off;
}

function optionsLength(options: readonly TcpOption[]): number {
  return writeTcpOptions(new Uint8Array(64), 0, options);
}

/** The IP header for an L4 datagram of l4len bytes; returns the header length. */
function writeIpHeader(b: Uint8Array, src: IpAddr, dst: IpAddr, proto: number, l4len: number, ip: IpFields): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (src.family === 4 && dst.family === 4) {
    b[0] = 0x45;
    b[1] = ip.tos;
    dv.setUint16(2, 20 + l4len);
    dv.setUint16(4, 0);
    dv.setUint16(6, 0);
    b[8] = ip.ttl || 64;
    b[9] = proto;
    dv.setUint32(12, src.v4 >>> 0);
    dv.setUint32(16, dst.v4 >>> 0);
    dv.setUint16(10, 0);
    dv.setUint16(10, csum_fold(csum_partial(b, 0, 20, 0)));
    return 20;
  }
  if (src.family === 6 && dst.family === 6) {
    dv.setUint32(0, (6 << 28) | ((ip.tos & 0xff) << 20) | (ip.flowlabel & 0xfffff));
    dv.setUint16(4, l4len);
    b[6] = proto;
    b[7] = ip.ttl || 64;
    const put = (a: In6Addr, o: number): void => {
      dv.setUint32(o, a.w0 >>> 0); dv.setUint32(o + 4, a.w1 >>> 0); dv.setUint32(o + 8, a.w2 >>> 0); dv.setUint32(o + 12, a.w3 >>> 0);
    };
    put(src.v6, 8);
    put(dst.v6, 24);
    return 40;
  }
  throw new Error('mixed IPv4/IPv6 endpoints');
}

function l4Checksum(b: Uint8Array, hl: number, src: IpAddr, dst: IpAddr, proto: number, l4len: number): number {
  const sum = csum_partial(b, hl, l4len, 0);
  if (src.family === 4 && dst.family === 4) return csum_tcpudp_magic(src.v4 >>> 0, dst.v4 >>> 0, l4len, proto, sum);
  if (src.family === 6 && dst.family === 6) return csum_ipv6_magic(src.v6, dst.v6, l4len, proto, sum);
  throw new Error('mixed IPv4/IPv6 endpoints');
}

export function buildTcpPacket(src: IpAddr, dst: IpAddr, ip: IpFields, t: TcpFields): Uint8Array {
  const optlen = optionsLength(t.options);
  const thl = 20 + optlen;
  const l4len = thl + t.payload_len;
  const ihl = src.family === 4 ? 20 : 40;
  const b = new Uint8Array(ihl + l4len);
  const hl = writeIpHeader(b, src, dst, IPPROTO_TCP, l4len, ip);
  const dv = new DataView(b.buffer);
  dv.setUint16(hl, t.sport);
  dv.setUint16(hl + 2, t.dport);
  dv.setUint32(hl + 4, t.seq >>> 0);
  dv.setUint32(hl + 8, t.ack >>> 0);
  b[hl + 12] = ((thl / 4) << 4) | ((t.flags & TCPHDR.AE) !== 0 ? 1 : 0);
  b[hl + 13] = t.flags & 0xff;
  dv.setUint16(hl + 14, t.win);
  dv.setUint16(hl + 18, t.urg);
  writeTcpOptions(b, hl + 20, t.options);
  dv.setUint16(hl + 16, l4Checksum(b, hl, src, dst, IPPROTO_TCP, l4len));
  return b;
}

export function buildUdpPacket(src: IpAddr, dst: IpAddr, ip: IpFields, sport: number, dport: number, len: number): Uint8Array {
  const l4len = 8 + len;
  const b = new Uint8Array((src.family === 4 ? 20 : 40) + l4len);
  const hl = writeIpHeader(b, src, dst, IPPROTO_UDP, l4len, ip);
  const dv = new DataView(b.buffer);
  dv.setUint16(hl, sport);
  dv.setUint16(hl + 2, dport);
  dv.setUint16(hl + 4, l4len);
  dv.setUint16(hl + 6, csum_mangle_udp(l4Checksum(b, hl, src, dst, IPPROTO_UDP, l4len)));
  return b;
}

// ---- parsing what the stack sent ----

export type ParsedOption = TcpOption | { kind: 'unknown'; code: number; len: number };

export interface ParsedTcp extends Omit<TcpFields, 'options'> {
  doff: number;
  csum: number;
  options: ParsedOption[];
}

export interface ParsedPacket {
  src: IpAddr;
  dst: IpAddr;
  tos: number;
  ttl: number;
  flowlabel: number;
  proto: number;
  /** The IPv4 total length / IPv6 payload length field. */
  ip_len: number;
  ip_csum_ok: boolean;
  tcp: ParsedTcp | undefined;
  udp: { sport: number; dport: number; len: number } | undefined;
  icmp: { type: number; code: number } | undefined;
  payload: Uint8Array;
}

function parseTcpOptions(b: Uint8Array, off: number, end: number): ParsedOption[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: ParsedOption[] = [];
  let p = off;
  while (p < end) {
    const kind = b[p]!;
    if (kind === 0) {
      out.push({ kind: 'eol' });
      p++;
      continue;
    }
    if (kind === 1) {
      out.push({ kind: 'nop' });
      p++;
      continue;
    }
    const len = b[p + 1] ?? 0;
    if (len < 2 || p + len > end) {
      out.push({ kind: 'unknown', code: kind, len });
      break;
    }
    if (kind === 2 && len === 4) out.push({ kind: 'mss', mss: dv.getUint16(p + 2) });
    else if (kind === 3 && len === 3) out.push({ kind: 'wscale', shift: b[p + 2]! });
    else if (kind === 4 && len === 2) out.push({ kind: 'sackOK' });
    else if (kind === 5 && (len - 2) % 8 === 0) {
      const blocks: [number, number][] = [];
      for (let i = p + 2; i < p + len; i += 8) blocks.push([dv.getUint32(i), dv.getUint32(i + 4)]);
      out.push({ kind: 'sack', blocks });
    } else if (kind === 8 && len === 10) out.push({ kind: 'ts', val: dv.getUint32(p + 2), ecr: dv.getUint32(p + 6) });
    else out.push({ kind: 'unknown', code: kind, len });
    p += len;
  }
  return out;
}

/** Parses an IP packet; undefined if it is not IPv4/IPv6 or too short to read. */
export function parsePacket(b: Uint8Array): ParsedPacket | undefined {
  if (b.length < 20) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ver = b[0]! >> 4;
  let src: IpAddr;
  let dst: IpAddr;
  let hl: number;
  let proto: number;
  let tos: number;
  let ttl: number;
  let flowlabel = 0;
  let ip_len: number;
  let end: number;
  let ip_csum_ok = true;
  if (ver === 4) {
    hl = (b[0]! & 0xf) * 4;
    tos = b[1]!;
    ip_len = dv.getUint16(2);
    ttl = b[8]!;
    proto = b[9]!;
    src = { family: 4, v4: dv.getUint32(12) };
    dst = { family: 4, v4: dv.getUint32(16) };
    end = Math.min(b.length, ip_len);
    ip_csum_ok = csum_fold(csum_partial(b, 0, hl, 0)) === 0;
  } else if (ver === 6) {
    if (b.length < 40) return undefined;
    const w = dv.getUint32(0);
    tos = (w >>> 20) & 0xff;
    flowlabel = w & 0xfffff;
    ip_len = dv.getUint16(4);
    proto = b[6]!;
    ttl = b[7]!;
    const rd = (o: number): In6Addr => new In6Addr().read(b, o);
    src = { family: 6, v6: rd(8) };
    dst = { family: 6, v6: rd(24) };
    hl = 40;
    end = Math.min(b.length, 40 + ip_len);
  } else return undefined;
  const p: ParsedPacket = { src, dst, tos, ttl, flowlabel, proto, ip_len, ip_csum_ok, tcp: undefined, udp: undefined, icmp: undefined, payload: new Uint8Array(0) };
  if (proto === IPPROTO_TCP && end - hl >= 20) {
    const doff = (b[hl + 12]! >> 4) * 4;
    const flags = b[hl + 13]! | ((b[hl + 12]! & 1) !== 0 ? TCPHDR.AE : 0);
    p.tcp = {
      sport: dv.getUint16(hl), dport: dv.getUint16(hl + 2), seq: dv.getUint32(hl + 4), ack: dv.getUint32(hl + 8),
      flags, win: dv.getUint16(hl + 14), csum: dv.getUint16(hl + 16), urg: dv.getUint16(hl + 18), doff,
      options: parseTcpOptions(b, hl + 20, Math.min(end, hl + doff)), payload_len: Math.max(0, end - hl - doff),
    };
    p.payload = b.slice(hl + doff, end);
  } else if (proto === IPPROTO_UDP && end - hl >= 8) {
    p.udp = { sport: dv.getUint16(hl), dport: dv.getUint16(hl + 2), len: dv.getUint16(hl + 4) };
    p.payload = b.slice(hl + 8, end);
  } else if ((proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) && end - hl >= 4) {
    p.icmp = { type: b[hl]!, code: b[hl + 1]! };
    p.payload = b.slice(hl + 8, end);
  }
  return p;
}

/** An IPv4/IPv6 header and the first 8 bytes of an L4 header, as an ICMP error quotes a packet. */
export function buildQuote(src: IpAddr, dst: IpAddr, proto: number, l4len: number, l4first8: Uint8Array): Uint8Array {
  const hl = src.family === 4 ? 20 : 40;
  const b = new Uint8Array(hl + 8);
  writeIpHeader(b, src, dst, proto, l4len, { tos: 0, ttl: 64, flowlabel: 0 });
  b.set(l4first8.subarray(0, 8), hl);
  return b;
}

/** An ICMP (v4) or ICMPv6 error: type, code, the 32-bit field after the checksum (MTU), the quote. */
export function buildIcmpPacket(src: IpAddr, dst: IpAddr, ip: IpFields, type: number, code: number, info: number, quote: Uint8Array): Uint8Array {
  const v6 = src.family === 6;
  const l4len = 8 + quote.length;
  const b = new Uint8Array((v6 ? 40 : 20) + l4len);
  const proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
  const hl = writeIpHeader(b, src, dst, proto, l4len, ip);
  const dv = new DataView(b.buffer);
  b[hl] = type;
  b[hl + 1] = code;
  dv.setUint32(hl + 4, info >>> 0);
  b.set(quote, hl + 8);
  const csum = v6 ? l4Checksum(b, hl, src, dst, proto, l4len) : csum_fold(csum_partial(b, hl, l4len, 0));
  dv.setUint16(hl + 2, csum);
  return b;
}

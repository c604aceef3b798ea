// Frame builder for tests: Ethernet (0-2 VLAN tags), IPv4, IPv6 with extension headers, UDP, TCP,
// ICMP, ARP. Pure functions, each returning a fresh Uint8Array with fields in network order.
//
// Frame size model: a frame is the bytes a driver hands to XDP, without the 4-byte FCS, which
// the NIC adds on the wire and strips on receive. So the benchmark's 64-byte wire frames are 60
// bytes here (ETH_ZLEN). pktgen's pkt_size is the skb length without FCS: `pkt_size 60` gives
// those 60-byte skbs and 64-byte wire frames (the kernel's pktgen sample scripts default to 60
// for that reason); `pkt_size 64` would put 68 bytes on the wire.
//
// Layering: each builder takes its payload already built. ipv4()/ipv6() fill in the UDP, TCP
// (and, for IPv6, ICMPv6) checksum over the pseudo-header unless told not to, because only the
// IP layer knows the addresses; udp()/tcp() leave it 0. The IPv4 header checksum is always
// correct unless overridden.

export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
/** Minimum frame length without FCS: the 64-byte wire minimum minus ETH_FCS_LEN. */
export const ETH_ZLEN = 60;
export const ETH_FCS_LEN = 4;
export const VLAN_HLEN = 4;

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
export const ETH_P_IPV6 = 0x86dd;

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

export const ICMP_ECHOREPLY = 0;
export const ICMP_ECHO = 8;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;

export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;

/** pktgen_hdr's pgh_magic. */
export const PKTGEN_MAGIC = 0xbe9be955;

export const DEFAULT_SRC_MAC = '02:00:00:00:00:01';
export const DEFAULT_DST_MAC = '02:00:00:00:00:02';
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
export const DEFAULT_SRC_IP4 = '10.0.0.1';
export const DEFAULT_DST_IP4 = '10.0.0.2';
export const DEFAULT_SRC_IP6 = 'fd00::1';
export const DEFAULT_DST_IP6 = 'fd00::2';

// ---------------------------------------------------------------------------------------------
// Byte helpers

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function checkUint(name: string, v: number, bits: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) {
    throw new RangeError(`${name} ${v} does not fit in ${bits} bits`);
  }
}

function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/** A copy of the first `length` bytes: a frame cut short, as a runt or a snap length leaves it. */
export function truncate(frame: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > frame.length) {
    throw new RangeError(`cannot truncate a ${frame.length}-byte frame to ${length} bytes`);
  }
  return frame.slice(0, length);
}

/** Zero padding up to `length` (a NIC pads short frames to ETH_ZLEN before adding the FCS). */
export function padTo(frame: Uint8Array, length: number = ETH_ZLEN): Uint8Array {
  if (frame.length >= length) return frame.slice();
  const out = new Uint8Array(length);
  out.set(frame);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Addresses

export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== ETH_ALEN || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new Error(`bad MAC address ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

export function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`bad IPv4 address ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts, Number);
}

/** RFC 4291 text form with optional "::" (no embedded dotted IPv4). */
export function parseIpv6(text: string): Uint8Array {
  const bad = (): Error => new Error(`bad IPv6 address ${JSON.stringify(text)}`);
  const halves = text.split('::');
  if (halves.length > 2) throw bad();
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) throw bad();
  const all = [...head, ...new Array<string>(missing).fill('0'), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad();
    put16(out, 2 * i, parseInt(g, 16));
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Checksums

/** RFC 1071 one's-complement sum of 16-bit big-endian words, not folded or complemented. */
function sum16(data: Uint8Array, seed = 0): number {
  let s = seed;
  const even = data.length & ~1;
  for (let i = 0; i < even; i += 2) s += (data[i]! << 8) | data[i + 1]!;
  if (data.length & 1) s += data[data.length - 1]! << 8;
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** The Internet checksum (RFC 1071) of `data`, optionally continuing a partial sum. */
export function internetChecksum(data: Uint8Array, seed = 0): number {
  return ~fold(sum16(data, seed)) & 0xffff;
}

/** Checksum offset inside the L4 header, for the protocols whose checksum covers a pseudo-header. */
function l4ChecksumOffset(protocol: number): number | undefined {
  if (protocol === IPPROTO_UDP) return 6;
  if (protocol === IPPROTO_TCP) return 16;
  return undefined;
}

function withL4Checksum(protocol: number, l4: Uint8Array, pseudo: Uint8Array, offset: number): Uint8Array {
  if (l4.length < offset + 2) return l4;
  const out = l4.slice();
  put16(out, offset, 0);
  let c = internetChecksum(out, sum16(pseudo));
  // UDP sends a computed 0 as 0xffff: 0 on the wire means "no checksum".
  if (c === 0 && protocol === IPPROTO_UDP) c = 0xffff;
  put16(out, offset, c);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ethernet

export interface VlanTag {
  /** 12-bit VLAN id. */
  vid: number;
  /** 3-bit priority code point. */
  pcp?: number;
  dei?: boolean;
  /** Tag protocol id; ETH_P_8021Q unless given (use ETH_P_8021AD for a QinQ outer tag). */
  tpid?: number;
}

export interface EthernetOptions {
  dst?: string;
  src?: string;
  /** Outermost tag first. */
  vlans?: readonly VlanTag[];
  /** Zero-pad the frame to this length (e.g. ETH_ZLEN); no padding unless given. */
  padTo?: number;
}

export function ethernet(etherType: number, payload: Uint8Array, opts: EthernetOptions = {}): Uint8Array {
  checkUint('EtherType', etherType, 16);
  const vlans = opts.vlans ?? [];
  const hdr = new Uint8Array(ETH_HLEN + VLAN_HLEN * vlans.length);
  hdr.set(parseMac(opts.dst ?? DEFAULT_DST_MAC), 0);
  hdr.set(parseMac(opts.src ?? DEFAULT_SRC_MAC), ETH_ALEN);
  // Each tag's TPID sits where the EtherType would be; the real EtherType comes last.
  let off = 2 * ETH_ALEN;
  for (const tag of vlans) {
    const tpid = tag.tpid ?? ETH_P_8021Q;
    const pcp = tag.pcp ?? 0;
    checkUint('VLAN id', tag.vid, 12);
    checkUint('VLAN priority', pcp, 3);
    checkUint('TPID', tpid, 16);
    put16(hdr, off, tpid);
    put16(hdr, off + 2, (pcp << 13) | (tag.dei ? 0x1000 : 0) | tag.vid);
    off += VLAN_HLEN;
  }
  put16(hdr, off, etherType);
  const frame = concat(hdr, payload);
  return opts.padTo === undefined ? frame : padTo(frame, opts.padTo);
}

// ---------------------------------------------------------------------------------------------
// IPv4

export interface Ipv4Options {
  src?: string;
  dst?: string;
  /** 64 unless given. */
  ttl?: number;
  tos?: number;
  id?: number;
  /** The raw 16-bit flags + fragment offset field (0x4000 = DF). 0 unless given. */
  fragOff?: number;
  /** Header options, a multiple of 4 bytes, at most 40. */
  options?: Uint8Array;
  /** Override tot_len (e.g. a bogus length); header + payload unless given. */
  totalLength?: number;
  /** Override the header checksum (e.g. a bad one); computed unless given. */
  checksum?: number;
  /** Fill in the UDP/TCP checksum over the pseudo-header (default true). */
  l4Checksum?: boolean;
}

export const IPV4_HLEN = 20;

export function ipv4(protocol: number, payload: Uint8Array, opts: Ipv4Options = {}): Uint8Array {
  checkUint('protocol', protocol, 8);
  const options = opts.options ?? new Uint8Array(0);
  if (options.length % 4 !== 0 || options.length > 40) {
    throw new RangeError(`IPv4 options must be a multiple of 4 bytes, at most 40 (got ${options.length})`);
  }
  const hlen = IPV4_HLEN + options.length;
  const totalLength = opts.totalLength ?? hlen + payload.length;
  checkUint('IPv4 total length', totalLength, 16);
  const src = parseIpv4(opts.src ?? DEFAULT_SRC_IP4);
  const dst = parseIpv4(opts.dst ?? DEFAULT_DST_IP4);

  const hdr = new Uint8Array(hlen);
  hdr[0] = 0x40 | (hlen / 4);
  hdr[1] = opts.tos ?? 0;
  put16(hdr, 2, totalLength);
  put16(hdr, 4, opts.id ?? 0);
  put16(hdr, 6, opts.fragOff ?? 0);
  hdr[8] = opts.ttl ?? 64;
  hdr[9] = protocol;
  hdr.set(src, 12);
  hdr.set(dst, 16);
  hdr.set(options, IPV4_HLEN);
  put16(hdr, 10, opts.checksum ?? internetChecksum(hdr));

  let l4 = payload;
  const csumOff = l4ChecksumOffset(protocol);
  if (csumOff !== undefined && opts.l4Checksum !== false) {
    const pseudo = new Uint8Array(12);
    pseudo.set(src, 0);
    pseudo.set(dst, 4);
    pseudo[9] = protocol;
    put16(pseudo, 10, payload.length);
    l4 = withL4Checksum(protocol, payload, pseudo, csumOff);
  }
  return concat(hdr, l4);
}

// ---------------------------------------------------------------------------------------------
// IPv6

export interface Ipv6Extension {
  /** The header's own protocol number: IPPROTO_HOPOPTS, _ROUTING, _FRAGMENT, _AH, _DSTOPTS. */
  type: number;
  /**
   * The bytes after the (next header, length) pair. Zero-padded to the header's unit: 8 bytes
   * for most (zero bytes are Pad1 options), exactly 6 for a fragment header.
   */
  data?: Uint8Array;
}

export interface Ipv6Options {
  src?: string;
  dst?: string;
  /** 64 unless given. */
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  /** In chain order, after the fixed header. */
  extensions?: readonly Ipv6Extension[];
  /** Override payload_len; extensions + payload unless given. */
  payloadLength?: number;
  /** Fill in the UDP/TCP/ICMPv6 checksum over the pseudo-header (default true). */
  l4Checksum?: boolean;
}

export const IPV6_HLEN = 40;

function roundUp(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}

function extensionHeader(ext: Ipv6Extension, next: number): Uint8Array {
  const data = ext.data ?? new Uint8Array(0);
  let out: Uint8Array;
  if (ext.type === IPPROTO_FRAGMENT) {
    if (data.length > 6) throw new RangeError('a fragment header carries 6 bytes after its first two');
    out = new Uint8Array(8);
    out.set(data, 2);
    // Byte 1 is reserved, not a length.
  } else if (ext.type === IPPROTO_AH) {
    // Length in 4-byte units minus 2; IPv6 wants the total to be a multiple of 8.
    out = new Uint8Array(Math.max(8, roundUp(2 + data.length, 8)));
    out.set(data, 2);
    out[1] = out.length / 4 - 2;
  } else {
    // Hop-by-hop, routing, destination options: length in 8-byte units minus 1.
    out = new Uint8Array(Math.max(8, roundUp(2 + data.length, 8)));
    out.set(data, 2);
    out[1] = out.length / 8 - 1;
  }
  out[0] = next;
  return out;
}

export function ipv6(nextHeader: number, payload: Uint8Array, opts: Ipv6Options = {}): Uint8Array {
  checkUint('next header', nextHeader, 8);
  const exts = opts.extensions ?? [];
  const extBytes = concat(...exts.map((e, i) => extensionHeader(e, exts[i + 1]?.type ?? nextHeader)));
  const src = parseIpv6(opts.src ?? DEFAULT_SRC_IP6);
  const dst = parseIpv6(opts.dst ?? DEFAULT_DST_IP6);
  const tc = opts.trafficClass ?? 0;
  const flow = opts.flowLabel ?? 0;
  checkUint('traffic class', tc, 8);
  checkUint('flow label', flow, 20);
  const payloadLength = opts.payloadLength ?? extBytes.length + payload.length;
  checkUint('IPv6 payload length', payloadLength, 16);

  const hdr = new Uint8Array(IPV6_HLEN);
  put32(hdr, 0, ((6 << 28) | (tc << 20) | flow) >>> 0);
  put16(hdr, 4, payloadLength);
  hdr[6] = exts[0]?.type ?? nextHeader;
  hdr[7] = opts.hopLimit ?? 64;
  hdr.set(src, 8);
  hdr.set(dst, 24);

  let l4 = payload;
  const csumOff = nextHeader === IPPROTO_ICMPV6 ? 2 : l4ChecksumOffset(nextHeader);
  if (csumOff !== undefined && opts.l4Checksum !== false) {
    // RFC 8200 8.1: addresses, upper-layer length (32 bits), three zero bytes, next header.
    const pseudo = new Uint8Array(40);
    pseudo.set(src, 0);
    pseudo.set(dst, 16);
    put32(pseudo, 32, payload.length);
    pseudo[39] = nextHeader;
    l4 = withL4Checksum(nextHeader, payload, pseudo, csumOff);
  }
  return concat(hdr, extBytes, l4);
}

// ---------------------------------------------------------------------------------------------
// L4

export interface UdpOptions {
  /** 9 (discard) unless given, as pktgen. */
  srcPort?: number;
  dstPort?: number;
  /** Override the length field. */
  length?: number;
}

export const UDP_HLEN = 8;

/** UDP header + payload, checksum 0 (ipv4()/ipv6() fill it in). */
export function udp(payload: Uint8Array, opts: UdpOptions = {}): Uint8Array {
  const srcPort = opts.srcPort ?? 9;
  const dstPort = opts.dstPort ?? 9;
  const length = opts.length ?? UDP_HLEN + payload.length;
  checkUint('UDP source port', srcPort, 16);
  checkUint('UDP destination port', dstPort, 16);
  checkUint('UDP length', length, 16);
  const hdr = new Uint8Array(UDP_HLEN);
  put16(hdr, 0, srcPort);
  put16(hdr, 2, dstPort);
  put16(hdr, 4, length);
  return concat(hdr, payload);
}

export interface TcpOptions {
  srcPort?: number;
  dstPort?: number;
  seq?: number;
  ack?: number;
  /** TCP_* bits; TCP_ACK unless given. */
  flags?: number;
  window?: number;
  urgent?: number;
  /** Options, a multiple of 4 bytes, at most 40. */
  options?: Uint8Array;
}

export const TCP_HLEN = 20;

/** TCP header + payload, checksum 0 (ipv4()/ipv6() fill it in). */
export function tcp(payload: Uint8Array, opts: TcpOptions = {}): Uint8Array {
  const options = opts.options ?? new Uint8Array(0);
  if (options.length % 4 !== 0 || options.length > 40) {
    throw new RangeError(`TCP options must be a multiple of 4 bytes, at most 40 (got ${options.length})`);
  }
  const hdr = new Uint8Array(TCP_HLEN + options.length);
  const srcPort = opts.srcPort ?? 40000;
  const dstPort = opts.dstPort ?? 80;
  checkUint('TCP source port', srcPort, 16);
  checkUint('TCP destination port', dstPort, 16);
  put16(hdr, 0, srcPort);
  put16(hdr, 2, dstPort);
  put32(hdr, 4, opts.seq ?? 1);
  put32(hdr, 8, opts.ack ?? 0);
  hdr[12] = (hdr.length / 4) << 4;
  hdr[13] = opts.flags ?? TCP_ACK;
  put16(hdr, 14, opts.window ?? 65535);
  put16(hdr, 18, opts.urgent ?? 0);
  hdr.set(options, TCP_HLEN);
  return concat(hdr, payload);
}

export interface IcmpEchoOptions {
  id?: number;
  seq?: number;
  payload?: Uint8Array;
  /** Echo request unless given (ICMP_ECHO / ICMPV6_ECHO_REQUEST). */
  type?: number;
  code?: number;
}

export const ICMP_HLEN = 8;

function icmpEchoMessage(type: number, opts: IcmpEchoOptions): Uint8Array {
  const hdr = new Uint8Array(ICMP_HLEN);
  hdr[0] = type;
  hdr[1] = opts.code ?? 0;
  put16(hdr, 4, opts.id ?? 0x1234);
  put16(hdr, 6, opts.seq ?? 1);
  return concat(hdr, opts.payload ?? new Uint8Array(0));
}

/** ICMPv4 echo message with its checksum (ICMPv4 has no pseudo-header). */
export function icmp4Echo(opts: IcmpEchoOptions = {}): Uint8Array {
  const msg = icmpEchoMessage(opts.type ?? ICMP_ECHO, opts);
  put16(msg, 2, internetChecksum(msg));
  return msg;
}

/** ICMPv6 echo message, checksum 0: ipv6() fills it in over the pseudo-header. */
export function icmp6Echo(opts: IcmpEchoOptions = {}): Uint8Array {
  return icmpEchoMessage(opts.type ?? ICMPV6_ECHO_REQUEST, opts);
}

// ---------------------------------------------------------------------------------------------
// ARP

export interface ArpOptions {
  op?: number;
  senderMac?: string;
  senderIp?: string;
  targetMac?: string;
  targetIp?: string;
}

export const ARP_LEN = 28;

/** An Ethernet/IPv4 ARP packet (RFC 826). A request unless `op` says otherwise. */
export function arp(opts: ArpOptions = {}): Uint8Array {
  const out = new Uint8Array(ARP_LEN);
  put16(out, 0, 1); // hardware type: Ethernet
  put16(out, 2, ETH_P_IP);
  out[4] = ETH_ALEN;
  out[5] = 4;
  put16(out, 6, opts.op ?? ARPOP_REQUEST);
  out.set(parseMac(opts.senderMac ?? DEFAULT_SRC_MAC), 8);
  out.set(parseIpv4(opts.senderIp ?? DEFAULT_SRC_IP4), 14);
  out.set(parseMac(opts.targetMac ?? '00:00:00:00:00:00'), 18);
  out.set(parseIpv4(opts.targetIp ?? DEFAULT_DST_IP4), 24);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Whole frames

export interface FrameOptions {
  eth?: EthernetOptions;
  payload?: Uint8Array;
}

export interface Udp4FrameOptions extends FrameOptions {
  ip?: Ipv4Options;
  udp?: UdpOptions;
}

export function udp4Frame(o: Udp4FrameOptions = {}): Uint8Array {
  return ethernet(ETH_P_IP, ipv4(IPPROTO_UDP, udp(o.payload ?? new Uint8Array(0), o.udp), o.ip), o.eth);
}

export interface Tcp4FrameOptions extends FrameOptions {
  ip?: Ipv4Options;
  tcp?: TcpOptions;
}

export function tcp4Frame(o: Tcp4FrameOptions = {}): Uint8Array {
  return ethernet(ETH_P_IP, ipv4(IPPROTO_TCP, tcp(o.payload ?? new Uint8Array(0), o.tcp), o.ip), o.eth);
}

export interface Icmp4FrameOptions {
  eth?: EthernetOptions;
  ip?: Ipv4Options;
  icmp?: IcmpEchoOptions;
}

export function icmp4EchoFrame(o: Icmp4FrameOptions = {}): Uint8Array {
  return ethernet(ETH_P_IP, ipv4(IPPROTO_ICMP, icmp4Echo(o.icmp), o.ip), o.eth);
}

export interface Udp6FrameOptions extends FrameOptions {
  ip?: Ipv6Options;
  udp?: UdpOptions;
}

export function udp6Frame(o: Udp6FrameOptions = {}): Uint8Array {
  return ethernet(ETH_P_IPV6, ipv6(IPPROTO_UDP, udp(o.payload ?? new Uint8Array(0), o.udp), o.ip), o.eth);
}

export interface Tcp6FrameOptions extends FrameOptions {
  ip?: Ipv6Options;
  tcp?: TcpOptions;
}

export function tcp6Frame(o: Tcp6FrameOptions = {}): Uint8Array {
  return ethernet(ETH_P_IPV6, ipv6(IPPROTO_TCP, tcp(o.payload ?? new Uint8Array(0), o.tcp), o.ip), o.eth);
}

export interface Icmp6FrameOptions {
  eth?: EthernetOptions;
  ip?: Ipv6Options;
  icmp?: IcmpEchoOptions;
}

export function icmp6EchoFrame(o: Icmp6FrameOptions = {}): Uint8Array {
  return ethernet(ETH_P_IPV6, ipv6(IPPROTO_ICMPV6, icmp6Echo(o.icmp), o.ip), o.eth);
}

export interface ArpFrameOptions {
  /** Broadcast destination unless given. */
  eth?: EthernetOptions;
  arp?: ArpOptions;
}

export function arpFrame(o: ArpFrameOptions = {}): Uint8Array {
  return ethernet(ETH_P_ARP, arp(o.arp), { dst: BROADCAST_MAC, ...o.eth });
}

export interface PktgenOptions {
  /** pktgen_hdr seq_num. */
  seq?: number;
  /** IPv4 id (pktgen counts it up per packet). */
  ipId?: number;
  /** pktgen_hdr timestamp; 0 keeps frames reproducible. */
  tvSec?: number;
  tvUsec?: number;
  srcPort?: number;
  dstPort?: number;
  eth?: EthernetOptions;
  src?: string;
  dst?: string;
}

/**
 * The benchmark's frame: what pktgen builds for `pkt_size 60` (a 64-byte frame on the wire):
 * Ethernet, IPv4 with TTL 32 and no DF, UDP 9 -> 9 without checksum, a 16-byte pktgen_hdr
 * (magic, sequence, timestamp) and 2 zero bytes. 60 bytes; with VLAN tags 4 more per tag.
 */
export function udp64(opts: PktgenOptions = {}): Uint8Array {
  const pgh = new Uint8Array(18);
  put32(pgh, 0, PKTGEN_MAGIC);
  put32(pgh, 4, opts.seq ?? 0);
  put32(pgh, 8, opts.tvSec ?? 0);
  put32(pgh, 12, opts.tvUsec ?? 0);
  const l4 = udp(pgh, { srcPort: opts.srcPort ?? 9, dstPort: opts.dstPort ?? 9 });
  const l3 = ipv4(IPPROTO_UDP, l4, {
    ttl: 32,
    id: opts.ipId ?? 0,
    l4Checksum: false,
    ...(opts.src === undefined ? {} : { src: opts.src }),
    ...(opts.dst === undefined ? {} : { dst: opts.dst }),
  });
  return ethernet(ETH_P_IP, l3, opts.eth);
}

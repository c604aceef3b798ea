// pktgen (net/core/pktgen.c) as the benchmark's traffic source on the other end of the wire: UDP
// over IPv4 with pktgen's header (magic, sequence number, timestamp) in the payload, the UDP
// checksum left 0 as pktgen does without UDPCSUM, a valid IPv4 header checksum. Or the frames of a
// capture file, replayed in a loop. Or a flood template (pktgen-templates.ts): TCP SYNs or UDP,
// IPv4 or IPv6, from ranges of source addresses and ports to ranges of destination addresses and
// ports, every checksum valid.
//
// Sizes follow pktgen's pkt_size: the frame without the 4-byte FCS the NIC adds on the wire, so the
// benchmark's 64-byte frames are 60 bytes here (ETH_ZLEN), 1514 the largest untagged frame.
//
// Per packet: a word copy of a prepared template into the frame, then the sequence number and the
// flow's field patched in place. The timestamp fields stay 0 (pktgen fills them from the clock;
// here that would make frames irreproducible for nothing). The IPv4 id stays 0 too, so the header
// checksum changes only with the flow's source address.
import { HostNetError } from './errors.ts';
import type { PcapPacket } from './pcap.ts';
import { PktgenTemplate, type PktgenTemplateSpec } from './pktgen-templates.ts';

export const ETH_ZLEN = 60;
export const ETH_FRAME_LEN = 1514;
export const PKTGEN_MAGIC = 0xbe9be955;

/**
 * What pktgen accepts, checked by its constructor and, before any worker starts, by the scenario
 * runner: generated frames from ETH_ZLEN to ETH_FRAME_LEN bytes (without FCS); flows varying one
 * 16-bit field (a UDP port, an address's low half), so at most 65536; replayed frames from an
 * Ethernet header alone to a VLAN-tagged full frame, the most a frame pool frame holds.
 */
export const PKTGEN_LIMITS = {
  sizeMin: ETH_ZLEN,
  sizeMax: ETH_FRAME_LEN,
  flowsMax: 65536,
  replayMin: 14,
  replayMax: ETH_FRAME_LEN + 4,
} as const;

/** Offsets in the untagged UDP/IPv4 frame. */
export const PKTGEN_OFF = {
  ETH_DST: 0,
  ETH_SRC: 6,
  ETH_TYPE: 12,
  IP: 14,
  IP_TOT_LEN: 16,
  IP_CSUM: 24,
  IP_SRC: 26,
  IP_DST: 30,
  UDP: 34,
  UDP_SRC: 34,
  UDP_DST: 36,
  UDP_LEN: 38,
  PGH: 42,
  PGH_SEQ: 46,
} as const;

export type PktgenFlowField = 'udp-src' | 'ip-src';

/** Whether int32 words hold their bytes little-endian (every platform Node ships on but s390x). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function copyWords(dst: Int32Array, d: number, src: Int32Array, s: number, words: number): void {
  let i = 0;
  for (; i + 4 <= words; i += 4) {
    dst[d + i] = src[s + i]!;
    dst[d + i + 1] = src[s + i + 1]!;
    dst[d + i + 2] = src[s + i + 2]!;
    dst[d + i + 3] = src[s + i + 3]!;
  }
  for (; i < words; i++) dst[d + i] = src[s + i]!;
}

export interface PktgenOptions {
  /** Frame length without FCS, ETH_ZLEN (60, a 64-byte wire frame) to ETH_FRAME_LEN (1514). */
  size?: number;
  srcMac?: string;
  dstMac?: string;
  srcIp?: string;
  dstIp?: string;
  srcPort?: number;
  dstPort?: number;
  /** Flows: consecutive values of `flowField` starting at the configured one, round robin. */
  flows?: number;
  flowField?: PktgenFlowField;
  /** Packets per second; 0 (default) sends as fast as the caller polls. */
  rate?: number;
  /** Packets in total; 0 (default) runs forever. */
  count?: number;
  /** Milliseconds, for pacing (performance.now by default). */
  clock?: () => number;
  /** Replay these frames (in a loop) instead of generating UDP. */
  replay?: readonly PcapPacket[];
  /**
   * Send a flood template instead (pktgen-templates.ts): TCP SYNs or UDP over IPv4/IPv6 from
   * source address and port ranges to destination ranges. Its frame length follows from it
   * (`size` and `flows` are not used).
   */
  template?: PktgenTemplateSpec;
}

export const PKTGEN_DEFAULTS = {
  size: ETH_ZLEN,
  srcMac: '02:00:00:00:00:01',
  dstMac: '02:00:00:00:00:02',
  srcIp: '10.0.0.1',
  dstIp: '10.0.0.2',
  /** The discard port, pktgen's default. */
  srcPort: 9,
  dstPort: 9,
  ttl: 32,
} as const;

export interface PktgenStats {
  generated: number;
  generated_bytes: number;
}

export class Pktgen {
  readonly size: number;
  readonly flows: number;
  readonly flowField: PktgenFlowField;
  readonly rate: number;
  readonly count: number;
  /** Frames sent (filled or lost for lack of a buffer at the receiver) and their bytes. */
  generated = 0;
  generated_bytes = 0;

  // Template frames, packed as words: frame i at word tplWord[i], tplLen[i] bytes.
  private readonly tpl: Int32Array;
  private readonly tplWord: Uint32Array;
  private readonly tplLen: Uint32Array;
  private readonly replay: boolean;
  private readonly tmpl: PktgenTemplate | null = null;
  private next = 0;
  // Flow state: the flow index and the base value of the varied field.
  private flow = 0;
  private readonly flowBase: number;
  /** One's-complement sum of the IPv4 header without its checksum and without the source's low 16 bits. */
  private readonly ipPartialSum: number;
  private readonly clock: () => number;
  private t0 = -1;

  constructor(opts: PktgenOptions = {}) {
    this.rate = opts.rate ?? 0;
    this.count = opts.count ?? 0;
    if (!(this.rate >= 0) || !Number.isFinite(this.rate)) throw new HostNetError('EINVAL', `pktgen: rate ${this.rate} pps`);
    if (!Number.isInteger(this.count) || this.count < 0) throw new HostNetError('EINVAL', `pktgen: count ${this.count}`);
    this.clock = opts.clock ?? (() => performance.now());
    this.flows = opts.flows ?? 1;
    this.flowField = opts.flowField ?? 'udp-src';
    if (!Number.isInteger(this.flows) || this.flows < 1 || this.flows > PKTGEN_LIMITS.flowsMax) throw new HostNetError('EINVAL', `pktgen: ${this.flows} flows (1..${PKTGEN_LIMITS.flowsMax})`);
    if (this.flowField !== 'udp-src' && this.flowField !== 'ip-src') throw new HostNetError('EINVAL', `pktgen: unknown flow field '${String(this.flowField)}'`);

    if (opts.template !== undefined) {
      if (opts.replay !== undefined) throw new HostNetError('EINVAL', 'pktgen: a template or a replay, not both');
      this.tmpl = new PktgenTemplate(opts.template);
      this.replay = false;
      this.size = this.tmpl.len;
      ({ tpl: this.tpl, word: this.tplWord, len: this.tplLen } = pack([new Uint8Array(this.size)]));
      this.flowBase = 0;
      this.ipPartialSum = 0;
      return;
    }
    if (opts.replay !== undefined) {
      if (opts.replay.length === 0) throw new HostNetError('EINVAL', 'pktgen: nothing to replay');
      const frames = opts.replay.map((p) => p.data);
      for (const [i, f] of frames.entries()) {
        if (f.length < PKTGEN_LIMITS.replayMin || f.length > PKTGEN_LIMITS.replayMax) {
          throw new HostNetError('EINVAL', `pktgen: replayed frame ${i} has ${f.length} bytes (${PKTGEN_LIMITS.replayMin}..${PKTGEN_LIMITS.replayMax})`);
        }
      }
      this.replay = true;
      this.size = 0;
      ({ tpl: this.tpl, word: this.tplWord, len: this.tplLen } = pack(frames));
      this.flowBase = 0;
      this.ipPartialSum = 0;
      return;
    }
    this.replay = false;
    this.size = opts.size ?? PKTGEN_DEFAULTS.size;
    if (!Number.isInteger(this.size) || this.size < PKTGEN_LIMITS.sizeMin || this.size > PKTGEN_LIMITS.sizeMax) {
      throw new HostNetError('EINVAL', `pktgen: size ${this.size} (${PKTGEN_LIMITS.sizeMin}..${PKTGEN_LIMITS.sizeMax}, without FCS)`);
    }
    const srcPort = opts.srcPort ?? PKTGEN_DEFAULTS.srcPort;
    const dstPort = opts.dstPort ?? PKTGEN_DEFAULTS.dstPort;
    for (const [n, p] of [['source', srcPort], ['destination', dstPort]] as const) {
      if (!Number.isInteger(p) || p < 0 || p > 0xffff) throw new HostNetError('EINVAL', `pktgen: UDP ${n} port ${p}`);
    }
    const frame = udpFrame(this.size, {
      srcMac: parseMac(opts.srcMac ?? PKTGEN_DEFAULTS.srcMac),
      dstMac: parseMac(opts.dstMac ?? PKTGEN_DEFAULTS.dstMac),
      srcIp: parseIpv4(opts.srcIp ?? PKTGEN_DEFAULTS.srcIp),
      dstIp: parseIpv4(opts.dstIp ?? PKTGEN_DEFAULTS.dstIp),
      srcPort,
      dstPort,
    });
    ({ tpl: this.tpl, word: this.tplWord, len: this.tplLen } = pack([frame]));
    const O = PKTGEN_OFF;
    this.flowBase = this.flowField === 'udp-src' ? srcPort : (frame[O.IP_SRC + 2]! << 8) | frame[O.IP_SRC + 3]!;
    let sum = 0;
    for (let i: number = O.IP; i < O.IP + 20; i += 2) {
      if (i === O.IP_CSUM || i === O.IP_SRC + 2) continue;
      sum += (frame[i]! << 8) | frame[i + 1]!;
    }
    this.ipPartialSum = sum;
  }

  /**
   * How many frames may go now, at most `max`: all of them at line rate, else what the rate
   * allows since the first call, less what was sent. Never waits: ahead of schedule it says 0.
   */
  quota(max: number): number {
    let n = max;
    if (this.count > 0) {
      const left = this.count - this.generated;
      if (left < n) n = left;
    }
    if (this.rate > 0) {
      const now = this.clock();
      if (this.t0 < 0) this.t0 = now;
      // The first frame leaves at t0, then one every 1/rate s.
      const due = Math.floor(((now - this.t0) * this.rate) / 1000) + 1 - this.generated;
      if (due < n) n = due;
    }
    return n > 0 ? n : 0;
  }

  /** Milliseconds until the next frame is due under the rate cap (0 when one is due, or uncapped). */
  msUntilNext(): number {
    if (this.rate <= 0 || this.t0 < 0) return 0;
    const dueAt = this.t0 + (this.generated * 1000) / this.rate;
    const left = dueAt - this.clock();
    return left > 0 ? left : 0;
  }

  /** True once `count` frames have been sent. */
  get done(): boolean {
    return this.count > 0 && this.generated >= this.count;
  }

  /**
   * Writes the next frame at byte `offset` of `u8` (4-aligned; `i32` views the same memory) and
   * returns its length. Up to 3 bytes past the frame may be written (word copies).
   */
  fill(u8: Uint8Array, i32: Int32Array, offset: number): number {
    if ((offset & 3) !== 0) throw new HostNetError('EINVAL', `pktgen: offset ${offset} is not 4-aligned`);
    const d = offset >>> 2;
    let len: number;
    if (this.replay) {
      const k = this.next;
      this.next = k + 1 === this.tplLen.length ? 0 : k + 1;
      len = this.tplLen[k]!;
      copyWords(i32, d, this.tpl, this.tplWord[k]!, (len + 3) >>> 2);
    } else if (this.tmpl !== null) {
      len = this.tmpl.fill(u8, i32, offset);
    } else {
      len = this.size;
      const t = this.tpl;
      if (len === ETH_ZLEN) {
        // The benchmark's frame: 15 words, unrolled (about twice as fast as the loop); words 11
        // and 12 hold the sequence number and are written by the patch.
        i32[d] = t[0]!; i32[d + 1] = t[1]!; i32[d + 2] = t[2]!; i32[d + 3] = t[3]!; i32[d + 4] = t[4]!;
        i32[d + 5] = t[5]!; i32[d + 6] = t[6]!; i32[d + 7] = t[7]!; i32[d + 8] = t[8]!; i32[d + 9] = t[9]!;
        i32[d + 10] = t[10]!; i32[d + 13] = t[13]!; i32[d + 14] = t[14]!;
      } else {
        copyWords(i32, d, t, 0, (len + 3) >>> 2);
      }
      if (LITTLE_ENDIAN) this.patchWords(i32, d);
      else {
        i32[d + 11] = t[11]!;
        i32[d + 12] = t[12]!;
        this.patchBytes(u8, offset);
      }
    }
    this.generated++;
    this.generated_bytes += len;
    return len;
  }

  /** A frame that went on the wire but found no buffer at the receiver: counted, sequence advanced. */
  skip(): number {
    let k = 0;
    if (this.replay) {
      k = this.next;
      this.next = k + 1 === this.tplLen.length ? 0 : k + 1;
    } else if (this.tmpl !== null) {
      this.tmpl.skip();
    } else if (this.flows > 1) {
      this.flow = this.flow + 1 === this.flows ? 0 : this.flow + 1;
    }
    const len = this.tplLen[k]!;
    this.generated++;
    this.generated_bytes += len;
    return len;
  }

  stats(): PktgenStats {
    return { generated: this.generated, generated_bytes: this.generated_bytes };
  }

  /**
   * Sequence number and flow field written as whole words (little-endian hosts): the words that
   * hold them are rebuilt from the template's, so no byte stores and no read of the frame.
   *   word 11 = bytes 44..47: pgh_magic's low half, seq_num's high half
   *   word 12 = bytes 48..51: seq_num's low half, tv_sec's high half
   *   word 8  = bytes 32..35: the destination address's low half, the UDP source port
   *   word 6  = bytes 24..27: the IPv4 checksum, the source address's high half
   *   word 7  = bytes 28..31: the source address's low half, the destination's high half
   */
  private patchWords(i32: Int32Array, d: number): void {
    const t = this.tpl, seq = this.generated;
    i32[d + 11] = (t[11]! & 0xffff) | ((seq >>> 24) << 16) | (((seq >>> 16) & 0xff) << 24);
    i32[d + 12] = (t[12]! & ~0xffff) | ((seq >>> 8) & 0xff) | ((seq & 0xff) << 8);
    if (this.flows === 1) return;
    const f = this.flow;
    this.flow = f + 1 === this.flows ? 0 : f + 1;
    const v = (this.flowBase + f) & 0xffff;
    const swapped = (v >>> 8) | ((v & 0xff) << 8);
    if (this.flowField === 'udp-src') {
      i32[d + 8] = (t[8]! & 0xffff) | (swapped << 16);
      return;
    }
    let sum = this.ipPartialSum + v;
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = (sum & 0xffff) + (sum >>> 16);
    const csum = ~sum & 0xffff;
    i32[d + 6] = (t[6]! & ~0xffff) | (csum >>> 8) | ((csum & 0xff) << 8);
    i32[d + 7] = (t[7]! & ~0xffff) | swapped;
  }

  private patchBytes(u8: Uint8Array, offset: number): void {
    const O = PKTGEN_OFF;
    // pktgen_hdr.seq_num, network order: the number of frames sent before this one.
    const seq = this.generated;
    u8[offset + O.PGH_SEQ] = seq >>> 24;
    u8[offset + O.PGH_SEQ + 1] = seq >>> 16;
    u8[offset + O.PGH_SEQ + 2] = seq >>> 8;
    u8[offset + O.PGH_SEQ + 3] = seq;
    if (this.flows === 1) return;
    const f = this.flow;
    this.flow = f + 1 === this.flows ? 0 : f + 1;
    const v = (this.flowBase + f) & 0xffff;
    if (this.flowField === 'udp-src') {
      u8[offset + O.UDP_SRC] = v >>> 8;
      u8[offset + O.UDP_SRC + 1] = v;
      return;
    }
    // The source address's low 16 bits, and the header checksum over the new value.
    u8[offset + O.IP_SRC + 2] = v >>> 8;
    u8[offset + O.IP_SRC + 3] = v;
    let sum = this.ipPartialSum + v;
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = (sum & 0xffff) + (sum >>> 16);
    const csum = ~sum & 0xffff;
    u8[offset + O.IP_CSUM] = csum >>> 8;
    u8[offset + O.IP_CSUM + 1] = csum;
  }
}

interface UdpFrameFields {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  srcIp: Uint8Array;
  dstIp: Uint8Array;
  srcPort: number;
  dstPort: number;
}

/** The template: Ethernet, IPv4 (no options, ttl 32, id 0, no DF), UDP (checksum 0), pktgen_hdr, zeros. */
function udpFrame(size: number, f: UdpFrameFields): Uint8Array {
  const O = PKTGEN_OFF;
  const b = new Uint8Array(size);
  const put16 = (off: number, v: number): void => { b[off] = v >>> 8; b[off + 1] = v; };
  const put32 = (off: number, v: number): void => { put16(off, v >>> 16); put16(off + 2, v & 0xffff); };
  b.set(f.dstMac, O.ETH_DST);
  b.set(f.srcMac, O.ETH_SRC);
  put16(O.ETH_TYPE, 0x0800);
  b[O.IP] = 0x45;
  put16(O.IP_TOT_LEN, size - O.IP);
  b[O.IP + 8] = PKTGEN_DEFAULTS.ttl;
  b[O.IP + 9] = 17; // IPPROTO_UDP
  b.set(f.srcIp, O.IP_SRC);
  b.set(f.dstIp, O.IP_DST);
  put16(O.IP_CSUM, ipv4Checksum(b, O.IP));
  put16(O.UDP_SRC, f.srcPort);
  put16(O.UDP_DST, f.dstPort);
  put16(O.UDP_LEN, size - O.UDP);
  put32(O.PGH, PKTGEN_MAGIC);
  return b;
}

/** RFC 1071 over the 20-byte header at `off` (its checksum field read as it is: zero it first). */
export function ipv4Checksum(b: Uint8Array, off: number): number {
  let sum = 0;
  for (let i = off; i < off + 20; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function pack(frames: readonly Uint8Array[]): { tpl: Int32Array; word: Uint32Array; len: Uint32Array } {
  const word = new Uint32Array(frames.length);
  const len = new Uint32Array(frames.length);
  let words = 0;
  for (const [i, f] of frames.entries()) {
    word[i] = words;
    len[i] = f.length;
    words += (f.length + 3) >>> 2;
  }
  const tpl = new Int32Array(words);
  const u8 = new Uint8Array(tpl.buffer);
  for (const [i, f] of frames.entries()) u8.set(f, word[i]! * 4);
  return { tpl, word, len };
}

export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new HostNetError('EINVAL', `bad MAC address ${JSON.stringify(text)}`);
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

export function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new HostNetError('EINVAL', `bad IPv4 address ${JSON.stringify(text)}`);
  return Uint8Array.from(parts, Number);
}

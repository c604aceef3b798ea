// Classic libpcap capture files: what `--pcap` captures write for Wireshark, and (with pcapng,
// read by pcapng.ts) what pktgen replays. Layout (https://www.tcpdump.org/manpages/pcap-savefile.5.html, and
// draft-ietf-opsawg-pcap), all fields in the writer's byte order, which the magic reveals:
//   file header, 24 bytes: u32 magic, u16 version_major (2), u16 version_minor (4), i32 thiszone,
//                          u32 sigfigs, u32 snaplen, u32 linktype (low 16 bits; FCS bits above)
//   per packet, 16 bytes:  u32 ts_sec, u32 ts_usec (ts_nsec with the nanosecond magic),
//                          u32 incl_len (bytes saved), u32 orig_len (bytes on the wire); then data
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { HostNetError, PcapError } from './errors.ts';
import { readPcapng } from './pcapng.ts';

export const PCAP_MAGIC = {
  /** Microsecond timestamps. */
  USEC: 0xa1b2c3d4,
  /** Nanosecond timestamps. */
  NSEC: 0xa1b23c4d,
  /** pcapng's Section Header Block type: the file is read by pcapng.ts. */
  PCAPNG: 0x0a0d0d0a,
} as const;

export const LINKTYPE = {
  ETHERNET: 1,
} as const;

export const PCAP_VERSION = { MAJOR: 2, MINOR: 4 } as const;
export const PCAP_FILE_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
/** libpcap's MAXIMUM_SNAPLEN: larger records are corrupt whatever the header's snaplen says. */
export const PCAP_MAX_SNAPLEN = 262144;
export const PCAP_DEFAULT_SNAPLEN = 65535;

export interface PcapHeader {
  nanosecond: boolean;
  bigEndian: boolean;
  versionMajor: number;
  versionMinor: number;
  thiszone: number;
  snaplen: number;
  linktype: number;
}

export interface PcapPacket {
  tsSec: number;
  /** Fraction of the second in nanoseconds (microsecond files: usec * 1000). */
  tsNsec: number;
  /** The saved bytes (a view into the file's bytes). */
  data: Uint8Array;
  /** Length on the wire (>= data.length when the capture was snapped). */
  origLen: number;
}

export interface PcapFile {
  /** Which format the file was in (the header's fields are the pcapng section's and first interface's). */
  format: 'pcap' | 'pcapng';
  header: PcapHeader;
  packets: PcapPacket[];
}

export interface PcapReadOptions {
  /** Accept any link type (default: only LINKTYPE_ETHERNET). */
  anyLinktype?: boolean;
}

/** A classic pcap or a pcapng file, told apart by its first four bytes. */
export function readPcap(bytes: Uint8Array, opts: PcapReadOptions = {}): PcapFile {
  if (bytes.length < 4) throw new PcapError('PCAP_TRUNCATED', 0, `${bytes.length} bytes: no magic number`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicLe = dv.getUint32(0, true);
  const magicBe = dv.getUint32(0, false);
  let bigEndian: boolean, nanosecond: boolean;
  if (magicLe === PCAP_MAGIC.USEC || magicLe === PCAP_MAGIC.NSEC) {
    bigEndian = false;
    nanosecond = magicLe === PCAP_MAGIC.NSEC;
  } else if (magicBe === PCAP_MAGIC.USEC || magicBe === PCAP_MAGIC.NSEC) {
    bigEndian = true;
    nanosecond = magicBe === PCAP_MAGIC.NSEC;
  } else if (magicLe === PCAP_MAGIC.PCAPNG) {
    return readPcapng(bytes, opts);
  } else {
    throw new PcapError('PCAP_BAD_MAGIC', 0, `magic 0x${magicLe.toString(16).padStart(8, '0')} is neither a libpcap nor a pcapng magic`);
  }
  if (bytes.length < PCAP_FILE_HEADER_LEN) throw new PcapError('PCAP_TRUNCATED', 0, `${bytes.length} bytes: the file header needs ${PCAP_FILE_HEADER_LEN}`);
  const le = !bigEndian;
  const header: PcapHeader = {
    nanosecond,
    bigEndian,
    versionMajor: dv.getUint16(4, le),
    versionMinor: dv.getUint16(6, le),
    thiszone: dv.getInt32(8, le),
    snaplen: dv.getUint32(16, le),
    // The upper bits carry the FCS length (LINKTYPE_FCS): not part of the link type.
    linktype: dv.getUint32(20, le) & 0xffff,
  };
  if (header.versionMajor !== PCAP_VERSION.MAJOR) {
    throw new PcapError('PCAP_BAD_VERSION', 4, `version ${header.versionMajor}.${header.versionMinor} (only 2.x exists)`);
  }
  if (!opts.anyLinktype && header.linktype !== LINKTYPE.ETHERNET) {
    throw new PcapError('PCAP_LINKTYPE', 20, `link type ${header.linktype}, LINKTYPE_ETHERNET (1) needed`);
  }
  const fracLimit = nanosecond ? 1e9 : 1e6;
  const maxIncl = Math.max(header.snaplen, PCAP_MAX_SNAPLEN);
  const packets: PcapPacket[] = [];
  let off = PCAP_FILE_HEADER_LEN;
  while (off < bytes.length) {
    if (off + PCAP_RECORD_HEADER_LEN > bytes.length) {
      throw new PcapError('PCAP_TRUNCATED', off, `packet ${packets.length}: ${bytes.length - off} bytes left, a record header needs ${PCAP_RECORD_HEADER_LEN}`);
    }
    const tsSec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const incl = dv.getUint32(off + 8, le);
    const origLen = dv.getUint32(off + 12, le);
    if (frac >= fracLimit) throw new PcapError('PCAP_BAD_RECORD', off + 4, `packet ${packets.length}: timestamp fraction ${frac} >= ${fracLimit}`);
    if (incl > maxIncl) throw new PcapError('PCAP_BAD_RECORD', off + 8, `packet ${packets.length}: ${incl} bytes saved, more than the snap length ${maxIncl}`);
    if (incl > origLen) throw new PcapError('PCAP_BAD_RECORD', off + 8, `packet ${packets.length}: ${incl} bytes saved of a ${origLen}-byte packet`);
    const start = off + PCAP_RECORD_HEADER_LEN;
    if (start + incl > bytes.length) {
      throw new PcapError('PCAP_TRUNCATED', start, `packet ${packets.length}: ${incl} bytes saved, ${bytes.length - start} left in the file`);
    }
    packets.push({ tsSec, tsNsec: nanosecond ? frac : frac * 1000, data: bytes.subarray(start, start + incl), origLen });
    off = start + incl;
  }
  return { format: 'pcap', header, packets };
}

export function readPcapFile(path: string, opts: PcapReadOptions = {}): PcapFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new HostNetError('ENOENT', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  return readPcap(bytes, opts);
}

export interface PcapWriterOptions {
  /** Nanosecond timestamps (default true: the emulator's clocks are finer than microseconds). */
  nanosecond?: boolean;
  bigEndian?: boolean;
  snaplen?: number;
  linktype?: number;
}

/** Where the writer's bytes go: a file (PcapWriter.toFile) or memory (PcapWriter.toMemory). */
export type PcapSink = (chunk: Uint8Array) => void;

/**
 * Writes a capture as it goes. Records are staged in a buffer and handed to the sink in large
 * chunks, so a capture on the data path costs a copy per packet and a write per megabyte.
 */
export class PcapWriter {
  readonly header: PcapHeader;
  /** Packets written, and those cut to snaplen. */
  packets = 0;
  snapped = 0;
  private readonly buf: Uint8Array;
  private readonly dv: DataView;
  private used = 0;
  private closed = false;
  private onClose: (() => void) | undefined = undefined;

  constructor(private readonly sink: PcapSink, opts: PcapWriterOptions = {}, bufferBytes = 1 << 20) {
    const snaplen = opts.snaplen ?? PCAP_DEFAULT_SNAPLEN;
    if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > PCAP_MAX_SNAPLEN) throw new HostNetError('EINVAL', `pcap: snap length ${snaplen} (1..${PCAP_MAX_SNAPLEN})`);
    const linktype = opts.linktype ?? LINKTYPE.ETHERNET;
    if (!Number.isInteger(linktype) || linktype < 0 || linktype > 0xffff) throw new HostNetError('EINVAL', `pcap: link type ${linktype}`);
    this.header = {
      nanosecond: opts.nanosecond ?? true,
      bigEndian: opts.bigEndian ?? false,
      versionMajor: PCAP_VERSION.MAJOR,
      versionMinor: PCAP_VERSION.MINOR,
      thiszone: 0,
      snaplen,
      linktype,
    };
    this.buf = new Uint8Array(Math.max(bufferBytes, PCAP_FILE_HEADER_LEN + PCAP_RECORD_HEADER_LEN + snaplen));
    this.dv = new DataView(this.buf.buffer);
    const le = !this.header.bigEndian;
    this.dv.setUint32(0, this.header.nanosecond ? PCAP_MAGIC.NSEC : PCAP_MAGIC.USEC, le);
    this.dv.setUint16(4, PCAP_VERSION.MAJOR, le);
    this.dv.setUint16(6, PCAP_VERSION.MINOR, le);
    this.dv.setInt32(8, 0, le);
    this.dv.setUint32(12, 0, le);
    this.dv.setUint32(16, snaplen, le);
    this.dv.setUint32(20, linktype, le);
    this.used = PCAP_FILE_HEADER_LEN;
  }

  /** A writer onto a new file at `path` (truncated if it exists). close() closes the file. */
  static toFile(path: string, opts: PcapWriterOptions = {}): PcapWriter {
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (cause) {
      throw new HostNetError('EIO', `cannot create ${path}: ${(cause as Error).message}`, { cause });
    }
    const w = new PcapWriter((chunk) => {
      let done = 0;
      while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
    }, opts);
    w.onClose = () => closeSync(fd);
    return w;
  }

  /** A writer into memory; `bytes()` gives the file after close(). */
  static toMemory(opts: PcapWriterOptions = {}): PcapWriter & { bytes(): Uint8Array } {
    const chunks: Uint8Array[] = [];
    const w = new PcapWriter((c) => chunks.push(c.slice()), opts, 4096) as PcapWriter & { bytes(): Uint8Array };
    w.bytes = () => {
      let n = 0;
      for (const c of chunks) n += c.length;
      const out = new Uint8Array(n);
      n = 0;
      for (const c of chunks) { out.set(c, n); n += c.length; }
      return out;
    };
    return w;
  }

  /**
   * One packet: `len` bytes of `u8` from `offset` (saved up to snaplen), at tsSec + tsNsec ns
   * (rounded down to microseconds in a microsecond file).
   */
  write(u8: Uint8Array, offset: number, len: number, tsSec = 0, tsNsec = 0): void {
    if (this.closed) throw new HostNetError('EINVAL', 'pcap: write after close');
    if (!(offset >= 0 && len >= 0 && offset + len <= u8.length)) throw new HostNetError('EINVAL', `pcap: [${offset}, +${len}) outside a ${u8.length}-byte buffer`);
    if (!(tsNsec >= 0 && tsNsec < 1e9)) throw new HostNetError('EINVAL', `pcap: ${tsNsec} ns is not a fraction of a second`);
    const incl = Math.min(len, this.header.snaplen);
    if (incl < len) this.snapped++;
    if (this.used + PCAP_RECORD_HEADER_LEN + incl > this.buf.length) this.drain();
    const le = !this.header.bigEndian, o = this.used;
    this.dv.setUint32(o, tsSec >>> 0, le);
    this.dv.setUint32(o + 4, this.header.nanosecond ? tsNsec : Math.floor(tsNsec / 1000), le);
    this.dv.setUint32(o + 8, incl, le);
    this.dv.setUint32(o + 12, len, le);
    const buf = this.buf, at = o + PCAP_RECORD_HEADER_LEN;
    // Small frames byte by byte: a subarray per packet would cost more than the copy.
    if (incl <= 256) for (let i = 0; i < incl; i++) buf[at + i] = u8[offset + i]!;
    else buf.set(u8.subarray(offset, offset + incl), at);
    this.used = o + PCAP_RECORD_HEADER_LEN + incl;
    this.packets++;
  }

  /** A whole packet with its timestamp. */
  writePacket(data: Uint8Array, tsSec = 0, tsNsec = 0): void {
    this.write(data, 0, data.length, tsSec, tsNsec);
  }

  /** Hands everything staged to the sink. */
  drain(): void {
    if (this.used === 0) return;
    this.sink(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  close(): void {
    if (this.closed) return;
    this.drain();
    this.closed = true;
    this.onClose?.();
  }
}

/** A whole capture in memory (tests, small tools). */
export function writePcap(packets: readonly { data: Uint8Array; tsSec?: number; tsNsec?: number }[], opts: PcapWriterOptions = {}): Uint8Array {
  const w = PcapWriter.toMemory(opts);
  for (const p of packets) w.writePacket(p.data, p.tsSec ?? 0, p.tsNsec ?? 0);
  w.close();
  return w.bytes();
}

// pcapng capture files (what Wireshark and dumpcap write by default), read into the same shape as
// a classic pcap file so pktgen can replay either. Layout (draft-ietf-opsawg-pcapng): a sequence
// of blocks, each
//   u32 block type, u32 block total length (a multiple of 4, >= 12), body, u32 total length again
// in the byte order of the section, which the Section Header Block's byte-order magic reveals.
//   SHB  0x0a0d0d0a  u32 byte-order magic 0x1a2b3c4d, u16 major (1), u16 minor, i64 section length, options
//   IDB  1           u16 link type, u16 reserved, u32 snap length (0: none), options (if_tsresol, if_tsoffset)
//   SPB  3           u32 original length, data (captured length: min(original, the snap length of interface 0))
//   EPB  6           u32 interface, u32 timestamp high, u32 timestamp low, u32 captured, u32 original, data, options
// Every other block (name resolution, statistics, custom, decryption secrets...) is skipped. A new
// SHB starts a new section: byte order and interfaces start over.
import { PcapError } from './errors.ts';
import { LINKTYPE, PCAP_MAX_SNAPLEN, type PcapFile, type PcapHeader, type PcapPacket, type PcapReadOptions } from './pcap.ts';

export const PCAPNG_BLOCK = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  /** The obsolete Packet Block: skipped, as every block this reader does not know. */
  PB: 0x00000002,
  SPB: 0x00000003,
  EPB: 0x00000006,
} as const;

export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
export const PCAPNG_VERSION = { MAJOR: 1, MINOR: 0 } as const;

/** Option codes this reader uses (opt_endofopt ends the list). */
export const PCAPNG_OPT = {
  ENDOFOPT: 0,
  IF_TSRESOL: 9,
  IF_TSOFFSET: 14,
} as const;

const BLOCK_MIN = 12;
const SHB_MIN = 28;
const IDB_MIN = 20;
const SPB_MIN = 16;
const EPB_MIN = 32;

interface Iface {
  linktype: number;
  snaplen: number;
  /** Timestamp units per second as 10^k (`decimal`) or 2^k. */
  tsresol: { decimal: boolean; exp: number };
  tsoffset: bigint;
  /** Where the IDB starts, for messages. */
  at: number;
}

const pad4 = (n: number): number => (n + 3) & ~3;

/** The options of a block from `off` to `end`: code, value bytes and the value's offset. */
function* options(dv: DataView, off: number, end: number, le: boolean): Generator<{ code: number; at: number; len: number }> {
  while (off + 4 <= end) {
    const code = dv.getUint16(off, le);
    const len = dv.getUint16(off + 2, le);
    if (code === PCAPNG_OPT.ENDOFOPT) return;
    if (off + 4 + len > end) throw new PcapError('PCAP_BAD_BLOCK', off, `option ${code} of ${len} bytes runs past its block (ends at byte ${end})`);
    yield { code, at: off + 4, len };
    off += 4 + pad4(len);
  }
}

function timestamp(ts: bigint, i: Iface): { tsSec: number; tsNsec: number } {
  let sec: bigint, nsec: bigint;
  if (i.tsresol.decimal) {
    const unit = 10n ** BigInt(i.tsresol.exp);
    sec = ts / unit;
    const frac = ts % unit;
    nsec = i.tsresol.exp <= 9 ? frac * 10n ** BigInt(9 - i.tsresol.exp) : frac / 10n ** BigInt(i.tsresol.exp - 9);
  } else {
    const k = BigInt(i.tsresol.exp);
    sec = ts >> k;
    nsec = ((ts & ((1n << k) - 1n)) * 1_000_000_000n) >> k;
  }
  return { tsSec: Number(BigInt.asUintN(32, sec + i.tsoffset)), tsNsec: Number(nsec) };
}

/**
 * A pcapng file's packets (Enhanced and Simple Packet Blocks, every section). The header reports
 * the first section's byte order and first interface (Ethernet, no snap length, when it has none);
 * `nanosecond` is true when an interface's timestamps are finer than microseconds.
 */
export function readPcapng(bytes: Uint8Array, opts: PcapReadOptions = {}): PcapFile {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: PcapHeader | undefined;
  let le = true;
  let ifaces: Iface[] = [];
  let firstIface: Iface | undefined;
  const packets: PcapPacket[] = [];
  let off = 0;
  while (off < bytes.length) {
    if (off + BLOCK_MIN > bytes.length) {
      throw new PcapError('PCAP_TRUNCATED', off, `${bytes.length - off} bytes left, a block needs at least ${BLOCK_MIN}`);
    }
    const type = dv.getUint32(off, true); // the SHB's type reads the same in both orders
    if (type === PCAPNG_BLOCK.SHB) {
      const bom = dv.getUint32(off + 8, true);
      if (bom === PCAPNG_BYTE_ORDER_MAGIC) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw new PcapError('PCAP_BAD_MAGIC', off + 8, `section header byte-order magic 0x${bom.toString(16).padStart(8, '0')} is not 0x1a2b3c4d in either order`);
      ifaces = [];
    } else if (header === undefined) {
      throw new PcapError('PCAP_BAD_MAGIC', off, `block type 0x${type.toString(16)}: a pcapng file starts with a section header block`);
    }
    const blockType = dv.getUint32(off, le);
    const total = dv.getUint32(off + 4, le);
    if (total < BLOCK_MIN || total % 4 !== 0) throw new PcapError('PCAP_BAD_BLOCK', off + 4, `block length ${total}: a multiple of 4, at least ${BLOCK_MIN}`);
    if (off + total > bytes.length) throw new PcapError('PCAP_TRUNCATED', off, `block of ${total} bytes, ${bytes.length - off} left in the file`);
    const end = off + total - 4;
    const trailer = dv.getUint32(end, le);
    if (trailer !== total) throw new PcapError('PCAP_BAD_BLOCK', end, `block length ${total} at its start, ${trailer} at its end`);
    const need = (min: number, what: string): void => {
      if (total < min) throw new PcapError('PCAP_BAD_BLOCK', off + 4, `${what} of ${total} bytes: at least ${min}`);
    };

    switch (blockType) {
      case PCAPNG_BLOCK.SHB: {
        need(SHB_MIN, 'section header block');
        const major = dv.getUint16(off + 12, le);
        const minor = dv.getUint16(off + 14, le);
        if (major !== PCAPNG_VERSION.MAJOR) throw new PcapError('PCAP_BAD_VERSION', off + 12, `pcapng version ${major}.${minor} (only 1.x exists)`);
        for (const _ of options(dv, off + 24, end, le)) { /* checked for bounds, none used */ }
        header ??= { nanosecond: false, bigEndian: !le, versionMajor: major, versionMinor: minor, thiszone: 0, snaplen: 0, linktype: LINKTYPE.ETHERNET };
        break;
      }
      case PCAPNG_BLOCK.IDB: {
        need(IDB_MIN, 'interface description block');
        const linktype = dv.getUint16(off + 8, le);
        if (!opts.anyLinktype && linktype !== LINKTYPE.ETHERNET) {
          throw new PcapError('PCAP_LINKTYPE', off + 8, `interface ${ifaces.length}: link type ${linktype}, LINKTYPE_ETHERNET (1) needed`);
        }
        const iface: Iface = { linktype, snaplen: dv.getUint32(off + 12, le), tsresol: { decimal: true, exp: 6 }, tsoffset: 0n, at: off };
        for (const o of options(dv, off + 16, end, le)) {
          if (o.code === PCAPNG_OPT.IF_TSRESOL) {
            if (o.len !== 1) throw new PcapError('PCAP_BAD_BLOCK', o.at - 4, `if_tsresol of ${o.len} bytes (1 needed)`);
            const v = bytes[o.at]!;
            const decimal = (v & 0x80) === 0;
            const exp = v & 0x7f;
            if (decimal ? exp > 18 : exp > 63) throw new PcapError('PCAP_BAD_BLOCK', o.at, `if_tsresol ${decimal ? '10' : '2'}^-${exp}: finer than vxo can count`);
            iface.tsresol = { decimal, exp };
          } else if (o.code === PCAPNG_OPT.IF_TSOFFSET) {
            if (o.len !== 8) throw new PcapError('PCAP_BAD_BLOCK', o.at - 4, `if_tsoffset of ${o.len} bytes (8 needed)`);
            iface.tsoffset = dv.getBigInt64(o.at, le);
          }
        }
        ifaces.push(iface);
        if (firstIface === undefined) {
          firstIface = iface;
          header!.linktype = linktype;
          header!.snaplen = iface.snaplen;
        }
        if (iface.tsresol.decimal ? iface.tsresol.exp > 6 : iface.tsresol.exp > 20) header!.nanosecond = true;
        break;
      }
      case PCAPNG_BLOCK.EPB: {
        need(EPB_MIN, 'enhanced packet block');
        const n = packets.length;
        const id = dv.getUint32(off + 8, le);
        const iface = ifaces[id];
        if (iface === undefined) throw new PcapError('PCAP_BAD_RECORD', off + 8, `packet ${n}: interface ${id}, but the section describes ${ifaces.length}`);
        const ts = (BigInt(dv.getUint32(off + 12, le)) << 32n) | BigInt(dv.getUint32(off + 16, le));
        const incl = dv.getUint32(off + 20, le);
        const origLen = dv.getUint32(off + 24, le);
        const start = off + 28;
        if (start + pad4(incl) > end) throw new PcapError('PCAP_BAD_RECORD', off + 20, `packet ${n}: ${incl} bytes captured, the block holds ${end - start}`);
        if (incl > Math.max(iface.snaplen, PCAP_MAX_SNAPLEN)) throw new PcapError('PCAP_BAD_RECORD', off + 20, `packet ${n}: ${incl} bytes captured, more than any snap length`);
        if (incl > origLen) throw new PcapError('PCAP_BAD_RECORD', off + 20, `packet ${n}: ${incl} bytes captured of a ${origLen}-byte packet`);
        for (const _ of options(dv, start + pad4(incl), end, le)) { /* checked for bounds, none used */ }
        packets.push({ ...timestamp(ts, iface), data: bytes.subarray(start, start + incl), origLen });
        break;
      }
      case PCAPNG_BLOCK.SPB: {
        need(SPB_MIN, 'simple packet block');
        const n = packets.length;
        const iface = ifaces[0];
        if (iface === undefined) throw new PcapError('PCAP_BAD_RECORD', off, `packet ${n}: a simple packet block needs interface 0, the section describes none`);
        const origLen = dv.getUint32(off + 8, le);
        const start = off + 12;
        const incl = Math.min(origLen, iface.snaplen === 0 ? origLen : iface.snaplen);
        if (start + incl > end) throw new PcapError('PCAP_BAD_RECORD', off + 8, `packet ${n}: ${incl} bytes, the block holds ${end - start}`);
        if (incl > PCAP_MAX_SNAPLEN) throw new PcapError('PCAP_BAD_RECORD', off + 8, `packet ${n}: ${incl} bytes, more than any snap length`);
        // No timestamp in a simple packet block.
        packets.push({ tsSec: 0, tsNsec: 0, data: bytes.subarray(start, start + incl), origLen });
        break;
      }
      default:
        break;
    }
    off += total;
  }
  if (header === undefined) throw new PcapError('PCAP_TRUNCATED', 0, 'no section header block');
  return { format: 'pcapng', header, packets };
}

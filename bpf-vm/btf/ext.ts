// .BTF.ext (struct btf_ext_header): vxo reads it only to find CO-RE relocations. A program built
// with them expects the loader to patch field offsets and type checks against the kernel's BTF;
// running it unpatched would silently compute the wrong thing, so such objects are refused.
import { ElfError } from '../errors.ts';

const BTF_MAGIC = 0xeb9f;
/** sizeof(struct btf_ext_header) with the optional core_relo_off/len fields. */
const HEADER_WITH_CORE = 32;

/** The number of CO-RE relocation records in a .BTF.ext section (0 when it has none). */
export function coreReloCount(data: Uint8Array, section = '.BTF.ext'): number {
  if (data.byteLength < 8) throw new ElfError(section, 0, `truncated header: ${data.byteLength} bytes`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const magic = dv.getUint16(0, true);
  if (magic !== BTF_MAGIC) throw new ElfError(section, 0, `bad magic 0x${magic.toString(16)}`);
  const hdrLen = dv.getUint32(4, true);
  if (hdrLen < HEADER_WITH_CORE) return 0;
  if (hdrLen > data.byteLength) throw new ElfError(section, 4, `header length ${hdrLen} exceeds the section (${data.byteLength} bytes)`);
  const off = dv.getUint32(24, true), len = dv.getUint32(28, true);
  if (len === 0) return 0;
  const start = hdrLen + off, end = start + len;
  if (end > data.byteLength || len < 4) throw new ElfError(section, 24, `CO-RE relocation info [${start}, ${end}) lies outside the section`);
  const recordSize = dv.getUint32(start, true);
  let count = 0;
  // Per section: u32 sec_name_off, u32 num_info, then num_info records of recordSize bytes.
  for (let p = start + 4; p < end;) {
    if (p + 8 > end) throw new ElfError(section, p, 'truncated CO-RE relocation section header');
    const n = dv.getUint32(p + 4, true);
    if (recordSize === 0 || p + 8 + n * recordSize > end) throw new ElfError(section, p, `CO-RE relocation section of ${n} records overruns the info`);
    count += n;
    p += 8 + n * recordSize;
  }
  return count;
}

/** One struct bpf_line_info record, its offsets resolved against .BTF's string table. */
export interface BtfLineInfo {
  /** Byte offset of the instruction in its ELF section (the ELF form; the kernel's counts slots). */
  insnOff: number;
  fileName: string;
  /** The source line's text, as clang recorded it. */
  line: string;
  lineNum: number;
  lineCol: number;
}

const utf8 = new TextDecoder('utf-8');

/** The string table of a raw .BTF blob (struct btf_header: str_off at 16, str_len at 20). */
function btfStrings(btf: Uint8Array): ((off: number) => string | undefined) | undefined {
  if (btf.byteLength < 24) return undefined;
  const dv = new DataView(btf.buffer, btf.byteOffset, btf.byteLength);
  if (dv.getUint16(0, true) !== BTF_MAGIC) return undefined;
  const hdrLen = dv.getUint32(4, true);
  const start = hdrLen + dv.getUint32(16, true), len = dv.getUint32(20, true);
  if (start + len > btf.byteLength) return undefined;
  const strings = btf.subarray(start, start + len);
  return (off) => {
    if (off >= strings.byteLength) return undefined;
    const end = strings.indexOf(0, off);
    return end < 0 ? undefined : utf8.decode(strings.subarray(off, end));
  };
}

/**
 * The line info of a .BTF.ext section (line_info_off/len at 16/20 of struct btf_ext_header), per
 * ELF section name, each list sorted by instruction offset. Line info only decorates logs and
 * dumps, so a malformed or missing one gives an empty map rather than an error.
 */
export function lineInfoBySection(ext: Uint8Array, btf: Uint8Array): Map<string, BtfLineInfo[]> {
  const out = new Map<string, BtfLineInfo[]>();
  const str = btfStrings(btf);
  if (str === undefined || ext.byteLength < 24) return out;
  const dv = new DataView(ext.buffer, ext.byteOffset, ext.byteLength);
  if (dv.getUint16(0, true) !== BTF_MAGIC) return out;
  const hdrLen = dv.getUint32(4, true);
  if (hdrLen < 24) return out;
  const off = dv.getUint32(16, true), len = dv.getUint32(20, true);
  const start = hdrLen + off, end = start + len;
  if (len < 4 || end > ext.byteLength) return out;
  const recordSize = dv.getUint32(start, true);
  if (recordSize < 16) return out;
  for (let p = start + 4; p + 8 <= end;) {
    const sec = str(dv.getUint32(p, true));
    const n = dv.getUint32(p + 4, true);
    p += 8;
    if (sec === undefined || p + n * recordSize > end) return new Map();
    const list: BtfLineInfo[] = out.get(sec) ?? [];
    for (let i = 0; i < n; i++, p += recordSize) {
      const lineCol = dv.getUint32(p + 12, true);
      list.push({
        insnOff: dv.getUint32(p, true),
        fileName: str(dv.getUint32(p + 4, true)) ?? '',
        line: str(dv.getUint32(p + 8, true)) ?? '',
        lineNum: lineCol >>> 10,
        lineCol: lineCol & 0x3ff,
      });
    }
    list.sort((a, b) => a.insnOff - b.insnOff);
    out.set(sec, list);
  }
  return out;
}

/** One struct bpf_func_info record as clang writes it in .BTF.ext. */
export interface BtfFuncInfo {
  /** Byte offset of the function's first instruction in its ELF section. */
  insnOff: number;
  /** The BTF FUNC type id describing the function. */
  typeId: number;
}

/**
 * The function info of a .BTF.ext section (func_info_off/len at 8/12 of struct btf_ext_header),
 * per ELF section name. What a loader passes the kernel as func_info; a malformed one gives an
 * empty map (the program then has no BTF function info, as a loader that could not read it sends).
 */
export function funcInfoBySection(ext: Uint8Array, btf: Uint8Array): Map<string, BtfFuncInfo[]> {
  const out = new Map<string, BtfFuncInfo[]>();
  const str = btfStrings(btf);
  if (str === undefined || ext.byteLength < 16) return out;
  const dv = new DataView(ext.buffer, ext.byteOffset, ext.byteLength);
  if (dv.getUint16(0, true) !== BTF_MAGIC) return out;
  const hdrLen = dv.getUint32(4, true);
  if (hdrLen < 16) return out;
  const off = dv.getUint32(8, true), len = dv.getUint32(12, true);
  const start = hdrLen + off, end = start + len;
  if (len < 4 || end > ext.byteLength) return out;
  const recordSize = dv.getUint32(start, true);
  if (recordSize < 8) return out;
  for (let p = start + 4; p + 8 <= end;) {
    const sec = str(dv.getUint32(p, true));
    const n = dv.getUint32(p + 4, true);
    p += 8;
    if (sec === undefined || p + n * recordSize > end) return new Map();
    const list: BtfFuncInfo[] = out.get(sec) ?? [];
    for (let i = 0; i < n; i++, p += recordSize) list.push({ insnOff: dv.getUint32(p, true), typeId: dv.getUint32(p + 4, true) });
    out.set(sec, list);
  }
  return out;
}

// The CO-RE relocation records of a .BTF.ext section (struct bpf_core_relo, core_relo_off/len at 24/28
// of struct btf_ext_header), per ELF section, with their access strings resolved against .BTF's
// string table. What the loader's CO-RE pass walks; malformed input is an ElfError (a loader must
// not guess at relocations it cannot read, unlike line info).
import { ElfError } from '../errors.ts';
import { BTF_MAGIC } from './types.ts';

/** enum bpf_core_relo_kind (include/uapi/linux/bpf.h). */
export const BPF_CORE = {
  FIELD_BYTE_OFFSET: 0,
  FIELD_BYTE_SIZE: 1,
  FIELD_EXISTS: 2,
  FIELD_SIGNED: 3,
  FIELD_LSHIFT_U64: 4,
  FIELD_RSHIFT_U64: 5,
  TYPE_ID_LOCAL: 6,
  TYPE_ID_TARGET: 7,
  TYPE_EXISTS: 8,
  TYPE_SIZE: 9,
  ENUMVAL_EXISTS: 10,
  ENUMVAL_VALUE: 11,
  TYPE_MATCHES: 12,
} as const;

/** libbpf's names for the kinds (core_relo_kind_str), for messages. */
export const BPF_CORE_KIND_STR: readonly string[] = [
  'byte_off', 'byte_sz', 'field_exists', 'signed', 'lshift_u64', 'rshift_u64', 'local_type_id',
  'target_type_id', 'type_exists', 'type_size', 'enumval_exists', 'enumval_value', 'type_matches',
];

/** One struct bpf_core_relo. */
export interface CoreRelo {
  /** Byte offset of the instruction in its ELF section. */
  insnOff: number;
  /** The local (program's .BTF) type id the access starts from. */
  typeId: number;
  /** "0:1:2": member/array indices from typeId; for enum kinds the enumerator index. */
  accessStr: string;
  kind: number;
}

const utf8 = new TextDecoder('utf-8');

/** CO-RE relocations by ELF section name (empty when the section has none). */
export function coreRelosBySection(ext: Uint8Array, btf: Uint8Array, section = '.BTF.ext'): Map<string, CoreRelo[]> {
  const out = new Map<string, CoreRelo[]>();
  const fail = (at: number, message: string): never => {
    throw new ElfError(section, at, message);
  };
  if (ext.byteLength < 8) fail(0, `truncated header: ${ext.byteLength} bytes`);
  const dv = new DataView(ext.buffer, ext.byteOffset, ext.byteLength);
  if (dv.getUint16(0, true) !== BTF_MAGIC) fail(0, `bad magic 0x${dv.getUint16(0, true).toString(16)}`);
  const hdrLen = dv.getUint32(4, true);
  if (hdrLen < 32) return out;
  const off = dv.getUint32(24, true), len = dv.getUint32(28, true);
  if (len === 0) return out;
  const start = hdrLen + off, end = start + len;
  if (len < 4 || end > ext.byteLength) fail(24, `CO-RE relocation info [${start}, ${end}) lies outside the section`);

  if (btf.byteLength < 24) fail(0, '.BTF is too short for its header');
  const bv = new DataView(btf.buffer, btf.byteOffset, btf.byteLength);
  const strStart = bv.getUint32(4, true) + bv.getUint32(16, true), strLen = bv.getUint32(20, true);
  if (strStart + strLen > btf.byteLength) fail(0, '.BTF string section lies outside .BTF');
  const strings = btf.subarray(strStart, strStart + strLen);
  const str = (o: number, at: number): string => {
    const e = o < strings.byteLength ? strings.indexOf(0, o) : -1;
    if (e < 0) return fail(at, `string offset ${o} is outside .BTF's string section (${strings.byteLength} bytes)`);
    return utf8.decode(strings.subarray(o, e));
  };

  const recordSize = dv.getUint32(start, true);
  if (recordSize < 16) fail(start, `CO-RE relocation record size ${recordSize} is below 16`);
  for (let p = start + 4; p < end;) {
    if (p + 8 > end) fail(p, 'truncated CO-RE relocation section header');
    const sec = str(dv.getUint32(p, true), p);
    const n = dv.getUint32(p + 4, true);
    p += 8;
    if (p + n * recordSize > end) fail(p, `CO-RE relocation section ${sec} of ${n} records overruns the info`);
    const list = out.get(sec) ?? [];
    for (let i = 0; i < n; i++, p += recordSize) {
      list.push({ insnOff: dv.getUint32(p, true), typeId: dv.getUint32(p + 4, true), accessStr: str(dv.getUint32(p + 8, true), p + 8), kind: dv.getUint32(p + 12, true) });
    }
    out.set(sec, list);
  }
  return out;
}

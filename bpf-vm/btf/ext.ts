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

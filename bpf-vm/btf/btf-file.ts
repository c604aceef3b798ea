// The BTF of a file, as `bpftool btf dump file F` finds it: a raw BTF blob (starts with the
// little-endian magic 0xeb9f, like /sys/kernel/btf/vmlinux) or an ELF object's .BTF section.
import { readElf } from '../elf/reader.ts';
import { ElfError } from '../errors.ts';
import { parseBtf, type Btf } from './btf.ts';
import { BTF_MAGIC } from './types.ts';

/** The raw BTF bytes of `bytes` (a raw blob as is, or an ELF object's .BTF section). */
export function btfBytesOf(bytes: Uint8Array, fileName = 'file'): Uint8Array {
  if (bytes.byteLength >= 2 && (bytes[0]! | (bytes[1]! << 8)) === BTF_MAGIC) return bytes;
  const elf = readElf(bytes);
  const sec = elf.sections.find((s) => s.name === '.BTF');
  if (sec === undefined) throw new ElfError(fileName, 0, 'no .BTF section (built without -g?)');
  return sec.data;
}

/** Parses the BTF of a raw blob or an ELF object. */
export function parseBtfFile(bytes: Uint8Array, fileName = 'file'): Btf {
  return parseBtf(btfBytesOf(bytes, fileName), fileName === 'file' ? '.BTF' : `${fileName}: .BTF`);
}

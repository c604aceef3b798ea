// A bounds-checked reader for ELF64 little-endian relocatable objects (what `clang -target bpf -c`
// writes). It only decodes structure (header, section headers, names, symbols, Elf64_Rel); what
// the sections mean for eBPF is collection.ts's business. Every malformed field is an ElfError
// naming the section (or header) and the byte offset of the field.
import { ElfError } from '../errors.ts';

export const EM_BPF = 247;
export const ET_REL = 1;

export const SHT = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  NOBITS: 8,
  REL: 9,
} as const;

export const SHF = {
  WRITE: 0x1,
  ALLOC: 0x2,
  EXECINSTR: 0x4,
} as const;

export const STT = {
  NOTYPE: 0,
  OBJECT: 1,
  FUNC: 2,
  SECTION: 3,
  FILE: 4,
} as const;

export const STB = {
  LOCAL: 0,
  GLOBAL: 1,
  WEAK: 2,
} as const;

export const SHN_UNDEF = 0;
/** Symbols with st_shndx in [SHN_LORESERVE, 0xffff] (ABS, COMMON, XINDEX) name no section. */
export const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
export const SYM_SIZE = 24;
export const REL_SIZE = 16;
const HEADER = 'ELF header';

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  /** File offset of the contents (meaningless for NOBITS). */
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
  /** The contents; empty for NOBITS (whose size is `size` but which occupies no file bytes). */
  data: Uint8Array;
}

export interface ElfSymbol {
  index: number;
  name: string;
  type: number;
  bind: number;
  /** Section index, SHN_UNDEF, or a reserved index (>= SHN_LORESERVE). */
  shndx: number;
  value: number;
  size: number;
}

export interface ElfRel {
  /** Byte offset of the entry in its REL section (for error messages). */
  at: number;
  /** Byte offset in the target section. */
  offset: number;
  sym: number;
  type: number;
}

export interface ElfFile {
  sections: ElfSection[];
  symbols: ElfSymbol[];
  /** Index of the SYMTAB section, or 0 when the object has none. */
  symtabIndex: number;
}

/** Reads a u64 that must fit in a JS number (offsets and sizes always do in a sane file). */
function u64(dv: DataView, at: number, section: string, what: string): number {
  const lo = dv.getUint32(at, true);
  const hi = dv.getUint32(at + 4, true);
  if (hi > 0x1fffff) throw new ElfError(section, at, `${what} 0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')} is too large`);
  return hi * 0x1_0000_0000 + lo;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const utf8 = new TextDecoder('utf-8');

/** The NUL-terminated string at `off` in a string table section. */
export function readString(table: ElfSection, off: number, section: string, at: number): string {
  if (off >= table.data.byteLength) {
    throw new ElfError(section, at, `name offset ${off} is outside ${table.name || 'the string table'} (${table.data.byteLength} bytes)`);
  }
  const end = table.data.indexOf(0, off);
  if (end < 0) throw new ElfError(section, at, `name at offset ${off} in ${table.name || 'the string table'} is not NUL-terminated`);
  return utf8.decode(table.data.subarray(off, end));
}

function checkIdent(bytes: Uint8Array): void {
  if (bytes.byteLength < 16 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError(HEADER, 0, 'not an ELF file (bad magic)');
  }
  if (bytes[4] !== 2) throw new ElfError(HEADER, 4, `not a 64-bit ELF file (EI_CLASS ${bytes[4]})`);
  if (bytes[5] !== 1) throw new ElfError(HEADER, 5, `not a little-endian ELF file (EI_DATA ${bytes[5]})`);
  if (bytes[6] !== 1) throw new ElfError(HEADER, 6, `unknown ELF version ${bytes[6]}`);
  if (bytes.byteLength < EHDR_SIZE) throw new ElfError(HEADER, bytes.byteLength, `truncated: ${bytes.byteLength} bytes, the header needs ${EHDR_SIZE}`);
}

interface RawShdr {
  nameOff: number;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

function readShdr(dv: DataView, at: number, label: string): RawShdr {
  const flagsLo = dv.getUint32(at + 8, true); // the flags that matter all live in the low word
  return {
    nameOff: dv.getUint32(at, true),
    type: dv.getUint32(at + 4, true),
    flags: flagsLo,
    offset: u64(dv, at + 24, label, 'sh_offset'),
    size: u64(dv, at + 32, label, 'sh_size'),
    link: dv.getUint32(at + 40, true),
    info: dv.getUint32(at + 44, true),
    entsize: u64(dv, at + 56, label, 'sh_entsize'),
  };
}

/** Parses the header, every section header and the symbol table. */
export function readElf(bytes: Uint8Array): ElfFile {
  checkIdent(bytes);
  const dv = viewOf(bytes);
  const eType = dv.getUint16(16, true);
  if (eType !== ET_REL) throw new ElfError(HEADER, 16, `e_type ${eType} is not ET_REL (a relocatable object)`);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_BPF) throw new ElfError(HEADER, 18, `e_machine ${machine} is not EM_BPF (${EM_BPF})`);
  const shoff = u64(dv, 40, HEADER, 'e_shoff');
  const shentsize = dv.getUint16(58, true);
  let shnum = dv.getUint16(60, true);
  let shstrndx = dv.getUint16(62, true);
  if (shoff === 0) throw new ElfError(HEADER, 40, 'the object has no section headers');
  if (shentsize !== SHDR_SIZE) throw new ElfError(HEADER, 58, `e_shentsize ${shentsize} is not ${SHDR_SIZE}`);
  if (shoff + SHDR_SIZE > bytes.byteLength) {
    throw new ElfError(HEADER, 40, `section headers at 0x${shoff.toString(16)} lie outside the file (${bytes.byteLength} bytes)`);
  }
  // Extended numbering: with many sections the real counts live in section 0's header.
  const first = readShdr(dv, shoff, 'section header 0');
  if (shnum === 0) shnum = first.size;
  if (shstrndx === SHN_XINDEX) shstrndx = first.link;
  if (shnum === 0 || shoff + shnum * SHDR_SIZE > bytes.byteLength) {
    throw new ElfError(HEADER, 60, `${shnum} section headers at 0x${shoff.toString(16)} do not fit in the file (${bytes.byteLength} bytes)`);
  }
  if (shstrndx === 0 || shstrndx >= shnum) throw new ElfError(HEADER, 62, `e_shstrndx ${shstrndx} is not a section (of ${shnum})`);

  const raws: RawShdr[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * SHDR_SIZE;
    const label = `section header ${i}`;
    const raw = readShdr(dv, at, label);
    if (raw.type !== SHT.NOBITS && raw.type !== SHT.NULL && raw.offset + raw.size > bytes.byteLength) {
      throw new ElfError(label, at + 24, `contents [0x${raw.offset.toString(16)}, +0x${raw.size.toString(16)}) lie outside the file (${bytes.byteLength} bytes)`);
    }
    raws.push(raw);
  }

  const sections: ElfSection[] = raws.map((raw, index) => ({
    index,
    name: '',
    type: raw.type,
    flags: raw.flags,
    offset: raw.offset,
    size: raw.size,
    link: raw.link,
    info: raw.info,
    entsize: raw.entsize,
    data: raw.type === SHT.NOBITS || raw.type === SHT.NULL ? new Uint8Array(0) : bytes.subarray(raw.offset, raw.offset + raw.size),
  }));
  const shstrtab = sections[shstrndx];
  if (!shstrtab || shstrtab.type !== SHT.STRTAB) throw new ElfError(HEADER, 62, `e_shstrndx ${shstrndx} is not a string table`);
  for (const s of sections) {
    const raw = raws[s.index];
    if (raw && s.index !== 0) s.name = readString(shstrtab, raw.nameOff, `section header ${s.index}`, shoff + s.index * SHDR_SIZE);
  }

  const symtabs = sections.filter((s) => s.type === SHT.SYMTAB);
  if (symtabs.length > 1) throw new ElfError(symtabs[1]?.name ?? '.symtab', 0, 'more than one symbol table');
  const symtab = symtabs[0];
  const symbols = symtab ? readSymbols(sections, symtab) : [];
  return { sections, symbols, symtabIndex: symtab?.index ?? 0 };
}

function readSymbols(sections: readonly ElfSection[], symtab: ElfSection): ElfSymbol[] {
  if (symtab.entsize !== SYM_SIZE) throw new ElfError(symtab.name, 0, `sh_entsize ${symtab.entsize} is not ${SYM_SIZE}`);
  if (symtab.size % SYM_SIZE !== 0) throw new ElfError(symtab.name, symtab.size - (symtab.size % SYM_SIZE), `size ${symtab.size} is not a multiple of ${SYM_SIZE}`);
  const strtab = sections[symtab.link];
  if (!strtab || strtab.type !== SHT.STRTAB) throw new ElfError(symtab.name, 0, `sh_link ${symtab.link} is not a string table`);
  const dv = viewOf(symtab.data);
  const out: ElfSymbol[] = [];
  for (let at = 0, index = 0; at < symtab.size; at += SYM_SIZE, index++) {
    const info = dv.getUint8(at + 4);
    const shndx = dv.getUint16(at + 6, true);
    if (shndx !== SHN_UNDEF && shndx < SHN_LORESERVE && shndx >= sections.length) {
      throw new ElfError(symtab.name, at + 6, `symbol ${index} names section ${shndx}, but there are ${sections.length}`);
    }
    out.push({
      index,
      name: readString(strtab, dv.getUint32(at, true), symtab.name, at),
      type: info & 0x0f,
      bind: info >>> 4,
      shndx,
      value: u64(dv, at + 8, symtab.name, 'st_value'),
      size: u64(dv, at + 16, symtab.name, 'st_size'),
    });
  }
  return out;
}

/** The Elf64_Rel entries of a REL section, checked against the symbol table. */
export function readRels(file: ElfFile, rel: ElfSection): ElfRel[] {
  if (rel.entsize !== REL_SIZE) throw new ElfError(rel.name, 0, `sh_entsize ${rel.entsize} is not ${REL_SIZE}`);
  if (rel.size % REL_SIZE !== 0) throw new ElfError(rel.name, rel.size - (rel.size % REL_SIZE), `size ${rel.size} is not a multiple of ${REL_SIZE}`);
  if (rel.link !== file.symtabIndex || file.symtabIndex === 0) {
    throw new ElfError(rel.name, 0, `sh_link ${rel.link} is not the symbol table`);
  }
  const dv = viewOf(rel.data);
  const out: ElfRel[] = [];
  for (let at = 0; at < rel.size; at += REL_SIZE) {
    const offset = u64(dv, at, rel.name, 'r_offset');
    // r_info: symbol index in the high word, relocation type in the low word.
    const type = dv.getUint32(at + 8, true);
    const sym = dv.getUint32(at + 12, true);
    if (sym >= file.symbols.length) throw new ElfError(rel.name, at + 12, `symbol index ${sym} is out of range (${file.symbols.length} symbols)`);
    out.push({ at, offset, sym, type });
  }
  return out;
}

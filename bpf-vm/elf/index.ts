// Reading BPF ELF objects into plain specs.
export { parseElf } from './collection.ts';
export type { CollectionSpec, FuncInfo, MapReference, ProgramSpec } from './spec.ts';
export { readElf, readRels, EM_BPF, type ElfFile, type ElfRel, type ElfSection, type ElfSymbol } from './reader.ts';
export { R_BPF } from './relocations.ts';

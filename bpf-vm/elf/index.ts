// Reading BPF ELF objects into plain specs.
export { parseElf, type ParseElfOptions } from './collection.ts';
export type { CollectionSpec, FuncInfo, KfuncCallSite, MapReference, PoisonedInsn, ProgramSpec } from './spec.ts';
export { readElf, readRels, EM_BPF, type ElfFile, type ElfRel, type ElfSection, type ElfSymbol } from './reader.ts';
export { R_BPF } from './relocations.ts';
export { applyCoreRelocations, bpf_core_patch_insn, formatCoreSpec, BPF_CORE_POISON_IMM, type PoisonInfo } from './core-apply.ts';
export { resolveKsymCalls, externOrder, symIsExtern, POISON_CALL_KFUNC_BASE, type KsymCall } from './externs.ts';

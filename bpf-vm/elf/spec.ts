// The plain result of reading an object: nothing created, nothing loaded (as cilium/ebpf's specs).
import type { Insn } from '../isa/insn.ts';
import type { PoisonInfo } from './core-apply.ts';
import type { MapSpec } from '../maps/map.ts';
import type { ProgType } from '../prog/types.ts';

/** An ld_imm64 in a program that names a map; the loader fills in the fd. */
export interface MapReference {
  /** Index of the ld_imm64's first slot in ProgramSpec.insns. */
  insn: number;
  /** MapSpec.name of the referenced map. */
  map: string;
  /** 'map': BPF_PSEUDO_MAP_FD; 'value': BPF_PSEUDO_MAP_VALUE with `offset` into element 0. */
  kind: 'map' | 'value';
  offset: number;
}

/** A function inside ProgramSpec.insns (the entry point first, then appended .text subprograms). */
export interface FuncInfo {
  name: string;
  /** First instruction slot. */
  start: number;
  /** Set for a global (not static) function whose address the program takes: the kernel takes only static ones as callbacks. */
  global?: boolean;
  /**
   * Set when the function's BTF func_info record (.BTF.ext) gives it a prototype returning neither
   * an int nor an enum (void, a pointer, a struct): it may then not use LD_ABS/LD_IND or tail calls.
   */
  nonScalarReturn?: true;
}

/** A BTF line info record (.BTF.ext): the source line that starts at an instruction slot. */
export interface LineInfo {
  /** Instruction slot in ProgramSpec.insns. */
  insn: number;
  /** As clang recorded it, e.g. `./xdp1.c`. */
  fileName: string;
  /** The source line's text. */
  line: string;
  lineNum: number;
  lineCol: number;
}

/** An instruction the load poisoned (a call that fails verification only if reached), and why. */
export interface PoisonedInsn extends PoisonInfo {
  /** Slot in ProgramSpec.insns. */
  insn: number;
}

/** A kfunc call as loaded: src_reg BPF_PSEUDO_KFUNC_CALL, imm `btfId` (vxo's kernel BTF), off 0. */
export interface KfuncCallSite {
  insn: number;
  name: string;
  btfId: number;
}

export interface ProgramSpec {
  /** The entry function's symbol name. */
  name: string;
  /** The ELF section it came from, e.g. `xdp`. */
  section: string;
  type: ProgType;
  /** Entry function, then every subprogram it calls, with pc-relative call offsets fixed. */
  insns: Insn[];
  references: MapReference[];
  funcs: FuncInfo[];
  /**
   * Set when the object has no BTF func_info for the program (built without -g): `funcs` then
   * comes from the symbol table alone, and a loader gives the kernel no function info at all.
   */
  noFuncInfo?: true;
  /** The source lines (BTF line info) of the entry function and its subprograms, by slot; absent without .BTF.ext. */
  lineInfo?: LineInfo[];
  /** Instructions poisoned by CO-RE (an unresolvable relocation) or an unresolved weak kfunc, by slot. */
  poisoned?: PoisonedInsn[];
  /** The resolved kfunc calls, by slot. */
  kfuncCalls?: KfuncCallSite[];
  license: string;
}

export interface CollectionSpec {
  maps: MapSpec[];
  programs: ProgramSpec[];
  license: string;
}

// Turns a loaded program into the flat form both engines execute: struct-of-arrays instruction
// fields, ld_imm64 map references resolved into pointer constants, helper prototypes per call site,
// and variants that depend on `off` (signed div/mod, movsx, local calls) given codes of their own
// so the engines dispatch on one byte.
import { InvalidProgramError } from '../errors.ts';
import { kernelBtf } from '../btf/kernel-btf.ts';
import { helperRefusal } from '../helpers/availability.ts';
import { kfuncProto } from '../helpers/kfuncs.ts';
import { helpersFor } from '../helpers/table.ts';
import type { HelperProto } from '../helpers/proto.ts';
import { FUNC_PTR_TAG, mapPtrTag, REGION_ID, regionTag } from '../interp/regions.ts';
import type { Insn } from '../isa/insn.ts';
import { BPF_PSEUDO_CALL_KIND, BPF_PSEUDO_LD } from '../isa/opcodes.ts';
import { BPF_MAP_TYPE, type BpfMap } from '../maps/map.ts';
import type { FdTable } from './fd-table.ts';
import type { ProgType } from './types.ts';
import { validateProgram } from './validate.ts';

/**
 * Internal opcodes taken from encodings the ISA leaves unused, so that the dispatch switch stays
 * dense (below 0x100) while signed and sign-extending variants need no runtime test of `off`.
 */
export const XOP = {
  SDIV64_K: 0xe7, SDIV64_X: 0xef, SMOD64_K: 0xf7, SMOD64_X: 0xff,
  SDIV32_K: 0xe4, SDIV32_X: 0xec, SMOD32_K: 0xf4, SMOD32_X: 0xfc,
  MOVSX64_8: 0x01, MOVSX64_16: 0x09, MOVSX64_32: 0x11, MOVSX32_8: 0x19, MOVSX32_16: 0x21,
  CALL_LOCAL: 0x8d,
} as const;

export interface PreparedProgram {
  readonly len: number;
  readonly code: Uint8Array;
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly off: Int16Array;
  readonly imm: Int32Array;
  /** code | (dst * 2) << 8 | (src * 2) << 16: one load gives the interpreter an instruction's registers. */
  readonly word: Int32Array;
  /** The helper (or kfunc, helpers/kfuncs.ts) called at each call site (undefined elsewhere). */
  readonly helpers: readonly (HelperProto | undefined)[];
  /** The program's maps in index order: ld_imm64 map pointers carry these indices. */
  readonly maps: readonly BpfMap[];
  readonly type: ProgType;
  readonly insns: readonly Insn[];
}

export interface PrepareInput {
  readonly type: ProgType;
  readonly insns: readonly Insn[];
  readonly fds?: FdTable;
  /** Replaces the program type's helper set (the conformance harness's helper 5, tests). */
  readonly helpers?: ReadonlyMap<number, HelperProto>;
}

function remap(ins: Insn): number {
  const c = ins.code;
  if (ins.off === 1) {
    switch (c) {
      case 0x37: return XOP.SDIV64_K; case 0x3f: return XOP.SDIV64_X;
      case 0x97: return XOP.SMOD64_K; case 0x9f: return XOP.SMOD64_X;
      case 0x34: return XOP.SDIV32_K; case 0x3c: return XOP.SDIV32_X;
      case 0x94: return XOP.SMOD32_K; case 0x9c: return XOP.SMOD32_X;
      default: return c;
    }
  }
  if (c === 0xbf && ins.off !== 0) return ins.off === 8 ? XOP.MOVSX64_8 : ins.off === 16 ? XOP.MOVSX64_16 : XOP.MOVSX64_32;
  if (c === 0xbc && ins.off !== 0) return ins.off === 8 ? XOP.MOVSX32_8 : XOP.MOVSX32_16;
  if (c === 0x85 && ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_CALL) return XOP.CALL_LOCAL;
  return c;
}

/**
 * A kfunc call's implementation: imm is the FUNC's id in vxo's kernel BTF (off 0: vmlinux; vxo has
 * no module BTF). Refused as the kernel's add_kfunc_call refuses an id that is no function.
 */
function kfuncAt(pc: number, ins: Insn): HelperProto {
  if (ins.off !== 0) throw new InvalidProgramError(pc, `kfunc call with off ${ins.off}: vxo has no module BTF`, 'EOPNOTSUPP');
  const k = kfuncProto(ins.imm);
  if (k !== undefined) return k;
  const known = kernelBtf().kfuncById(ins.imm);
  if (known === undefined) throw new InvalidProgramError(pc, `kernel btf_id ${ins.imm >>> 0} is not a function`);
  throw new InvalidProgramError(pc, `kernel function ${known.spec.name} is not implemented by vxo`, 'EOPNOTSUPP');
}

export function prepareProgram(p: PrepareInput): PreparedProgram {
  validateProgram(p.insns);
  const len = p.insns.length;
  const code = new Uint8Array(len), dst = new Uint8Array(len), src = new Uint8Array(len);
  const off = new Int16Array(len), imm = new Int32Array(len);
  const helpers: (HelperProto | undefined)[] = new Array<HelperProto | undefined>(len).fill(undefined);
  const maps: BpfMap[] = [];
  const mapIndex = new Map<BpfMap, number>();
  const available = p.helpers ?? helpersFor(p.type);

  const indexOf = (pc: number, fd: number): number => {
    const m = p.fds?.get(fd);
    if (m === undefined) throw new InvalidProgramError(pc, `fd ${fd} is not pointing to valid bpf_map`);
    let i = mapIndex.get(m);
    if (i === undefined) { i = maps.length; maps.push(m); mapIndex.set(m, i); }
    return i;
  };

  for (let pc = 0; pc < len; pc++) {
    const ins = p.insns[pc]!;
    code[pc] = remap(ins);
    dst[pc] = ins.dst;
    src[pc] = ins.src;
    off[pc] = ins.off;
    imm[pc] = ins.imm;
    if (ins.code === 0x18) {
      const hi = p.insns[pc + 1]!;
      if (ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD) {
        imm[pc] = 0;
        imm[pc + 1] = mapPtrTag(indexOf(pc, ins.imm));
      } else if (ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE) {
        const i = indexOf(pc, ins.imm);
        const m = maps[i]!;
        // Direct value access exists for single-element arrays only (array_map_direct_value_addr).
        if (m.spec.type !== BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY || m.spec.maxEntries !== 1) {
          throw new InvalidProgramError(pc, `direct value access on map ${m.spec.name}: only a single-element ARRAY map allows it`);
        }
        const base = m.lookupValueOffset(new Uint8Array(4), 0, 0);
        if (base < 0 || hi.imm < 0 || hi.imm >= m.spec.valueSize) {
          throw new InvalidProgramError(pc, `invalid access to map value pointer, value_size=${m.spec.valueSize} off=${hi.imm}`);
        }
        imm[pc] = base + hi.imm;
        imm[pc + 1] = regionTag(REGION_ID.FIRST_MAP + i);
      } else if (ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_FUNC) {
        // A function's address: its first instruction, tagged so that only a callback helper takes it.
        imm[pc] = pc + 1 + ins.imm;
        imm[pc + 1] = FUNC_PTR_TAG;
      } else {
        imm[pc + 1] = hi.imm;
      }
      code[pc + 1] = 0;
      pc++;
      continue;
    }
    if (ins.code === 0x85 && ins.src === BPF_PSEUDO_CALL_KIND.HELPER) {
      const h = available.get(ins.imm);
      if (h === undefined) {
        const why = helperRefusal(p.type, ins.imm);
        throw new InvalidProgramError(pc, why.message, why.code);
      }
      helpers[pc] = h;
    } else if (ins.code === 0x85 && ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_KFUNC_CALL) {
      helpers[pc] = kfuncAt(pc, ins);
    }
  }
  const word = new Int32Array(len);
  for (let pc = 0; pc < len; pc++) word[pc] = code[pc]! | (dst[pc]! << 9) | (src[pc]! << 17);
  return { len, code, dst, src, off, imm, word, helpers, maps, type: p.type, insns: p.insns };
}

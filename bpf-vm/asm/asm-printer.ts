// Prints instructions in the assembler syntax of the userspace runtimes' test suites (uBPF, bpf_conformance),
// so that assemble(toAsm(x)) gives back x field for field.
import { type Insn } from '../isa/insn.ts';
import {
  BPF_ALU_OP, BPF_ATOMIC_OP, BPF_END_SRC, BPF_JMP_OP, BPF_PSEUDO_CALL_KIND, BPF_PSEUDO_LD, BPF_SIZE,
  bpfOp, bpfSize, bpfSrc,
} from '../isa/opcodes.ts';
import { OPCODE_TABLE, fieldAllows, type FieldRule, type OpcodeRule } from '../isa/legality.ts';
import { InvalidProgramError } from '../errors.ts';

/** Lower-case operation names taken from the kernel constant names (BPF_ADD -> add). */
function namesOf(table: Readonly<Record<string, number>>): ReadonlyMap<number, string> {
  return new Map(Object.entries(table).map(([k, v]) => [v, k.slice(4).toLowerCase()]));
}

const ALU_OP_NAMES: ReadonlyMap<number, string> = namesOf(BPF_ALU_OP);
const JMP_OP_NAMES: ReadonlyMap<number, string> = namesOf(BPF_JMP_OP);

const SIZE_SUFFIX = {
  [BPF_SIZE.BPF_W]: 'w',
  [BPF_SIZE.BPF_H]: 'h',
  [BPF_SIZE.BPF_B]: 'b',
  [BPF_SIZE.BPF_DW]: 'dw',
} as const satisfies Record<number, string>;

/** The atomic operation selected by imm, without the FETCH bit. */
const ATOMIC_OP_NAMES: ReadonlyMap<number, string> = new Map([
  [BPF_ATOMIC_OP.BPF_ADD, 'add'],
  [BPF_ATOMIC_OP.BPF_OR, 'or'],
  [BPF_ATOMIC_OP.BPF_AND, 'and'],
  [BPF_ATOMIC_OP.BPF_XOR, 'xor'],
  [BPF_ATOMIC_OP.BPF_XCHG & ~BPF_ATOMIC_OP.BPF_FETCH, 'xchg'],
  [BPF_ATOMIC_OP.BPF_CMPXCHG & ~BPF_ATOMIC_OP.BPF_FETCH, 'cmpxchg'],
]);

function sizeSuffix(code: number): string {
  return SIZE_SUFFIX[bpfSize(code) as keyof typeof SIZE_SUFFIX];
}

function opName(names: ReadonlyMap<number, string>, op: number): string {
  const n = names.get(op);
  if (n === undefined) throw new Error(`no name for operation 0x${op.toString(16)}`);
  return n;
}

/**
 * The mnemonic of a legal instruction: the opcode together with the fields that pick a variant
 * (off of sdiv/smod and movsx, imm of byte swaps and atomics). The assembler builds its mnemonic
 * table by calling this on every entry of OPCODE_TABLE, so the two can never disagree.
 */
export function mnemonicOf(ins: Insn, rule: OpcodeRule): string {
  const w32 = rule.wide ? '' : '32';
  switch (rule.kind) {
    case 'alu': {
      const op = bpfOp(ins.code);
      const base = opName(ALU_OP_NAMES, op);
      if ((op === BPF_ALU_OP.BPF_DIV || op === BPF_ALU_OP.BPF_MOD) && ins.off === 1) return `s${base}${w32}`;
      // bpf_conformance spells movsx as movsx<from><to>: movsx832 sign-extends 8 bits into a 32-bit result.
      if (op === BPF_ALU_OP.BPF_MOV && ins.off !== 0) return `movsx${ins.off}${rule.wide ? 64 : 32}`;
      return base + w32;
    }
    case 'neg': return `neg${w32}`;
    case 'end': return `${bpfSrc(ins.code) === BPF_END_SRC.BPF_TO_BE ? 'be' : 'le'}${ins.imm}`;
    case 'bswap': return `bswap${ins.imm}`;
    case 'ja': return 'ja';
    // The conformance suite's name for BPF_JMP32 | BPF_JA (gotol in llvm).
    case 'gotol': return 'ja32';
    case 'jcond': return opName(JMP_OP_NAMES, bpfOp(ins.code)) + w32;
    case 'call': return 'call';
    case 'exit': return 'exit';
    case 'lddw': return 'lddw';
    case 'ldabs': return `ldabs${sizeSuffix(ins.code)}`;
    case 'ldind': return `ldind${sizeSuffix(ins.code)}`;
    case 'ldx': return `ldx${sizeSuffix(ins.code)}`;
    case 'ldxsx': return `ldx${sizeSuffix(ins.code)}sx`;
    case 'st': return `st${sizeSuffix(ins.code)}`;
    case 'stx': return `stx${sizeSuffix(ins.code)}`;
    case 'atomic': {
      const op = opName(ATOMIC_OP_NAMES, ins.imm & ~BPF_ATOMIC_OP.BPF_FETCH);
      // xchg and cmpxchg always fetch; the suite writes them without the word.
      const fetch = (ins.imm & BPF_ATOMIC_OP.BPF_FETCH) !== 0 && op !== 'xchg' && op !== 'cmpxchg';
      return `lock ${fetch ? 'fetch ' : ''}${op}${w32}`;
    }
  }
}

/** Why the fields of `ins` do not fit its opcode's rule, or undefined when they do. */
export function fieldViolation(ins: Insn, rule: OpcodeRule): string | undefined {
  if (rule.dst === 'zero' && ins.dst !== 0) return `dst_reg ${ins.dst}`;
  if (rule.src !== 'reg' && !fieldAllows(rule.src, ins.src)) return `src_reg ${ins.src}`;
  if (!fieldAllows(rule.off, ins.off)) return `off ${ins.off}`;
  if (!fieldAllows(rule.imm, ins.imm)) return `imm ${ins.imm}`;
  return undefined;
}

/** The second slot of ld_imm64 carries only imm (and for some pseudo sources not even that). */
export function ldImm64TailViolation(first: Insn, second: Insn | undefined): string | undefined {
  if (second === undefined) return 'ld_imm64 has no second slot';
  if (second.code !== 0 || second.dst !== 0 || second.src !== 0 || second.off !== 0) {
    return 'ld_imm64 second slot must have code, registers and off zero';
  }
  if (!LD_IMM64_USES_NEXT_IMM.has(first.src) && second.imm !== 0) {
    return `ld_imm64 with src_reg ${first.src} must have a zero imm in its second slot`;
  }
  return undefined;
}

/** Pseudo sources whose second-slot imm carries data (the constant's high half, or a map value offset). */
const LD_IMM64_USES_NEXT_IMM: ReadonlySet<number> = new Set([
  BPF_PSEUDO_LD.NONE, BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE, BPF_PSEUDO_LD.BPF_PSEUDO_MAP_IDX_VALUE,
]);

const reg = (n: number): string => `%r${n}`;
const rel = (n: number): string => (n < 0 ? `${n}` : `+${n}`);
const mem = (base: number, off: number): string =>
  off === 0 ? `[${reg(base)}]` : `[${reg(base)}${off < 0 ? '-' : '+'}${Math.abs(off)}]`;

function ldImm64Operand(first: Insn, second: Insn): string {
  const plusOff = (n: number): string => (n < 0 ? ` - ${-n}` : ` + ${n}`);
  switch (first.src) {
    case BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD: return `map_by_fd(${first.imm})`;
    case BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE: return `map_val(map_by_fd(${first.imm}))${plusOff(second.imm)}`;
    case BPF_PSEUDO_LD.BPF_PSEUDO_BTF_ID: return `var_addr(${first.imm})`;
    case BPF_PSEUDO_LD.BPF_PSEUDO_FUNC: return `code_addr(${rel(first.imm)})`;
    case BPF_PSEUDO_LD.BPF_PSEUDO_MAP_IDX: return `map_by_idx(${first.imm})`;
    case BPF_PSEUDO_LD.BPF_PSEUDO_MAP_IDX_VALUE: return `map_val(map_by_idx(${first.imm}))${plusOff(second.imm)}`;
    default: {
      const v = (BigInt(second.imm >>> 0) << 32n) | BigInt(first.imm >>> 0);
      return `0x${v.toString(16)}`;
    }
  }
}

function printOne(ins: Insn, rule: OpcodeRule, next: Insn | undefined): string {
  const m = mnemonicOf(ins, rule);
  const isX = (r: FieldRule | 'reg'): boolean => r === 'reg';
  switch (rule.kind) {
    case 'alu': return `${m} ${reg(ins.dst)}, ${isX(rule.src) ? reg(ins.src) : ins.imm}`;
    case 'neg':
    case 'end':
    case 'bswap': return `${m} ${reg(ins.dst)}`;
    case 'ja': return `${m} ${rel(ins.off)}`;
    case 'gotol': return `${m} ${rel(ins.imm)}`;
    case 'jcond': return `${m} ${reg(ins.dst)}, ${isX(rule.src) ? reg(ins.src) : ins.imm}, ${rel(ins.off)}`;
    case 'call':
      if (ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_CALL) return `call local ${rel(ins.imm)}`;
      if (ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_KFUNC_CALL) return `call runtime ${ins.imm}`;
      return `call ${ins.imm}`;
    case 'exit': return m;
    case 'lddw': return `${m} ${reg(ins.dst)}, ${ldImm64Operand(ins, next!)}`;
    case 'ldabs': return `${m} ${ins.imm}`;
    case 'ldind': return `${m} ${reg(ins.src)}, ${ins.imm}`;
    case 'ldx':
    case 'ldxsx': return `${m} ${reg(ins.dst)}, ${mem(ins.src, ins.off)}`;
    case 'st': return `${m} ${mem(ins.dst, ins.off)}, ${ins.imm}`;
    case 'stx':
    case 'atomic': return `${m} ${mem(ins.dst, ins.off)}, ${reg(ins.src)}`;
  }
}

/**
 * One line per instruction (an ld_imm64 pair is one line), jumps as relative offsets, so the text
 * assembles back to the same slots. Throws InvalidProgramError for anything the syntax cannot express:
 * opcodes outside OPCODE_TABLE, disallowed field values, malformed ld_imm64 pairs.
 */
export function toAsm(insns: readonly Insn[]): string {
  const lines: string[] = [];
  for (let pc = 0; pc < insns.length; pc++) {
    const ins = insns[pc]!;
    const rule = OPCODE_TABLE.get(ins.code);
    if (rule === undefined) throw new InvalidProgramError(pc, `invalid opcode 0x${ins.code.toString(16)}`);
    const bad = fieldViolation(ins, rule);
    if (bad !== undefined) throw new InvalidProgramError(pc, `${bad} is not allowed for opcode 0x${ins.code.toString(16)}`);
    if (rule.kind === 'lddw') {
      const tail = ldImm64TailViolation(ins, insns[pc + 1]);
      if (tail !== undefined) throw new InvalidProgramError(pc, tail);
      lines.push(printOne(ins, rule, insns[pc + 1]));
      pc++;
      continue;
    }
    lines.push(printOne(ins, rule, undefined));
  }
  return lines.map((l) => `${l}\n`).join('');
}

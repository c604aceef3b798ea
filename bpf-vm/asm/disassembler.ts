// Disassembly in the C-like syntax of `llvm-objdump -d` on clang BPF objects, which the kernel's verifier
// log shares: `r1 = *(u32 *)(r1 + 0)`, `if w1 != 5 goto -3`, `r0 = atomic_fetch_add((u64 *)(r1 + 0), r0)`.
// Where llvm has nothing to say (relocated or pseudo operands, bpf-to-bpf calls, kfuncs) the kernel's
// spelling is used instead: `call pc+5`, `call bpf_map_lookup_elem#1`, `r1 = map[fd:5]`,
// `call bpf_sk_assign_tcp_reqsk#<btf id>` (a kfunc). A call the loader poisoned stays a helper call
// with libbpf's constant, printed as the kernel prints it: `call unknown#195896080` (CO-RE) or
// `call unknown#2002000000` (+ extern index: an unresolved weak kfunc).
import { kernelBtf } from '../btf/kernel-btf.ts';
import { type Insn } from '../isa/insn.ts';
import {
  BPF_ALU_OP, BPF_ATOMIC_OP, BPF_END_SRC, BPF_JMP_OP, BPF_PSEUDO_CALL_KIND, BPF_PSEUDO_LD, BPF_SIZE,
  bpfOp, bpfSize, bpfSrc,
} from '../isa/opcodes.ts';
import { OPCODE_TABLE, type OpcodeRule } from '../isa/legality.ts';
import { fieldViolation, ldImm64TailViolation } from './asm-printer.ts';

export interface DisasmOptions {
  /** Names the map of an ld_imm64 map reference; src is the pseudo source (BPF_PSEUDO_MAP_FD, ..._IDX, ...). */
  mapName?: (fdOrIdx: number, src: number) => string | undefined;
  /** Names the function starting at pc, for bpf-to-bpf calls and code_addr loads. */
  funcName?: (pc: number) => string | undefined;
  /** Names helpers; when given, helper calls print as the kernel does: `call bpf_map_lookup_elem#1`. */
  helperName?: (id: number) => string | undefined;
  /**
   * Names kfuncs by the BTF id a BPF_PSEUDO_KFUNC_CALL carries: `call bpf_sk_assign_tcp_reqsk#<id>`,
   * as the kernel's verifier log prints them. vxo's kernel BTF (whose ids the loader writes) by default.
   */
  kfuncName?: (btfId: number) => string | undefined;
}

const vxoKfuncName = (btfId: number): string | undefined => kernelBtf().kfuncById(btfId)?.spec.name;

/** One printed instruction. An ld_imm64 prints one line at the pc of its first slot; its second slot has none. */
export interface DisasmLine {
  pc: number;
  text: string;
}

const ALU_OPERATOR: Readonly<Record<number, string>> = {
  [BPF_ALU_OP.BPF_ADD]: '+=',
  [BPF_ALU_OP.BPF_SUB]: '-=',
  [BPF_ALU_OP.BPF_MUL]: '*=',
  [BPF_ALU_OP.BPF_DIV]: '/=',
  [BPF_ALU_OP.BPF_OR]: '|=',
  [BPF_ALU_OP.BPF_AND]: '&=',
  [BPF_ALU_OP.BPF_LSH]: '<<=',
  [BPF_ALU_OP.BPF_RSH]: '>>=',
  [BPF_ALU_OP.BPF_MOD]: '%=',
  [BPF_ALU_OP.BPF_XOR]: '^=',
  [BPF_ALU_OP.BPF_MOV]: '=',
  [BPF_ALU_OP.BPF_ARSH]: 's>>=',
};

const JMP_OPERATOR: Readonly<Record<number, string>> = {
  [BPF_JMP_OP.BPF_JEQ]: '==',
  [BPF_JMP_OP.BPF_JGT]: '>',
  [BPF_JMP_OP.BPF_JGE]: '>=',
  [BPF_JMP_OP.BPF_JSET]: '&',
  [BPF_JMP_OP.BPF_JNE]: '!=',
  [BPF_JMP_OP.BPF_JSGT]: 's>',
  [BPF_JMP_OP.BPF_JSGE]: 's>=',
  [BPF_JMP_OP.BPF_JLT]: '<',
  [BPF_JMP_OP.BPF_JLE]: '<=',
  [BPF_JMP_OP.BPF_JSLT]: 's<',
  [BPF_JMP_OP.BPF_JSLE]: 's<=',
};

const ATOMIC_OPERATOR: Readonly<Record<number, { op: string; name: string }>> = {
  [BPF_ATOMIC_OP.BPF_ADD]: { op: '+=', name: 'add' },
  [BPF_ATOMIC_OP.BPF_OR]: { op: '|=', name: 'or' },
  [BPF_ATOMIC_OP.BPF_AND]: { op: '&=', name: 'and' },
  [BPF_ATOMIC_OP.BPF_XOR]: { op: '^=', name: 'xor' },
};

const SIZE_TYPE = {
  [BPF_SIZE.BPF_W]: '32',
  [BPF_SIZE.BPF_H]: '16',
  [BPF_SIZE.BPF_B]: '8',
  [BPF_SIZE.BPF_DW]: '64',
} as const satisfies Record<number, string>;

const bits = (code: number): string => SIZE_TYPE[bpfSize(code) as keyof typeof SIZE_TYPE];
const rel = (n: number): string => (n < 0 ? `${n}` : `+${n}`);
/** llvm's address operand: `r10 - 8`, `r1 + 0`. */
const addr = (base: number, off: number): string => `r${base} ${off < 0 ? '-' : '+'} ${Math.abs(off)}`;
const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

function alu(ins: Insn, rule: OpcodeRule): string {
  const r = rule.wide ? 'r' : 'w';
  const dst = `${r}${ins.dst}`;
  const op = bpfOp(ins.code);
  const srcX = bpfSrc(ins.code) !== 0;
  const rhs = srcX ? `${r}${ins.src}` : `${ins.imm}`;
  if (op === BPF_ALU_OP.BPF_MOV && ins.off !== 0) return `${dst} = (s${ins.off})${r}${ins.src}`;
  const signed = ins.off === 1 && (op === BPF_ALU_OP.BPF_DIV || op === BPF_ALU_OP.BPF_MOD) ? 's' : '';
  return `${dst} ${signed}${ALU_OPERATOR[op]} ${rhs}`;
}

function atomic(ins: Insn, rule: OpcodeRule): string {
  const type = `u${bits(ins.code)}`;
  const at = addr(ins.dst, ins.off);
  // 32-bit atomics print as llvm's alu32 decoder does (w registers), except the plain add, which
  // llvm-objdump's default decoder and the kernel both print with an r register.
  const r = rule.wide || ins.imm === BPF_ATOMIC_OP.BPF_ADD ? 'r' : 'w';
  const src = `${r}${ins.src}`;
  if (ins.imm === BPF_ATOMIC_OP.BPF_XCHG) return `${src} = xchg${rule.wide ? '' : '32'}_${bits(ins.code)}(${at}, ${src})`;
  if (ins.imm === BPF_ATOMIC_OP.BPF_CMPXCHG) {
    return `${r}0 = cmpxchg${rule.wide ? '' : '32'}_${bits(ins.code)}(${at}, ${r}0, ${src})`;
  }
  const a = ATOMIC_OPERATOR[ins.imm & ~BPF_ATOMIC_OP.BPF_FETCH]!;
  if ((ins.imm & BPF_ATOMIC_OP.BPF_FETCH) !== 0) return `${src} = atomic_fetch_${a.name}((${type} *)(${at}), ${src})`;
  return `lock *(${type} *)(${at}) ${a.op} ${src}`;
}

function call(ins: Insn, pc: number, opts: DisasmOptions): string {
  if (ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_CALL) {
    const name = opts.funcName?.(pc + 1 + ins.imm);
    return `call pc${rel(ins.imm)}${name === undefined ? '' : ` <${name}>`}`;
  }
  // The kernel names a kfunc from its BTF; an id naming no kfunc keeps vxo's placeholder word.
  if (ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_KFUNC_CALL) return `call ${(opts.kfuncName ?? vxoKfuncName)(ins.imm) ?? 'kernel-function'}#${ins.imm}`;
  if (opts.helperName === undefined) return `call ${ins.imm}`;
  return `call ${opts.helperName(ins.imm) ?? 'unknown'}#${ins.imm}`;
}

function ldImm64(ins: Insn, next: Insn, pc: number, opts: DisasmOptions): string {
  const dst = `r${ins.dst}`;
  const mapRef = (kind: 'fd' | 'idx'): string => {
    const name = opts.mapName?.(ins.imm, ins.src);
    return name === undefined ? `map[${kind}:${ins.imm}]` : `map[${name}]`;
  };
  const valueOff = (n: number): string => `[0]${n < 0 ? '-' : '+'}${Math.abs(n)}`;
  switch (ins.src) {
    case BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD: return `${dst} = ${mapRef('fd')}`;
    case BPF_PSEUDO_LD.BPF_PSEUDO_MAP_IDX: return `${dst} = ${mapRef('idx')}`;
    case BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE: return `${dst} = ${mapRef('fd')}${valueOff(next.imm)}`;
    case BPF_PSEUDO_LD.BPF_PSEUDO_MAP_IDX_VALUE: return `${dst} = ${mapRef('idx')}${valueOff(next.imm)}`;
    case BPF_PSEUDO_LD.BPF_PSEUDO_BTF_ID: return `${dst} = var_addr(${ins.imm})`;
    case BPF_PSEUDO_LD.BPF_PSEUDO_FUNC: {
      const name = opts.funcName?.(pc + 1 + ins.imm);
      return `${dst} = code_addr(pc${rel(ins.imm)})${name === undefined ? '' : ` <${name}>`}`;
    }
    default: {
      // llvm prints the constant as a signed 64-bit decimal.
      const v = BigInt.asIntN(64, (BigInt(next.imm >>> 0) << 32n) | BigInt(ins.imm >>> 0));
      return `${dst} = ${v} ll`;
    }
  }
}

function format(ins: Insn, rule: OpcodeRule, pc: number, next: Insn | undefined, opts: DisasmOptions): string {
  const type = (signed: boolean): string => `${signed ? 's' : 'u'}${bits(ins.code)}`;
  switch (rule.kind) {
    case 'alu': return alu(ins, rule);
    case 'neg': {
      const r = `${rule.wide ? 'r' : 'w'}${ins.dst}`;
      return `${r} = -${r}`;
    }
    // llvm prints byte swaps on r registers whatever the class.
    case 'end': return `r${ins.dst} = ${bpfSrc(ins.code) === BPF_END_SRC.BPF_TO_BE ? 'be' : 'le'}${ins.imm} r${ins.dst}`;
    case 'bswap': return `r${ins.dst} = bswap${ins.imm} r${ins.dst}`;
    case 'ja': return `goto ${rel(ins.off)}`;
    case 'gotol': return `gotol ${rel(ins.imm)}`;
    case 'jcond': {
      const r = rule.wide ? 'r' : 'w';
      const rhs = bpfSrc(ins.code) !== 0 ? `${r}${ins.src}` : `${ins.imm}`;
      return `if ${r}${ins.dst} ${JMP_OPERATOR[bpfOp(ins.code)]} ${rhs} goto ${rel(ins.off)}`;
    }
    case 'call': return call(ins, pc, opts);
    case 'exit': return 'exit';
    case 'lddw': return ldImm64(ins, next!, pc, opts);
    case 'ldabs': return `r0 = *(${type(false)} *)skb[${ins.imm}]`;
    case 'ldind': {
      const off = ins.imm === 0 ? '' : ` ${ins.imm < 0 ? '-' : '+'} ${Math.abs(ins.imm)}`;
      return `r0 = *(${type(false)} *)skb[r${ins.src}${off}]`;
    }
    case 'ldx': return `r${ins.dst} = *(${type(false)} *)(${addr(ins.src, ins.off)})`;
    case 'ldxsx': return `r${ins.dst} = *(${type(true)} *)(${addr(ins.src, ins.off)})`;
    case 'st': return `*(${type(false)} *)(${addr(ins.dst, ins.off)}) = ${ins.imm}`;
    case 'stx': return `*(${type(false)} *)(${addr(ins.dst, ins.off)}) = r${ins.src}`;
    case 'atomic': return atomic(ins, rule);
  }
}

/**
 * The text of the instruction at pc. Instructions outside OPCODE_TABLE print as `invalid opcode 0xNN`,
 * legal opcodes with disallowed fields as `invalid insn 0xNN: <field> <value>`; nothing throws.
 */
export function disassembleInsn(insns: readonly Insn[], pc: number, opts: DisasmOptions = {}): string {
  const ins = insns[pc];
  if (ins === undefined) return `invalid pc ${pc}`;
  const rule = OPCODE_TABLE.get(ins.code);
  if (rule === undefined) return `invalid opcode ${hex(ins.code)}`;
  const bad = fieldViolation(ins, rule);
  if (bad !== undefined) return `invalid insn ${hex(ins.code)}: ${bad}`;
  const next = insns[pc + 1];
  if (rule.kind === 'lddw') {
    const tail = ldImm64TailViolation(ins, next);
    if (tail !== undefined) return `invalid insn ${hex(ins.code)}: ${tail}`;
  }
  return format(ins, rule, pc, next, opts);
}

/** One line per instruction; the second slot of an ld_imm64 gets no line of its own. */
export function disassemble(insns: readonly Insn[], opts: DisasmOptions = {}): DisasmLine[] {
  const out: DisasmLine[] = [];
  for (let pc = 0; pc < insns.length; pc++) {
    out.push({ pc, text: disassembleInsn(insns, pc, opts) });
    // A broken pair still owns its second slot when there is one, as the kernel counts it.
    if (OPCODE_TABLE.get(insns[pc]!.code)?.kind === 'lddw' && pc + 1 < insns.length) pc++;
  }
  return out;
}

/** A BTF line info record as dumps show it. */
export interface SourceLine {
  insn: number;
  fileName: string;
  line: string;
  lineNum: number;
  lineCol: number;
}

/**
 * The source line a dump prints before the instruction it starts, as `bpftool prog dump xlated
 * linum` does: `; void *data = (void *)(long)ctx->data; [file:./xdp1.c line_num:23 line_col:34]`.
 */
export function formatSourceLine(l: SourceLine): string {
  return `; ${l.line.trimStart()} [file:${l.fileName} line_num:${l.lineNum} line_col:${l.lineCol}]`;
}

/** The last line info record starting at each instruction slot (the one bpftool prints there). */
export function sourceLinesByInsn(lines: readonly SourceLine[] | undefined): Map<number, SourceLine> {
  const m = new Map<number, SourceLine>();
  for (const l of lines ?? []) if (l.line !== '') m.set(l.insn, l);
  return m;
}

// Which opcodes exist and which values their other fields may take, as data (RFC 9669 tables).
// Structural validation, the assembler and the disassembler all read this one table.
import {
  BPF_ALU_OP, BPF_ATOMIC_OP, BPF_CLASS, BPF_JMP_OP, BPF_MODE, BPF_SIZE, BPF_SRC,
} from './opcodes.ts';

export type OpKind =
  | 'alu' | 'neg' | 'end' | 'bswap'
  | 'ja' | 'gotol' | 'jcond' | 'call' | 'exit'
  | 'lddw' | 'ldabs' | 'ldind'
  | 'ldx' | 'ldxsx' | 'st' | 'stx' | 'atomic';

/** A field constraint: 'any', 'zero', or an explicit list of allowed values. */
export type FieldRule = 'any' | 'zero' | readonly number[];

export interface OpcodeRule {
  readonly code: number;
  readonly kind: OpKind;
  /** True for 64-bit ALU/JMP classes and DW memory ops. */
  readonly wide: boolean;
  readonly dst: 'reg' | 'zero';
  /** Whether dst is written: r10 may not be the dst of such an instruction. */
  readonly writesDst: boolean;
  readonly src: FieldRule | 'reg';
  readonly off: FieldRule;
  readonly imm: FieldRule;
}

const ENDIAN_WIDTHS = [16, 32, 64] as const;
export const ATOMIC_IMMS = [
  BPF_ATOMIC_OP.BPF_ADD, BPF_ATOMIC_OP.BPF_ADD | BPF_ATOMIC_OP.BPF_FETCH,
  BPF_ATOMIC_OP.BPF_OR, BPF_ATOMIC_OP.BPF_OR | BPF_ATOMIC_OP.BPF_FETCH,
  BPF_ATOMIC_OP.BPF_AND, BPF_ATOMIC_OP.BPF_AND | BPF_ATOMIC_OP.BPF_FETCH,
  BPF_ATOMIC_OP.BPF_XOR, BPF_ATOMIC_OP.BPF_XOR | BPF_ATOMIC_OP.BPF_FETCH,
  BPF_ATOMIC_OP.BPF_XCHG, BPF_ATOMIC_OP.BPF_CMPXCHG,
] as const;

function rule(r: Omit<OpcodeRule, 'writesDst'> & { writesDst?: boolean }): OpcodeRule {
  return { writesDst: false, ...r };
}

function buildTable(): ReadonlyMap<number, OpcodeRule> {
  const t = new Map<number, OpcodeRule>();
  const add = (r: OpcodeRule): void => { t.set(r.code, r); };

  for (const cls of [BPF_CLASS.BPF_ALU, BPF_CLASS.BPF_ALU64]) {
    const wide = cls === BPF_CLASS.BPF_ALU64;
    for (const [name, op] of Object.entries(BPF_ALU_OP)) {
      if (op === BPF_ALU_OP.BPF_END) continue;
      if (op === BPF_ALU_OP.BPF_NEG) {
        add(rule({ code: cls | op | BPF_SRC.BPF_K, kind: 'neg', wide, dst: 'reg', writesDst: true, src: 'zero', off: 'zero', imm: 'zero' }));
        continue;
      }
      const divmod = op === BPF_ALU_OP.BPF_DIV || op === BPF_ALU_OP.BPF_MOD;
      const isMov = name === 'BPF_MOV';
      const movsx = wide ? [0, 8, 16, 32] : [0, 8, 16];
      add(rule({ code: cls | op | BPF_SRC.BPF_K, kind: 'alu', wide, dst: 'reg', writesDst: true, src: 'zero', off: divmod ? [0, 1] : 'zero', imm: 'any' }));
      add(rule({ code: cls | op | BPF_SRC.BPF_X, kind: 'alu', wide, dst: 'reg', writesDst: true, src: 'reg', off: divmod ? [0, 1] : isMov ? movsx : 'zero', imm: 'zero' }));
    }
  }
  add(rule({ code: BPF_CLASS.BPF_ALU | BPF_ALU_OP.BPF_END | 0x00, kind: 'end', wide: false, dst: 'reg', writesDst: true, src: 'zero', off: 'zero', imm: ENDIAN_WIDTHS }));
  add(rule({ code: BPF_CLASS.BPF_ALU | BPF_ALU_OP.BPF_END | 0x08, kind: 'end', wide: false, dst: 'reg', writesDst: true, src: 'zero', off: 'zero', imm: ENDIAN_WIDTHS }));
  add(rule({ code: BPF_CLASS.BPF_ALU64 | BPF_ALU_OP.BPF_END | 0x00, kind: 'bswap', wide: true, dst: 'reg', writesDst: true, src: 'zero', off: 'zero', imm: ENDIAN_WIDTHS }));

  add(rule({ code: BPF_CLASS.BPF_JMP | BPF_JMP_OP.BPF_JA, kind: 'ja', wide: true, dst: 'zero', src: 'zero', off: 'any', imm: 'zero' }));
  add(rule({ code: BPF_CLASS.BPF_JMP32 | BPF_JMP_OP.BPF_JA, kind: 'gotol', wide: false, dst: 'zero', src: 'zero', off: 'zero', imm: 'any' }));
  add(rule({ code: BPF_CLASS.BPF_JMP | BPF_JMP_OP.BPF_CALL, kind: 'call', wide: true, dst: 'zero', src: [0, 1, 2], off: 'zero', imm: 'any' }));
  add(rule({ code: BPF_CLASS.BPF_JMP | BPF_JMP_OP.BPF_EXIT, kind: 'exit', wide: true, dst: 'zero', src: 'zero', off: 'zero', imm: 'zero' }));
  for (const cls of [BPF_CLASS.BPF_JMP, BPF_CLASS.BPF_JMP32]) {
    for (const [, op] of Object.entries(BPF_JMP_OP)) {
      if (op === BPF_JMP_OP.BPF_JA || op === BPF_JMP_OP.BPF_CALL || op === BPF_JMP_OP.BPF_EXIT) continue;
      const wide = cls === BPF_CLASS.BPF_JMP;
      add(rule({ code: cls | op | BPF_SRC.BPF_K, kind: 'jcond', wide, dst: 'reg', src: 'zero', off: 'any', imm: 'any' }));
      add(rule({ code: cls | op | BPF_SRC.BPF_X, kind: 'jcond', wide, dst: 'reg', src: 'reg', off: 'any', imm: 'zero' }));
    }
  }

  add(rule({ code: BPF_CLASS.BPF_LD | BPF_MODE.BPF_IMM | BPF_SIZE.BPF_DW, kind: 'lddw', wide: true, dst: 'reg', writesDst: true, src: [0, 1, 2, 3, 4, 5, 6], off: 'zero', imm: 'any' }));
  for (const size of [BPF_SIZE.BPF_W, BPF_SIZE.BPF_H, BPF_SIZE.BPF_B]) {
    add(rule({ code: BPF_CLASS.BPF_LD | BPF_MODE.BPF_ABS | size, kind: 'ldabs', wide: false, dst: 'zero', src: 'zero', off: 'zero', imm: 'any' }));
    add(rule({ code: BPF_CLASS.BPF_LD | BPF_MODE.BPF_IND | size, kind: 'ldind', wide: false, dst: 'zero', src: 'reg', off: 'zero', imm: 'any' }));
  }
  for (const size of [BPF_SIZE.BPF_W, BPF_SIZE.BPF_H, BPF_SIZE.BPF_B, BPF_SIZE.BPF_DW]) {
    const wide = size === BPF_SIZE.BPF_DW;
    add(rule({ code: BPF_CLASS.BPF_LDX | BPF_MODE.BPF_MEM | size, kind: 'ldx', wide, dst: 'reg', writesDst: true, src: 'reg', off: 'any', imm: 'zero' }));
    if (!wide) add(rule({ code: BPF_CLASS.BPF_LDX | BPF_MODE.BPF_MEMSX | size, kind: 'ldxsx', wide, dst: 'reg', writesDst: true, src: 'reg', off: 'any', imm: 'zero' }));
    add(rule({ code: BPF_CLASS.BPF_ST | BPF_MODE.BPF_MEM | size, kind: 'st', wide, dst: 'reg', src: 'zero', off: 'any', imm: 'any' }));
    add(rule({ code: BPF_CLASS.BPF_STX | BPF_MODE.BPF_MEM | size, kind: 'stx', wide, dst: 'reg', src: 'reg', off: 'any', imm: 'zero' }));
  }
  add(rule({ code: BPF_CLASS.BPF_STX | BPF_MODE.BPF_ATOMIC | BPF_SIZE.BPF_W, kind: 'atomic', wide: false, dst: 'reg', src: 'reg', off: 'any', imm: ATOMIC_IMMS }));
  add(rule({ code: BPF_CLASS.BPF_STX | BPF_MODE.BPF_ATOMIC | BPF_SIZE.BPF_DW, kind: 'atomic', wide: true, dst: 'reg', src: 'reg', off: 'any', imm: ATOMIC_IMMS }));
  return t;
}

export const OPCODE_TABLE: ReadonlyMap<number, OpcodeRule> = buildTable();

export function fieldAllows(rule: FieldRule, value: number): boolean {
  if (rule === 'any') return true;
  if (rule === 'zero') return value === 0;
  return rule.includes(value);
}

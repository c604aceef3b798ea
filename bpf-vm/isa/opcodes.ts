// Opcode fields as named in include/uapi/linux/bpf_common.h and bpf.h (RFC 9669 encoding).

export const BPF_CLASS = {
  BPF_LD: 0x00,
  BPF_LDX: 0x01,
  BPF_ST: 0x02,
  BPF_STX: 0x03,
  BPF_ALU: 0x04,
  BPF_JMP: 0x05,
  BPF_JMP32: 0x06,
  BPF_ALU64: 0x07,
} as const;

export const BPF_SIZE = {
  BPF_W: 0x00,
  BPF_H: 0x08,
  BPF_B: 0x10,
  BPF_DW: 0x18,
} as const;

export const BPF_MODE = {
  BPF_IMM: 0x00,
  BPF_ABS: 0x20,
  BPF_IND: 0x40,
  BPF_MEM: 0x60,
  BPF_MEMSX: 0x80,
  BPF_ATOMIC: 0xc0,
} as const;

export const BPF_SRC = {
  BPF_K: 0x00,
  BPF_X: 0x08,
} as const;

export const BPF_ALU_OP = {
  BPF_ADD: 0x00,
  BPF_SUB: 0x10,
  BPF_MUL: 0x20,
  BPF_DIV: 0x30,
  BPF_OR: 0x40,
  BPF_AND: 0x50,
  BPF_LSH: 0x60,
  BPF_RSH: 0x70,
  BPF_NEG: 0x80,
  BPF_MOD: 0x90,
  BPF_XOR: 0xa0,
  BPF_MOV: 0xb0,
  BPF_ARSH: 0xc0,
  BPF_END: 0xd0,
} as const;

export const BPF_JMP_OP = {
  BPF_JA: 0x00,
  BPF_JEQ: 0x10,
  BPF_JGT: 0x20,
  BPF_JGE: 0x30,
  BPF_JSET: 0x40,
  BPF_JNE: 0x50,
  BPF_JSGT: 0x60,
  BPF_JSGE: 0x70,
  BPF_CALL: 0x80,
  BPF_EXIT: 0x90,
  BPF_JLT: 0xa0,
  BPF_JLE: 0xb0,
  BPF_JSLT: 0xc0,
  BPF_JSLE: 0xd0,
} as const;

/** Byte-swap direction, carried in the source bit of BPF_END. */
export const BPF_END_SRC = {
  BPF_TO_LE: 0x00,
  BPF_TO_BE: 0x08,
} as const;

/** The imm field of BPF_STX | BPF_ATOMIC. */
export const BPF_ATOMIC_OP = {
  BPF_ADD: 0x00,
  BPF_OR: 0x40,
  BPF_AND: 0x50,
  BPF_XOR: 0xa0,
  BPF_FETCH: 0x01,
  BPF_XCHG: 0xe0 | 0x01,
  BPF_CMPXCHG: 0xf0 | 0x01,
} as const;

/** src_reg of the first half of ld_imm64. */
export const BPF_PSEUDO_LD = {
  /** imm is a plain 64-bit constant. */
  NONE: 0,
  BPF_PSEUDO_MAP_FD: 1,
  BPF_PSEUDO_MAP_VALUE: 2,
  BPF_PSEUDO_BTF_ID: 3,
  BPF_PSEUDO_FUNC: 4,
  BPF_PSEUDO_MAP_IDX: 5,
  BPF_PSEUDO_MAP_IDX_VALUE: 6,
} as const;

/** src_reg of BPF_JMP | BPF_CALL. */
export const BPF_PSEUDO_CALL_KIND = {
  HELPER: 0,
  BPF_PSEUDO_CALL: 1,
  BPF_PSEUDO_KFUNC_CALL: 2,
} as const;

export const BPF_REG = {
  R0: 0, R1: 1, R2: 2, R3: 3, R4: 4, R5: 5, R6: 6, R7: 7, R8: 8, R9: 9, R10: 10,
} as const;
export const MAX_BPF_REG = 11;
export const BPF_REG_FP = 10;
export const BPF_INSN_SIZE = 8;
export const MAX_BPF_STACK = 512;
export const MAX_CALL_FRAMES = 8;

export const bpfClass = (code: number): number => code & 0x07;
export const bpfSize = (code: number): number => code & 0x18;
export const bpfMode = (code: number): number => code & 0xe0;
export const bpfSrc = (code: number): number => code & 0x08;
export const bpfOp = (code: number): number => code & 0xf0;

/** Bytes moved by a load/store of the given size field. */
export function sizeBytes(size: number): 1 | 2 | 4 | 8 {
  switch (size) {
    case BPF_SIZE.BPF_B: return 1;
    case BPF_SIZE.BPF_H: return 2;
    case BPF_SIZE.BPF_W: return 4;
    default: return 8;
  }
}

// ALU instructions: scalar transfer functions and the pointer-arithmetic rules (what may be added
// to which pointer, 32-bit arithmetic on pointers, pointer - pointer), as in the kernel's
// check_alu_op / adjust_ptr_min_max_vals, for a privileged loader.
import type { Insn } from '../isa/insn.ts';
import { BPF_ALU_OP, BPF_CLASS, BPF_END_SRC, bpfClass, bpfOp, bpfSrc } from '../isa/opcodes.ts';
import type { Env } from './env.ts';
import { invalid, reject } from './env-types.ts';
import { aluOpString } from './log.ts';
import { MAX_VAR_OFF } from './mem-access.ts';
import {
  isPktPointer, isPointer, mayBeNull, regTypeStr, scalarReg, UNKNOWN_SCALAR, type Reg,
} from './reg-state.ts';
import { scalarAlu, scalarEndian, scalarNeg, type AluOp } from './scalar-alu.ts';
import {
  isConst, S64_MIN, scalarConst, signExtend, unknownOfSize, val32, zext32,
} from './scalar.ts';
import type { VState } from './state.ts';

const OPS: Readonly<Record<number, AluOp>> = {
  [BPF_ALU_OP.BPF_ADD]: 'add', [BPF_ALU_OP.BPF_SUB]: 'sub', [BPF_ALU_OP.BPF_MUL]: 'mul', [BPF_ALU_OP.BPF_DIV]: 'div',
  [BPF_ALU_OP.BPF_OR]: 'or', [BPF_ALU_OP.BPF_AND]: 'and', [BPF_ALU_OP.BPF_LSH]: 'lsh', [BPF_ALU_OP.BPF_RSH]: 'rsh',
  [BPF_ALU_OP.BPF_MOD]: 'mod', [BPF_ALU_OP.BPF_XOR]: 'xor', [BPF_ALU_OP.BPF_ARSH]: 'arsh',
};

/** Reads a register that must hold a value. */
export function readReg(env: Env, st: VState, regno: number): Reg {
  const r = st.reg(regno);
  env.scratchReg(regno);
  if (r.type === 'not_init') reject(`R${regno} !read_ok`);
  return r;
}

export function writeReg(env: Env, st: VState, regno: number, r: Reg): void {
  env.scratchReg(regno);
  st.setReg(regno, r);
}

export function checkAlu(env: Env, st: VState, ins: Insn): void {
  const alu64 = bpfClass(ins.code) === BPF_CLASS.BPF_ALU64;
  const op = bpfOp(ins.code);
  const srcX = bpfSrc(ins.code) !== 0;

  if (op === BPF_ALU_OP.BPF_NEG || op === BPF_ALU_OP.BPF_END) {
    const d = readReg(env, st, ins.dst);
    // A privileged loader may turn a pointer into a number this way; what comes out is unknown.
    if (isPointer(d)) {
      writeReg(env, st, ins.dst, alu64 || op === BPF_ALU_OP.BPF_END ? UNKNOWN_SCALAR : scalarReg(unknownOfSize(4)));
      return;
    }
    let s;
    if (op === BPF_ALU_OP.BPF_NEG) s = scalarNeg(d.s, alu64);
    else {
      // BPF_END to big-endian swaps on a little-endian machine; ALU64's bswap always does.
      const swap = alu64 || bpfSrc(ins.code) === BPF_END_SRC.BPF_TO_BE;
      s = scalarEndian(d.s, ins.imm as 16 | 32 | 64, swap);
    }
    writeReg(env, st, ins.dst, scalarReg(s));
    return;
  }

  if (op === BPF_ALU_OP.BPF_MOV) {
    if (!srcX) {
      writeReg(env, st, ins.dst, scalarReg(scalarConst(alu64 ? BigInt(ins.imm) : BigInt(ins.imm >>> 0))));
      return;
    }
    const s = readReg(env, st, ins.src);
    if (ins.off !== 0) {
      if (isPointer(s)) reject(`R${ins.src} sign-extension part of pointer`);
      const sx = signExtend(s.s, ins.off as 8 | 16 | 32);
      writeReg(env, st, ins.dst, scalarReg(alu64 ? sx : zext32(val32(sx))));
      return;
    }
    if (!alu64) {
      // A 32-bit copy of a scalar that fits in 32 bits is the same value: the copy stays linked to
      // its source, as the kernel's `w1 = w2` does. Otherwise it is the low half, unlinked.
      if (s.type === 'scalar' && s.s.umax <= 0xffffffffn) {
        let linked = s;
        if (s.id === 0 && !isConst(s.s)) {
          linked = { ...s, id: env.newId() };
          st.setReg(ins.src, linked);
        }
        writeReg(env, st, ins.dst, linked);
        return;
      }
      // A 32-bit copy of a pointer leaks its low half as a plain number (allowed for privileged loaders).
      writeReg(env, st, ins.dst, scalarReg(isPointer(s) ? unknownOfSize(4) : zext32(val32(s.s))));
      return;
    }
    if (s.type === 'scalar' && s.id === 0 && !isConst(s.s)) {
      const linked = { ...s, id: env.newId() };
      st.setReg(ins.src, linked);
      writeReg(env, st, ins.dst, linked);
      return;
    }
    writeReg(env, st, ins.dst, s);
    return;
  }

  const aluOp = OPS[op];
  if (aluOp === undefined) invalid(`invalid BPF_ALU opcode ${op.toString(16)}`);
  const d = readReg(env, st, ins.dst);
  const s = srcX ? readReg(env, st, ins.src) : scalarReg(scalarConst(alu64 ? BigInt(ins.imm) : BigInt(ins.imm >>> 0)));
  if (!srcX) {
    if ((aluOp === 'div' || aluOp === 'mod') && ins.imm === 0) invalid('div by zero');
    if ((aluOp === 'lsh' || aluOp === 'rsh' || aluOp === 'arsh') && (ins.imm < 0 || ins.imm >= (alu64 ? 64 : 32))) {
      invalid(`invalid shift ${ins.imm}`);
    }
  }
  const signedDiv = ins.off === 1 && (aluOp === 'div' || aluOp === 'mod');
  const realOp: AluOp = signedDiv ? (aluOp === 'div' ? 'sdiv' : 'smod') : aluOp;

  if (isPointer(d) || isPointer(s)) {
    writeReg(env, st, ins.dst, pointerArith(env, ins, alu64, realOp, d, s));
    return;
  }
  const v = scalarAlu(realOp, d.s, s.s, alu64);
  // rX = rY; rX += K keeps rX linked to rY with a known difference (the kernel's BPF_ADD_CONST), so a
  // bounds check on either one bounds the other.
  if (alu64 && d.id !== 0 && (realOp === 'add' || realOp === 'sub') && isConst(s.s)) {
    const c = BigInt.asIntN(64, s.s.t.value);
    const delta = BigInt(d.off) + (realOp === 'add' ? c : -c);
    if (delta > -LINK_MAX && delta < LINK_MAX) {
      writeReg(env, st, ins.dst, { ...scalarReg(v, d.id), off: Number(delta) });
      return;
    }
  }
  writeReg(env, st, ins.dst, scalarReg(v));
}

/** Largest difference kept between linked scalars. */
const LINK_MAX = 1n << 31n;

/** The kernel's check_reg_sane_offset: offsets far from 0 are refused before any arithmetic (EINVAL). */
function checkSaneOffset(r: Reg, ptrName: string): void {
  const M = BigInt(MAX_VAR_OFF);
  if (isConst(r.s)) {
    const v = BigInt.asIntN(64, r.s.t.value);
    if (v >= M || v <= -M) invalid(`math between ${ptrName} pointer and ${v} is not allowed`);
  }
  if (r.off >= MAX_VAR_OFF || r.off <= -MAX_VAR_OFF) invalid(`${ptrName} pointer offset ${r.off} is not allowed`);
  if (r.s.smin === S64_MIN) invalid(`math between ${ptrName} pointer and register with unbounded min value is not allowed`);
  if (r.s.smin >= M || r.s.smin <= -M) invalid(`value ${r.s.smin} makes ${ptrName} pointer be out of bounds`);
}

/** Arithmetic with a pointer operand, in the kernel's order of checks (adjust_ptr_min_max_vals). */
function pointerArith(env: Env, ins: Insn, alu64: boolean, op: AluOp, d: Reg, s: Reg): Reg {
  const dst = ins.dst;
  const opStr = aluOpString(ins.code);
  if (isPointer(d) && isPointer(s)) {
    // pointer - pointer is a number for a privileged loader (data_end - data).
    if (op === 'sub') return UNKNOWN_SCALAR;
    reject(`R${dst} pointer ${opStr} pointer prohibited`);
  }
  if (!alu64) {
    if (op === 'sub') return scalarReg(unknownOfSize(4));
    reject(`R${dst} 32-bit pointer arithmetic prohibited`);
  }
  const ptr = isPointer(d) ? d : s;
  const off = isPointer(d) ? s : d;
  const ptrName = regTypeStr(ptr);
  if (mayBeNull(ptr.type)) reject(`R${dst} pointer arithmetic on ${ptrName} prohibited, null-check it first`);
  const arithOk = ptr.type === 'ctx' || ptr.type === 'map_value' || ptr.type === 'stack' || isPktPointer(ptr.type) ||
    ptr.type === 'ringbuf_mem' || ptr.type === 'func' || ptr.type === 'map_key' || ptr.type === 'ptr_' || ptr.type === 'rdonly_untrusted_mem' ||
    (ptr.type === 'map_ptr' && op === 'add' && isConst(off.s) && off.s.t.value === 0n);
  if (!arithOk) reject(`R${dst} pointer arithmetic on ${ptrName} prohibited`);
  checkSaneOffset(off, ptrName);
  checkSaneOffset(ptr, ptrName);
  if (op === 'sub' && !isPointer(d)) reject(`R${dst} tried to subtract pointer from scalar`);
  if (op === 'sub' && ptr.type === 'stack') reject(`R${dst} subtraction from stack pointer prohibited`);
  if (op === 'and' || op === 'or' || op === 'xor') reject(`R${dst} bitwise operator ${opStr} on pointer prohibited`);
  if (op !== 'add' && op !== 'sub') reject(`R${dst} pointer arithmetic with ${opStr} operator prohibited`);
  let res: Reg;
  if (isConst(off.s)) {
    const c = BigInt.asIntN(64, off.s.t.value);
    res = { ...ptr, off: Number(BigInt(ptr.off) + (op === 'add' ? c : -c)) };
  } else {
    const v = scalarAlu(op, ptr.s, off.s, true);
    res = isPktPointer(ptr.type) ? { ...ptr, s: v, id: env.newId(), range: 0 } : { ...ptr, s: v };
  }
  checkSaneOffset(res, ptrName);
  return res;
}

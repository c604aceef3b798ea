// Static register liveness (which registers an instruction's future may read before writing them),
// computed once per program by backward dataflow within each subprogram. Pruning compares only live
// registers: a dead register's value cannot influence anything that follows.
import type { Insn } from '../isa/insn.ts';
import { OPCODE_TABLE } from '../isa/legality.ts';
import { bpfOp, bpfSrc, BPF_ALU_OP, BPF_ATOMIC_OP, BPF_PSEUDO_CALL_KIND } from '../isa/opcodes.ts';
import { kfuncArgCount } from './kfunc-call.ts';
import { isLocalCall, jumpTarget, type Cfg } from './cfg.ts';

const bit = (r: number): number => 1 << r;
const ARGS = 0b111110; // r1..r5
const CALLER_SAVED = 0b111111; // r0..r5

/** Registers read and written by the instruction at pc (r10 excluded). */
function useDef(insns: readonly Insn[], pc: number, helperArgs: (id: number) => number): [number, number] {
  const ins = insns[pc]!;
  const rule = OPCODE_TABLE.get(ins.code);
  if (rule === undefined) return [0, 0];
  const d = bit(ins.dst), s = bit(ins.src);
  switch (rule.kind) {
    case 'alu': {
      const op = bpfOp(ins.code);
      const src = bpfSrc(ins.code) !== 0 ? s : 0;
      if (op === BPF_ALU_OP.BPF_MOV) return [src, d];
      return [d | src, d];
    }
    case 'neg': case 'end': case 'bswap': return [d, d];
    case 'ja': case 'gotol': return [0, 0];
    case 'jcond': return [d | (bpfSrc(ins.code) !== 0 ? s : 0), 0];
    case 'call': {
      if (isLocalCall(ins)) return [ARGS, CALLER_SAVED];
      const n = ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_KFUNC_CALL ? kfuncArgCount(ins.imm) : helperArgs(ins.imm);
      return [(((1 << n) - 1) << 1) & ARGS, CALLER_SAVED];
    }
    case 'exit': return [bit(0), 0];
    case 'lddw': return [0, d];
    case 'ldabs': return [bit(6), CALLER_SAVED];
    case 'ldind': return [bit(6) | s, CALLER_SAVED];
    case 'ldx': case 'ldxsx': return [s, d];
    case 'st': return [d, 0];
    case 'stx': return [d | s, 0];
    case 'atomic': {
      if (ins.imm === BPF_ATOMIC_OP.BPF_CMPXCHG) return [d | s | bit(0), bit(0)];
      const fetch = (ins.imm & BPF_ATOMIC_OP.BPF_FETCH) !== 0;
      return [d | s, fetch ? s : 0];
    }
  }
}

/** Live-in register masks per instruction (bit i = ri). */
export function computeLiveness(insns: readonly Insn[], cfg: Cfg, helperArgs: (id: number) => number): Uint16Array {
  const n = insns.length;
  const use = new Uint16Array(n), def = new Uint16Array(n);
  const succ: number[][] = new Array<number[]>(n);
  for (let pc = 0; pc < n; pc++) {
    succ[pc] = [];
    if (cfg.second[pc]) continue;
    const [u, dd] = useDef(insns, pc, helperArgs);
    use[pc] = u; def[pc] = dd;
    const ins = insns[pc]!;
    const k = OPCODE_TABLE.get(ins.code)?.kind;
    const s = succ[pc]!;
    if (k === 'exit') continue;
    if (k === 'ja' || k === 'gotol') { s.push(jumpTarget(ins, pc)); continue; }
    if (k === 'jcond') s.push(jumpTarget(ins, pc));
    const next = k === 'lddw' ? pc + 2 : pc + 1;
    if (next < n) s.push(next);
  }
  const live = new Uint16Array(n);
  let changed = true;
  while (changed) {
    changed = false;
    for (let pc = n - 1; pc >= 0; pc--) {
      if (cfg.second[pc]) continue;
      let out = 0;
      for (const t of succ[pc]!) out |= live[t]!;
      const inn = use[pc]! | (out & ~def[pc]!);
      if (inn !== live[pc]) { live[pc] = inn; changed = true; }
    }
  }
  return live;
}

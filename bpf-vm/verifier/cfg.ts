// The control-flow pass before symbolic execution (the kernel's check_subprogs + check_cfg ideas):
// subprogram boundaries from bpf-to-bpf call targets, jumps that leave their subprogram, subprograms
// that fall off their end, unreachable instructions, the call graph, and the prune points at which
// the main pass records states. Loops are allowed here; whether they terminate is the main pass's job.
import type { Insn } from '../isa/insn.ts';
import { OPCODE_TABLE } from '../isa/legality.ts';
import { BPF_PSEUDO_CALL_KIND } from '../isa/opcodes.ts';
import { ldImm64Seconds } from '../prog/validate.ts';
import { Reject } from './env-types.ts';

export interface Subprog {
  readonly start: number;
  /** One past the last instruction. */
  readonly end: number;
}

export interface Cfg {
  readonly subprogs: readonly Subprog[];
  /** Subprogram index of each instruction. */
  readonly subprogOf: Int32Array;
  readonly pruneAt: Uint8Array;
  /** Instructions that are jumps or calls (the kernel's jmp points, for the state-adding heuristic). */
  readonly jmpAt: Uint8Array;
  /** Subprogram -> subprograms it calls. */
  readonly callees: readonly (readonly number[])[];
  readonly second: Uint8Array;
}

const kindOf = (ins: Insn) => OPCODE_TABLE.get(ins.code)?.kind;

export const isLocalCall = (ins: Insn): boolean => ins.code === 0x85 && ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_CALL;

/** Jump target of a ja/gotol/conditional jump at pc. */
export function jumpTarget(ins: Insn, pc: number): number {
  return kindOf(ins) === 'gotol' ? pc + 1 + ins.imm : pc + 1 + ins.off;
}

/**
 * The kernel's jump checks with its messages, before the structural validation (which knows the
 * same errors under other words): targets inside the program and not into an ld_imm64's second half.
 */
export function checkJumps(insns: readonly Insn[]): void {
  const n = insns.length;
  const second = ldImm64Seconds(insns);
  for (let pc = 0; pc < n; pc++) {
    if (second[pc]) continue;
    const ins = insns[pc]!;
    const k = kindOf(ins);
    if (k === 'ja' || k === 'gotol' || k === 'jcond') {
      const t = jumpTarget(ins, pc);
      if (t < 0 || t >= n) throw new Reject('EINVAL', `jump out of range from insn ${pc} to ${t}`, [], pc);
      if (second[t]) throw new Reject('EINVAL', `jump into the middle of ldimm64 insn ${t - 1}`, [], pc);
    } else if (isLocalCall(ins)) {
      const t = pc + 1 + ins.imm;
      if (t < 0 || t >= n || second[t]) throw new Reject('EINVAL', 'call to invalid destination', [], pc);
    }
  }
  const last = insns[n - 1];
  const lk = last === undefined || second[n - 1] ? undefined : kindOf(last);
  if (n > 0 && lk !== 'exit' && lk !== 'ja' && lk !== 'gotol') throw new Reject('EINVAL', 'last insn is not an exit or jmp', [], n - 1);
}

export function buildCfg(insns: readonly Insn[]): Cfg {
  const n = insns.length;
  const second = ldImm64Seconds(insns);
  const starts = new Set<number>([0]);
  for (let pc = 0; pc < n; pc++) {
    const ins = insns[pc]!;
    if (second[pc]) continue;
    if (isLocalCall(ins)) starts.add(pc + 1 + ins.imm);
  }
  const sorted = [...starts].sort((a, b) => a - b);
  const subprogs: Subprog[] = sorted.map((s, i) => ({ start: s, end: sorted[i + 1] ?? n }));
  const subprogOf = new Int32Array(n);
  subprogs.forEach((sp, i) => subprogOf.fill(i, sp.start, sp.end));

  // Jumps stay inside their subprogram; each subprogram ends with an exit or a jump.
  for (let pc = 0; pc < n; pc++) {
    if (second[pc]) continue;
    const ins = insns[pc]!;
    const k = kindOf(ins);
    if (k === 'ja' || k === 'gotol' || k === 'jcond') {
      const t = jumpTarget(ins, pc);
      if (t < 0 || t >= n || subprogOf[t] !== subprogOf[pc]) throw new Reject('EINVAL', `jump out of range from insn ${pc} to ${t}`, [], pc);
      if (second[t]) throw new Reject('EINVAL', `jump into the middle of ldimm64 insn ${t - 1}`, [], pc);
    }
  }
  for (const sp of subprogs) {
    const last = sp.end - 1;
    const k = second[last] ? 'lddw' : kindOf(insns[last]!);
    if (k !== 'exit' && k !== 'ja' && k !== 'gotol') throw new Reject('EINVAL', 'last insn is not an exit or jmp', [], last);
  }

  // Reachability from the entry, following calls into callees.
  const pruneAt = new Uint8Array(n);
  const jmpAt = new Uint8Array(n);
  const seen = new Uint8Array(n);
  const callees: Set<number>[] = subprogs.map(() => new Set<number>());
  const work: number[] = [0];
  seen[0] = 1;
  const visit = (to: number): void => {
    if (to >= 0 && to < n && !seen[to]) { seen[to] = 1; work.push(to); }
  };
  while (work.length > 0) {
    const pc = work.pop()!;
    const ins = insns[pc]!;
    const k = kindOf(ins);
    switch (k) {
      case 'exit': break;
      case 'ja': case 'gotol': {
        const t = jumpTarget(ins, pc);
        pruneAt[t] = 1; jmpAt[pc] = 1;
        visit(t);
        break;
      }
      case 'jcond': {
        const t = jumpTarget(ins, pc);
        pruneAt[pc] = 1; pruneAt[t] = 1; jmpAt[pc] = 1;
        visit(pc + 1); visit(t);
        break;
      }
      case 'call': {
        jmpAt[pc] = 1;
        if (pc + 1 < n) pruneAt[pc + 1] = 1;
        if (isLocalCall(ins)) {
          const t = pc + 1 + ins.imm;
          pruneAt[pc] = 1;
          callees[subprogOf[pc]!]!.add(subprogOf[t]!);
          visit(t);
        }
        visit(pc + 1);
        break;
      }
      case 'lddw': visit(pc + 2); break;
      default: visit(pc + 1);
    }
  }
  for (let pc = 0; pc < n; pc++) {
    if (!seen[pc] && !second[pc]) throw new Reject('EINVAL', `unreachable insn ${pc}`, [], pc);
  }
  return { subprogs, subprogOf, pruneAt, jmpAt, callees: callees.map((s) => [...s]), second };
}

// The control-flow pass before symbolic execution (the kernel's check_subprogs + check_cfg ideas):
// subprogram boundaries from bpf-to-bpf call targets, jumps that leave their subprogram, subprograms
// that fall off their end, unreachable instructions, the call graph, and the prune points at which
// the main pass records states. Loops are allowed here; whether they terminate is the main pass's job.
import type { Insn } from '../isa/insn.ts';
import { OPCODE_TABLE } from '../isa/legality.ts';
import { BPF_PSEUDO_CALL_KIND, BPF_PSEUDO_LD } from '../isa/opcodes.ts';
import { BPF_FUNC } from '../helpers/ids.ts';
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
  /** Helper calls that run a callback (the kernel's calls_callback): loop heads for pruning. */
  readonly cbCall: Uint8Array;
}

/** Helpers whose callback the verifier walks as a subprogram frame. */
export const CALLBACK_HELPERS: ReadonlySet<number> = new Set([BPF_FUNC.loop, BPF_FUNC.for_each_map_elem]);

/** ld_imm64 of a function's address (BPF_PSEUDO_FUNC): imm is the distance to the function. */
export const isPseudoFunc = (ins: Insn): boolean => ins.code === 0x18 && ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_FUNC;

const isCallbackCall = (ins: Insn): boolean => ins.code === 0x85 && ins.src === BPF_PSEUDO_CALL_KIND.HELPER && CALLBACK_HELPERS.has(ins.imm);

const kindOf = (ins: Insn) => OPCODE_TABLE.get(ins.code)?.kind;

export const isLocalCall = (ins: Insn): boolean => ins.code === 0x85 && ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_CALL;

/** Jump target of a ja/gotol/conditional jump at pc. */
export function jumpTarget(ins: Insn, pc: number): number {
  return kindOf(ins) === 'gotol' ? pc + 1 + ins.imm : pc + 1 + ins.off;
}

/**
 * The kernel's structural checks with its messages, in its order, before the field validation
 * (which reports the same errors in other words): opcodes and ld_imm64 pairs, call targets, jumps
 * that leave their subprogram, subprograms that end in the middle, unreachable code, jumps into
 * the second half of an ld_imm64.
 */
export function checkStructure(insns: readonly Insn[]): void {
  const n = insns.length;
  const second = new Uint8Array(n);
  for (let pc = 0; pc < n; pc++) {
    const ins = insns[pc]!;
    if (!OPCODE_TABLE.has(ins.code)) throw new Reject('EINVAL', `unknown opcode ${ins.code.toString(16).padStart(2, '0')}`, [], pc);
    if (ins.code !== 0x18) continue;
    const hi = insns[pc + 1];
    if (hi === undefined || hi.code !== 0 || hi.dst !== 0 || hi.src !== 0 || hi.off !== 0 || ins.off !== 0) {
      throw new Reject('EINVAL', 'invalid bpf_ld_imm64 insn', [], pc);
    }
    if (ins.src > 6) throw new Reject('EINVAL', 'unrecognized bpf_ld_imm64 insn', [], pc);
    second[pc + 1] = 1;
    pc++;
  }
  const starts = new Set<number>([0]);
  for (let pc = 0; pc < n; pc++) {
    const ins = insns[pc]!;
    if (second[pc] || !(isLocalCall(ins) || isPseudoFunc(ins))) continue;
    const t = pc + 1 + ins.imm;
    if (t < 0 || t >= n) throw new Reject('EINVAL', 'call to invalid destination', [], pc);
    starts.add(t);
  }
  const sorted = [...starts].sort((a, b) => a - b);
  let sp = 0;
  for (let pc = 0; pc < n; pc++) {
    while (sp + 1 < sorted.length && sorted[sp + 1]! <= pc) sp++;
    const lo = sorted[sp]!, hi = sorted[sp + 1] ?? n;
    const ins = insns[pc]!;
    const k = second[pc] ? undefined : kindOf(ins);
    if (k === 'ja' || k === 'gotol' || k === 'jcond') {
      const t = jumpTarget(ins, pc);
      if (t < lo || t >= hi) throw new Reject('EINVAL', `jump out of range from insn ${pc} to ${t}`, [], pc);
    }
    if (pc === hi - 1 && k !== 'exit' && k !== 'ja' && k !== 'gotol') throw new Reject('EINVAL', 'last insn is not an exit or jmp', [], pc);
  }
}

export function buildCfg(insns: readonly Insn[]): Cfg {
  const n = insns.length;
  const second = ldImm64Seconds(insns);
  const starts = new Set<number>([0]);
  for (let pc = 0; pc < n; pc++) {
    const ins = insns[pc]!;
    if (second[pc]) continue;
    if (isLocalCall(ins) || isPseudoFunc(ins)) starts.add(pc + 1 + ins.imm);
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
  const cbCall = new Uint8Array(n);
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
        // A callback call is where each visit of the callback comes back: a loop head.
        if (isCallbackCall(ins)) { cbCall[pc] = 1; pruneAt[pc] = 1; }
        if (isLocalCall(ins)) {
          const t = pc + 1 + ins.imm;
          pruneAt[pc] = 1;
          callees[subprogOf[pc]!]!.add(subprogOf[t]!);
          visit(t);
        }
        visit(pc + 1);
        break;
      }
      case 'lddw':
        // A function whose address is taken is reachable (and on the stack of its taker's frame).
        if (isPseudoFunc(ins)) {
          const t = pc + 1 + ins.imm;
          callees[subprogOf[pc]!]!.add(subprogOf[t]!);
          visit(t);
        }
        visit(pc + 2);
        break;
      default: visit(pc + 1);
    }
  }
  for (let pc = 0; pc < n; pc++) {
    if (!seen[pc] && !second[pc]) throw new Reject('EINVAL', `unreachable insn ${pc}`, [], pc);
  }
  for (let pc = 0; pc < n; pc++) {
    const ins = insns[pc]!;
    const k = second[pc] ? undefined : kindOf(ins);
    if ((k === 'ja' || k === 'gotol' || k === 'jcond') && second[jumpTarget(ins, pc)]) {
      throw new Reject('EINVAL', `jump into the middle of ldimm64 insn ${jumpTarget(ins, pc) - 1}`, [], pc);
    }
  }
  return { subprogs, subprogOf, pruneAt, jmpAt, callees: callees.map((s) => [...s]), second, cbCall };
}

// Structural checks every engine relies on, done once at load: legal opcodes and fields (from the
// legality table), registers, r10 read-only, ld_imm64 halves, jump and call targets in range.
import { InvalidProgramError } from '../errors.ts';
import type { Insn } from '../isa/insn.ts';
import { fieldAllows, OPCODE_TABLE, type FieldRule } from '../isa/legality.ts';
import { BPF_ATOMIC_OP, BPF_PSEUDO_CALL_KIND, BPF_PSEUDO_LD, BPF_REG_FP, MAX_BPF_REG } from '../isa/opcodes.ts';

/** BPF_COMPLEXITY_LIMIT_INSNS: the largest program the kernel accepts from a privileged loader. */
export const BPF_MAXINSNS_PRIVILEGED = 1_000_000;

const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

function checkField(pc: number, name: string, rule: FieldRule, value: number, code: number): void {
  if (!fieldAllows(rule, value)) throw new InvalidProgramError(pc, `reserved field ${name}=${value} for opcode ${hex(code)}`);
}

/** Slots that are the second half of an ld_imm64 (never a jump target, never executed). */
export function ldImm64Seconds(insns: readonly Insn[]): Uint8Array {
  const second = new Uint8Array(insns.length);
  for (let pc = 0; pc < insns.length; pc++) {
    if (insns[pc]!.code === 0x18) { second[pc + 1] = 1; pc++; }
  }
  return second;
}

export function validateProgram(insns: readonly Insn[], maxInsns = BPF_MAXINSNS_PRIVILEGED): void {
  const n = insns.length;
  if (n === 0) throw new InvalidProgramError(0, 'empty program');
  if (n > maxInsns) throw new InvalidProgramError(0, `BPF program is too large. Processed ${n} insn (limit ${maxInsns})`);
  const second = ldImm64Seconds(insns);
  const target = (pc: number, t: number, what: string): void => {
    if (t < 0 || t >= n) throw new InvalidProgramError(pc, `${what} out of range: target ${t}, program has ${n} insns (jump out of range)`);
    if (second[t]) throw new InvalidProgramError(pc, `${what} into the middle of ld_imm64 at insn ${t - 1} (jump out of range)`);
  };
  for (let pc = 0; pc < n; pc++) {
    const ins = insns[pc]!;
    const rule = OPCODE_TABLE.get(ins.code);
    if (rule === undefined) throw new InvalidProgramError(pc, `unknown opcode ${hex(ins.code)}`);
    if (ins.dst >= MAX_BPF_REG) throw new InvalidProgramError(pc, `invalid register r${ins.dst} (dst)`);
    if (ins.src >= MAX_BPF_REG && rule.src === 'reg') throw new InvalidProgramError(pc, `invalid register r${ins.src} (src)`);
    if (rule.dst === 'zero') checkField(pc, 'dst_reg', 'zero', ins.dst, ins.code);
    if (rule.src !== 'reg') checkField(pc, 'src_reg', rule.src, ins.src, ins.code);
    checkField(pc, 'off', rule.off, ins.off, ins.code);
    checkField(pc, 'imm', rule.imm, ins.imm, ins.code);
    if (rule.writesDst && ins.dst === BPF_REG_FP) throw new InvalidProgramError(pc, 'frame pointer r10 is read-only (r10 is read-only)');
    // Fetching atomics (and xchg) write the old value into src.
    if (rule.kind === 'atomic' && (ins.imm & BPF_ATOMIC_OP.BPF_FETCH) !== 0 && ins.src === BPF_REG_FP) {
      throw new InvalidProgramError(pc, 'frame pointer r10 is read-only: a fetching atomic writes its source (r10 is read-only)');
    }
    switch (rule.kind) {
      case 'lddw': {
        const hi = insns[pc + 1];
        if (hi === undefined) throw new InvalidProgramError(pc, 'incomplete ld_imm64: missing second half');
        if (hi.code !== 0 || hi.dst !== 0 || hi.src !== 0 || hi.off !== 0) {
          throw new InvalidProgramError(pc + 1, 'incomplete ld_imm64: second half has reserved fields set');
        }
        if (ins.src !== BPF_PSEUDO_LD.NONE && ins.src !== BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD && ins.src !== BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE &&
          ins.src !== BPF_PSEUDO_LD.BPF_PSEUDO_FUNC) {
          throw new InvalidProgramError(pc, `ld_imm64 src_reg ${ins.src} is not supported`);
        }
        // A function's address: imm is the distance to its first instruction, as a call's.
        if (ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_FUNC) target(pc, pc + 1 + ins.imm, 'call');
        if (ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD && hi.imm !== 0) {
          throw new InvalidProgramError(pc + 1, 'reserved field imm in the second half of a map-fd ld_imm64');
        }
        pc++;
        continue;
      }
      case 'ja': target(pc, pc + 1 + ins.off, 'jump'); break;
      case 'gotol': target(pc, pc + 1 + ins.imm, 'jump'); break;
      case 'jcond': target(pc, pc + 1 + ins.off, 'jump'); break;
      case 'call':
        // A kfunc call (src_reg BPF_PSEUDO_KFUNC_CALL) names its function by BTF id: which ids
        // exist is the verifier's check (vxo has no module BTF, so off stays 0).
        if (ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_CALL) target(pc, pc + 1 + ins.imm, 'call');
        break;
      default: break;
    }
  }
  const last = insns[n - 1]!;
  const lastRule = OPCODE_TABLE.get(last.code);
  const terminates = second[n - 1] === 0 && (lastRule?.kind === 'exit' || lastRule?.kind === 'ja' || lastRule?.kind === 'gotol');
  if (!terminates) throw new InvalidProgramError(n - 1, 'last insn is not an exit or jmp (jump out of range)');
}

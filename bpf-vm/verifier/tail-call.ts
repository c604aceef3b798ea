// The verifier's rules for bpf_tail_call beyond its prototype: the map must be a PROG_ARRAY, no
// reference may be held across it (the target never returns them), a subprogram may make one only
// in a program with BTF function info and only if its prototype returns an int (as for
// LD_ABS/LD_IND), and a subprogram that makes one may not sit on 256 bytes or more of its callers'
// frames: a tail call unwinds the current frame only, so each of the 33 calls a chain may make
// could keep its callers' frames (check_max_stack_depth_subprog).
import { BPF_FUNC } from '../helpers/ids.ts';
import { BPF_MAP_TYPE } from '../maps/map.ts';
import { BPF_PSEUDO_CALL_KIND } from '../isa/opcodes.ts';
import type { FuncInfo } from '../elf/spec.ts';
import type { Program } from '../prog/program.ts';
import type { Env } from './env.ts';
import { reject } from './env-types.ts';
import type { VState } from './state.ts';
import { returnFromCall } from './calls.ts';
import { UNKNOWN_SCALAR } from './reg-state.ts';
import { checkResourceLeak } from './refs.ts';
import { invalid } from './env-types.ts';

/** The stack a subprogram making tail calls may have under it (its callers' frames). */
export const TAIL_CALL_STACK_LIMIT = 256;

/** At a bpf_tail_call: references still held would leak (check_resource_leak's "tail_call" case). */
export function checkTailCallRefs(st: VState): void {
  checkResourceLeak(st, 'tail_call');
}

/** Which subprograms contain a bpf_tail_call (the kernel's subprog_info.has_tail_call). */
export function subprogsWithTailCalls(env: Env): boolean[] {
  const has = env.cfg.subprogs.map(() => false);
  env.insns.forEach((ins, pc) => {
    if (ins.code === 0x85 && ins.src === BPF_PSEUDO_CALL_KIND.HELPER && ins.imm === BPF_FUNC.tail_call) has[env.cfg.subprogOf[pc]!] = true;
  });
  return has;
}

/** Which subprograms contain a BPF_LD_[ABS|IND] (the kernel's subprog_info.has_ld_abs). */
export function subprogsWithLdAbs(env: Env): boolean[] {
  const has = env.cfg.subprogs.map(() => false);
  env.insns.forEach((ins, pc) => {
    const cls = ins.code & 0x07, mode = ins.code & 0xe0;
    if (cls === 0x00 && (mode === 0x20 || mode === 0x40)) has[env.cfg.subprogOf[pc]!] = true;
  });
  return has;
}

/** Whether the kernel would get BTF function info for the program (func_info_cnt > 0). */
export function hasFuncInfo(prog: Program): boolean {
  return prog.funcs.length > 0 && prog.noFuncInfo !== true;
}

/**
 * check_abnormal_return and check_btf_func: a subprogram may use LD_ABS/LD_IND or tail-call only in
 * a program with BTF function info (subprogram by subprogram, LD_ABS first), and only if its BTF
 * prototype returns an int or an enum: a failing load or a successful tail call ends the
 * subprogram with a number in r0, which a void caller would not expect. A function whose return
 * type vxo does not know (no func_info record for it) is not checked.
 */
export function checkTailCallSubprogs(env: Env, funcs: readonly FuncInfo[]): void {
  const tail = subprogsWithTailCalls(env), ldAbs = subprogsWithLdAbs(env);
  for (let sp = 1; sp < tail.length; sp++) {
    if (funcs.length === 0) {
      if (ldAbs[sp]) invalid('LD_ABS is not allowed in subprogs without BTF');
      if (tail[sp]) invalid('tail_call is not allowed in subprogs without BTF');
      continue;
    }
    const start = env.cfg.subprogs[sp]!.start;
    if (funcs.find((f) => f.start === start)?.nonScalarReturn !== true) continue;
    if (ldAbs[sp]) invalid("LD_ABS is only allowed in functions that return 'int'.");
    if (tail[sp]) invalid("tail_call is only allowed in functions that return 'int'.");
  }
}

/** bpf_tail_call's map must be a PROG_ARRAY (record_func_map, before the map-helper compatibility check). */
export function checkTailCallMap(mapType: number): void {
  if (mapType !== BPF_MAP_TYPE.BPF_MAP_TYPE_PROG_ARRAY) invalid('expected prog array map for tail call');
}

/**
 * A tail call made in a subprogram has two outcomes, as the kernel explores them: it succeeds, and
 * the subprogram's frame ends there with the target's r0 (an unknown number) returned to its
 * caller; or it fails, and the subprogram goes on after the call (r0 unset, as after any void
 * helper). Returns the state that returned to the caller and where it continues; `st` continues
 * after the call. In the main program the first outcome ends the program: nothing to explore.
 */
export function tailCallReturn(env: Env, st: VState): { state: VState; pc: number } | undefined {
  if (st.frames.length === 1) return undefined;
  const ret = st.clone();
  ret.setReg(0, UNKNOWN_SCALAR);
  return { state: ret, pc: returnFromCall(env, ret) };
}

/** Called by the combined-stack walk for subprogram `sp` reached with `depth` bytes of its callers' stack. */
export function checkTailCallDepth(has: readonly boolean[], sp: number, depth: number): void {
  if (sp !== 0 && has[sp] && depth >= TAIL_CALL_STACK_LIMIT) {
    reject(`tail_calls are not allowed when call stack of previous frames is ${depth} bytes. Too large`);
  }
}

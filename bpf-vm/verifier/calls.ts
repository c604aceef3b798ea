// bpf-to-bpf calls: a call pushes a frame (r1-r5 passed, the callee gets its own r10 and stack;
// the caller's r6-r9 wait in its frame), exit pops it (r0 returned, r0-r5 of the caller replaced).
// At most MAX_CALL_FRAMES frames; a callee may not hand out pointers into its own stack.
import { MAX_CALL_FRAMES } from '../isa/opcodes.ts';
import type { Env } from './env.ts';
import { invalid, reject } from './env-types.ts';
import { fmtFrame } from './log.ts';
import { NOT_INIT, type Reg } from './reg-state.ts';
import { S64_MAX, S64_MIN } from './scalar.ts';
import { FuncState, type VState } from './state.ts';
import { checkTailCallDepth, subprogsWithTailCalls } from './tail-call.ts';

/** Enters the callee; returns its first instruction. */
export function enterCall(env: Env, st: VState, pc: number, imm: number): number {
  if (st.frames.length >= MAX_CALL_FRAMES) reject(`the call stack of ${st.frames.length + 1} frames is too deep`);
  const target = pc + 1 + imm;
  const caller = st.cur;
  const callee = FuncState.fresh(st.frames.length, pc, env.cfg.subprogOf[target]!);
  for (let r = 1; r <= 5; r++) callee.regs[r] = caller.regs[r]!;
  for (let r = 0; r <= 5; r++) caller.regs[r] = NOT_INIT;
  st.frames.push(callee);
  if (env.log.enabled) {
    env.log.add(`caller:\n ${fmtFrame(caller, st.refs, env)}\ncallee:\n ${fmtFrame(callee, st.refs, env)}`);
  }
  return target;
}

/** The kernel's verbose_invalid_scalar wording for a value outside [lo, hi]. */
export function invalidScalar(r: Reg, what: string, lo: number, hi: number): string {
  let has = '';
  if (r.s.smin > S64_MIN) has += ` smin=${r.s.smin}`;
  if (r.s.smax < S64_MAX) has += ` smax=${r.s.smax}`;
  return `${what} the register R0 has${has || ' unknown scalar value'} should have been in [${lo}, ${hi}]`;
}

/**
 * Leaves the current callee; returns where the caller continues. A callback goes back to the helper
 * call that runs it (prepare_func_exit): that call schedules the next visit of the callback, and the
 * caller's registers stay as they were before the call; its r0 must be 0 (go on) or 1 (stop).
 */
export function returnFromCall(env: Env, st: VState): number {
  const callee = st.frames.pop()!;
  const caller = st.cur;
  const r0 = callee.regs[0]!;
  // Any stack pointer, even one into a caller's frame (safe, but the kernel refuses it too).
  if (r0.type === 'stack') {
    st.frames.push(callee);
    invalid('cannot return stack pointer to the caller');
  }
  if (callee.inCallback) {
    st.frames.push(callee);
    if (r0.type === 'not_init') reject('R0 !read_ok');
    if (r0.type !== 'scalar') reject('R0 not a scalar value');
    if (r0.s.smin < 0n || r0.s.smax > 1n) invalid(invalidScalar(r0, 'At callback return', 0, 1));
    st.frames.pop();
    if (env.log.enabled) {
      env.log.add(`returning from callee:\n ${fmtFrame(callee, st.refs, env)}\nto caller at ${callee.callsite}:\n ${fmtFrame(caller, st.refs, env)}`);
    }
    return callee.callsite;
  }
  caller.regs[0] = r0;
  if (env.log.enabled) {
    env.log.add(`returning from callee:\n ${fmtFrame(callee, st.refs, env)}\nto caller at ${callee.callsite + 1}:\n ${fmtFrame(caller, st.refs, env)}`);
  }
  return callee.callsite + 1;
}

/** The largest sum of stack depths along any chain of calls (check_max_stack_depth). */
export function checkCombinedStack(env: Env): void {
  const depth = (i: number): number => Math.ceil((env.stackDepth[i] ?? 0) / 8) * 8;
  const tailCalls = subprogsWithTailCalls(env);
  const walk = (sp: number, frames: number, total: number): void => {
    checkTailCallDepth(tailCalls, sp, total);
    const t = total + depth(sp);
    if (t > 512) reject(`combined stack size of ${frames} calls is ${t}. Too large`);
    if (frames >= MAX_CALL_FRAMES) return;
    for (const c of env.cfg.callees[sp] ?? []) walk(c, frames + 1, t);
  };
  walk(0, 1, 0);
}

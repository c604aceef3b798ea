// The main pass (the kernel's do_check idea): depth-first symbolic execution of every path from the
// entry, one instruction at a time, with a stack of pending branches, pruning at prune points, and
// a budget of processed instructions.
import type { Insn } from '../isa/insn.ts';
import { OPCODE_TABLE } from '../isa/legality.ts';
import {
  BPF_ATOMIC_OP, BPF_PSEUDO_CALL_KIND, BPF_PSEUDO_LD, bpfSize, sizeBytes,
} from '../isa/opcodes.ts';
import { BPF_PROG_TYPE } from '../prog/types.ts';
import { checkAlu, readReg, writeReg } from './alu.ts';
import { checkCondJmp } from './branch.ts';
import { enterCall, returnFromCall } from './calls.ts';
import { checkReturnCode } from './return-code.ts';
import { jumpTarget } from './cfg.ts';
import type { Env } from './env.ts';
import { invalid, reject, Reject } from './env-types.ts';
import { fmtFrame, fmtInsn, stateColumnPad } from './log.ts';
import { checkMemAccess } from './mem-access.ts';
import { checkHelperCall } from './helper-call.ts';
import { checkKfuncCall } from './kfunc-call.ts';
import { Explored, widenAfterCallback } from './prune.ts';
import { checkNoRefs, checkResourceLeak } from './refs.ts';
import { constReg, isPointer, NOT_INIT, ptrReg, scalarReg } from './reg-state.ts';
import { unknownOfSize, zext32, val32 } from './scalar.ts';
import { FuncState, VState } from './state.ts';
import { hasFuncInfo, tailCallReturn } from './tail-call.ts';
import { BPF_FUNC } from '../helpers/ids.ts';

/** BPF_COMPLEXITY_LIMIT_JMP_SEQ: pending branches at most. */
const MAX_PENDING = 8192;

interface Pending {
  state: VState;
  pc: number;
  prevPc: number;
  logMark: number;
}

type Step = { next: number; cbReturn?: true } | { fall: VState | undefined; taken: VState | undefined; target: number; cbCall?: true } | { exit: true };

export class Checker {
  processed = 0;
  jmps = 0;
  peakPending = 0;
  readonly explored = new Explored();
  private readonly pending: Pending[] = [];

  constructor(private readonly env: Env, private readonly limit: number) {}

  run(): void {
    const env = this.env;
    const main = FuncState.fresh(0, -1, 0);
    main.regs[1] = ptrReg('ctx');
    let st = new VState([main], []);
    let pc = 0, prevPc = -1, printState = true;
    const log = env.log;
    for (;;) {
      if (++this.processed > this.limit) throw new Reject('E2BIG', `BPF program is too large. Processed ${this.processed} insn`);
      env.pc = pc;
      const pop = (): boolean => {
        this.explored.pathDone(st.checkpoint);
        const p = this.pending.pop();
        if (p === undefined) return false;
        log.resetTo(p.logMark);
        st = p.state; pc = p.pc; prevPc = p.prevPc;
        printState = true;
        return true;
      };
      if (env.cfg.pruneAt[pc] && this.explored.visit(env, st, pc, this.jmps, this.processed)) {
        if (log.enabled) log.add(printState ? `\nfrom ${prevPc} to ${pc}: safe` : `${pc}: safe`);
        if (!pop()) return;
        continue;
      }
      if (log.enabled && printState) {
        log.add(`${prevPc >= 0 ? `\nfrom ${prevPc} to ${pc}: ${fmtFrame(st.cur, st.refs, env)}\n` : ''}${pc}: ${fmtFrame(st.cur, st.refs, env)}`);
        printState = false;
      }
      // Facts name only registers whose value matters here: pruned paths may differ in the others.
      env.facts.observe(pc, st.cur.regs, env.live[pc]! & env.precision.regs[pc]!);
      const ins = env.insns[pc]!;
      let line = -1;
      if (log.enabled) { log.linfo(pc); line = log.mark(); log.add(`${pc}: ${fmtInsn(env.insns, pc, env)}`); }
      env.scratchRegs = 0;
      env.scratchSlots.clear();
      const r = this.step(st, pc, ins);
      const shown = 'fall' in r ? (r.fall ?? r.taken) : st;
      const cbCall = 'cbCall' in r;
      if (line >= 0 && shown !== undefined && !('exit' in r) && !cbCall && !('cbReturn' in r) && (env.scratchRegs !== 0 || env.scratchSlots.size > 0)) {
        log.amend(line, (text) => `${text}${stateColumnPad(text.length)}; ${fmtFrame(shown.cur, shown.refs, env, env.scratchRegs, env.scratchSlots)}`);
      }
      prevPc = pc;
      // After a callback call the kernel prints the caller's whole state before going on.
      if (cbCall && log.enabled && r.fall !== undefined) log.add(`${pc + 1}: ${fmtFrame(r.fall.cur, r.fall.refs, env)}`);
      if ('next' in r && r.cbReturn) {
        // Back at the callback's call: the kernel prints the state as after a jump.
        widenAfterCallback(env, st, r.next);
        pc = r.next;
        printState = true;
        continue;
      }
      if ('next' in r) {
        // Entering a callee prints its first state, as the kernel does.
        if (log.enabled && ins.code === 0x85 && ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_CALL) log.add(`${r.next}: ${fmtFrame(st.cur, st.refs, env)}`);
        pc = r.next;
        continue;
      }
      if ('exit' in r) {
        if (!pop()) return;
        continue;
      }
      if (r.fall !== undefined && r.taken !== undefined) {
        if (this.pending.length >= MAX_PENDING) throw new Reject('E2BIG', `The sequence of ${this.pending.length + 1} jumps is too complex.`);
        if (r.taken.checkpoint !== undefined) r.taken.checkpoint.branches++;
        this.pending.push({ state: r.taken, pc: r.target, prevPc: pc, logMark: log.mark() });
        this.peakPending = Math.max(this.peakPending, this.pending.length);
        st = r.fall; pc = pc + 1;
      } else if (r.taken !== undefined) {
        st = r.taken; pc = r.target;
      } else if (r.fall !== undefined) {
        st = r.fall; pc = pc + 1;
      } else if (!pop()) return;
    }
  }

  private step(st: VState, pc: number, ins: Insn): Step {
    const env = this.env;
    const rule = OPCODE_TABLE.get(ins.code);
    if (rule === undefined) invalid(`unknown opcode ${ins.code.toString(16)}`);
    if (rule.kind === 'ja' || rule.kind === 'gotol' || rule.kind === 'jcond' || rule.kind === 'call' || rule.kind === 'exit') this.jmps++;
    switch (rule.kind) {
      case 'alu': case 'neg': case 'end': case 'bswap':
        checkAlu(env, st, ins);
        return { next: pc + 1 };
      case 'ldx': case 'ldxsx': {
        readReg(env, st, ins.src);
        env.facts.mem(pc, st.reg(ins.src));
        const v = checkMemAccess(env, st, { regno: ins.src, off: ins.off, size: sizeBytes(bpfSize(ins.code)), write: false, signed: rule.kind === 'ldxsx' });
        writeReg(env, st, ins.dst, v!);
        return { next: pc + 1 };
      }
      case 'st': case 'stx': {
        readReg(env, st, ins.dst);
        const value = rule.kind === 'st' ? constReg(BigInt(ins.imm)) : readReg(env, st, ins.src);
        env.facts.mem(pc, st.reg(ins.dst));
        checkMemAccess(env, st, { regno: ins.dst, off: ins.off, size: sizeBytes(bpfSize(ins.code)), write: true, value, valueReg: ins.src });
        return { next: pc + 1 };
      }
      case 'atomic': return this.atomic(st, pc, ins, rule.wide);
      case 'lddw': {
        const next = env.insns[pc + 1]!;
        if (ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD) writeReg(env, st, ins.dst, ptrReg('map_ptr', { map: env.mapAt(pc) }));
        else if (ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE) writeReg(env, st, ins.dst, ptrReg('map_value', { map: env.mapAt(pc), off: next.imm }));
        else if (ins.src === BPF_PSEUDO_LD.NONE) writeReg(env, st, ins.dst, constReg((BigInt(next.imm >>> 0) << 32n) | BigInt(ins.imm >>> 0)));
        else if (ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_FUNC) {
          // check_ld_imm: the kernel needs BTF function info to know the callback's prototype.
          if (!hasFuncInfo(env.prog)) invalid('missing btf func_info');
          if (env.prog.funcs.find((f) => f.start === pc + 1 + ins.imm)?.global === true) invalid('callback function not static');
          writeReg(env, st, ins.dst, ptrReg('func', { map: env.cfg.subprogOf[pc + 1 + ins.imm]! }));
        }
        else invalid(`unsupported ld_imm64 src_reg ${ins.src}`);
        return { next: pc + 2 };
      }
      case 'ldabs': case 'ldind': return this.ldAbs(st, pc, ins);
      case 'ja': case 'gotol': return { next: jumpTarget(ins, pc) };
      case 'jcond': {
        const r = checkCondJmp(env, st, ins);
        return { ...r, target: jumpTarget(ins, pc) };
      }
      case 'call':
        if (ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_CALL) return { next: enterCall(env, st, pc, ins.imm) };
        if (ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_KFUNC_CALL) {
          checkKfuncCall(env, st, ins.imm);
          return { next: pc + 1 };
        }
        {
          const cb = checkHelperCall(env, st, pc, ins.imm);
          if (cb !== undefined) return { fall: st, taken: cb, target: env.cfg.subprogs[cb.cur.subprog]!.start, cbCall: true };
          if (env.cfg.cbCall[pc] === 1) return { fall: st, taken: undefined, target: pc + 1, cbCall: true };
        }
        if (ins.imm === BPF_FUNC.tail_call) {
          const ret = tailCallReturn(env, st);
          if (ret !== undefined) return { fall: st, taken: ret.state, target: ret.pc };
        }
        return { next: pc + 1 };
      case 'exit': {
        // A subprogram's r0 goes back to its caller as it is, unset included (the kernel's
        // prepare_func_exit): only a caller that reads it is refused.
        if (st.frames.length > 1) {
          const cb = st.cur.inCallback;
          const next = returnFromCall(env, st);
          return cb ? { next, cbReturn: true } : { next };
        }
        const r0 = readReg(env, st, 0);
        checkNoRefs(st);
        // The return value is the verdict the host acts on: never an address (the kernel lets a
        // CAP_PERFMON loader return one; a loader without it gets this message).
        checkReturnCode(env, r0);
        if (isPointer(r0)) reject('R0 leaks addr as return value');
        return { exit: true };
      }
    }
  }

  private atomic(st: VState, pc: number, ins: Insn, wide: boolean): Step {
    const env = this.env;
    const size = wide ? 8 : 4;
    const base = readReg(env, st, ins.dst);
    readReg(env, st, ins.src);
    const cmpxchg = ins.imm === BPF_ATOMIC_OP.BPF_CMPXCHG;
    if (cmpxchg) readReg(env, st, 0);
    env.facts.mem(pc, base);
    const old = checkMemAccess(env, st, { regno: ins.dst, off: ins.off, size, write: false, atomic: true })!;
    checkMemAccess(env, st, { regno: ins.dst, off: ins.off, size, write: true, atomic: true });
    const fetched = old.type === 'scalar' ? (wide ? old : scalarReg(zext32(val32(old.s)))) : scalarReg(unknownOfSize(size));
    if (cmpxchg) writeReg(env, st, 0, fetched);
    else if ((ins.imm & BPF_ATOMIC_OP.BPF_FETCH) !== 0) writeReg(env, st, ins.src, fetched);
    return { next: pc + 1 };
  }

  private ldAbs(st: VState, pc: number, ins: Insn): Step {
    const env = this.env;
    const t = env.progType;
    if (t !== BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER && t !== BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS && t !== BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_ACT) {
      invalid('BPF_LD_[ABS|IND] instructions not allowed for this program type');
    }
    checkResourceLeak(st, 'BPF_LD_[ABS|IND]');
    if (st.reg(6).type !== 'ctx') invalid('at the time of BPF_LD_ABS|IND R6 != pointer to skb');
    if (OPCODE_TABLE.get(ins.code)?.kind === 'ldind') {
      const s = readReg(env, st, ins.src);
      if (s.type !== 'scalar') reject(`R${ins.src} invalid mem access '${s.type}'`);
    }
    for (let r = 1; r <= 5; r++) st.setReg(r, NOT_INIT);
    writeReg(env, st, 0, scalarReg(unknownOfSize(sizeBytes(bpfSize(ins.code)))));
    // A load outside the packet ends the current function with r0 = 0 (the kernel's hidden exit in
    // bpf_gen_ld_abs): in a subprogram, the caller goes on with 0, a path explored as well.
    if (st.frames.length > 1) {
      const ret = st.clone();
      ret.setReg(0, constReg(0n));
      return { fall: st, taken: ret, target: returnFromCall(env, ret) };
    }
    return { next: pc + 1 };
  }
}

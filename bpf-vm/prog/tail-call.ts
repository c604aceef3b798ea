// The other half of bpf_tail_call: running the target. A tail call replaces the current frame:
// the target starts at its entry with r1 = the same context, and when it exits, its r0 is what the
// frame that made the call returns (to the program's caller, or, for a call made in a bpf-to-bpf
// subprogram, to that subprogram's caller, as the kernel's JIT does). The engine runs the target
// synchronously, then leaves the calling frame (ExecEnv.tailCalled).
//
// Each target runs in an environment of its own (its own map table and stack) that shares the
// caller's packet, context, redirect target, trace sink and CPU; environments are made on first use
// and kept, per calling environment and target, so a chain of N calls holds at most N of them.
// Targets are verified on first use (the kernel verified them at load: no fd of a rejected
// program exists there), and a rejected one faults.
import { createEngine, type Engine, type EngineName } from '../engines.ts';
import { BpfError, RuntimeFault } from '../errors.ts';
import { ExecEnv, type TailCallRunner } from '../interp/env.ts';
import { REGION_ID } from '../interp/regions.ts';
import type { BpfMap } from '../maps/map.ts';
import { ProgArrayMap } from '../maps/prog-array.ts';
import { VerifierError, type VerifyResult } from '../verifier/api.ts';
import { verifyProgram } from '../verifier/index.ts';
import { BPF_PSEUDO_LD } from '../isa/opcodes.ts';
import { prepareProgram, type PreparedProgram } from './prepare.ts';
import type { Program } from './program.ts';

interface Ready {
  prepared: PreparedProgram;
  verified: VerifyResult | undefined;
}

/** Verification and preparation of a target, once per program (a program does not change). */
const READY = new WeakMap<Program, Ready>();

function ready(prog: Program, pc: number, verify: boolean): Ready {
  let r = READY.get(prog);
  if (r === undefined || (verify && r.verified === undefined)) {
    let verified: VerifyResult | undefined;
    if (verify) {
      try {
        verified = verifyProgram(prog);
      } catch (e) {
        if (e instanceof VerifierError) throw new RuntimeFault(pc, `bpf_tail_call: target ${prog.name} is rejected by the verifier: ${e.message}`);
        throw e;
      }
    }
    r = { prepared: prepareProgram({ type: prog.type, insns: prog.insns, fds: prog.fds }), verified };
    READY.set(prog, r);
  }
  return r;
}

/**
 * bpf_check_tail_call at load: every PROG_ARRAY a program uses gets the program's type as its owner,
 * or must have it already (EINVAL otherwise: tail calls stay within one program type).
 */
export function claimProgArrays(prog: Program): void {
  for (const ins of prog.insns) {
    if (ins.code !== 0x18 || ins.src !== BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD) continue;
    const m = prog.fds.get(ins.imm);
    if (m instanceof ProgArrayMap && !m.claimOwner(prog.type)) {
      throw new BpfError('EINVAL', `${prog.name}: PROG_ARRAY '${m.spec.name}' holds programs of type ${m.ownerType()}, not ${prog.type}`);
    }
  }
}

export class TailCaller implements TailCallRunner {
  private readonly targets = new Map<Program, { env: ExecEnv; engine: Engine }>();

  /** `verify`: whether targets are verified first (as the caller was); `budget`: each run's instruction budget. */
  constructor(readonly engine: EngineName, readonly progType: number, readonly verify: boolean, readonly budget?: number) {}

  call(env: ExecEnv, map: BpfMap, index: number): boolean {
    if (!(map instanceof ProgArrayMap)) return false;
    const prog = map.programAt(index);
    if (prog === undefined) return false;
    // The owner rule makes this impossible for maps filled through update(); kept for safety.
    if (prog.type !== this.progType) return false;
    let t = this.targets.get(prog);
    if (t === undefined) {
      const r = ready(prog, env.pc, this.verify);
      const tenv = new ExecEnv(r.prepared.maps);
      tenv.socks.views.setReads(r.verified?.btfReads);
      // The JIT binds the packet when it compiles: share it before. A calling environment keeps its
      // packet for life (one runner, one XdpBuff), so a cached target stays bound to the right one.
      tenv.xdp = env.xdp;
      tenv.tailCaller = new TailCaller(this.engine, this.progType, this.verify, this.budget);
      const engine = createEngine(this.engine, r.prepared, tenv, { facts: r.verified?.facts, budget: this.budget });
      t = { env: tenv, engine };
      this.targets.set(prog, t);
    }
    const tenv = t.env;
    // What the chain shares with the caller: the packet and context, where a redirect goes, output, CPU.
    tenv.xdp = env.xdp;
    tenv.ctxLoad = env.ctxLoad;
    tenv.regions[REGION_ID.PACKET] = env.regions[REGION_ID.PACKET];
    tenv.regions[REGION_ID.CTX] = env.regions[REGION_ID.CTX];
    tenv.redirect = env.redirect;
    tenv.trace = env.trace;
    tenv.cpu = env.cpu;
    tenv.tailCallCount = env.tailCallCount + 1;
    tenv.tailCalled = false;
    // tc, socket filters and SK_LOOKUP: the skb or the lookup, and the stack whose sockets they see.
    tenv.netHost = env.netHost;
    tenv.skLookup = env.skLookup;
    tenv.skb = env.skb;
    tenv.redirectFlags = env.redirectFlags;
    tenv.skbAtIngress = env.skbAtIngress;
    const R = tenv.R;
    R[2] = env.R[2]!;
    R[3] = env.R[3]!;
    for (let i = 4; i < 12; i++) R[i] = 0;
    try {
      t.engine.run();
    } finally {
      // Sockets are per program: whatever the target looked up is gone when it ends.
      if (tenv.socks.inUse !== 0) tenv.socks.reset(tenv.netHost);
    }
    env.redirectFlags = tenv.redirectFlags;
    env.R[0] = R[0]!;
    env.R[1] = R[1]!;
    return true;
  }
}

// An SK_LOOKUP program made ready to run lookup after lookup (net's SkLookupRunArray runs it as one
// of a netns's programs): verified (SK_PASS/SK_DROP enforced) and prepared once, one environment
// whose context is the lookup being run (struct bpf_sk_lookup over a BpfSkLookupKern, read by
// sk-lookup-ctx.ts) and whose socket helpers reach the stack through `netHost`.
import { createEngine, DEFAULT_ENGINE, type Engine, type EngineName, type EngineOptions } from '../engines.ts';
import { BpfError } from '../errors.ts';
import { ExecEnv, type TraceSink } from '../interp/env.ts';
import { REGION_ID, regionTag } from '../interp/regions.ts';
import { verifyProgram } from '../verifier/index.ts';
import type { VerifyResult } from '../verifier/api.ts';
import { prepareProgram, type PreparedProgram } from './prepare.ts';
import type { Program } from './program.ts';
import { skLookupCtxLoad } from './sk-lookup-ctx.ts';
import type { BpfNetHost, BpfSkLookupKern } from './sock-host.ts';
import { claimProgArrays, TailCaller } from './tail-call.ts';
import { BPF_PROG_TYPE } from './types.ts';

const CTX_HI = regionTag(REGION_ID.CTX);

export interface SkLookupRunnerOptions extends EngineOptions {
  engine?: EngineName;
  cpu?: number;
  trace?: TraceSink;
  seed?: number;
  verify?: boolean | VerifyResult;
  netHost?: BpfNetHost;
}

export class SkLookupProgramRunner {
  readonly env: ExecEnv;
  readonly prepared: PreparedProgram;
  /** What the verifier proved, or undefined when run unverified. */
  readonly verified: VerifyResult | undefined;
  private readonly engine: Engine;

  constructor(readonly program: Program, opts: SkLookupRunnerOptions = {}) {
    if (program.type !== BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP) {
      throw new BpfError('EINVAL', `${program.name}: not an SK_LOOKUP program (section '${program.section}')`);
    }
    const v = opts.verify ?? true;
    this.verified = v === true ? verifyProgram(program) : v === false ? undefined : v;
    this.prepared = prepareProgram({ type: program.type, insns: program.insns, fds: program.fds });
    claimProgArrays(program);
    this.env = new ExecEnv(this.prepared.maps, opts.seed ?? (0x2545f491 ^ Math.imul(opts.cpu ?? 0, 0x9e3779b9)));
    this.env.cpu = opts.cpu ?? 0;
    if (opts.trace) this.env.trace = opts.trace;
    this.env.netHost = opts.netHost;
    this.env.ctxLoad = skLookupCtxLoad;
    const engine = opts.engine ?? (this.verified ? DEFAULT_ENGINE : 'interp');
    this.engine = createEngine(engine, this.prepared, this.env, { ...opts, facts: this.verified?.facts });
    this.env.tailCaller = new TailCaller(engine, program.type, this.verified !== undefined, opts.budget);
  }

  get engineName(): EngineName {
    return this.engine.name;
  }

  /** Runs on `ctx`; bpf_sk_assign sets ctx.selected_sk / no_reuseport. Returns r0 (SK_PASS/SK_DROP). */
  run(ctx: BpfSkLookupKern): number {
    const env = this.env;
    const R = env.R;
    env.skLookup = ctx;
    R[2] = 0;
    R[3] = CTX_HI;
    if (this.verified === undefined) for (let i = 4; i < 12; i++) R[i] = 0;
    env.tailCallCount = 0;
    try {
      this.engine.run();
    } finally {
      // Sockets the program still holds (only an unverified one can) go back to the stack.
      env.socks.reset(env.netHost);
    }
    return R[0]! >>> 0;
  }
}

// An SK_LOOKUP program made ready to run lookup after lookup (net's SkLookupRunArray runs it as one
// of a netns's programs): verified (SK_PASS/SK_DROP enforced) and prepared once, one environment
// whose context is the lookup being run (struct bpf_sk_lookup over a BpfSkLookupKern, read by
// sk-lookup-ctx.ts) and whose socket helpers reach the stack through `netHost`.
import type { Engine, EngineName } from '../engines.ts';
import { BpfError } from '../errors.ts';
import type { ExecEnv } from '../interp/env.ts';
import { REGION_ID, regionTag } from '../interp/regions.ts';
import type { VerifyResult } from '../verifier/api.ts';
import type { PreparedProgram } from './prepare.ts';
import type { Program } from './program.ts';
import { skLookupCtxLoad } from './sk-lookup-ctx.ts';
import type { BpfSkLookupKern } from './sock-host.ts';
import { setupRunner, startEngine, type RunnerOptions } from './runner-setup.ts';
import { BPF_PROG_TYPE } from './types.ts';

const CTX_HI = regionTag(REGION_ID.CTX);

/** Options of every runner (runner-setup.ts): engine, CPU, trace, seed, verify, the stack's sockets. */
export type SkLookupRunnerOptions = RunnerOptions;

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
    const s = setupRunner(program, opts);
    this.env = s.env;
    this.prepared = s.prepared;
    this.verified = s.verified;
    this.env.ctxLoad = skLookupCtxLoad;
    this.engine = startEngine(program, s, opts);
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

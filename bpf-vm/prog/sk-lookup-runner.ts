// CONTRACT (issue 16): an SK_LOOKUP program made ready to run lookup after lookup. The
// implementer replaces the body; the API stays.
import { BpfError } from '../errors.ts';
import type { EngineName, EngineOptions } from '../engines.ts';
import type { ExecEnv, TraceSink } from '../interp/env.ts';
import type { VerifyResult } from '../verifier/api.ts';
import type { Program } from './program.ts';
import type { BpfNetHost, BpfSkLookupKern } from './sock-host.ts';

export interface SkLookupRunnerOptions extends EngineOptions {
  engine?: EngineName;
  cpu?: number;
  trace?: TraceSink;
  seed?: number;
  verify?: boolean | VerifyResult;
  netHost?: BpfNetHost;
}

export class SkLookupProgramRunner {
  readonly env!: ExecEnv;
  constructor(readonly program: Program, _opts: SkLookupRunnerOptions = {}) {
    throw new BpfError('EOPNOTSUPP', `${program.name}: SK_LOOKUP programs are not runnable yet`);
  }

  /** Runs on `ctx`; bpf_sk_assign sets ctx.selected_sk / no_reuseport. Returns r0 (SK_PASS/SK_DROP). */
  run(_ctx: BpfSkLookupKern): number {
    return 0;
  }
}

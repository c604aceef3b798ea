// CONTRACT (issue 16): a tc (SCHED_CLS/SCHED_ACT) or SOCKET_FILTER program made ready to run skb
// after skb, as XdpProgramRunner is for XDP. The implementer replaces the body; the API stays.
import { BpfError } from '../errors.ts';
import type { EngineName, EngineOptions } from '../engines.ts';
import type { ExecEnv, TraceSink } from '../interp/env.ts';
import type { VerifyResult } from '../verifier/api.ts';
import type { Program } from './program.ts';
import type { BpfNetHost, BpfSkb } from './sock-host.ts';

export interface SkbRunnerOptions extends EngineOptions {
  engine?: EngineName;
  cpu?: number;
  trace?: TraceSink;
  seed?: number;
  verify?: boolean | VerifyResult;
  /** The stack the program runs in: socket helpers, fib_lookup, skb reallocation. */
  netHost?: BpfNetHost;
}

export class SkbProgramRunner {
  readonly env!: ExecEnv;
  constructor(readonly program: Program, _opts: SkbRunnerOptions = {}) {
    throw new BpfError('EOPNOTSUPP', `${program.name}: tc and socket filter programs are not runnable yet`);
  }

  /**
   * Runs on `skb` (data at the link header for tc; where the protocol left it for a socket
   * filter); `ingress`: tc ingress (bpf_sk_assign and the redirect flags depend on it). Returns r0
   * as u32 (TC_ACT_* for tc, bytes to keep for a socket filter). After a TC_ACT_REDIRECT,
   * env.redirect.ifindex and env.redirectFlags say where.
   */
  run(_skb: BpfSkb, _ingress: boolean): number {
    return 0;
  }
}

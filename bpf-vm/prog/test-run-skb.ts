// CONTRACT (issue 16): BPF_PROG_TEST_RUN for tc and socket filter programs (bpf_prog_test_run_skb).
import { BpfError } from '../errors.ts';
import type { EngineName } from '../engines.ts';
import type { Program } from './program.ts';
import type { SkbRunnerOptions } from './skb-runner.ts';

export interface SkbTestRunOptions extends SkbRunnerOptions {
  dataIn: Uint8Array;
  /** ctx_in: struct __sk_buff (only the fields the kernel lets a test set; others EINVAL). */
  ctxIn?: Uint8Array;
  ctxOut?: boolean;
  repeat?: number;
  engine?: EngineName;
}

export interface SkbTestRunResult {
  retval: number;
  dataOut: Uint8Array;
  ctxOut?: Uint8Array;
  durationNs: number;
  repeat: number;
}

export function bpfProgTestRunSkb(prog: Program, _opts: SkbTestRunOptions): SkbTestRunResult {
  throw new BpfError('EOPNOTSUPP', `${prog.name}: BPF_PROG_TEST_RUN for tc is not implemented yet`);
}

// CONTRACT (issue 16): BPF_PROG_TEST_RUN for SK_LOOKUP (bpf_prog_test_run_sk_lookup).
import { BpfError } from '../errors.ts';
import type { Program } from './program.ts';
import type { SkLookupRunnerOptions } from './sk-lookup-runner.ts';

export interface SkLookupTestRunOptions extends SkLookupRunnerOptions {
  /** ctx_in: struct bpf_sk_lookup (72 bytes; sk/cookie must be 0). Required, as the kernel's. */
  ctxIn: Uint8Array;
  repeat?: number;
}

export interface SkLookupTestRunResult {
  retval: number;
  /** ctx_out: struct bpf_sk_lookup with cookie = the selected socket's cookie (0 if none). */
  ctxOut: Uint8Array;
  durationNs: number;
  repeat: number;
}

export function bpfProgTestRunSkLookup(prog: Program, _opts: SkLookupTestRunOptions): SkLookupTestRunResult {
  throw new BpfError('EOPNOTSUPP', `${prog.name}: BPF_PROG_TEST_RUN for sk_lookup is not implemented yet`);
}

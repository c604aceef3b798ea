// What every program runner (XDP, tc and socket filters, SK_LOOKUP) does before its first run:
// verify (unless told not to), prepare the instructions once, build the one environment (CPU,
// per-CPU random seed, trace sink, the stack its socket helpers reach), check per-CPU maps against
// the CPU, then, once the runner has set its context up (the JIT binds it when it compiles),
// create the engine and the tail-call runner.
import { createEngine, DEFAULT_ENGINE, type Engine, type EngineName, type EngineOptions } from '../engines.ts';
import { BpfError } from '../errors.ts';
import { ExecEnv, type TraceSink } from '../interp/env.ts';
import { BPF_MAP_TYPE } from '../maps/map.ts';
import type { VerifyResult } from '../verifier/api.ts';
import { verifyProgram } from '../verifier/index.ts';
import { prepareProgram, type PreparedProgram } from './prepare.ts';
import type { Program } from './program.ts';
import type { BpfNetHost } from './sock-host.ts';
import { claimProgArrays, TailCaller } from './tail-call.ts';

export interface RunnerOptions extends EngineOptions {
  engine?: EngineName;
  /** CPU id seen by PERCPU maps and bpf_get_smp_processor_id. */
  cpu?: number;
  trace?: TraceSink;
  /** Seed of bpf_get_prandom_u32, for reproducible runs. */
  seed?: number;
  /**
   * Verify before running (default). With `false` the interpreter's bounds checks are the only
   * guard, as `vxo prog run --no-verify`; a verified result may also be passed in to reuse it.
   */
  verify?: boolean | VerifyResult;
  /** The stack whose sockets the socket helpers see (its fib for bpf_fib_lookup); none: no sockets. */
  netHost?: BpfNetHost;
}

export interface RunnerSetup {
  readonly env: ExecEnv;
  readonly prepared: PreparedProgram;
  /** What the verifier proved, or undefined when run unverified. */
  readonly verified: VerifyResult | undefined;
}

const PERCPU_TYPES: ReadonlySet<number> = new Set([
  BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_PERCPU_HASH,
]);

export function setupRunner(program: Program, opts: RunnerOptions): RunnerSetup {
  const v = opts.verify ?? true;
  const verified = v === true ? verifyProgram(program) : v === false ? undefined : v;
  const prepared = prepareProgram({ type: program.type, insns: program.insns, fds: program.fds });
  claimProgArrays(program);
  // Each CPU draws its own random sequence, as the kernel's per-CPU prandom state does.
  const env = new ExecEnv(prepared.maps, opts.seed ?? (0x2545f491 ^ Math.imul(opts.cpu ?? 0, 0x9e3779b9)));
  env.cpu = opts.cpu ?? 0;
  for (const m of prepared.maps) {
    const nrCpus = m.share().nrCpus;
    if (env.cpu >= nrCpus && PERCPU_TYPES.has(m.spec.type)) {
      throw new BpfError('EINVAL', `${program.name}: runs on cpu ${env.cpu} but per-CPU map ${m.spec.name} has ${nrCpus} CPUs`);
    }
  }
  if (opts.trace) env.trace = opts.trace;
  env.netHost = opts.netHost;
  // BTF pointers hold the fields the program's loads may read (all of them when unverified).
  env.socks.views.setReads(verified?.btfReads);
  return { env, prepared, verified };
}

/**
 * The engine, once the context is in place. The JIT is the default for verified programs; an
 * unverified one runs where every access is checked, the interpreter, unless the caller asks for
 * the JIT (which then checks every access).
 */
export function startEngine(program: Program, s: RunnerSetup, opts: RunnerOptions): Engine {
  const engine = opts.engine ?? (s.verified ? DEFAULT_ENGINE : 'interp');
  const e = createEngine(engine, s.prepared, s.env, { ...opts, facts: s.verified?.facts });
  s.env.tailCaller = new TailCaller(engine, program.type, s.verified !== undefined, opts.budget);
  return e;
}

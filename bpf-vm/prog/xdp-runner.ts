// An XDP program made ready to run packet after packet: prepared once, one environment, one
// packet region whose bounds move per packet. This is what the NIC, the tap and the guest use.
import { createEngine, DEFAULT_ENGINE, type Engine, type EngineName, type EngineOptions } from '../engines.ts';
import { BpfError } from '../errors.ts';
import { clearRedirect, ExecEnv, type TraceSink } from '../interp/env.ts';
import { REGION_ID, regionTag } from '../interp/regions.ts';
import { verifyProgram } from '../verifier/index.ts';
import type { VerifyResult } from '../verifier/api.ts';
import { prepareProgram, type PreparedProgram } from './prepare.ts';
import type { Program } from './program.ts';
import { BPF_MAP_TYPE } from '../maps/map.ts';
import { BPF_PROG_TYPE } from './types.ts';
import { XdpBuff, xdpCtxLoad } from './xdp.ts';
import { claimProgArrays, TailCaller } from './tail-call.ts';
import type { BpfNetHost } from './sock-host.ts';

const CTX_HI = regionTag(REGION_ID.CTX);

export interface XdpRunnerOptions extends EngineOptions {
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
  /** The stack whose sockets bpf_sk_lookup_* find (the guest's for native XDP); none: no sockets. */
  netHost?: BpfNetHost;
}

export class XdpProgramRunner {
  readonly env: ExecEnv;
  readonly xdp: XdpBuff;
  readonly prepared: PreparedProgram;
  /** What the verifier proved, or undefined when run unverified. */
  readonly verified: VerifyResult | undefined;
  private readonly engine: Engine;

  constructor(readonly program: Program, opts: XdpRunnerOptions = {}) {
    if (program.type !== BPF_PROG_TYPE.BPF_PROG_TYPE_XDP) {
      throw new BpfError('EINVAL', `${program.name}: not an XDP program (section '${program.section}')`);
    }
    const v = opts.verify ?? true;
    this.verified = v === true ? verifyProgram(program) : v === false ? undefined : v;
    this.prepared = prepareProgram({ type: program.type, insns: program.insns, fds: program.fds });
    claimProgArrays(program);
    // Each CPU draws its own random sequence, as the kernel's per-CPU prandom state does.
    this.env = new ExecEnv(this.prepared.maps, opts.seed ?? (0x2545f491 ^ Math.imul(opts.cpu ?? 0, 0x9e3779b9)));
    this.env.cpu = opts.cpu ?? 0;
    for (const m of this.prepared.maps) {
      const nrCpus = m.share().nrCpus;
      if (this.env.cpu >= nrCpus && (m.spec.type === BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY || m.spec.type === BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_HASH ||
        m.spec.type === BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_PERCPU_HASH)) {
        throw new BpfError('EINVAL', `${program.name}: runs on cpu ${this.env.cpu} but per-CPU map ${m.spec.name} has ${nrCpus} CPUs`);
      }
    }
    if (opts.trace) this.env.trace = opts.trace;
    this.env.netHost = opts.netHost;
    this.xdp = new XdpBuff(new Uint8Array(0));
    this.env.xdp = this.xdp;
    this.env.ctxLoad = xdpCtxLoad;
    this.env.regions[REGION_ID.PACKET] = this.xdp.region;
    // The JIT is the default for verified programs; an unverified one runs where every access is
    // checked, the interpreter, unless the caller asks for the JIT (which then checks every access).
    const engine = opts.engine ?? (this.verified ? DEFAULT_ENGINE : 'interp');
    this.engine = createEngine(engine, this.prepared, this.env, { ...opts, facts: this.verified?.facts });
    this.env.tailCaller = new TailCaller(engine, program.type, this.verified !== undefined, opts.budget);
  }

  get engineName(): EngineName {
    return this.engine.name;
  }

  /** Runs on the packet prepared in `this.xdp`; returns the action (r0 as u32). */
  run(): number {
    const R = this.env.R;
    R[2] = 0;
    R[3] = CTX_HI;
    // r2-r5 are uninitialised at entry: a verified program never reads them (the verifier refuses
    // it), so only an unverified run needs them cleared, for its checked reads to be repeatable.
    if (this.verified === undefined) for (let i = 4; i < 12; i++) R[i] = 0;
    // A redirect target lasts one run, as the kernel's per-CPU redirect info does.
    clearRedirect(this.env.redirect);
    this.env.tailCallCount = 0;
    // A run that faulted may have left sockets held.
    if (this.env.socks.inUse !== 0) this.env.socks.reset(this.env.netHost);
    this.engine.run();
    // Sockets the program looked up and still holds (only an unverified program can) go back.
    if (this.env.socks.inUse !== 0) this.env.socks.reset(this.env.netHost);
    return R[0]! >>> 0;
  }
}

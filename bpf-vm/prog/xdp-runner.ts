// An XDP program made ready to run packet after packet: prepared once, one environment, one
// packet region whose bounds move per packet. This is what the NIC, the tap and the guest use.
import { createEngine, DEFAULT_ENGINE, type Engine, type EngineName, type EngineOptions } from '../engines.ts';
import { BpfError } from '../errors.ts';
import { ExecEnv, type TraceSink } from '../interp/env.ts';
import { REGION_ID, regionTag } from '../interp/regions.ts';
import { prepareProgram, type PreparedProgram } from './prepare.ts';
import type { Program } from './program.ts';
import { BPF_PROG_TYPE } from './types.ts';
import { XdpBuff, xdpCtxLoad } from './xdp.ts';

const CTX_HI = regionTag(REGION_ID.CTX);

export interface XdpRunnerOptions extends EngineOptions {
  engine?: EngineName;
  /** CPU id seen by PERCPU maps and bpf_get_smp_processor_id. */
  cpu?: number;
  trace?: TraceSink;
  /** Seed of bpf_get_prandom_u32, for reproducible runs. */
  seed?: number;
}

export class XdpProgramRunner {
  readonly env: ExecEnv;
  readonly xdp: XdpBuff;
  readonly prepared: PreparedProgram;
  private readonly engine: Engine;

  constructor(readonly program: Program, opts: XdpRunnerOptions = {}) {
    if (program.type !== BPF_PROG_TYPE.BPF_PROG_TYPE_XDP) {
      throw new BpfError('EINVAL', `${program.name}: not an XDP program (section '${program.section}')`);
    }
    this.prepared = prepareProgram({ type: program.type, insns: program.insns, fds: program.fds });
    this.env = new ExecEnv(this.prepared.maps, opts.seed);
    this.env.cpu = opts.cpu ?? 0;
    if (opts.trace) this.env.trace = opts.trace;
    this.xdp = new XdpBuff(new Uint8Array(0));
    this.env.xdp = this.xdp;
    this.env.ctxLoad = xdpCtxLoad;
    this.env.regions[REGION_ID.PACKET] = this.xdp.region;
    this.engine = createEngine(opts.engine ?? DEFAULT_ENGINE, this.prepared, this.env, opts);
  }

  get engineName(): EngineName {
    return this.engine.name;
  }

  /** Runs on the packet prepared in `this.xdp`; returns the action (r0 as u32). */
  run(): number {
    const R = this.env.R;
    R[2] = 0;
    R[3] = CTX_HI;
    this.engine.run();
    return R[0]! >>> 0;
  }
}

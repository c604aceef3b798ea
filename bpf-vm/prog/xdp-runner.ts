// An XDP program made ready to run packet after packet: prepared once, one environment, one
// packet region whose bounds move per packet. This is what the NIC, the tap and the guest use.
import type { Engine, EngineName } from '../engines.ts';
import { BpfError } from '../errors.ts';
import { clearRedirect, type ExecEnv } from '../interp/env.ts';
import { REGION_ID, regionTag } from '../interp/regions.ts';
import type { VerifyResult } from '../verifier/api.ts';
import type { PreparedProgram } from './prepare.ts';
import type { Program } from './program.ts';
import { BPF_PROG_TYPE } from './types.ts';
import { XdpBuff, xdpCtxLoad } from './xdp.ts';
import { setupRunner, startEngine, type RunnerOptions } from './runner-setup.ts';

const CTX_HI = regionTag(REGION_ID.CTX);

/** Options of every runner (runner-setup.ts): engine, CPU, trace, seed, verify, the stack's sockets. */
export type XdpRunnerOptions = RunnerOptions;

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
    const s = setupRunner(program, opts);
    this.env = s.env;
    this.prepared = s.prepared;
    this.verified = s.verified;
    this.xdp = new XdpBuff(new Uint8Array(0));
    this.env.xdp = this.xdp;
    this.env.ctxLoad = xdpCtxLoad;
    this.env.regions[REGION_ID.PACKET] = this.xdp.region;
    this.engine = startEngine(program, s, opts);
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

// A tc (SCHED_CLS/SCHED_ACT) or SOCKET_FILTER program made ready to run skb after skb, as
// XdpProgramRunner is for XDP: verified and prepared once, one environment whose packet region is
// pointed at each skb's head in turn (skb-ctx.ts), struct __sk_buff loads and stores answered from
// the skb itself.
import type { Engine, EngineName } from '../engines.ts';
import { BpfError } from '../errors.ts';
import type { ExecEnv } from '../interp/env.ts';
import { Region, REGION_ID, regionTag } from '../interp/regions.ts';
import type { VerifyResult } from '../verifier/api.ts';
import type { PreparedProgram } from './prepare.ts';
import type { Program } from './program.ts';
import { bindSkbPacket, skbCtxLoad } from './skb-ctx.ts';
import type { BpfSkb } from './sock-host.ts';
import { setupRunner, startEngine, type RunnerOptions } from './runner-setup.ts';
import { BPF_PROG_TYPE } from './types.ts';

const CTX_HI = regionTag(REGION_ID.CTX);
/** TC_ACT_SHOT: what the unclone prologue returns when the skb cannot be made writable. */
const TC_ACT_SHOT = 2;

/** Options of every runner (runner-setup.ts): engine, CPU, trace, seed, verify, the stack (socket helpers, fib_lookup, skb reallocation). */
export type SkbRunnerOptions = RunnerOptions;

/** Whether a program of this type runs on struct __sk_buff here. */
export function isSkbProgType(type: number): boolean {
  return type === BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS || type === BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_ACT ||
    type === BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER;
}

/**
 * Whether the program may write packet bytes directly (the kernel's seen_direct_write, which adds
 * bpf_unclone_prologue): a store the verifier proved to go to the packet, or, unverified, any
 * store that is not proven to go elsewhere.
 */
function seenDirectWrite(p: PreparedProgram, v: VerifyResult | undefined): boolean {
  for (let pc = 0; pc < p.len; pc++) {
    const cls = p.insns[pc]!.code & 0x07;
    // BPF_ST, BPF_STX (atomics included).
    if (cls !== 0x02 && cls !== 0x03) continue;
    if (v === undefined) return true;
    const k = v.facts[pc]?.mem?.kind;
    if (k === undefined || k === 'packet' || k === 'packet_meta') return true;
  }
  return false;
}

export class SkbProgramRunner {
  readonly env: ExecEnv;
  readonly prepared: PreparedProgram;
  /** What the verifier proved, or undefined when run unverified. */
  readonly verified: VerifyResult | undefined;
  /** tc (SCHED_CLS/ACT) rather than a socket filter. */
  readonly tc: boolean;
  private readonly engine: Engine;
  private readonly packet: Region;
  private readonly directWrite: boolean;

  constructor(readonly program: Program, opts: SkbRunnerOptions = {}) {
    if (!isSkbProgType(program.type)) {
      throw new BpfError('EINVAL', `${program.name}: not a tc or socket filter program (section '${program.section}')`);
    }
    this.tc = program.type !== BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER;
    const s = setupRunner(program, opts);
    this.env = s.env;
    this.prepared = s.prepared;
    this.verified = s.verified;
    this.env.ctxLoad = skbCtxLoad;
    this.packet = new Region(REGION_ID.PACKET, 'packet', 'packet', new Uint8Array(0), true);
    this.env.regions[REGION_ID.PACKET] = this.packet;
    this.directWrite = this.tc && seenDirectWrite(this.prepared, this.verified);
    this.engine = startEngine(program, s, opts);
  }

  get engineName(): EngineName {
    return this.engine.name;
  }

  /**
   * Runs on `skb` (data at the link header for tc; where the protocol left it for a socket
   * filter); `ingress`: tc ingress (bpf_sk_assign and the redirect flags depend on it). Returns r0
   * as u32 (TC_ACT_* for tc, bytes to keep for a socket filter). After a TC_ACT_REDIRECT,
   * env.redirect.ifindex and env.redirectFlags say where.
   */
  run(skb: BpfSkb, ingress: boolean): number {
    const env = this.env;
    const host = env.netHost;
    // bpf_unclone_prologue: a program that writes the packet directly gets an skb of its own.
    if (this.directWrite && host !== undefined && host.skb_ensure_writable(skb, skb.len) !== 0) return TC_ACT_SHOT;
    env.skb = skb;
    bindSkbPacket(this.packet, skb);
    env.skbAtIngress = ingress;
    const R = env.R;
    R[2] = 0;
    R[3] = CTX_HI;
    if (this.verified === undefined) for (let i = 4; i < 12; i++) R[i] = 0;
    // A redirect target lasts one run, as the kernel's per-CPU redirect info does.
    const r = env.redirect;
    r.ifindex = 0;
    r.map = undefined;
    r.key = 0;
    r.broadcast = false;
    r.excludeIngress = false;
    env.redirectFlags = 0;
    env.tailCallCount = 0;
    try {
      this.engine.run();
    } finally {
      env.socks.reset(host);
      env.skb = undefined;
    }
    return R[0]! >>> 0;
  }
}

// The JIT engine: a verified (or, unverified, fully checked) program compiled once to JavaScript with
// `new Function`, so V8 turns it into machine code and no instruction is dispatched at run time.
import { RuntimeFault } from '../errors.ts';
import type { Engine } from '../engines.ts';
import { addLow32, atomic32, atomic64 } from '../interp/atomics.ts';
import type { ExecEnv } from '../interp/env.ts';
import { budgetFault, callDepthFault, ctxFault, helperMemFault, memFault, misalignedAtomicFault } from '../interp/faults.ts';
import * as I from '../interp/int64.ts';
import { legacyPacketLoad } from '../interp/legacy-packet-load.ts';
import { REGION_ID, regionTag, type Region } from '../interp/regions.ts';
import { MAX_BPF_STACK, MAX_CALL_FRAMES } from '../isa/opcodes.ts';
import type { PreparedProgram } from '../prog/prepare.ts';
import { redirectToMap } from '../helpers/xdp-helpers.ts';
import { skbCtxStore } from '../prog/skb-ctx.ts';
import type { InsnFacts } from '../verifier/api.ts';
import { generate, type GeneratedCode } from './codegen.ts';

export interface JitOptions {
  budget?: number;
  facts?: readonly (InsnFacts | undefined)[];
  /** Generated functions longer than this (source characters) are split into chunks; tests lower it. */
  maxFunctionChars?: number;
}

/** What generated code may call: fault constructors and the rare out-of-line operations. */
const F = {
  memFault, helperMemFault, ctxFault, misalignedAtomicFault, budgetFault, callDepthFault, legacyPacketLoad, skbCtxStore,
  unknownOpcode: (pc: number, code: number): RuntimeFault => new RuntimeFault(pc, `unknown opcode 0x${code.toString(16)}`),
  fellOff: (pc: number): RuntimeFault => new RuntimeFault(pc, 'execution fell off the end of a function'),
  notFunc: (pc: number, t: number): RuntimeFault => new RuntimeFault(pc, `callback target ${t} is not a function of this program`),
};
const A = { atomic32, atomic64, addLow32 };

const FACTORY_PARAMS = ['env', 'R', 'RG', 'I', 'OUT', 'F', 'A', 'HP', 'MR', 'MHI', 'S', 'X', 'CTX_HI', 'PKT_HI', 'STACK_TOP', 'STACK_HI', 'BUDGET', 'MO', 'RTM'] as const;

export class JitEngine implements Engine {
  readonly name = 'jit' as const;
  readonly code: GeneratedCode;
  readonly run: () => void;

  constructor(readonly prog: PreparedProgram, readonly env: ExecEnv, opts: JitOptions & { budget: number }) {
    this.code = generate({ prog, facts: opts.facts, budget: opts.budget, maxFunctionChars: opts.maxFunctionChars });
    const mapRegions = prog.maps.map((_, i) => env.regions[REGION_ID.FIRST_MAP + i] as Region);
    const factory = new Function(...FACTORY_PARAMS, this.code.source) as (...args: unknown[]) => () => void;
    this.run = factory(
      env, env.R, env.regions, I, I.OUT, F, A, prog.helpers, mapRegions,
      prog.maps.map((_, i) => regionTag(REGION_ID.FIRST_MAP + i)), env.regions[REGION_ID.STACK], env.xdp,
      regionTag(REGION_ID.CTX), regionTag(REGION_ID.PACKET), MAX_BPF_STACK * MAX_CALL_FRAMES, regionTag(REGION_ID.STACK), opts.budget,
      prog.maps, redirectToMap,
    );
  }
}

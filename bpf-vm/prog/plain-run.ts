// Runs raw instructions the way userspace eBPF runtimes' conformance suites do: r1 points to the
// input memory (or is 0 when there is none), r2 holds its length, r10 tops a 512-byte frame, and
// helper 5 returns its first argument.
import { createEngine, type EngineName, type EngineOptions } from '../engines.ts';
import type { HelperProto } from '../helpers/proto.ts';
import { ARG, RET } from '../helpers/proto.ts';
import { ExecEnv } from '../interp/env.ts';
import { pairToBigInt } from '../interp/int64.ts';
import { Region, REGION_ID, regionTag } from '../interp/regions.ts';
import type { Insn } from '../isa/insn.ts';
import { prepareProgram } from './prepare.ts';
import { BPF_PROG_TYPE } from './types.ts';

/** The conformance suite's only helper: id 5 returns its first argument. */
export const conformanceHelper5: HelperProto = {
  id: 5,
  name: 'conformance_identity',
  args: [ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env) { env.setR0(env.R[2]!, env.R[3]!); },
};
export const CONFORMANCE_HELPERS: ReadonlyMap<number, HelperProto> = new Map([[5, conformanceHelper5]]);

export interface PlainRunOptions extends EngineOptions {
  engine?: EngineName;
  helpers?: ReadonlyMap<number, HelperProto>;
}

/** Returns r0 as an unsigned 64-bit value; throws InvalidProgramError or RuntimeFault. */
export function runPlain(insns: readonly Insn[], mem: Uint8Array, opts: PlainRunOptions = {}): bigint {
  const prepared = prepareProgram({ type: BPF_PROG_TYPE.BPF_PROG_TYPE_UNSPEC, insns, helpers: opts.helpers ?? CONFORMANCE_HELPERS });
  const env = new ExecEnv([]);
  // Copy into a fresh (8-byte aligned) buffer so atomics work and the caller's bytes stay as given.
  const copy = new Uint8Array(mem.byteLength);
  copy.set(mem);
  env.regions[REGION_ID.PACKET] = new Region(REGION_ID.PACKET, 'mem', 'mem', copy, true);
  const R = env.R;
  if (mem.byteLength > 0) { R[2] = 0; R[3] = regionTag(REGION_ID.PACKET); }
  R[4] = mem.byteLength;
  // Unverified code: the interpreter unless the caller picks the JIT (which then checks every access).
  createEngine(opts.engine ?? 'interp', prepared, env, opts).run();
  return pairToBigInt(R[0]!, R[1]!);
}

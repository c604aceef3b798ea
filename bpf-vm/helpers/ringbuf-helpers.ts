// bpf_ringbuf_output / reserve / submit / discard / query (kernel/bpf/ringbuf.c): the program side
// of RINGBUF maps. reserve hands out a pointer into the map's data region, which submit or discard
// gives back; the verifier makes sure every reservation is given back exactly once.
import { ERRNO } from '../errno.ts';
import { REGION_ID, regionTag } from '../interp/regions.ts';
import type { ExecEnv } from '../interp/env.ts';
import { BPF_RB, RingBufMap } from '../maps/ringbuf.ts';
import { BPF_FUNC } from './ids.ts';
import { ARG, RET, type HelperProto } from './proto.ts';

function ringOf(env: ExecEnv, what: string): RingBufMap {
  const m = env.resolveMap(env.R[2]!, env.R[3]!, what);
  if (!(m instanceof RingBufMap)) throw env.fault(`${what}: map '${m.spec.name}' is not a RINGBUF map`);
  return m;
}

/** The ring and sample offset a record pointer (r1) names; faults on anything reserve did not return. */
function recordOf(env: ExecEnv, what: string): { ring: RingBufMap; off: number } {
  const lo = env.R[2]!, hi = env.R[3]!;
  const idx = (hi & 0xffff) - REGION_ID.FIRST_MAP;
  const m = (hi >>> 16) === 0xffff && idx >= 0 ? env.maps[idx] : undefined;
  if (!(m instanceof RingBufMap) || !m.isReserved(lo >>> 0)) {
    throw env.fault(`${what}: r1 is not a record reserved by bpf_ringbuf_reserve and not yet submitted or discarded`);
  }
  return { ring: m, off: lo >>> 0 };
}

/** Flags are u64; a set upper half is as unknown as an unknown low bit. */
const flagsArg = (env: ExecEnv, lo: number, hi: number): number => (env.R[hi] !== 0 ? -1 : env.R[lo]!);

export const ringbufOutput: HelperProto = {
  id: BPF_FUNC.ringbuf_output,
  name: 'ringbuf_output',
  args: [ARG.ARG_CONST_MAP_PTR, ARG.ARG_PTR_TO_MEM, ARG.ARG_CONST_SIZE_OR_ZERO, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env) {
    const ring = ringOf(env, 'bpf_ringbuf_output');
    const size = env.R[6]! >>> 0;
    if (env.R[7] !== 0) { env.setR0Int(-ERRNO.EAGAIN); return; }
    const src = env.resolveMem(env.R[4]!, env.R[5]!, size, false, 'bpf_ringbuf_output data');
    env.setR0Int(ring.output(src.u8, env.addr, size, flagsArg(env, 8, 9)));
  },
};

export const ringbufReserve: HelperProto = {
  id: BPF_FUNC.ringbuf_reserve,
  name: 'ringbuf_reserve',
  args: [ARG.ARG_CONST_MAP_PTR, ARG.ARG_CONST_ALLOC_SIZE_OR_ZERO, ARG.ARG_ANYTHING],
  ret: RET.RET_PTR_TO_RINGBUF_MEM_OR_NULL,
  acquires: true,
  impl(env) {
    const ring = ringOf(env, 'bpf_ringbuf_reserve');
    // Flags must be 0; a size past u32 cannot fit any ring.
    if (env.R[6] !== 0 || env.R[7] !== 0 || env.R[5] !== 0) { env.setR0(0, 0); return; }
    const off = ring.reserve(env.R[4]! >>> 0);
    if (off < 0) env.setR0(0, 0);
    else env.setR0(off, regionTag(REGION_ID.FIRST_MAP + (env.R[3]! & 0xffff)));
  },
};

function commitImpl(discard: boolean, what: string) {
  return (env: ExecEnv): void => {
    const { ring, off } = recordOf(env, what);
    // As the kernel's bpf_ringbuf_commit, bits other than NO_WAKEUP/FORCE_WAKEUP are ignored.
    ring.commit(off, env.R[5] !== 0 ? 0 : env.R[4]! & (BPF_RB.BPF_RB_NO_WAKEUP | BPF_RB.BPF_RB_FORCE_WAKEUP), discard);
    env.setR0(0, 0);
  };
}

export const ringbufSubmit: HelperProto = {
  id: BPF_FUNC.ringbuf_submit,
  name: 'ringbuf_submit',
  args: [ARG.ARG_PTR_TO_RINGBUF_MEM, ARG.ARG_ANYTHING],
  ret: RET.RET_VOID,
  releases: true,
  impl: commitImpl(false, 'bpf_ringbuf_submit'),
};

export const ringbufDiscard: HelperProto = {
  id: BPF_FUNC.ringbuf_discard,
  name: 'ringbuf_discard',
  args: [ARG.ARG_PTR_TO_RINGBUF_MEM, ARG.ARG_ANYTHING],
  ret: RET.RET_VOID,
  releases: true,
  impl: commitImpl(true, 'bpf_ringbuf_discard'),
};

export const ringbufQuery: HelperProto = {
  id: BPF_FUNC.ringbuf_query,
  name: 'ringbuf_query',
  args: [ARG.ARG_CONST_MAP_PTR, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env) {
    const ring = ringOf(env, 'bpf_ringbuf_query');
    const v = env.R[5] !== 0 ? 0 : ring.query(env.R[4]! >>> 0);
    env.setR0(v % 0x100000000 | 0, Math.floor(v / 0x100000000) | 0);
  },
};

export const RINGBUF_HELPERS: readonly HelperProto[] = [ringbufOutput, ringbufReserve, ringbufSubmit, ringbufDiscard, ringbufQuery];

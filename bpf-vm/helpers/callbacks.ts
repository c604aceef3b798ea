// Helpers that run a callback of the program: bpf_loop and bpf_for_each_map_elem. The callback is
// a subprogram whose address the program took (ld_imm64 BPF_PSEUDO_FUNC); the engine running the
// program runs it in a frame above the caller's (ExecEnv.callFunc). A callback returns 0 to go on
// and 1 to stop (the verifier proved it returns nothing else).
import { ERRNO } from '../errno.ts';
import { MAX_KEY_NESTING, MAX_KEY_SIZE, type ExecEnv } from '../interp/env.ts';
import { formatPointer, FUNC_PTR_TAG, REGION_ID, regionTag } from '../interp/regions.ts';
import { LruHashMap } from '../maps/lru-hash.ts';
import { BPF_MAP_TYPE, type BpfMap } from '../maps/map.ts';
import { BPF_FUNC } from './ids.ts';
import { ARG, RET, type HelperProto } from './proto.ts';

/** BPF_MAX_LOOPS: bpf_loop refuses more iterations than this with -E2BIG. */
export const BPF_MAX_LOOPS = 1 << 23;

/** Map types whose map_for_each_callback vxo implements (the kernel's for these types). */
export const FOR_EACH_MAP_TYPES: ReadonlySet<number> = new Set([
  BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE.BPF_MAP_TYPE_HASH, BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_PERCPU_HASH,
]);

/** The instruction a function pointer names; faults on anything else (an unverified program's scalar). */
function callbackTarget(env: ExecEnv, lo: number, hi: number, what: string): number {
  if (hi !== FUNC_PTR_TAG) throw env.fault(`${what}: ${formatPointer(lo, hi)} is not a function pointer`);
  return lo;
}

export const loop: HelperProto = {
  id: BPF_FUNC.loop,
  name: 'loop',
  args: [ARG.ARG_ANYTHING, ARG.ARG_PTR_TO_FUNC, ARG.ARG_PTR_TO_STACK_OR_NULL, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env) {
    const R = env.R;
    const args = R.slice(2, 12);
    runLoop(env);
    const r0 = R[0]!, r0h = R[1]!;
    R.set(args, 2);
    env.setR0(r0, r0h);
  },
};

/** bpf_loop proper; r1-r5 are put back by the caller, as the engines keep them across helpers. */
function runLoop(env: ExecEnv): void {
  const R = env.R;
  const n = R[2]! >>> 0;
  const target = callbackTarget(env, R[4]!, R[5]!, 'bpf_loop callback_fn');
  const ctxLo = R[6]!, ctxHi = R[7]!;
  if (R[8] !== 0 || R[9] !== 0) { env.setR0Int(-ERRNO.EINVAL); return; }
  if (n > BPF_MAX_LOOPS) { env.setR0Int(-ERRNO.E2BIG); return; }
  for (let i = 0; i < n; i++) {
    R[2] = i; R[3] = 0; R[4] = ctxLo; R[5] = ctxHi;
    R[6] = 0; R[7] = 0; R[8] = 0; R[9] = 0; R[10] = 0; R[11] = 0;
    env.callFunc(target);
    if (R[0] !== 0 || R[1] !== 0) { env.setR0Int(i + 1); return; }
  }
  env.setR0Int(n);
}

/** The keys to visit, in the order the kernel's walk visits them (index order, or get_next_key order). */
function keysOf(map: BpfMap): Uint8Array[] {
  const t = map.spec.type;
  if (t === BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY || t === BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY) {
    return Array.from({ length: map.spec.maxEntries }, (_, i) => new Uint8Array(new Uint32Array([i]).buffer));
  }
  // Taken before the walk: a callback that deletes or inserts does not make the walk restart.
  const out: Uint8Array[] = [];
  for (let k = map.getNextKey(undefined); k !== undefined; k = map.getNextKey(k)) out.push(k.slice());
  return out;
}

export const forEachMapElem: HelperProto = {
  id: BPF_FUNC.for_each_map_elem,
  name: 'for_each_map_elem',
  args: [ARG.ARG_CONST_MAP_PTR, ARG.ARG_PTR_TO_FUNC, ARG.ARG_PTR_TO_STACK_OR_NULL, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env) {
    const R = env.R;
    const args = R.slice(2, 12);
    runForEach(env);
    const r0 = R[0]!, r0h = R[1]!;
    R.set(args, 2);
    env.setR0(r0, r0h);
  },
};

function runForEach(env: ExecEnv): void {
  const R = env.R;
  const mapLo = R[2]!, mapHi = R[3]!;
  const map = env.resolveMap(mapLo, mapHi, 'bpf_for_each_map_elem');
  const mapIndex = mapHi & 0xffff;
  const target = callbackTarget(env, R[4]!, R[5]!, 'bpf_for_each_map_elem callback_fn');
  const ctxLo = R[6]!, ctxHi = R[7]!;
  if (R[8] !== 0 || R[9] !== 0) { env.setR0Int(-ERRNO.EINVAL); return; }
  if (!FOR_EACH_MAP_TYPES.has(map.spec.type)) { env.setR0Int(-ERRNO.EOPNOTSUPP); return; }
  const ks = map.spec.keySize;
  if (ks > MAX_KEY_SIZE || env.keyDepth >= MAX_KEY_NESTING) throw env.fault('bpf_for_each_map_elem: callbacks nested too deep');
  const keyRegion = env.keyRegion;
  const keyOff = env.keyDepth * MAX_KEY_SIZE;
  const valueHi = regionTag(REGION_ID.FIRST_MAP + mapIndex);
  const keyHi = regionTag(keyRegion.id);
  let visited = 0;
  env.keyDepth++;
  try {
    for (const key of keysOf(map)) {
      // The kernel's walk reads the elements in place: an LRU element is not marked referenced.
      const valueOff = map instanceof LruHashMap ? map.peekValueOffset(key, env.cpu) : map.lookupValueOffset(key, 0, env.cpu);
      if (valueOff < 0) continue; // deleted by an earlier callback
      keyRegion.u8.set(key, keyOff);
      visited++;
      R[2] = mapLo; R[3] = mapHi; R[4] = keyOff; R[5] = keyHi;
      R[6] = valueOff; R[7] = valueHi; R[8] = ctxLo; R[9] = ctxHi; R[10] = 0; R[11] = 0;
      env.callFunc(target);
      if (R[0] !== 0 || R[1] !== 0) break;
    }
  } finally {
    env.keyDepth--;
  }
  env.setR0Int(visited);
}

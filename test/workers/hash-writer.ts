// A writer for the HASH concurrency test: owns keys base..base+nKeys-1 and runs a reproducible
// mix of updates (ANY, NOEXIST, EXIST) and deletes on them, program-side and user-side calls
// alternating, checking every return code against its own model of its keys. Versions only grow,
// so a reader can check that no key ever goes back in time. Reports the model at the end.
import { parentPort, workerData } from 'node:worker_threads';
import { openSharedMap } from '../../bpf-vm/maps/create.ts';
import type { SharedMapState } from '../../bpf-vm/maps/shared.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { mulberry32 } from './prng.ts';
import { encodeValue, keyBytes } from './hash-values.ts';
import { waitForStart } from './spawn.ts';

const { state, control, id, base, nKeys, ops } = workerData as {
  state: SharedMapState; control: Int32Array; id: number; base: number; nKeys: number; ops: number;
};
const map = openSharedMap(state);
const valueSize = state.spec.valueSize;
const rand = mulberry32(0x1234 + id);
/** Version of each key; 0 = absent. The next version of a key is always larger than any before. */
const present = new Uint32Array(nKeys);
let nextVersion = 1;
const errors: string[] = [];
// Program-side calls read keys and values at offsets inside bigger buffers, as from a BPF stack.
const KEY_OFF = 8;
const VAL_OFF = 24;
const stack = new Uint8Array(VAL_OFF + valueSize);

function expect(what: string, got: number, want: number): void {
  if (got !== want && errors.length < 20) errors.push(`${what}: got ${got}, want ${want}`);
}

parentPort!.postMessage('ready');
waitForStart(control);

for (let i = 0; i < ops; i++) {
  const idx = Math.floor(rand() * nKeys);
  const key = base + idx;
  const programSide = (i & 1) === 0;
  const kb = keyBytes(key, stack, KEY_OFF);
  const r = rand();
  if (r < 0.2) {
    const got = programSide ? map.deleteElem(kb, KEY_OFF) : map.delete(kb.slice(KEY_OFF, KEY_OFF + 4));
    expect(`delete ${key}`, got, present[idx] ? 0 : -ERRNO.ENOENT);
    present[idx] = 0;
    continue;
  }
  const flags = r < 0.7 ? 0 : r < 0.85 ? 1 : 2;
  const version = nextVersion++;
  encodeValue(key, version, stack.subarray(VAL_OFF, VAL_OFF + valueSize));
  const got = programSide
    ? map.updateElem(stack, KEY_OFF, stack, VAL_OFF, flags, id)
    : map.update(stack.slice(KEY_OFF, KEY_OFF + 4), stack.slice(VAL_OFF, VAL_OFF + valueSize), flags);
  const exists = present[idx] !== 0;
  const want = flags === 1 && exists ? -ERRNO.EEXIST : flags === 2 && !exists ? -ERRNO.ENOENT : 0;
  expect(`update ${key} flags ${flags}`, got, want);
  if (want === 0) present[idx] = version;
}

Atomics.add(control, 1, 1);
Atomics.notify(control, 1);
const finalState: [number, number][] = [];
present.forEach((v, idx) => { if (v !== 0) finalState.push([base + idx, v]); });
parentPort!.postMessage({ errors, finalState });

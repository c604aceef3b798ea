// A worker of the full-map race: in rounds, tries to insert all of its keys (8-byte keys, BPF_NOEXIST)
// into a HASH map too small for both workers' keys, then deletes about half of what it holds.
// Every return code is checked against its own model (an insert may meet E2BIG, never anything
// else unexpected), and after every operation the map's element count must be <= max_entries.
import { parentPort, workerData } from 'node:worker_threads';
import { openSharedMap } from '../../bpf-vm/maps/create.ts';
import type { HashMap } from '../../bpf-vm/maps/hash.ts';
import type { SharedMapState } from '../../bpf-vm/maps/shared.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { mulberry32 } from './prng.ts';
import { waitForStart } from './spawn.ts';

const { state, control, id, nKeys, rounds } = workerData as {
  state: SharedMapState; control: Int32Array; id: number; nKeys: number; rounds: number;
};
const map = openSharedMap(state) as HashMap;
const maxEntries = state.spec.maxEntries;
const rand = mulberry32(0x5151 + id);
const present = new Uint8Array(nKeys);
const errors: string[] = [];
let inserted = 0;
let refused = 0;
let maxCount = 0;
const key = new Uint8Array(8);
const value = new Uint8Array(8);

function setKey(i: number): void {
  // Worker id in the high word, index in the low word: disjoint key ranges.
  new DataView(key.buffer, key.byteOffset, key.byteLength).setUint32(0, i, true);
  new DataView(key.buffer, key.byteOffset, key.byteLength).setUint32(4, id + 1, true);
}

function check(what: string, got: number, ok: (r: number) => boolean): number {
  if (!ok(got) && errors.length < 20) errors.push(`${what}: got ${got}`);
  const c = map.count();
  if (c > maxCount) maxCount = c;
  if (c > maxEntries && errors.length < 20) errors.push(`count ${c} > max_entries ${maxEntries}`);
  return got;
}

parentPort!.postMessage('ready');
waitForStart(control);

for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < nKeys; i++) {
    setKey(i);
    new DataView(value.buffer, value.byteOffset, value.byteLength).setUint32(0, i, true);
    const r = check(`insert ${id}:${i}`, map.updateElem(key, 0, value, 0, 1, id),
      (g) => (present[i] ? g === -ERRNO.EEXIST : g === 0 || g === -ERRNO.E2BIG));
    if (!present[i] && r === 0) { present[i] = 1; inserted++; }
    if (r === -ERRNO.E2BIG) refused++;
  }
  for (let i = 0; i < nKeys; i++) {
    if (!present[i] || rand() < 0.5) continue;
    setKey(i);
    check(`delete ${id}:${i}`, map.deleteElem(key, 0), (g) => g === 0);
    present[i] = 0;
  }
}

const held: number[] = [];
present.forEach((p, i) => { if (p) held.push(i); });
parentPort!.postMessage({ errors, inserted, refused, maxCount, held });

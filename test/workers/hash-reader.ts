// The reader of the HASH concurrency test. Until every writer is done it looks keys up two ways:
// - user space (lookup, a copy under the map's lock): every value must be whole, belong to its
//   key, and never go back to an older version;
// - program side (lookupValueOffset, then reading the words through an Int32Array over `values`):
//   the value must be whole and belong to its key. A program's pointer has no lock behind it, so
//   an element that is freed and recycled while we read could change under us (the kernel's
//   preallocated maps have the same property); such a read is recognised by looking the key up
//   again (it has moved to another element) and is counted, not failed.
import { parentPort, workerData } from 'node:worker_threads';
import { openSharedMap } from '../../bpf-vm/maps/create.ts';
import type { SharedMapState } from '../../bpf-vm/maps/shared.ts';
import { mulberry32 } from './prng.ts';
import { decodeValue, decodeWords, keyBytes } from './hash-values.ts';
import { waitForStart } from './spawn.ts';

const { state, control, writers, ranges } = workerData as {
  state: SharedMapState; control: Int32Array; writers: number; ranges: [number, number][];
};
const map = openSharedMap(state);
const valueWords = state.spec.valueSize >> 2;
const words = new Int32Array(map.values.buffer, map.values.byteOffset, map.values.byteLength >> 2);
const rand = mulberry32(0xbeef);
const lastSeen = new Map<number, number>();
const errors: string[] = [];
let userHits = 0;
let progHits = 0;
let recycledReads = 0;
let lookups = 0;
const key = new Uint8Array(4);

function fail(msg: string): void {
  if (errors.length < 20) errors.push(msg);
}

parentPort!.postMessage('ready');
waitForStart(control);

while (Atomics.load(control, 1) < writers) {
  const [base, n] = ranges[Math.floor(rand() * ranges.length)]!;
  const k = base + Math.floor(rand() * n);
  keyBytes(k, key);
  lookups++;
  if (lookups & 1) {
    const v = map.lookup(key);
    if (v === undefined) continue;
    userHits++;
    const ver = decodeValue(k, v);
    if (ver < 0) { fail(`lookup(${k}) returned a torn or foreign value`); continue; }
    const prev = lastSeen.get(k) ?? 0;
    if (ver < prev) fail(`lookup(${k}) went back from version ${prev} to ${ver}`);
    lastSeen.set(k, ver);
  } else {
    const off = map.lookupValueOffset(key, 0, 0);
    if (off < 0) continue;
    progHits++;
    if (off % 8 !== 0 || off + state.spec.valueSize > map.values.length) { fail(`lookupValueOffset(${k}) = ${off}`); continue; }
    const ver = decodeWords(k, words, off >> 2, valueWords);
    if (ver >= 0) continue;
    // Ask again. If the key still lives in the same element, its value changed in place under a
    // reader: a torn update. Otherwise the element was freed and recycled while we read. (Both at
    // once, recycled back to this very key, would need the element to go round the whole free
    // ring within our read.)
    const off2 = map.lookupValueOffset(key, 0, 0);
    if (off2 === off) fail(`lookupValueOffset(${k}): value changed in place while read (torn)`);
    else recycledReads++;
  }
}

parentPort!.postMessage({ errors, lookups, userHits, progHits, recycledReads });

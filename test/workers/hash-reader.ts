// The reader of the HASH concurrency test. Until every writer is done it looks keys up two ways:
// - user space (lookup, a copy under the map's lock): every value must be whole, belong to its
//   key, and never go back to an older version;
// - program side (lookupValueOffset, then reading the words through an Int32Array over `values`):
//   the value must be whole and belong to its key. A program's pointer has no lock behind it, so
//   an element that is freed and recycled while we read could change under us (the kernel's
//   preallocated maps have the same property); such a read is recognised by reading again and is
//   counted, not failed. A value that is wrong and stays wrong is a failure.
import { parentPort, workerData } from 'node:worker_threads';
import { openSharedMap } from '../../bpf-vm/maps/create.ts';
import type { SharedMapState } from '../../bpf-vm/maps/shared.ts';
import { mulberry32 } from './prng.ts';
import { decodeValue, keyBytes } from './hash-values.ts';
import { waitForStart } from './spawn.ts';

const { state, control, writers, ranges } = workerData as {
  state: SharedMapState; control: Int32Array; writers: number; ranges: [number, number][];
};
const map = openSharedMap(state);
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
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    const ver = decodeValue(k, dv.getUint32(0, true), dv.getUint32(4, true), dv.getUint32(8, true), dv.getUint32(12, true));
    if (ver < 0) { fail(`lookup(${k}) returned a torn or foreign value`); continue; }
    const prev = lastSeen.get(k) ?? 0;
    if (ver < prev) fail(`lookup(${k}) went back from version ${prev} to ${ver}`);
    lastSeen.set(k, ver);
  } else {
    const off = map.lookupValueOffset(key, 0, 0);
    if (off < 0) continue;
    progHits++;
    if (off % 8 !== 0 || off + 16 > map.values.length) { fail(`lookupValueOffset(${k}) = ${off}`); continue; }
    const w = off >> 2;
    const ver = decodeValue(k, words[w]!, words[w + 1]!, words[w + 2]!, words[w + 3]!);
    if (ver >= 0) continue;
    // Read again: if the slot is still wrong and unchanged, and the key still maps to it, the map
    // handed out a bad value; otherwise the element was recycled under our feet.
    const again = [words[w]!, words[w + 1]!, words[w + 2]!, words[w + 3]!];
    const off2 = map.lookupValueOffset(key, 0, 0);
    const w2 = off2 >> 2;
    const stable = off2 === off && decodeValue(k, words[w2]!, words[w2 + 1]!, words[w2 + 2]!, words[w2 + 3]!) < 0 &&
      again.every((x, i) => x === words[w + i]);
    if (stable) fail(`lookupValueOffset(${k}) points at a value that is not ${k}'s`);
    else recycledReads++;
  }
}

parentPort!.postMessage({ errors, lookups, userHits, progHits, recycledReads });

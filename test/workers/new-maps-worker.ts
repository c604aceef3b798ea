// A worker of the new map types' concurrency tests (test/maps-types-concurrency.test.ts). Modes:
//   lru     inserts keys of its own range (worker id in the top byte) into a shared LRU_HASH far
//           too small for them, with BPF_ANY, and reads back its recent keys. An insert must never
//           fail (E2BIG is what LRU maps do not do), the count never pass max_entries, and a value
//           read is always whole: key and ~key, never half of one element and half of another.
//   lpm     owns the /24 prefixes 10.<id+1>.x.0 (x < 64) of a shared LPM_TRIE holding a default
//           10.0.0.0/8 route: inserts and deletes them at random and, after each operation, looks
//           up an address in each of a few of its prefixes; the answer must be its own route when
//           its model says present, the default route otherwise.
//   percpu  increments its own CPU's copy (cpu = id) of every key of a shared PERCPU_HASH with
//           plain, non-atomic adds, as per-CPU programs do.
import { parentPort, workerData } from 'node:worker_threads';
import { openSharedMap } from '../../bpf-vm/maps/create.ts';
import type { SharedMapState } from '../../bpf-vm/maps/shared.ts';
import { mulberry32 } from './prng.ts';
import { waitForStart } from './spawn.ts';

const { mode, state, control, id, ops } = workerData as {
  mode: 'lru' | 'lpm' | 'percpu'; state: SharedMapState; control: Int32Array; id: number; ops: number;
};
const map = openSharedMap(state);
const rand = mulberry32(0x77 + id);
const errors: string[] = [];
const err = (s: string): void => { if (errors.length < 20) errors.push(s); };
const result: Record<string, unknown> = {};

parentPort!.postMessage('ready');
waitForStart(control);

if (mode === 'lru') {
  const key = new Uint8Array(4);
  const kv = new DataView(key.buffer);
  const value = new Uint8Array(8);
  const vv = new DataView(value.buffer);
  const count = (map as unknown as { count(): number }).count.bind(map);
  let hits = 0;
  let recycled = 0;
  for (let i = 0; i < ops; i++) {
    const k = ((id + 1) << 24) | i;
    kv.setUint32(0, k, true);
    vv.setUint32(0, k, true);
    vv.setUint32(4, ~k, true);
    const r = map.updateElem(key, 0, value, 0, 0, id);
    if (r !== 0) err(`insert ${k.toString(16)}: ${r}`);
    if (count() > state.spec.maxEntries) err(`count ${count()} > ${state.spec.maxEntries}`);
    // A program's lookup of a recent key: present or evicted, never torn.
    const back = ((id + 1) << 24) | Math.max(0, i - Math.floor(rand() * 64));
    kv.setUint32(0, back, true);
    const off = map.lookupValueOffset(key, 0, id);
    if (off >= 0) {
      hits++;
      const dv = new DataView(map.values.buffer, map.values.byteOffset + off, 8);
      const a = dv.getUint32(0, true);
      const b = dv.getUint32(4, true);
      // An element can be evicted and recycled while we read it (the free ring's grace period is
      // a few updates in a full LRU map, as the kernel's preallocated elements have none): a
      // mixed read then comes from an element that no longer holds our key. Mixed values of an
      // element that still does would be a real tear.
      if ((a ^ b) >>> 0 !== 0xffffffff) {
        if (map.lookupValueOffset(key, 0, id) === off) err(`torn value ${a.toString(16)}/${b.toString(16)} for ${back.toString(16)}`);
        else recycled++;
      }
    }
  }
  result.hits = hits;
  result.recycled = recycled;
} else if (mode === 'lpm') {
  const N = 64;
  const present = new Uint8Array(N);
  const key = new Uint8Array(8);
  const kv = new DataView(key.buffer);
  const value = new Uint8Array(4);
  const o2 = id + 1;
  const setKey = (plen: number, x: number, y: number): void => {
    kv.setUint32(0, plen, true);
    key[4] = 10; key[5] = o2; key[6] = x; key[7] = y;
  };
  let checks = 0;
  for (let i = 0; i < ops; i++) {
    const x = Math.floor(rand() * N);
    setKey(24, x, 0);
    if (present[x] && rand() < 0.5) {
      const r = map.deleteElem(key, 0);
      if (r !== 0) err(`delete ${x}: ${r}`);
      present[x] = 0;
    } else {
      new DataView(value.buffer).setUint32(0, (o2 << 8) | x, true);
      const r = map.updateElem(key, 0, value, 0, 0, id);
      if (r !== 0) err(`update ${x}: ${r}`);
      present[x] = 1;
    }
    for (let c = 0; c < 4; c++) {
      const q = Math.floor(rand() * N);
      setKey(32, q, 1 + Math.floor(rand() * 254));
      const off = map.lookupValueOffset(key, 0, id);
      const got = off < 0 ? -1 : new DataView(map.values.buffer, map.values.byteOffset + off, 4).getUint32(0, true);
      const want = present[q] ? (o2 << 8) | q : 0xffff;
      if (got !== want) err(`lookup 10.${o2}.${q}.x: got ${got.toString(16)}, want ${want.toString(16)}`);
      checks++;
    }
  }
  result.present = [...present];
  result.checks = checks;
} else {
  const key = new Uint8Array(4);
  const nKeys = 16;
  for (let i = 0; i < ops; i++) {
    const k = i % nKeys;
    new DataView(key.buffer).setUint32(0, k, true);
    const off = map.lookupValueOffset(key, 0, id);
    if (off < 0) { err(`key ${k} missing`); continue; }
    const dv = new DataView(map.values.buffer, map.values.byteOffset + off, 8);
    dv.setBigUint64(0, dv.getBigUint64(0, true) + BigInt(k + 1), true);
  }
}

parentPort!.postMessage({ errors, ...result });

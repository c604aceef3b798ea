// The new map types shared between worker threads (openSharedMap), as test/maps-concurrency.test.ts
// does for HASH: several workers update one map at once and the end state must be what their
// operations imply. Iteration counts are bounded; nothing is timed.
import test from 'ava';
import type { Worker } from 'node:worker_threads';
import { createMap } from '../bpf-vm/maps/create.ts';
import { dumpMap } from '../bpf-vm/maps/dump.ts';
import type { LruHashMap } from '../bpf-vm/maps/lru-hash.ts';
import type { LpmTrieMap } from '../bpf-vm/maps/lpm-trie.ts';
import { BPF_MAP_FLAG, BPF_MAP_TYPE as T } from '../bpf-vm/maps/map.ts';
import { nextMessage, openStart, spawnTsWorker } from './workers/spawn.ts';

interface Result { errors: string[]; hits?: number; recycled?: number; present?: number[]; checks?: number }

async function runTogether(mode: string, state: unknown, n: number, ops: number): Promise<Result[]> {
  const gate = new Int32Array(new SharedArrayBuffer(16));
  const workers: Worker[] = Array.from({ length: n }, (_, id) => spawnTsWorker('new-maps-worker', { mode, state, control: gate, id, ops }));
  await Promise.all(workers.map((w) => nextMessage<string>(w)));
  const results = workers.map((w) => nextMessage<Result>(w));
  openStart(gate);
  try {
    return await Promise.all(results);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

test.serial('LRU_HASH: three workers overfilling one map: no insert fails, no value is torn, the count stays at max_entries', async (t) => {
  const maxEntries = 128;
  const map = createMap({ name: 'lru', type: T.BPF_MAP_TYPE_LRU_HASH, keySize: 4, valueSize: 8, maxEntries, flags: 0 }, { nrCpus: 3 }) as LruHashMap;
  const results = await runTogether('lru', map.share(), 3, 20_000);
  for (const r of results) t.deepEqual(r.errors, []);
  t.true(results.every((r) => (r.hits ?? 0) > 0), 'lookups found recent keys');
  t.is(map.count(), maxEntries);
  const entries = dumpMap(map);
  t.is(entries.length, maxEntries);
  for (const e of entries) {
    const k = new DataView(e.key.buffer).getUint32(0, true);
    const v = new DataView(e.value.buffer);
    t.is(v.getUint32(0, true), k);
    t.is(v.getUint32(4, true), ~k >>> 0);
  }
  // What survives is recent. Second chances (a reader's lookups set reference bits) let a key
  // outlive a strict LRU order by a few rounds, so the bound is loose: far from the first keys.
  for (const e of entries) {
    const i = new DataView(e.key.buffer).getUint32(0, true) & 0xffffff;
    t.true(i >= 20_000 - 16 * maxEntries, `key index ${i} survived`);
  }
  t.log(`reads of recycled elements: ${results.map((r) => r.recycled ?? 0).join(', ')}`);
  t.is(map.recencyOrder().length, maxEntries);
});

test.serial('LPM_TRIE: three workers inserting and deleting their prefixes while looking up: every answer matches its model', async (t) => {
  const map = createMap({ name: 'lpm', type: T.BPF_MAP_TYPE_LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 3 * 64 + 1, flags: BPF_MAP_FLAG.BPF_F_NO_PREALLOC }, { nrCpus: 3 }) as LpmTrieMap;
  t.is(map.update(Uint8Array.from([8, 0, 0, 0, 10, 0, 0, 0]), u32(0xffff)), 0);
  const results = await runTogether('lpm', map.share(), 3, 4000);
  for (const r of results) t.deepEqual(r.errors, []);
  let want = 1;
  results.forEach((r, id) => {
    t.true((r.checks ?? 0) > 0);
    r.present!.forEach((p, x) => {
      const got = map.lookup(Uint8Array.from([32, 0, 0, 0, 10, id + 1, x, 9]));
      t.is(new DataView(got!.buffer).getUint32(0, true), p ? ((id + 1) << 8) | x : 0xffff);
      want += p;
    });
  });
  t.is(map.count(), want);
  t.is(dumpMap(map).length, want);
});

test.serial('PERCPU_HASH: each worker adds to its own CPU\'s copies without atomics; every copy is exact', async (t) => {
  const map = createMap({ name: 'pc', type: T.BPF_MAP_TYPE_PERCPU_HASH, keySize: 4, valueSize: 8, maxEntries: 16, flags: 0 }, { nrCpus: 3 });
  for (let k = 0; k < 16; k++) t.is(map.update(u32(k), new Uint8Array(24)), 0);
  const ops = 160_000;
  const results = await runTogether('percpu', map.share(), 3, ops);
  for (const r of results) t.deepEqual(r.errors, []);
  for (let k = 0; k < 16; k++) {
    const v = new DataView(map.lookup(u32(k))!.buffer);
    for (let cpu = 0; cpu < 3; cpu++) t.is(v.getBigUint64(cpu * 8, true), BigInt((ops / 16) * (k + 1)), `key ${k} cpu ${cpu}`);
  }
});

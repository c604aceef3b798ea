// Maps shared between worker threads: several workers update, delete and read one map at the same
// time through openSharedMap, and the end state must be exactly what their operations imply.
// Iteration counts are bounded (a few seconds on a loaded 2-core machine); nothing is timed.
import test, { type ExecutionContext } from 'ava';
import type { Worker } from 'node:worker_threads';
import { ERRNO } from '../bpf-vm/errno.ts';
import { BpfError } from '../bpf-vm/errors.ts';
import { createMap } from '../bpf-vm/maps/create.ts';
import { LOCK_TIMEOUT_MS, lockAcquire, lockRelease } from '../bpf-vm/maps/lock.ts';
import { dumpMap } from '../bpf-vm/maps/dump.ts';
import type { HashMap } from '../bpf-vm/maps/hash.ts';
import { BPF_MAP_TYPE } from '../bpf-vm/maps/map.ts';
import { nextMessage, openStart, spawnTsWorker } from './workers/spawn.ts';
import { decodeValue } from './workers/hash-values.ts';

function control(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(16));
}

/** Spawns the workers, waits until all are ready, opens the start line, returns their results. */
async function runTogether<T>(workers: Worker[], gate: Int32Array): Promise<T[]> {
  const ready = workers.map((w) => nextMessage<string>(w));
  await Promise.all(ready);
  const results = workers.map((w) => nextMessage<T>(w));
  openStart(gate);
  try {
    return await Promise.all(results);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

interface WriterResult { errors: string[]; finalState: [number, number][] }
interface ReaderResult { errors: string[]; lookups: number; userHits: number; progHits: number; recycledReads: number }

/**
 * Two writers own disjoint key ranges of one HASH map and a reader looks keys up throughout.
 * Returns nothing: asserts that no operation returned an unexpected code, that the reader never
 * saw a torn, foreign or older value, and that the map ends holding exactly what the writers
 * believe they left.
 */
async function writersAndReader(
  t: ExecutionContext, opts: { nKeys: number; valueSize: number; maxEntries: number; ops: number },
): Promise<void> {
  const map = createMap({
    name: 'conc', type: BPF_MAP_TYPE.BPF_MAP_TYPE_HASH, keySize: 4, valueSize: opts.valueSize, maxEntries: opts.maxEntries, flags: 0,
  });
  const gate = control();
  const ranges: [number, number][] = [[0x1000, opts.nKeys], [0x200000, opts.nKeys]];
  const writers = ranges.map(([base], id) =>
    spawnTsWorker('hash-writer', { state: map.share(), control: gate, id, base, nKeys: opts.nKeys, ops: opts.ops }));
  const reader = spawnTsWorker('hash-reader', { state: map.share(), control: gate, writers: writers.length, ranges });
  const results = await runTogether<WriterResult | ReaderResult>([...writers, reader], gate);
  const writerResults = results.slice(0, writers.length) as WriterResult[];
  const readerResult = results[writers.length] as ReaderResult;

  for (const r of writerResults) t.deepEqual(r.errors, []);
  t.deepEqual(readerResult.errors, []);
  t.log(`reader: ${readerResult.lookups} lookups, ${readerResult.userHits} user hits, ${readerResult.progHits} program hits, ` +
    `${readerResult.recycledReads} program reads raced with recycling`);

  const expected = new Map<number, number>();
  for (const r of writerResults) for (const [k, v] of r.finalState) expected.set(k, v);
  const dumped = dumpMap(map);
  const actual = new Map<number, number>();
  for (const { key, value } of dumped) {
    const k = new DataView(key.buffer, key.byteOffset).getUint32(0, true);
    actual.set(k, decodeValue(k, value));
  }
  t.is(dumped.length, expected.size);
  t.deepEqual([...actual.entries()].sort((a, b) => a[0] - b[0]), [...expected.entries()].sort((a, b) => a[0] - b[0]));
  t.is((map as HashMap).count(), expected.size);
}

test.serial('HASH: two writers and a reader on one map lose nothing and never see a torn value', async (t) => {
  await writersAndReader(t, { nKeys: 200, valueSize: 16, maxEntries: 2048, ops: 40_000 });
});

test.serial('HASH: hot keys with large values: updates replace elements, readers never see half of one', async (t) => {
  // Few keys, long values: a value written in place would be caught half-copied by the reader.
  // A large max_entries makes the free ring long, so an element recycled during a read (the
  // reader preempted) practically never comes back to the same key before the reader asks again.
  await writersAndReader(t, { nKeys: 4, valueSize: 512, maxEntries: 4096, ops: 20_000 });
});

interface FillerResult { errors: string[]; inserted: number; refused: number; maxCount: number; held: number[] }

test.serial('HASH: two workers racing to fill a map never exceed max_entries', async (t) => {
  const maxEntries = 256;
  const map = createMap({ name: 'full', type: BPF_MAP_TYPE.BPF_MAP_TYPE_HASH, keySize: 8, valueSize: 8, maxEntries, flags: 0 });
  const gate = control();
  const workers = [0, 1].map((id) => spawnTsWorker('hash-filler', { state: map.share(), control: gate, id, nKeys: 200, rounds: 30 }));
  const results = await runTogether<FillerResult>(workers, gate);
  for (const r of results) t.deepEqual(r.errors, []);
  for (const r of results) t.true(r.maxCount <= maxEntries);
  // 400 keys for 256 places: both workers must have been refused at some point.
  t.true(results.reduce((n, r) => n + r.refused, 0) > 0);
  const held = results.reduce((n, r) => n + r.held.length, 0);
  t.true(held <= maxEntries);
  t.is(dumpMap(map).length, held);
  t.is((map as HashMap).count(), held);
  // Every key a worker believes it holds is there, with the value it wrote.
  results.forEach((r, id) => {
    for (const i of r.held) {
      const key = new Uint8Array(8);
      new DataView(key.buffer, key.byteOffset, key.byteLength).setUint32(0, i, true);
      new DataView(key.buffer, key.byteOffset, key.byteLength).setUint32(4, id + 1, true);
      const v = map.lookup(key);
      t.truthy(v);
      if (v) t.is(new DataView(v.buffer, v.byteOffset).getUint32(0, true), i);
    }
  });
});

test.serial('ARRAY: atomic adds from two workers on one value are exact', async (t) => {
  const map = createMap({ name: 'cnt', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 });
  const gate = control();
  const adds = 200_000;
  const workers = [0, 1].map(() => spawnTsWorker('array-adder', { state: map.share(), control: gate, adds }));
  await runTogether<string>(workers, gate);
  const v1 = map.lookup(new Uint8Array([1, 0, 0, 0]))!;
  const v2 = map.lookup(new Uint8Array([2, 0, 0, 0]))!;
  t.is(new DataView(v1.buffer, v1.byteOffset, v1.byteLength).getUint32(0, true), 2 * adds);
  t.is(new DataView(v2.buffer, v2.byteOffset, v2.byteLength).getBigUint64(0, true), BigInt(2 * 3 * (adds / 8)));
});

test('a HASH lock left held by a dead worker makes writers fail with -EBUSY and readers throw, never hang', async (t) => {
  const map = createMap({ name: 'h', type: BPF_MAP_TYPE.BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 8, flags: 0 });
  const key = new Uint8Array(4), value = new Uint8Array(8);
  t.is(map.update(key, value), 0);
  // Simulate a worker that died inside a critical section: take the lock and never release it.
  const meta = new Int32Array(map.share().buffers[1]!);
  t.true(lockAcquire(meta, 0));
  t.is(map.update(key, value), -ERRNO.EBUSY);
  t.is(map.delete(key), -ERRNO.EBUSY);
  t.throws(() => map.lookup(key), { instanceOf: BpfError, message: new RegExp(`lock held for over ${LOCK_TIMEOUT_MS} ms`) });
  lockRelease(meta, 0);
  t.is(map.update(key, value), 0, 'usable again once released');
});

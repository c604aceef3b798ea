// SOCKMAP and SOCKHASH shared by three workers at once (openSharedMap): slots claimed with
// BPF_NOEXIST go to exactly one worker, compare-and-delete never takes another worker's socket,
// and a reader never sees half a cookie. Bounded iteration counts; nothing is timed.
import test from 'ava';
import type { Worker } from 'node:worker_threads';
import { createMap } from '../../bpf-vm/maps/create.ts';
import { BPF_MAP_TYPE as T } from '../../bpf-vm/maps/map.ts';
import { asSockMap } from '../../bpf-vm/maps/sock-map-ops.ts';
import { spawnWorkerAt } from '../../scenarios/run/spawn.ts';
import { nextMessage, openStart } from '../workers/spawn.ts';

interface Result { errors: string[]; claimed: number; released: number; held: number[]; reads: number }

for (const type of [T.BPF_MAP_TYPE_SOCKMAP, T.BPF_MAP_TYPE_SOCKHASH]) {
  const name = type === T.BPF_MAP_TYPE_SOCKMAP ? 'SOCKMAP' : 'SOCKHASH';
  test.serial(`${name}: three workers claiming and releasing slots: one owner per slot, no torn cookie`, async (t) => {
    const slots = 32;
    const map = createMap({ name: 'sm', type, keySize: 4, valueSize: 8, maxEntries: slots, flags: 0 }, { nrCpus: 3 });
    const gate = new Int32Array(new SharedArrayBuffer(16));
    const workers: Worker[] = [0, 1, 2].map((id) =>
      spawnWorkerAt(new URL('./sockmap-worker.ts', import.meta.url), { state: map.share(), control: gate, id, ops: 20_000, slots }));
    let results: Result[];
    try {
      await Promise.all(workers.map((w) => nextMessage<string>(w)));
      const pending = workers.map((w) => nextMessage<Result>(w));
      openStart(gate);
      results = await Promise.all(pending);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
    for (const r of results) t.deepEqual(r.errors, []);
    t.true(results.every((r) => r.claimed > 100 && r.reads > 100));
    // What the workers still hold is exactly what the map holds, each slot one worker's.
    const held = results.flatMap((r, id) => r.held.map((s) => [s, id] as const)).sort((a, b) => a[0] - b[0]);
    t.is(new Set(held.map(([s]) => s)).size, held.length, 'no slot held twice');
    const sm = asSockMap(map)!;
    for (let s = 0; s < slots; s++) {
      const c = sm.lookupCookie(Uint8Array.of(s, 0, 0, 0), 0);
      const owner = held.find(([hs]) => hs === s)?.[1];
      t.is(c === 0n ? undefined : Number(c >> 40n) - 1, owner, `slot ${s}`);
    }
    t.log(`claims ${results.map((r) => r.claimed).join(', ')}; reads ${results.map((r) => r.reads).join(', ')}`);
  });
}

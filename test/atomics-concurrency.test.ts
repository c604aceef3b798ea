// A program's 64-bit atomic add must be atomic for every other thread: a reader never sees the low
// word carried without the high word (the counter going back by 2^32), and no add is lost.
import test from 'ava';
import { ENGINES } from '../bpf-vm/engines.ts';
import { createMap } from '../bpf-vm/maps/create.ts';
import { BPF_MAP_TYPE } from '../bpf-vm/maps/map.ts';
import { nextMessage, openStart, spawnTsWorker } from './workers/spawn.ts';

const RUNS = 200_000;
const ADDEND = 0x80000000 >>> 0;

for (const engine of ENGINES) {
  test(`${engine}: lock add on a shared counter is never seen torn and loses nothing`, async (t) => {
    const map = createMap({ name: 'counter', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0 });
    const control = new Int32Array(new SharedArrayBuffer(4));
    const workers = [0, 1].map(() => spawnTsWorker('xdp-counter', { state: map.share(), control, runs: RUNS, engine, addend: ADDEND }));
    try {
      await Promise.all(workers.map((w) => nextMessage(w)));
      const done = Promise.all(workers.map((w) => nextMessage(w)));
      let finished = false;
      void done.then(() => { finished = true; });
      openStart(control);
      const view = new BigInt64Array(map.values.buffer, map.values.byteOffset, 1);
      let last = 0n, reads = 0, backwards = 0;
      while (!finished) {
        const v = BigInt.asUintN(64, Atomics.load(view, 0));
        if (v < last) backwards++;
        last = v;
        reads++;
        if ((reads & 1023) === 0) await new Promise((r) => setImmediate(r));
      }
      await done;
      t.is(backwards, 0, `${reads} reads`);
      t.is(BigInt.asUintN(64, Atomics.load(view, 0)), BigInt(2 * RUNS) * BigInt(ADDEND));
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });
}

// The counters a worker publishes for the runner: a snapshot is one whole publication, even while
// the owner publishes without pause (a run's window subtracts counters that must agree).
import test from 'ava';
import { ShmCounters } from '../../virtio/shm-counters.ts';
import { nextMessage, openStart, spawnTsWorker } from '../workers/spawn.ts';

test('a snapshot never mixes two publications of a writer in another thread', async (t) => {
  // Many slots, so a publication takes long enough for a reader to land inside it often.
  const names = ['a', ...Array.from({ length: 200 }, (_, i) => `pad${i}`), 'b', 'c'];
  const shm = ShmCounters.create(names);
  const control = new Int32Array(new SharedArrayBuffer(8));
  const w = spawnTsWorker('shm-publisher', { shared: shm.share(), control });
  try {
    await nextMessage<string>(w);
    const done = nextMessage<number>(w);
    openStart(control);
    let torn = 0;
    let moving = 0;
    let last = 0;
    for (let i = 0; i < 20_000; i++) {
      const s = shm.snapshot();
      if (s['a'] !== s['b'] || s['c'] !== 2 * s['a']! || s['pad199'] !== s['a']) torn++;
      if (s['a']! > last) moving++;
      last = s['a']!;
    }
    Atomics.store(control, 1, 1);
    const published = await done;
    t.is(torn, 0);
    t.true(published > 0 && moving > 0, `the writer published (${published}) while the reader read (${moving} changes seen)`);
    t.deepEqual(shm.snapshot(), Object.fromEntries(names.map((n) => [n, n === 'c' ? 2 * published : published])));
  } finally {
    await w.terminate();
  }
});

test('get and snapshot read what publish wrote; names it does not have are left alone', (t) => {
  const shm = ShmCounters.create(['x', 'y']);
  shm.publish({ x: 3, z: 9 });
  t.deepEqual(shm.snapshot(), { x: 3, y: 0 });
  t.is(shm.get('x'), 3);
  t.throws(() => shm.get('z'), { instanceOf: RangeError });
});

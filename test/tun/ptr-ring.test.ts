// ptr_ring: wrap-around, full and empty, batched publishing, shared descriptors, and 2M handles
// between two workers.
import test from 'ava';
import { PtrRing, PTR_RING_INDEX, ptrRingBytes, SockWait, TunError, TUN_RING_SIZE } from '../../tun/index.ts';
import { nextMessage, openStart, spawnTsWorker } from '../workers/spawn.ts';

test('default capacity is 1024 (tun tx_queue_len 1000, rounded up to a power of two)', (t) => {
  t.is(TUN_RING_SIZE, 1024);
  t.is(PtrRing.create().capacity, 1024);
});

test('produce refuses when full; consume returns 0 when empty; entries wrap around in order', (t) => {
  const ring = PtrRing.create(4);
  const out = new Uint32Array(8);
  t.is(ring.consumeBatched(out, 8), 0);
  let next = 0, expect = 0;
  for (let round = 0; round < 50; round++) {
    // Fill to the brim (a different amount of consumption each round moves the wrap point).
    while (ring.produce(next)) next++;
    t.is(ring.full > 0, true);
    ring.publishProduced();
    t.is(ring.count(), 4);
    const take = 1 + (round % 4);
    const n = ring.consumeBatched(out, take);
    t.is(n, take);
    for (let i = 0; i < n; i++) t.is(out[i], expect++);
  }
  const n = ring.consumeBatched(out, 8);
  for (let i = 0; i < n; i++) t.is(out[i], expect++);
  t.is(expect, next);
  t.true(ring.empty());
  t.is(ring.count(), 0);
});

test('entries are invisible to the consumer until published, and one publish covers a batch', (t) => {
  const ring = PtrRing.create(16);
  const consumer = PtrRing.open(ring.share());
  const out = new Uint32Array(16);
  for (let i = 0; i < 10; i++) t.true(ring.produce(100 + i));
  t.is(ring.unpublished, 10);
  t.true(consumer.empty());
  t.is(consumer.consumeBatched(out, 16), 0);
  ring.publishProduced();
  ring.publishProduced(); // nothing new: no second store
  t.is(ring.publishes, 1);
  t.false(consumer.empty());
  t.is(consumer.consumeBatched(out, 16), 10);
  t.deepEqual([...out.subarray(0, 10)], [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
  // The producer sees room again only through the consumer's published head.
  for (let i = 0; i < 16; i++) t.true(ring.produce(i));
  t.false(ring.produce(99));
});

test('consumeBatched writes at an offset and never past the end of out', (t) => {
  const ring = PtrRing.create(8);
  for (let i = 0; i < 8; i++) ring.produce(i);
  ring.publishProduced();
  const out = new Uint32Array(5).fill(77);
  t.is(ring.consumeBatched(out, 8, 2), 3);
  t.deepEqual([...out], [77, 77, 0, 1, 2]);
  t.is(ring.count(), 5);
});

test('free-running indices survive the int32 wrap', (t) => {
  const ring = PtrRing.create(8);
  // Move both indices just below 2^31 before anyone opens the ring.
  const words = new Int32Array(ring.buffer, 0, PTR_RING_INDEX.HEAD + 1);
  words[PTR_RING_INDEX.TAIL] = 0x7ffffffa;
  words[PTR_RING_INDEX.HEAD] = 0x7ffffffa;
  const r = PtrRing.open(ring.share());
  const out = new Uint32Array(8);
  let next = 0, expect = 0;
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 5; i++) t.true(r.produce(next++));
    r.publishProduced();
    t.is(r.count(), 5);
    const n = r.consumeBatched(out, 8);
    t.is(n, 5);
    for (let i = 0; i < n; i++) t.is(out[i], expect++);
  }
  t.true(Atomics.load(words, PTR_RING_INDEX.TAIL) < 0, 'the tail wrapped past 2^31');
});

test('bad descriptors are refused with EINVAL', (t) => {
  const code = (f: () => unknown): string | undefined => {
    try { f(); } catch (e) { return e instanceof TunError ? e.code : `not a TunError: ${String(e)}`; }
    return undefined;
  };
  t.is(code(() => PtrRing.create(1000)), 'EINVAL');
  t.is(code(() => PtrRing.create(1)), 'EINVAL');
  const ring = PtrRing.create(16);
  t.is(code(() => PtrRing.open({ buffer: ring.buffer, capacity: 32 })), 'EINVAL');
  t.is(code(() => PtrRing.open({ buffer: new SharedArrayBuffer(ptrRingBytes(16)), capacity: 16 })), 'EINVAL', 'no magic: not a ring');
  t.is(code(() => PtrRing.open({ buffer: new ArrayBuffer(ptrRingBytes(16)) as unknown as SharedArrayBuffer, capacity: 16 })), 'EINVAL');
  t.is(code(() => PtrRing.open(undefined as never)), 'EINVAL');
  t.is(code(() => PtrRing.open({ buffer: ring.buffer, capacity: 16 })), undefined);
});

test('two workers move 2M handles in order, publishing every 32, sleeping on SockWait', async (t) => {
  const count = 2_000_000;
  const ring = PtrRing.create(1024);
  const wake = SockWait.create();
  const room = SockWait.create();
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const w = spawnTsWorker('tun-ring-producer', { ring: ring.share(), wake: wake.share(), room: room.share(), count, batch: 32, gate });
  t.is(await nextMessage<string>(w), 'ready');
  const done = nextMessage<{ produced: number; publishes: number; full: number; sleeps: number; wakeups: number; coalesced: number; notified: number; notifyUs: number; ms: number }>(w);
  openStart(gate);
  const out = new Uint32Array(256);
  let expect = 0, wrong = 0, timeouts = 0;
  const t0 = performance.now();
  while (expect < count && timeouts < 3) {
    wake.clearQueued();
    const n = ring.consumeBatched(out, out.length);
    if (n === 0) {
      const armed = wake.arm();
      if (ring.empty() && wake.wait(armed, 5000) === 'timed-out') timeouts++;
      continue;
    }
    for (let i = 0; i < n; i++) if (out[i] !== expect++) wrong++;
    room.wake();
  }
  const ms = performance.now() - t0;
  const r = await done;
  await w.terminate();
  t.is(timeouts, 0, 'no lost wake-up');
  t.is(r.wakeups + r.coalesced, r.publishes + 1, 'one wake attempt per publish (and one at the end)');
  // Only the wake-ups that found the consumer asleep notified it, and only those were timed.
  t.true(r.notified <= r.wakeups);
  t.is(r.notified === 0, r.notifyUs === 0, `${r.notified} notifies took ${r.notifyUs} us`);
  t.is(expect, count);
  t.is(wrong, 0, 'every handle in order');
  t.is(r.produced, count);
  t.true(r.publishes <= count / 32 + r.full + 2, `${r.publishes} publishes for ${count} handles`);
  t.is(ring.consumed, count);
  t.true(ring.consumeBatches < count / 4, `${ring.consumeBatches} consumer batches`);
  t.log(`${(count / ms / 1000).toFixed(1)} Mpps; ${r.publishes} publishes, ${ring.consumeBatches} consumer batches, consumer wake-ups ${r.wakeups} (+${r.coalesced} coalesced), consumer sleeps ${wake.sleeps}, producer sleeps ${r.sleeps}`);
});

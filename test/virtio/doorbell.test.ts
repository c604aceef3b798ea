// Doorbells: the counter/arm/re-check/wait protocol in one thread, then two worker threads
// exchanging 100k notifications. A lost wake-up would surface as a timed-out wait, which is
// counted and must be zero; nothing here is a timing assertion.
import test from 'ava';
import { Doorbell } from '../../virtio/index.ts';
import { nextMessage, openStart, spawnTsWorker } from '../workers/spawn.ts';

test('ring bumps the counter; a wait armed before a ring returns at once', (t) => {
  const b = Doorbell.create();
  const armed = b.arm();
  t.is(armed, 0);
  b.ring();
  t.is(b.count(), 1);
  t.is(b.wait(armed, 10_000), 'not-equal', 'the ring after arming is not lost');
  t.is(b.sleeps, 0);
  t.is(b.wait(b.arm(), 0), 'timed-out');
  t.is(b.sleeps, 1);
  t.is(b.rings, 1);
});

test('waitUntil re-checks after arming', (t) => {
  const b = Doorbell.create();
  let work = false;
  let checks = 0;
  t.false(b.waitUntil(() => { checks++; return work; }, 0), 'nothing to do and nobody rings: times out');
  t.is(checks, 2, 'checked after arming and after the timeout');
  work = true;
  t.true(b.waitUntil(() => work, 10_000));
  t.throws(() => new Doorbell({ cells: new Int32Array(4), index: 0 }), { instanceOf: TypeError });
  const shared = new Doorbell(b.share());
  shared.ring();
  t.is(b.count(), 1, 'two handles, one counter');
});

test('two threads exchange 100k notifications without losing one', async (t) => {
  const rounds = 50_000;
  const a = Doorbell.create();
  const b = Doorbell.create();
  const seq = new Int32Array(new SharedArrayBuffer(8));
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const common = { seq, rounds, gate, timeoutMs: 5000 };
  const workers = [
    spawnTsWorker('virtio-bell', { ...common, role: 0, ring: a.share(), wait: b.share() }),
    spawnTsWorker('virtio-bell', { ...common, role: 1, ring: b.share(), wait: a.share() }),
  ];
  try {
    await Promise.all(workers.map((w) => nextMessage<string>(w)));
    const results = workers.map((w) => nextMessage<{ role: number; received: number; rings: number; sleeps: number; notEqual: number; timeouts: number }>(w));
    openStart(gate);
    const rs = await Promise.all(results);
    for (const r of rs) {
      t.log(`side ${r.role}: ${r.rings} rings, ${r.sleeps} sleeps, ${r.notEqual} waits found the counter already moved, ${r.timeouts} timeouts`);
      t.is(r.received, rounds);
      t.is(r.rings, rounds);
      t.is(r.timeouts, 0);
    }
    t.is(a.count() + b.count(), 2 * rounds);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});

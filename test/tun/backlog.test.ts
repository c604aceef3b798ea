// The host backlog (tun/backlog.ts) in one thread, and the tap's Rx path feeding it: frames come
// out as they went in (aligned or not, across the index wrap), a full queue refuses and counts,
// flush publishes once and wakes the host once, and HostNet's Case 1 side takes what arrives.
import test from 'ava';
import { BACKLOG_SLOT_SIZE, PagePool, PtrRing, SockWait, SoftnetBacklog, TunXmit, FramePool } from '../../tun/index.ts';
import { HostNet } from '../../host/net/index.ts';
import { tapFixture } from './tap-fixture.ts';

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (seed * 13 + i * 7) & 0xff);
}

function drain(b: SoftnetBacklog, budget = 1 << 20): Uint8Array[] {
  const out: Uint8Array[] = [];
  b.process_backlog(budget, (u8, off, len) => { out.push(u8.slice(off, off + len)); });
  return out;
}

test('frames come out byte-exact, aligned or not, in order, across many wraps of the indices', (t) => {
  const b = SoftnetBacklog.create(8);
  const src = new Uint8Array(4096);
  let seq = 0;
  for (let round = 0; round < 50; round++) {
    const want: Uint8Array[] = [];
    for (let i = 0; i < 1 + (round % 8); i++) {
      const f = bytes([1, 3, 14, 60, 61, 1514, 64, 999][(round + i) % 8]!, seq++);
      const off = (round + i) % 4; // 0: word copies, else byte copies
      src.set(f, off);
      t.true(b.enqueue_to_backlog(src, off, f.length));
      want.push(f);
    }
    t.is(b.hasData(), false, 'nothing visible before flush');
    b.flush();
    t.true(b.hasData());
    t.deepEqual(drain(b), want);
  }
  t.is(b.dropped, 0);
  t.is(b.processed, b.enqueued);
});

test('a full backlog refuses (dropped), the consumer frees slots only when it has read them, one wake per flush', (t) => {
  const wait = SockWait.create();
  const prod = SoftnetBacklog.create(4);
  prod.wait = wait;
  const cons = SoftnetBacklog.open(prod.share());
  const f = bytes(100, 1);
  for (let i = 0; i < 6; i++) prod.enqueue_to_backlog(f, 0, f.length);
  t.is(prod.enqueued, 4);
  t.is(prod.dropped, 2);
  const c0 = wait.count();
  prod.flush();
  prod.flush();
  t.is(wait.count() - c0, 1, 'one wake-up for the batch, none for an empty flush');
  t.is(cons.count(), 4);
  // The consumer reads two: only then may the producer reuse their slots.
  t.is(cons.process_backlog(2, () => {
    t.false(prod.enqueue_to_backlog(f, 0, f.length), 'no slot is free while the consumer reads');
  }), 2);
  t.true(prod.enqueue_to_backlog(f, 0, f.length));
  t.is(prod.dropped, 4);
  t.false(prod.enqueue_to_backlog(new Uint8Array(BACKLOG_SLOT_SIZE + 1), 0, BACKLOG_SLOT_SIZE + 1));
  t.is(prod.too_big, 1);
});

test('bad geometry and foreign buffers are refused', (t) => {
  const code = (f: () => unknown): unknown => (t.throws(f) as { code?: string } | undefined)?.code;
  t.is(code(() => SoftnetBacklog.create(3)), 'EINVAL');
  t.is(code(() => SoftnetBacklog.create(4, 66)), 'EINVAL');
  const b = SoftnetBacklog.create(4);
  t.is(code(() => SoftnetBacklog.open({ ...b.share(), slots: 8 })), 'EINVAL');
});

test('the tap\'s Rx path queues what passes, and flushes at the end of the batch', (t) => {
  const f = tapFixture();
  const b = SoftnetBacklog.create();
  f.rx.backlog = b;
  const frame = bytes(60, 3);
  f.fp.u8.set(frame, f.rx.scratchData);
  f.rx.tun_get_user(frame.length);
  f.rx.tun_get_user(frame.length);
  t.is(b.count(), 0);
  f.rx.tun_flush();
  t.is(b.count(), 2);
  t.deepEqual(drain(b), [frame, frame]);
  t.is(f.rx.rx_packets, 2);
});

test('Case 1 with a backlog: the guest\'s frames end at the tap\'s host side (no bridge), counted in the conservation', (t) => {
  const fp = FramePool.create({ frames: 64 });
  const pool = new PagePool(fp);
  const tap = new TunXmit({ ring: PtrRing.create(), wait: SockWait.create(), pool });
  const b = SoftnetBacklog.create(16);
  const host = new HostNet({ case: 'xdp-redirect', pool, tap, wire: false, backlog: b, nicProgram: dummyRedirect() });
  for (let i = 0; i < 5; i++) b.enqueue_to_backlog(bytes(60, i), 0, 60);
  b.flush();
  t.is(host.process_backlog(), 5);
  t.is(host.tap_rx.delivered, 5);
  const c = host.conservation();
  t.true(c.balanced, JSON.stringify(c));
  t.is(c.from_tap, 5);
  t.is(host.poll(), 0, 'no wire: the NIC is not polled');
});

function dummyRedirect(): never {
  // HostNet checks that Case 1 has its NIC program; the backlog path never runs it.
  return { xdp: { prepare() {}, ingressIfindex: 0 } } as never;
}

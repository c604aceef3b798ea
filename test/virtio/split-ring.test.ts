// Split-ring layout, vring_need_event, and driver <-> device in one thread: wrap-around of the
// u16 indices, chains of readable and writable buffers, indirect tables, the free list.
import test from 'ava';
import {
  allocSplitRing, availRingSize, checkLayout, DeviceQueue, DriverQueue, GuestMemory, layoutAt, PageAllocator,
  SplitRing, type SplitRingLayout, usedRingSize, VirtioError, VQ_EMPTY, VRING_DESC_F, vringNeedEvent,
} from '../../virtio/index.ts';

function setup(q: number, opts: { eventIdx?: boolean; indirect?: boolean; memSize?: number; start?: { avail: number; used: number } } = {}) {
  const mem = GuestMemory.create(opts.memSize ?? 1 << 22);
  const pages = new PageAllocator(mem);
  const layout = allocSplitRing(mem, pages, q);
  if (opts.start !== undefined) {
    // A ring whose indices already ran (as after a long uptime): both sides pick them up.
    const r = new SplitRing(mem, layout);
    r.avail16[1] = opts.start.avail;
    r.used16[1] = opts.start.used;
  }
  const flags = { eventIdx: opts.eventIdx ?? false, indirect: opts.indirect ?? false };
  const drv = new DriverQueue<number>(mem, new SplitRing(mem, layout), { name: 'txq0', pages, ...flags });
  const dev = new DeviceQueue(mem, new SplitRing(mem, layout), { name: 'txq0', ...flags });
  return { mem, pages, layout, drv, dev, ring: new SplitRing(mem, layout) };
}

test('layout: sizes and alignment for every power-of-two Q, refusal of others', (t) => {
  const mem = GuestMemory.create(1 << 22);
  for (let q = 1; q <= 32768; q *= 2) {
    const l = layoutAt(q, 4096);
    t.is(l.avail - l.desc, 16 * q);
    t.is(l.used % 4, 0);
    t.is(availRingSize(q), 6 + 2 * q);
    t.is(usedRingSize(q), 6 + 8 * q);
    t.is(l.bytes, l.used + 6 + 8 * q - 4096);
    t.notThrows(() => checkLayout(mem, l));
    const r = new SplitRing(mem, l);
    t.is(r.usedEventIdx, 2 + q);
    t.is(r.availEventIdx, 2 + 4 * q);
    // used_event and avail_event sit right after the rings, at the byte offsets the spec gives.
    r.avail16[r.usedEventIdx] = 0x1234;
    r.used16[r.availEventIdx] = 0x5678;
    t.is(mem.readU16(l.avail + 4 + 2 * q), 0x1234);
    t.is(mem.readU16(l.used + 4 + 8 * q), 0x5678);
    mem.fill(0, 1 << 22);
  }
  const bad = (l: SplitRingLayout) => t.throws(() => checkLayout(mem, l), { instanceOf: VirtioError })?.code;
  t.is(bad({ size: 3, desc: 0, avail: 48, used: 64 }), 'EINVAL');
  t.is(bad({ size: 65536, desc: 0, avail: 16 * 65536, used: 0 }), 'EINVAL');
  t.is(bad({ size: 4, desc: 8, avail: 72, used: 84 }), 'EINVAL');
  t.is(bad({ size: 4, desc: 0, avail: 65, used: 80 }), 'EINVAL');
  t.is(bad({ size: 4, desc: 0, avail: 64, used: 78 }), 'EINVAL');
  t.is(bad({ size: 4, desc: 0, avail: 64, used: (1 << 22) - 8 }), 'EFAULT');
});

test('vring_need_event truth table, including the u16 wrap', (t) => {
  // [event, new, old, expected]: notify iff event in [old, new) modulo 2^16.
  const rows: [number, number, number, boolean][] = [
    [0, 1, 0, true], [0, 0, 0, false], [1, 1, 0, false], [5, 10, 5, true], [9, 10, 5, true],
    [10, 10, 5, false], [4, 10, 5, false], [65535, 0, 65535, true], [65535, 2, 65534, true],
    [0, 2, 65534, true], [1, 2, 65534, true], [2, 2, 65534, false], [65533, 2, 65534, false],
    [100, 100, 100, false], [0x8888, 10, 0, false],
  ];
  for (const [e, n, o, want] of rows) t.is(vringNeedEvent(e, n, o), want, `event ${e} new ${n} old ${o}`);
  // Exhaustively against the set definition for a small window around the wrap.
  for (let old = 65530; old < 65540; old++) {
    for (let k = 0; k < 6; k++) {
      const n = (old + k) & 0xffff;
      for (let e = 65525; e < 65545; e++) {
        const inWindow = ((e - old) & 0xffff) < k;
        t.is(vringNeedEvent(e & 0xffff, n, old & 0xffff), inWindow);
      }
    }
  }
});

for (const q of [1, 2, 4, 256, 32768]) {
  test(`indices wrap 65535 -> 0 with Q=${q}: every buffer comes back once, in order`, (t) => {
    const start = 65535 - Math.min(3 * q, 1000);
    const { drv, dev, ring } = setup(q, { start: { avail: start, used: start } });
    let sent = 0;
    let got = 0;
    const rounds = q >= 256 ? 8 * q : 20 * q + 7;
    while (got < rounds) {
      // Fill what fits (at most 5 at a time for small Q, to vary batch boundaries).
      for (let k = 0; k < Math.min(5 + q, q) && sent < rounds && drv.numFree > 0; k++) {
        t.true(drv.addBuf(4096 + (sent % 16) * 64, 64, true, sent) >= 0);
        sent++;
      }
      drv.publish();
      for (let h = dev.pop(); typeof h === 'number' && h !== VQ_EMPTY; h = dev.pop()) dev.push(h, dev.chain.len[0]! - 1);
      dev.flush();
      for (let tok = drv.getBuf(); tok !== undefined; tok = drv.getBuf()) {
        t.is(tok, got++);
        t.is(drv.lastLen, 63);
      }
    }
    t.is(drv.numFree, q);
    t.true(start + rounds > 65536, 'the run crosses 65535 -> 0');
    t.is(ring.availIdx(), (start + rounds) & 0xffff);
    t.is(ring.usedIdx(), ring.availIdx());
    t.is(dev.error, null);
    t.is(drv.broken, null);
  });
}

test('a full wrap of 2^16 and more with Q=4', (t) => {
  const { drv, dev } = setup(4);
  for (let i = 0; i < 70_000; i++) {
    drv.addBuf(8192, 10, false, i);
    if ((i & 3) === 3) {
      drv.publish();
      for (let h = dev.pop(); h !== VQ_EMPTY; h = dev.pop()) dev.push(h as number, 0);
      dev.flush();
      for (let k = 3; k >= 0; k--) if (drv.getBuf() !== i - k) return t.fail(`buffer ${i - k} missing`);
    }
  }
  t.is(drv.numFree, 4);
  t.pass();
});

test('chains of readable then writable buffers: the device sees them in order and writes replies', (t) => {
  const { mem, drv, dev, ring } = setup(16);
  mem.write(0x10000, new TextEncoder().encode('hello'));
  mem.write(0x10100, new TextEncoder().encode(', world'));
  const head = drv.add([{ addr: 0x10000, len: 5 }, { addr: 0x10100, len: 7 }], [{ addr: 0x20000, len: 4 }, { addr: 0x20100, len: 100 }], 42);
  t.is(head, 0);
  t.is(drv.numFree, 12);
  // The chain links descriptors 0..3 with NEXT on all but the last, WRITE on the last two.
  const F = VRING_DESC_F;
  t.deepEqual([0, 1, 2, 3].map((i) => ring.desc16[8 * i + 6]), [F.VRING_DESC_F_NEXT, F.VRING_DESC_F_NEXT, F.VRING_DESC_F_NEXT | F.VRING_DESC_F_WRITE, F.VRING_DESC_F_WRITE]);
  t.is(dev.pop(), VQ_EMPTY, 'nothing before publish');
  t.true(drv.kickPrepare());
  t.is(dev.pop(), 0);
  const c = dev.chain;
  t.is(c.count, 4);
  t.is(c.readable, 2);
  t.is(c.readableBytes, 12);
  t.is(c.writableBytes, 104);
  t.deepEqual([...c.writable.subarray(0, 4)], [0, 0, 1, 1]);
  let text = '';
  for (let i = 0; i < c.readable; i++) text += new TextDecoder().decode(mem.bytes(c.addr[i]!, c.len[i]!));
  t.is(text, 'hello, world');
  mem.write(c.addr[2]!, new Uint8Array([1, 2, 3, 4]));
  mem.write(c.addr[3]!, new Uint8Array([5, 6]));
  dev.push(0, 6);
  t.true(dev.shouldNotify());
  t.is(drv.getBuf(), 42);
  t.is(drv.lastLen, 6);
  t.deepEqual([...mem.bytes(0x20000, 4), ...mem.bytes(0x20100, 2)], [1, 2, 3, 4, 5, 6]);
  t.is(drv.numFree, 16);
  t.is(dev.pop(), VQ_EMPTY);
});

test('the free list recycles chains of different lengths; a full queue refuses', (t) => {
  const { drv, dev } = setup(8);
  const seg = { addr: 0x10000, len: 8 };
  t.is(drv.add([seg, seg, seg], [], 1), 0);
  t.is(drv.add([seg], [seg, seg, seg], 2), 3);
  t.is(drv.add([seg, seg], [], 3), -1, 'needs 2, 1 free');
  t.is(drv.addBuf(0x10000, 8, false, 3), 7);
  t.is(drv.numFree, 0);
  t.is(drv.addBuf(0x10000, 8, false, 4), -1);
  drv.publish();
  const heads: number[] = [];
  for (let h = dev.pop(); h !== VQ_EMPTY; h = dev.pop()) heads.push(h as number);
  t.deepEqual(heads, [0, 3, 7]);
  // Complete out of order: the middle chain first.
  dev.push(3, 0);
  dev.flush();
  t.is(drv.getBuf(), 2);
  t.is(drv.numFree, 4);
  t.is(drv.add([seg, seg, seg, seg], [], 5), 3, 'the freed chain is reused from its head');
  dev.push(0, 0);
  dev.push(7, 0);
  dev.flush();
  t.is(drv.getBuf(), 1);
  t.is(drv.getBuf(), 3);
  t.is(drv.getBuf(), undefined);
  t.is(drv.outstanding, 4);
  t.deepEqual(drv.detachUnused(), [5]);
  t.is(drv.numFree, 8);
  t.throws(() => drv.add([], [], 1), { instanceOf: VirtioError });
});

test('indirect chains: one descriptor, a table in guest memory, mixed with direct chains', (t) => {
  const { mem, drv, dev, ring } = setup(8, { indirect: true });
  const out = [{ addr: 0x30000, len: 12 }, { addr: 0x30100, len: 60 }];
  const inn = [{ addr: 0x31000, len: 1500 }];
  t.is(drv.add(out, inn, 7, true), 0);
  t.is(drv.numFree, 7, 'one descriptor for three buffers');
  t.is(ring.desc16[6], VRING_DESC_F.VRING_DESC_F_INDIRECT);
  t.is(ring.desc32[2], 48);
  t.is(drv.add(out, inn, 8, false), 1, 'direct when not asked');
  t.is(drv.numFree, 4);
  const long = Array.from({ length: 20 }, (_, i) => ({ addr: 0x32000 + i, len: 1 }));
  t.is(drv.add(long, [], 9, true), -1, 'longer than the indirect table: direct, and 4 are free');
  drv.publish();
  for (const [want, tok] of [[0, 7], [1, 8]] as const) {
    t.is(dev.pop(), want);
    t.is(dev.chain.count, 3);
    t.is(dev.chain.readable, 2);
    t.deepEqual([...dev.chain.addr.subarray(0, 3)], [0x30000, 0x30100, 0x31000]);
    t.deepEqual([...dev.chain.len.subarray(0, 3)], [12, 60, 1500]);
    dev.push(want, 1000);
    dev.flush();
    t.is(drv.getBuf(), tok);
  }
  t.is(drv.numFree, 8);
  // A direct prefix then an indirect table (vhost accepts INDIRECT on the last descriptor).
  const r = ring;
  mem.writeU64(0x40000, 0x33000); mem.writeU32(0x40008, 5); mem.writeU16(0x4000c, VRING_DESC_F.VRING_DESC_F_WRITE);
  r.writeDesc(5, 0x34000, 3, VRING_DESC_F.VRING_DESC_F_NEXT, 6);
  r.writeDesc(6, 0x40000, 16, VRING_DESC_F.VRING_DESC_F_INDIRECT, 0);
  r.avail16[2 + (r.availIdx() & 7)] = 5;
  Atomics.store(r.avail16, 1, (r.availIdx() + 1) & 0xffff);
  t.is(dev.pop(), 5);
  t.is(dev.chain.count, 2);
  t.deepEqual([...dev.chain.writable.subarray(0, 2)], [0, 1]);
});

test('without the indirect feature, asking for indirect adds a direct chain', (t) => {
  const { drv } = setup(8, { indirect: false });
  t.is(drv.add([{ addr: 0x1000, len: 1 }], [{ addr: 0x2000, len: 1 }], 1, true), 0);
  t.is(drv.numFree, 6);
});

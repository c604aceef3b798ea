// Every malformed ring the device must survive: the queue breaks with a typed RingError naming
// the queue, the descriptor and the problem, and from then on is inert (pop returns the error,
// push/flush/notify do nothing) without throwing or hanging.
import test from 'ava';
import {
  allocSplitRing, DeviceQueue, type GuestMemory as GM, GuestMemory, PageAllocator, RingError, type RingErrorCode,
  SplitRing, VQ_EMPTY, VRING_DESC_F,
} from '../../virtio/index.ts';

const { VRING_DESC_F_NEXT: NEXT, VRING_DESC_F_WRITE: WRITE, VRING_DESC_F_INDIRECT: INDIRECT } = VRING_DESC_F;
const MEM = 1 << 20;
const TABLE = 0x80000;

interface Case {
  name: string;
  code: RingErrorCode;
  /** Substrings the message must contain (besides the queue name). */
  says: string[];
  desc: number;
  indirect?: boolean;
  q?: number;
  forge: (r: SplitRing, mem: GM) => void;
}

/** Writes one indirect table entry. */
function ient(mem: GM, table: number, j: number, addr: number, len: number, flags: number, next: number): void {
  mem.writeU64(table + 16 * j, addr);
  mem.writeU32(table + 16 * j + 8, len);
  mem.writeU16(table + 16 * j + 12, flags);
  mem.writeU16(table + 16 * j + 14, next);
}

/** Publishes `heads` on the avail ring (as a driver would, but without any checks). */
function offer(r: SplitRing, ...heads: number[]): void {
  let idx = r.availIdx();
  for (const h of heads) r.avail16[2 + (idx++ & r.mask)] = h;
  Atomics.store(r.avail16, 1, idx & 0xffff);
}

const CASES: Case[] = [
  {
    name: 'a loop in the descriptor table', code: 'VQ_DESC_LOOP', says: ['visits descriptor 1 twice'], desc: 1,
    forge: (r) => { r.writeDesc(0, 0x1000, 8, NEXT, 1); r.writeDesc(1, 0x1000, 8, NEXT, 2); r.writeDesc(2, 0x1000, 8, NEXT, 1); offer(r, 0); },
  },
  {
    name: 'a descriptor chained to itself', code: 'VQ_DESC_LOOP', says: ['twice'], desc: 3,
    forge: (r) => { r.writeDesc(3, 0x1000, 8, NEXT, 3); offer(r, 3); },
  },
  {
    name: 'an indirect table longer than Q', code: 'VQ_CHAIN_TOO_LONG', says: ['longer than 8'], desc: 0, indirect: true,
    forge: (r, mem) => { for (let j = 0; j < 9; j++) ient(mem, TABLE, j, 0x1000, 1, j < 8 ? NEXT : 0, j + 1); r.writeDesc(0, TABLE, 16 * 9, INDIRECT, 0); offer(r, 0); },
  },
  {
    name: 'direct descriptors plus an indirect table adding up to more than Q', code: 'VQ_CHAIN_TOO_LONG', says: ['longer than 8'], desc: 2, indirect: true,
    forge: (r, mem) => {
      for (let j = 0; j < 7; j++) ient(mem, TABLE, j, 0x1000, 1, j < 6 ? NEXT : 0, j + 1);
      r.writeDesc(0, 0x1000, 8, NEXT, 1); r.writeDesc(1, 0x1000, 8, NEXT, 2); r.writeDesc(2, TABLE, 16 * 7, INDIRECT, 0); offer(r, 0);
    },
  },
  {
    name: 'a buffer address outside guest memory', code: 'VQ_DESC_OUT_OF_BOUNDS', says: ['outside guest memory', '0x100000'], desc: 0,
    forge: (r) => { r.writeDesc(0, MEM, 1, 0, 0); offer(r, 0); },
  },
  {
    name: 'a buffer length running past the end of guest memory', code: 'VQ_DESC_OUT_OF_BOUNDS', says: ['+4097'], desc: 1,
    forge: (r) => { r.writeDesc(0, 0x1000, 8, NEXT, 1); r.writeDesc(1, MEM - 4096, 4097, WRITE, 0); offer(r, 0); },
  },
  {
    name: 'an address above 4 GiB', code: 'VQ_DESC_OUT_OF_BOUNDS', says: ['0x100001000'], desc: 0,
    forge: (r) => { r.writeDesc(0, 0x1_0000_1000, 8, 0, 0); offer(r, 0); },
  },
  {
    name: 'a readable descriptor after a writable one', code: 'VQ_READ_AFTER_WRITE', says: ['readable descriptor after a device-writable'], desc: 1,
    forge: (r) => { r.writeDesc(0, 0x1000, 8, NEXT | WRITE, 1); r.writeDesc(1, 0x1000, 8, 0, 0); offer(r, 0); },
  },
  {
    name: 'a readable entry after a writable one inside an indirect table', code: 'VQ_READ_AFTER_WRITE', says: ['indirect entry 1'], desc: 4, indirect: true,
    forge: (r, mem) => { ient(mem, TABLE, 0, 0x1000, 8, NEXT | WRITE, 1); ient(mem, TABLE, 1, 0x1000, 8, 0, 0); r.writeDesc(4, TABLE, 32, INDIRECT, 0); offer(r, 4); },
  },
  {
    name: 'INDIRECT together with NEXT', code: 'VQ_INDIRECT_WITH_NEXT', says: ['INDIRECT and NEXT'], desc: 0, indirect: true,
    forge: (r, mem) => { ient(mem, TABLE, 0, 0x1000, 8, 0, 0); r.writeDesc(0, TABLE, 16, INDIRECT | NEXT, 1); offer(r, 0); },
  },
  {
    name: 'a nested indirect table', code: 'VQ_NESTED_INDIRECT', says: ['nested indirect', 'indirect entry 1'], desc: 0, indirect: true,
    forge: (r, mem) => { ient(mem, TABLE, 0, 0x1000, 8, NEXT, 1); ient(mem, TABLE, 1, TABLE + 0x100, 16, INDIRECT, 0); r.writeDesc(0, TABLE, 32, INDIRECT, 0); offer(r, 0); },
  },
  {
    name: 'an indirect table whose length is not a multiple of 16', code: 'VQ_INDIRECT_BAD_LEN', says: ['length 24'], desc: 0, indirect: true,
    forge: (r) => { r.writeDesc(0, TABLE, 24, INDIRECT, 0); offer(r, 0); },
  },
  {
    name: 'an empty indirect table', code: 'VQ_INDIRECT_BAD_LEN', says: ['length 0'], desc: 0, indirect: true,
    forge: (r) => { r.writeDesc(0, TABLE, 0, INDIRECT, 0); offer(r, 0); },
  },
  {
    name: 'an indirect table outside guest memory', code: 'VQ_DESC_OUT_OF_BOUNDS', says: ['indirect table'], desc: 0, indirect: true,
    forge: (r) => { r.writeDesc(0, MEM - 16, 32, INDIRECT, 0); offer(r, 0); },
  },
  {
    name: 'a loop inside an indirect table', code: 'VQ_DESC_LOOP', says: ['entry 0 twice'], desc: 0, indirect: true,
    forge: (r, mem) => { ient(mem, TABLE, 0, 0x1000, 8, NEXT, 1); ient(mem, TABLE, 1, 0x1000, 8, NEXT, 0); r.writeDesc(0, TABLE, 32, INDIRECT, 0); offer(r, 0); },
  },
  {
    name: 'next pointing outside the indirect table', code: 'VQ_NEXT_OUT_OF_RANGE', says: ['outside the indirect table of 2'], desc: 0, indirect: true,
    forge: (r, mem) => { ient(mem, TABLE, 0, 0x1000, 8, NEXT, 2); r.writeDesc(0, TABLE, 32, INDIRECT, 0); offer(r, 0); },
  },
  {
    name: 'INDIRECT without the feature', code: 'VQ_INDIRECT_NOT_NEGOTIATED', says: ['VIRTIO_RING_F_INDIRECT_DESC'], desc: 0,
    forge: (r, mem) => { ient(mem, TABLE, 0, 0x1000, 8, 0, 0); r.writeDesc(0, TABLE, 16, INDIRECT, 0); offer(r, 0); },
  },
  {
    name: 'next >= Q', code: 'VQ_NEXT_OUT_OF_RANGE', says: ['next 8 >= queue size 8'], desc: 0,
    forge: (r) => { r.writeDesc(0, 0x1000, 8, NEXT, 8); offer(r, 0); },
  },
  {
    name: 'a head index >= Q', code: 'VQ_HEAD_OUT_OF_RANGE', says: ['head 8 >= queue size 8'], desc: 8,
    forge: (r) => { offer(r, 8); },
  },
  {
    name: 'avail.idx jumping more than Q ahead', code: 'VQ_AVAIL_IDX_JUMP', says: ['avail.idx 10', 'more than 8 ahead of last_avail_idx 1'], desc: -1,
    forge: (r) => { Atomics.store(r.avail16, 1, 10); },
  },
  {
    name: 'avail.idx moving backwards (a jump of almost 2^16)', code: 'VQ_AVAIL_IDX_JUMP', says: ['avail.idx 65535'], desc: -1,
    forge: (r) => { Atomics.store(r.avail16, 1, 65535); },
  },
];

for (const c of CASES) {
  test(`malformed: ${c.name} -> ${c.code}, and the queue is inert`, (t) => {
    const q = c.q ?? 8;
    const mem = GuestMemory.create(MEM);
    const layout = allocSplitRing(mem, new PageAllocator(mem), q);
    const ring = new SplitRing(mem, layout);
    const broken: RingError[] = [];
    const dev = new DeviceQueue(mem, new SplitRing(mem, layout), { name: 'rxq3', eventIdx: true, indirect: c.indirect ?? false, onBroken: (e) => broken.push(e) });
    // A good chain first, so the queue is live and has something to flush.
    ring.writeDesc(7, 0x2000, 64, WRITE, 0);
    offer(ring, 7);
    t.is(dev.pop(), 7);
    dev.push(7, 64);
    c.forge(ring, mem);
    const r = dev.pop();
    t.true(r instanceof RingError, `pop returned ${String(r)}`);
    const e = r as RingError;
    t.is(e.code, c.code);
    t.is(e.queue, 'rxq3');
    t.is(e.desc, c.desc);
    t.true(e.message.startsWith('queue rxq3: '), e.message);
    if (c.desc >= 0) t.true(e.message.includes(`descriptor ${c.desc}`), e.message);
    for (const s of c.says) t.true(e.message.includes(s), `${JSON.stringify(s)} in ${JSON.stringify(e.message)}`);
    t.log(e.message);
    // Inert from now on: the same error, no ring access, nothing published, no interrupt.
    t.deepEqual(broken, [e]);
    t.true(dev.broken);
    const usedBefore = ring.usedIdx();
    for (let i = 0; i < 3; i++) t.is(dev.pop(), e);
    t.notThrows(() => { dev.push(0, 1); dev.flush(); });
    t.false(dev.shouldNotify());
    t.false(dev.enableNotify());
    t.false(dev.hasAvail());
    t.is(ring.usedIdx(), usedBefore);
    t.is(broken.length, 1);
  });
}

test('garbage everywhere: random rings never make pop() throw or loop, only return values', (t) => {
  let seed = 12345;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  let errors = 0;
  let chains = 0;
  for (let round = 0; round < 300; round++) {
    const q = 1 << (rnd() % 7);
    const mem = GuestMemory.create(1 << 16);
    const layout = allocSplitRing(mem, new PageAllocator(mem), q);
    // Scribble over the whole ring area (and an indirect table region) with random bytes.
    for (let a = layout.desc; a < layout.used + 6 + 8 * q; a++) mem.u8[a] = rnd() & 0xff;
    for (let a = 0x8000; a < 0x9000; a++) mem.u8[a] = rnd() & 0xff;
    const dev = new DeviceQueue(mem, new SplitRing(mem, layout), { name: 'fuzz', eventIdx: true, indirect: (round & 1) === 0 });
    const ring = new SplitRing(mem, layout);
    Atomics.store(ring.avail16, 1, (dev.lastAvailIdx + (rnd() % (q + 2))) & 0xffff);
    for (let k = 0; k < q + 3; k++) {
      const r = dev.pop();
      if (r instanceof RingError) { errors++; break; }
      if (r === VQ_EMPTY) break;
      chains++;
      dev.push(r, 0);
    }
    dev.shouldNotify();
  }
  t.log(`${chains} chains accepted, ${errors} rings broken`);
  t.true(errors > 0);
});

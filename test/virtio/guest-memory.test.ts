// Guest memory (bounds-checked accessors over a window of a SharedArrayBuffer) and the page allocator.
import test from 'ava';
import { GuestMemory, PageAllocator, VirtioError } from '../../virtio/index.ts';

test('a window of a larger SharedArrayBuffer: every access lands at byteOffset + gpa', (t) => {
  const sab = new SharedArrayBuffer(64 * 1024);
  const mem = new GuestMemory({ buffer: sab, byteOffset: 4096, byteLength: 16384 });
  mem.writeU32(0, 0xdeadbeef);
  mem.writeU16(100, 0xabcd);
  mem.writeU64(200, 0x1_2345_6789);
  mem.writeU8(16383, 7);
  const raw = new DataView(sab);
  t.is(raw.getUint32(4096, true), 0xdeadbeef);
  t.is(raw.getUint16(4196, true), 0xabcd);
  t.is(raw.getUint32(4296, true), 0x2345_6789);
  t.is(raw.getUint32(4300, true), 1);
  t.is(new Uint8Array(sab)[4096 + 16383], 7);
  t.is(mem.readU64(200), 0x1_2345_6789);
  t.is(mem.readU16(100), 0xabcd);
  t.is(mem.u16At(100, 1)[0], 0xabcd);
  t.is(mem.u32At(0, 1)[0], 0xdeadbeef);
  t.deepEqual([...mem.bytes(0, 4)], [0xef, 0xbe, 0xad, 0xde]);
  const copy = mem.copyOut(0, 4);
  mem.writeU8(0, 0);
  t.is(copy[0], 0xef, 'copyOut is a copy');
  // The shared description reopens the same window.
  const again = new GuestMemory(mem.share());
  t.is(again.readU16(100), 0xabcd);
});

test('accesses outside guest memory throw EFAULT; bad windows EINVAL', (t) => {
  const mem = GuestMemory.create(4096);
  for (const f of [
    () => mem.readU8(4096), () => mem.readU16(4095), () => mem.readU32(-1), () => mem.readU64(4090),
    () => mem.writeU32(4093, 1), () => mem.bytes(4000, 97), () => mem.write(4095, new Uint8Array(2)),
    () => mem.fill(0, 4097), () => mem.check(1.5, 1), () => mem.check(0, Number.NaN),
  ]) {
    t.is(t.throws(f, { instanceOf: VirtioError })?.code, 'EFAULT');
  }
  t.true(mem.contains(4095, 1));
  t.true(mem.contains(4096, 0));
  t.false(mem.contains(4096, 1));
  t.is(t.throws(() => mem.u16At(1, 1))?.message.includes('unaligned'), true);
  const sab = new SharedArrayBuffer(8192);
  t.is(t.throws(() => new GuestMemory({ buffer: sab, byteOffset: 8, byteLength: 64 }), { instanceOf: VirtioError })?.code, 'EINVAL');
  t.is(t.throws(() => new GuestMemory({ buffer: sab, byteOffset: 4096, byteLength: 8192 }), { instanceOf: VirtioError })?.code, 'EINVAL');
  t.is(t.throws(() => GuestMemory.create(0), { instanceOf: VirtioError })?.code, 'EINVAL');
});

test('page allocator: page 0 is never handed out, alignment is honoured, allocations do not overlap', (t) => {
  const mem = GuestMemory.create(1 << 20);
  const pages = new PageAllocator(mem);
  t.is(pages.freeBytes, (1 << 20) - 4096);
  const a = pages.alloc(1);
  t.is(a, 4096);
  const b = pages.alloc(4097);
  t.is(b, 8192);
  const c = pages.alloc(100, 65536);
  t.is(c % 65536, 0);
  t.is(c, 65536);
  const d = pages.alloc(4096);
  t.is(d, 16384, 'the hole left by alignment is used first-fit');
  t.is(pages.freeBytes, (1 << 20) - 4096 * 6);
});

test('page allocator: out of memory, exact fit, free, coalescing, double free', (t) => {
  const mem = GuestMemory.create(64 * 1024);
  const pages = new PageAllocator(mem);
  const all = pages.alloc(15 * 4096);
  t.is(all, 4096);
  t.is(pages.freeBytes, 0);
  const oom = t.throws(() => pages.alloc(1), { instanceOf: VirtioError });
  t.is(oom?.code, 'ENOMEM');
  pages.freeRange(all);
  t.deepEqual(pages.freeRuns(), [[4096, 15 * 4096]]);
  const xs = [pages.alloc(4096), pages.alloc(4096), pages.alloc(4096), pages.alloc(4096)];
  t.deepEqual(xs, [4096, 8192, 12288, 16384]);
  pages.freeRange(xs[1]!);
  pages.freeRange(xs[3]!);
  t.deepEqual(pages.freeRuns(), [[8192, 4096], [16384, 12 * 4096]]);
  t.is(t.throws(() => pages.alloc(2 * 4096, 65536), { instanceOf: VirtioError })?.code, 'ENOMEM', 'no 64K-aligned run (page 0 is reserved)');
  t.throws(() => pages.alloc(13 * 4096), { instanceOf: VirtioError }, 'free pages are not contiguous');
  pages.freeRange(xs[2]!);
  t.deepEqual(pages.freeRuns(), [[8192, 14 * 4096]], 'coalesced with both neighbours');
  pages.freeRange(xs[0]!);
  t.deepEqual(pages.freeRuns(), [[4096, 15 * 4096]]);
  t.is(t.throws(() => pages.freeRange(xs[0]!), { instanceOf: VirtioError })?.code, 'EINVAL', 'double free');
  t.is(t.throws(() => pages.freeRange(4096 + 1), { instanceOf: VirtioError })?.code, 'EINVAL');
  t.is(t.throws(() => pages.alloc(0), { instanceOf: VirtioError })?.code, 'EINVAL');
  t.is(t.throws(() => pages.alloc(16, 3), { instanceOf: VirtioError })?.code, 'EINVAL');
});

test('page allocator: a managed sub-range and a small page size', (t) => {
  const mem = GuestMemory.create(64 * 1024);
  const pages = new PageAllocator(mem, { pageSize: 256, start: 1024, end: 2048 });
  t.deepEqual(pages.freeRuns(), [[1024, 1024]]);
  t.is(pages.alloc(300), 1024);
  t.is(pages.alloc(512), 1536);
  t.is(t.throws(() => pages.alloc(1))?.message.includes('no free run'), true);
});

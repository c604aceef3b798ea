// The frame pool and its page_pool allocator: geometry, alloc/free, remote recycling, conservation,
// and a remote worker giving frames back while the owner keeps allocating.
import test from 'ava';
import { XdpBuff } from '../../bpf-vm/index.ts';
import {
  FRAME, FramePool, PagePool, PagePoolRemote, PP_ALLOC_CACHE_REFILL, PP_ALLOC_CACHE_SIZE, PtrRing, SockWait, TunError,
} from '../../tun/index.ts';
import { nextMessage, openStart, spawnTsWorker } from '../workers/spawn.ts';

const code = (f: () => unknown): string | undefined => {
  try { f(); } catch (e) { return e instanceof TunError ? e.code : `not a TunError: ${String(e)}`; }
  return undefined;
};

test('a frame holds 256 bytes of headroom, a 1518-byte frame and skb_shared_info, as XdpBuff requires', (t) => {
  t.is(FRAME.SIZE, 2112);
  t.is(FRAME.SIZE % 64, 0);
  const fp = FramePool.create({ frames: 4, scratch: 1 });
  t.is(fp.maxData, 1536);
  const xdp = new XdpBuff(new Uint8Array(0));
  // The last frame of the buffer (the scratch frame), with the largest data: accepted.
  const h = fp.scratchHandle(0);
  t.notThrows(() => xdp.prepare(fp.u8, fp.frameStart(h), fp.frameSize, FRAME.HEADROOM, 1518));
  t.notThrows(() => xdp.reset(fp.frameStart(0), FRAME.HEADROOM, fp.maxData));
  t.throws(() => xdp.reset(fp.frameStart(0), FRAME.HEADROOM, fp.maxData + 1));
  t.throws(() => xdp.reset(fp.frameStart(h) + 64, FRAME.HEADROOM, 60), undefined, 'a frame past the buffer');
});

test('the owner allocates every frame once, then -1; frees make them allocatable again', (t) => {
  const fp = FramePool.create({ frames: 8 });
  const pool = new PagePool(fp);
  const got = new Set<number>();
  for (let i = 0; i < 8; i++) got.add(pool.alloc());
  t.deepEqual([...got].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
  t.is(pool.alloc(), -1);
  t.is(pool.alloc_failed, 1);
  t.deepEqual(pool.accounting(), { total: 8, free: 0, recycling: 0, inFlight: 8 });
  pool.free(5);
  t.is(pool.alloc(), 5);
  for (const h of got) pool.free(h);
  t.deepEqual(pool.accounting(), { total: 8, free: 8, recycling: 0, inFlight: 0 });
  t.is(code(() => pool.free(3)), 'EOVERFLOW', 'a double free');
  t.is(code(() => pool.free(8)), 'EINVAL');
  t.is(code(() => pool.free(-1)), 'EINVAL');
});

test('one owner and one producer per recycle ring: claims live in shared memory', (t) => {
  const fp = FramePool.create({ frames: 4, remotes: 2 });
  const owner = new PagePool(fp);
  const again = FramePool.open(fp.share());
  t.is(code(() => new PagePool(again)), 'EBUSY');
  const r0 = new PagePoolRemote(again, 0);
  t.is(code(() => new PagePoolRemote(fp, 0)), 'EBUSY');
  t.notThrows(() => new PagePoolRemote(fp, 1));
  t.is(code(() => new PagePoolRemote(fp, 2)), 'EINVAL');
  r0.release();
  t.notThrows(() => new PagePoolRemote(fp, 0));
  owner.release();
  t.notThrows(() => new PagePool(again));
});

test('remote frees reach the owner only when flushed, and only when its stack runs dry', (t) => {
  const fp = FramePool.create({ frames: 4 });
  const pool = new PagePool(fp);
  const remote = new PagePoolRemote(FramePool.open(fp.share()));
  const hs = [pool.alloc(), pool.alloc(), pool.alloc(), pool.alloc()];
  remote.free(hs[0]!);
  remote.free(hs[1]!);
  t.is(remote.pending, 2);
  t.deepEqual(pool.accounting(), { total: 4, free: 0, recycling: 0, inFlight: 4 }, 'unflushed frees are still in flight');
  t.is(pool.alloc(), -1);
  remote.flush();
  t.is(remote.flushes, 1);
  remote.flush();
  t.is(remote.flushes, 1, 'an empty flush publishes nothing');
  t.deepEqual(pool.accounting(), { total: 4, free: 0, recycling: 2, inFlight: 2 });
  const a = pool.alloc(), b = pool.alloc();
  t.deepEqual([a, b].sort(), [hs[0], hs[1]].sort());
  t.is(pool.refills, 1);
  t.is(pool.recycled, 2);
  remote.free(hs[2]!);
  remote.free(hs[3]!);
  remote.free(a);
  remote.free(b);
  remote.flush();
  t.is(code(() => remote.free(a)), 'EOVERFLOW', 'the ring holds every frame: one more is a double free');
  t.is(code(() => remote.free(99)), 'EINVAL');
  t.deepEqual(pool.accounting(), { total: 4, free: 0, recycling: 4, inFlight: 0 });
  pool.refill();
  t.deepEqual(pool.accounting(), { total: 4, free: 4, recycling: 0, inFlight: 0 });
});

test('page_pool order: the cache first, then up to 64 recycled frames, then the reserve; a stream reuses the frames in flight', (t) => {
  const fp = FramePool.create({ frames: 1024 });
  const pool = new PagePool(fp);
  const remote = new PagePoolRemote(FramePool.open(fp.share()));
  // The owner's own free goes into the cache and is the next frame out.
  const a = pool.alloc();
  pool.free(a);
  t.is(pool.alloc(), a);
  pool.free(a);
  // 32 frames in flight at a time, given back by another worker: after the first round, every
  // frame comes back through the recycle ring, never from the reserve.
  const seen = new Set<number>();
  for (let round = 0; round < 100; round++) {
    const hs = Array.from({ length: 32 }, () => pool.alloc());
    for (const h of hs) {
      seen.add(h);
      remote.free(h);
    }
    remote.flush();
  }
  t.is(seen.size, 32, 'the same 32 frames, not the whole pool');
  t.is(pool.alloc_slow, 32, 'only `a` and the first round came from the reserve');
  t.is(pool.refills, 99);
  t.is(pool.recycled, 99 * 32);
  // A cache refill takes at most PP_ALLOC_CACHE_REFILL; frees past a full cache go to the reserve.
  const many = Array.from({ length: 300 }, () => pool.alloc());
  for (const h of many) remote.free(h);
  remote.flush();
  const before = pool.recycled;
  pool.alloc();
  t.is(pool.recycled - before, PP_ALLOC_CACHE_REFILL);
  for (let i = 0; i < 200; i++) pool.free(pool.alloc());
  const own = Array.from({ length: PP_ALLOC_CACHE_SIZE + 10 }, () => pool.alloc());
  for (const h of own) pool.free(h);
  pool.refill();
  t.deepEqual(pool.accounting(), { total: 1024, free: 1023, recycling: 0, inFlight: 1 });
});

test('meta travels with the handle; write/read copy a frame in and out', (t) => {
  const fp = FramePool.create({ frames: 2 });
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);
  fp.write(1, bytes);
  const other = FramePool.open(fp.share());
  t.is(other.length(1), 100);
  t.is(other.dataOffset(1), fp.frameSize + FRAME.HEADROOM);
  t.deepEqual(other.read(1), bytes);
  t.is(code(() => fp.write(0, new Uint8Array(fp.maxData + 1))), 'EINVAL');
  t.is(code(() => fp.scratchHandle(fp.scratch)), 'EINVAL');
  t.is(fp.scratchHandle(0), fp.frames, 'scratch frames follow the allocatable ones');
});

test('bad pool descriptors are refused with EINVAL', (t) => {
  const fp = FramePool.create({ frames: 8 });
  const s = fp.share();
  t.is(code(() => FramePool.open({ ...s, frames: 9 })), 'EINVAL');
  t.is(code(() => FramePool.open({ ...s, frameSize: 2048 + 1 })), 'EINVAL');
  t.is(code(() => FramePool.open({ ...s, recycle: [] })), 'EINVAL');
  t.is(code(() => FramePool.open({ ...s, buffer: new SharedArrayBuffer(64) })), 'EINVAL');
  t.is(code(() => FramePool.create({ frameSize: 1000 })), 'EINVAL');
  t.is(code(() => FramePool.create({ frames: 0 })), 'EINVAL');
  t.is(code(() => FramePool.create({ frames: 1024, recycle: undefined } as never)), undefined);
  const small = PtrRing.create(4).share();
  t.is(code(() => FramePool.open({ ...s, recycle: [small] })), 'EINVAL', 'a recycle ring smaller than the pool');
});

test('two workers: the owner keeps allocating while a remote frees 300k frames back through its ring', async (t) => {
  const count = 300_000;
  const fp = FramePool.create({ frames: 256 });
  const pool = new PagePool(fp);
  const ring = PtrRing.create(1024);
  const wake = SockWait.create();
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const w = spawnTsWorker('tun-pool-remote', { pool: fp.share(), ring: ring.share(), wake: wake.share(), count, gate });
  t.is(await nextMessage<string>(w), 'ready');
  const done = nextMessage<{ seen: number; bad: number; lenBad: number; freed: number; flushes: number }>(w);
  openStart(gate);
  let sent = 0, starved = 0;
  while (sent < count) {
    const h = pool.alloc();
    if (h < 0) {
      // Every frame is with the remote: hand over what is queued and try again.
      starved++;
      ring.publishProduced();
      wake.wake();
      continue;
    }
    const word = (fp.frameStart(h) + FRAME.HEADROOM) >>> 2;
    fp.i32[word] = sent;
    fp.i32[word + 1] = h;
    fp.setData(h, FRAME.HEADROOM, 60);
    if (!ring.produce(h)) throw new Error('the ring is larger than the pool: never full');
    sent++;
    if ((sent & 31) === 0) {
      ring.publishProduced();
      wake.wake();
    }
  }
  ring.publishProduced();
  wake.wake();
  const r = await done;
  await w.terminate();
  t.is(r.seen, count);
  t.is(r.bad, 0, 'every frame arrived with its own bytes');
  t.is(r.lenBad, 0);
  t.is(r.freed, count);
  pool.refill();
  t.deepEqual(pool.accounting(), { total: 256, free: 256, recycling: 0, inFlight: 0 }, 'every frame came back');
  t.is(pool.alloc_ok, count);
  t.true(pool.recycled >= count - 256);
  t.log(`${pool.refills} refills brought ${pool.recycled} frames; remote flushes ${r.flushes}; owner found the pool empty ${starved} times`);
});

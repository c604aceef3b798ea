// A page_pool (net/core/page_pool.c) over a FramePool. One worker owns the pool (the host worker:
// the NIC allocates, the tap and the bridge free). Other workers (vhost) give frames back through
// their own recycle ptr_ring, batched like page_pool's ring (one Atomics.store per flush).
//
// Allocation follows page_pool's order: the alloc cache first (PP_ALLOC_CACHE_SIZE handles, last
// in first out, no shared-memory traffic), then a refill of up to PP_ALLOC_CACHE_REFILL frames
// from the recycle rings (page_pool_refill_alloc_cache), and only when nothing came back a frame
// from the reserve the pool has never handed out, or was given back beyond the cache (the page
// allocator's part in the kernel). So the frames in use are the ones in flight plus the cache: a
// stream keeps recycling the same few hundred frames, as the kernel's does, instead of cycling
// through the whole pool and missing every cache on the way.
//
// Every frame is always in exactly one place: the owner's stack, a recycle ring (published or not
// yet flushed), or in flight (a NIC queue, the tap's ring, a program's run, vhost's hands).
import { TunError } from './errors.ts';
import type { FramePool } from './frame-pool.ts';
import { PtrRing } from './ptr-ring.ts';

const OWNER_CLAIM = 0;

/** include/net/page_pool/types.h. */
export const PP_ALLOC_CACHE_SIZE = 128;
export const PP_ALLOC_CACHE_REFILL = 64;

export interface PagePoolAccounting {
  total: number;
  /** With the owner: its alloc cache and its reserve. */
  free: number;
  /** Published into the recycle rings, not yet taken back. */
  recycling: number;
  /** Everywhere else, including frames a remote freed but has not flushed. */
  inFlight: number;
}

/** The owner's side. Exactly one per FramePool (claimed in shared memory). */
export class PagePool {
  readonly pool: FramePool;
  /** The alloc cache: a stack of at most PP_ALLOC_CACHE_SIZE handles. */
  private readonly cache = new Uint32Array(PP_ALLOC_CACHE_SIZE);
  private cached = 0;
  /** The reserve: a stack of every other free handle (frames 0, 1, 2... on top when fresh). */
  private readonly stack: Uint32Array;
  private top: number;
  private readonly rings: PtrRing[];
  private readonly frames: number;

  /** Successful alloc() calls. */
  alloc_ok = 0;
  /** Of those, the ones that had to take a frame from the reserve (the slow path). */
  alloc_slow = 0;
  /** alloc() calls that found no frame anywhere. */
  alloc_failed = 0;
  /** Refills of the empty cache from the recycle rings that brought frames, and the frames. */
  refills = 0;
  recycled = 0;
  /** free() calls by the owner. */
  freed = 0;

  constructor(pool: FramePool) {
    if (Atomics.compareExchange(pool.claims, OWNER_CLAIM, 0, 1) !== 0) {
      throw new TunError('EBUSY', 'page pool: this frame pool already has an owner');
    }
    this.pool = pool;
    this.frames = pool.frames;
    this.stack = new Uint32Array(pool.frames);
    // Lowest handles on top: a fresh pool hands out frames 0, 1, 2...
    for (let i = 0; i < pool.frames; i++) this.stack[i] = pool.frames - 1 - i;
    this.top = pool.frames;
    this.rings = pool.recycle.map((r) => PtrRing.open(r));
  }

  /** A free frame's handle, or -1 when every frame is in use. The frame's meta is not reset. */
  alloc(): number {
    if (this.cached === 0 && this.refillCache() === 0) {
      if (this.top === 0) {
        this.alloc_failed++;
        return -1;
      }
      this.alloc_slow++;
      this.alloc_ok++;
      return this.stack[--this.top]!;
    }
    this.alloc_ok++;
    return this.cache[--this.cached]!;
  }

  /** Gives a frame back from the owner's own worker: into the cache (page_pool_recycle_in_cache), else the reserve. */
  free(h: number): void {
    if (h >>> 0 >= this.frames || this.cached + this.top >= this.frames) this.badFree(h);
    if (this.cached < PP_ALLOC_CACHE_SIZE) this.cache[this.cached++] = h;
    else this.stack[this.top++] = h;
    this.freed++;
  }

  /** page_pool_refill_alloc_cache: up to PP_ALLOC_CACHE_REFILL recycled frames into the empty cache. */
  private refillCache(): number {
    const rings = this.rings;
    let n = 0;
    for (let i = 0; i < rings.length && n < PP_ALLOC_CACHE_REFILL; i++) n += rings[i]!.consumeBatched(this.cache, PP_ALLOC_CACHE_REFILL - n, n);
    if (n > 0) {
      this.refills++;
      this.recycled += n;
      this.cached = n;
    }
    return n;
  }

  /**
   * Takes every published recycled frame back (into the cache while it has room, then the
   * reserve): for tests and teardown, not the data path. Returns the frames now free.
   */
  refill(): number {
    for (const ring of this.rings) {
      for (;;) {
        if (this.cached < PP_ALLOC_CACHE_SIZE) {
          const n = ring.consumeBatched(this.cache, PP_ALLOC_CACHE_SIZE - this.cached, this.cached);
          this.cached += n;
          this.recycled += n;
          if (n > 0) continue;
          break;
        }
        const n = ring.consumeBatched(this.stack, this.frames - this.top, this.top);
        this.top += n;
        this.recycled += n;
        break;
      }
    }
    return this.cached + this.top;
  }

  /** Where the frames are (reads the recycle rings' indices: not for the data path). */
  accounting(): PagePoolAccounting {
    let recycling = 0;
    for (const r of this.rings) recycling += r.count();
    const free = this.cached + this.top;
    return { total: this.frames, free, recycling, inFlight: this.frames - free - recycling };
  }

  /** Frames with the owner (cache and reserve). */
  get available(): number {
    return this.cached + this.top;
  }

  /** Gives up ownership (a worker shutting down); the object must not be used afterwards. */
  release(): void {
    Atomics.store(this.pool.claims, OWNER_CLAIM, 0);
  }

  private badFree(h: number): never {
    if (h >>> 0 >= this.frames) throw new TunError('EINVAL', `page pool: ${h} is not an allocatable frame (0..${this.frames - 1})`);
    throw new TunError('EOVERFLOW', `page pool: frame ${h} freed while every frame is already free (a double free)`);
  }
}

/** A non-owner worker's way to give frames back: batched into its recycle ring. */
export class PagePoolRemote {
  readonly pool: FramePool;
  readonly slot: number;
  private readonly ring: PtrRing;
  private readonly frames: number;

  /** free() calls. */
  freed = 0;
  /** flush() calls that published something. */
  flushes = 0;

  constructor(pool: FramePool, slot = 0) {
    if (!Number.isInteger(slot) || slot < 0 || slot >= pool.remotes) throw new TunError('EINVAL', `page pool: no recycle ring ${slot} (have ${pool.remotes})`);
    if (Atomics.compareExchange(pool.claims, 1 + slot, 0, 1) !== 0) {
      throw new TunError('EBUSY', `page pool: recycle ring ${slot} already has a producer`);
    }
    this.pool = pool;
    this.slot = slot;
    this.frames = pool.frames;
    this.ring = PtrRing.open(pool.recycle[slot]!);
  }

  /** Queues frame h for the owner; visible to it after flush(). */
  free(h: number): void {
    if (h >>> 0 >= this.frames || !this.ring.produce(h)) this.badFree(h);
    this.freed++;
  }

  /** Publishes the frames freed since the last flush (one Atomics.store, none when nothing is pending). */
  flush(): void {
    if (this.ring.unpublished === 0) return;
    this.flushes++;
    this.ring.publishProduced();
  }

  /** Frames freed but not yet flushed: invisible to the owner, in flight for its accounting. */
  get pending(): number {
    return this.ring.unpublished;
  }

  release(): void {
    Atomics.store(this.pool.claims, 1 + this.slot, 0);
  }

  private badFree(h: number): never {
    if (h >>> 0 >= this.frames) throw new TunError('EINVAL', `page pool: ${h} is not an allocatable frame (0..${this.frames - 1})`);
    throw new TunError('EOVERFLOW', `page pool: recycle ring ${this.slot} is full, so frame ${h} was freed twice`);
  }
}

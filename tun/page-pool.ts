// A page_pool (net/core/page_pool.c) over a FramePool. One worker owns the pool (the host worker:
// the NIC allocates, the tap and the bridge free): it allocates from a local stack of free handles
// with no shared-memory traffic at all. Other workers (vhost) give frames back through their own
// recycle ptr_ring, batched like page_pool's ring (one Atomics.store per flush); the owner refills
// its stack from the rings only when the stack runs dry, as page_pool_refill_alloc_cache does.
//
// Every frame is always in exactly one place: the owner's stack, a recycle ring (published or not
// yet flushed), or in flight (a NIC queue, the tap's ring, a program's run, vhost's hands).
import { TunError } from './errors.ts';
import type { FramePool } from './frame-pool.ts';
import { PtrRing } from './ptr-ring.ts';

const OWNER_CLAIM = 0;

export interface PagePoolAccounting {
  total: number;
  /** On the owner's stack. */
  free: number;
  /** Published into the recycle rings, not yet taken back. */
  recycling: number;
  /** Everywhere else, including frames a remote freed but has not flushed. */
  inFlight: number;
}

/** The owner's side. Exactly one per FramePool (claimed in shared memory). */
export class PagePool {
  readonly pool: FramePool;
  private readonly stack: Uint32Array;
  private top: number;
  private readonly rings: PtrRing[];
  private readonly frames: number;

  /** Successful alloc() calls. */
  alloc_ok = 0;
  /** alloc() calls that found no frame anywhere. */
  alloc_failed = 0;
  /** Times the empty stack was refilled from the recycle rings, and the frames that brought. */
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
    let top = this.top;
    if (top === 0) {
      top = this.refill();
      if (top === 0) {
        this.alloc_failed++;
        return -1;
      }
    }
    this.top = --top;
    this.alloc_ok++;
    return this.stack[top]!;
  }

  /** Gives a frame back from the owner's own worker. */
  free(h: number): void {
    if (h >>> 0 >= this.frames || this.top >= this.frames) this.badFree(h);
    this.stack[this.top++] = h;
    this.freed++;
  }

  /** Moves every published recycled frame onto the stack; returns the new stack depth. */
  refill(): number {
    let top = this.top;
    const rings = this.rings;
    for (let i = 0; i < rings.length; i++) {
      const n = rings[i]!.consumeBatched(this.stack, this.frames - top, top);
      top += n;
      this.recycled += n;
    }
    if (top !== this.top) this.refills++;
    this.top = top;
    return top;
  }

  /** Where the frames are (reads the recycle rings' indices: not for the data path). */
  accounting(): PagePoolAccounting {
    let recycling = 0;
    for (const r of this.rings) recycling += r.count();
    return { total: this.frames, free: this.top, recycling, inFlight: this.frames - this.top - recycling };
  }

  /** Frames on the owner's stack. */
  get available(): number {
    return this.top;
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

// ptr_ring (include/linux/ptr_ring.h) between two workers: a single-producer single-consumer ring
// of u32 entries, here frame handles, in one SharedArrayBuffer.
//
// The kernel's ptr_ring marks free slots with NULL and takes a spinlock per side; across workers
// that would be an Atomics operation per entry, which costs 10-18 ns here against about 1 ns for a
// plain typed-array access. So the ring is index based instead: the producer owns `tail`, the
// consumer owns `head`, both free-running int32 counters. Entries are written with plain stores and
// made visible by one Atomics.store of the index per batch (seq-cst, so it orders the entries
// before it); the peer reads the index with Atomics.load before reading entries. Each side caches
// the peer's index and reloads it only when the cached value cannot satisfy it, as ptr_ring's
// consumer batching (PTR_RING_CACHE_BYTES) avoids touching the producer's cache line.
//
// Layout (int32 words; the two indices sit on 64-byte cache lines of their own, and the buffer
// starts and ends with a line of padding: malloc puts other small buffers right beside this one,
// and the indices must not share a line with them):
//   word 0..15   padding
//   word 16      tail: entries produced and published (written by the producer only)
//   word 32      head: entries consumed and published (written by the consumer only)
//   word 48      RING_MAGIC
//   word 49      capacity
//   word 64...   entries, u32 [capacity], then a line of padding
import { allocShared, isPow2, TunError } from './errors.ts';

/**
 * Kernel tun's default tx_queue_len is 1000 (TUN_READQ_SIZE) and ptr_ring takes any size; the
 * index ring needs a power of two, so the default is the next one, 1024.
 */
export const TUN_RING_SIZE = 1024;
/** Large enough for any frame pool (handles are u32 indices; free-running int32 indices stay unambiguous). */
export const PTR_RING_MAX = 1 << 24;

/** Word offsets of the two indices in the ring's buffer (tests move them to check the int32 wrap). */
export const PTR_RING_INDEX = { TAIL: 16, HEAD: 32 } as const;
const { TAIL, HEAD } = PTR_RING_INDEX;
const MAGIC = 48;
const CAPACITY = 49;
const ENTRIES_BYTE = 256;
const PAD_BYTES = 64;
const RING_MAGIC = 0x70726e67; // 'prng'

/** What another worker needs to open the same ring (structured-clone friendly). */
export interface SharedPtrRing {
  buffer: SharedArrayBuffer;
  capacity: number;
}

export function ptrRingBytes(capacity: number): number {
  return ENTRIES_BYTE + 4 * capacity + PAD_BYTES;
}

export class PtrRing {
  readonly capacity: number;
  readonly buffer: SharedArrayBuffer;
  private readonly mask: number;
  private readonly idx: Int32Array;
  private readonly entries: Uint32Array;

  // Producer state (meaningful in the producing worker only).
  private tail: number;
  private publishedTail: number;
  private cachedHead: number;
  // Consumer state (meaningful in the consuming worker only).
  private head: number;
  private cachedTail: number;

  /** Entries accepted by produce() through this handle. */
  produced = 0;
  /** produce() calls refused because the ring was full. */
  full = 0;
  /** Atomics.store of the tail (one per batch). */
  publishes = 0;
  /** Entries handed out by consumeBatched(). */
  consumed = 0;
  /** consumeBatched() calls that returned entries. */
  consumeBatches = 0;
  /** Atomics.load of the peer's index because the cached one was not enough. */
  producerRefreshes = 0;
  consumerRefreshes = 0;

  /** A fresh, empty ring in its own SharedArrayBuffer. */
  static create(capacity: number = TUN_RING_SIZE): PtrRing {
    checkCapacity(capacity);
    const buffer = allocShared(ptrRingBytes(capacity), `ptr_ring of ${capacity}`);
    const words = new Int32Array(buffer, 0, ENTRIES_BYTE >>> 2);
    words[MAGIC] = RING_MAGIC;
    words[CAPACITY] = capacity;
    return new PtrRing({ buffer, capacity });
  }

  /** Opens a ring another worker created (the descriptor from share()). */
  static open(shared: SharedPtrRing): PtrRing {
    return new PtrRing(shared);
  }

  constructor(shared: SharedPtrRing) {
    const { buffer, capacity } = shared ?? ({} as Partial<SharedPtrRing>);
    if (!(buffer instanceof SharedArrayBuffer)) throw new TunError('EINVAL', 'ptr_ring: the descriptor has no SharedArrayBuffer');
    checkCapacity(capacity);
    if (buffer.byteLength !== ptrRingBytes(capacity)) {
      throw new TunError('EINVAL', `ptr_ring: ${buffer.byteLength}-byte buffer, a ring of ${capacity} needs ${ptrRingBytes(capacity)}`);
    }
    const words = new Int32Array(buffer, 0, ENTRIES_BYTE >>> 2);
    if (Atomics.load(words, MAGIC) !== RING_MAGIC || Atomics.load(words, CAPACITY) !== capacity) {
      throw new TunError('EINVAL', `ptr_ring: the buffer does not hold a ring of ${capacity}`);
    }
    this.buffer = buffer;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.idx = words;
    this.entries = new Uint32Array(buffer, ENTRIES_BYTE, capacity);
    this.tail = this.publishedTail = Atomics.load(words, TAIL);
    this.head = this.cachedHead = Atomics.load(words, HEAD);
    this.cachedTail = this.tail;
  }

  share(): SharedPtrRing {
    return { buffer: this.buffer, capacity: this.capacity };
  }

  // --- producer ---

  /** Places `x` (a u32) after the last entry; false when the ring is full. Visible after publishProduced(). */
  produce(x: number): boolean {
    const t = this.tail;
    if (((t - this.cachedHead) | 0) >= this.capacity) {
      this.producerRefreshes++;
      this.cachedHead = Atomics.load(this.idx, HEAD);
      if (((t - this.cachedHead) | 0) >= this.capacity) {
        this.full++;
        return false;
      }
    }
    this.entries[t & this.mask] = x;
    this.tail = (t + 1) | 0;
    this.produced++;
    return true;
  }

  /** Makes every entry produced so far visible to the consumer: one Atomics.store. */
  publishProduced(): void {
    const t = this.tail;
    if (t === this.publishedTail) return;
    this.publishedTail = t;
    this.publishes++;
    Atomics.store(this.idx, TAIL, t);
  }

  /** Entries produced but not yet published. */
  get unpublished(): number {
    return (this.tail - this.publishedTail) | 0;
  }

  // --- consumer ---

  /**
   * Moves up to `max` published entries into `out[at..]` and publishes the new head once.
   * The cached tail is reloaded (one Atomics.load) only when it cannot fill the request, so a
   * busy ring costs one load and one store per batch.
   */
  consumeBatched(out: Uint32Array, max: number, at = 0): number {
    const h = this.head;
    let avail = (this.cachedTail - h) | 0;
    if (avail < max) {
      this.consumerRefreshes++;
      this.cachedTail = Atomics.load(this.idx, TAIL);
      avail = (this.cachedTail - h) | 0;
      if (avail === 0) return 0;
    }
    let n = avail < max ? avail : max;
    if (n > out.length - at) n = out.length - at;
    if (n <= 0) return 0;
    const entries = this.entries, mask = this.mask;
    for (let i = 0; i < n; i++) out[at + i] = entries[(h + i) & mask]!;
    const nh = (h + n) | 0;
    this.head = nh;
    this.consumed += n;
    this.consumeBatches++;
    Atomics.store(this.idx, HEAD, nh);
    return n;
  }

  /** Consumer side: true when nothing published is waiting (reloads the tail only if the cache says empty). */
  empty(): boolean {
    if (this.cachedTail !== this.head) return false;
    this.cachedTail = Atomics.load(this.idx, TAIL);
    return this.cachedTail === this.head;
  }

  // --- either side, off the data path ---

  /** Published entries not yet consumed, as seen from shared memory (two Atomics.load). */
  count(): number {
    return (Atomics.load(this.idx, TAIL) - Atomics.load(this.idx, HEAD)) | 0;
  }
}

function checkCapacity(capacity: unknown): asserts capacity is number {
  if (typeof capacity !== 'number' || !isPow2(capacity) || capacity < 2 || capacity > PTR_RING_MAX) {
    throw new TunError('EINVAL', `ptr_ring: capacity ${String(capacity)} is not a power of two in [2, ${PTR_RING_MAX}]`);
  }
}

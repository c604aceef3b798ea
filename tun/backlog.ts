// The per-CPU backlog between the tap and the host stack (net/core/dev.c: netif_rx ->
// enqueue_to_backlog, then process_backlog on the CPU that owns the queue). tun_get_user runs in
// the vhost thread, but the host's bridge and stack run in the host worker, so a frame the guest
// sent crosses threads here: the vhost side copies it into a slot (the skb it would have queued),
// the host worker takes it in its loop. The queue is bounded like netdev_max_backlog (1000, here
// the next power of two): a guest flooding the host finds it full, and the frame is dropped and
// counted (softnet_data->dropped, SKB_DROP_REASON_CPU_BACKLOG), never queued without bound.
//
// Shared layout (one SharedArrayBuffer, int32 words unless said otherwise):
//   word 16        tail: slots produced and published (producer only)
//   word 32        head: slots consumed and published (consumer only)
//   word 48..50    magic, slot count, slot size
//   byte 256       lengths, u32 [slots]
//   then           slots, slot i at i * slotSize, each 4-byte aligned (word copies)
// Unlike a ptr_ring of handles, a slot is the frame itself: the consumer publishes its head only
// after it has copied a batch out, so the producer never overwrites bytes still being read.
import { allocShared, isPow2, TunError } from './errors.ts';
import { SockWait, type SharedSockWait } from './sock-wait.ts';

/** netdev_max_backlog's default (1000), rounded up to a power of two. */
export const BACKLOG_SLOTS = 1024;
/** A slot holds the largest frame a FramePool frame does (1536 data bytes), rounded to words. */
export const BACKLOG_SLOT_SIZE = 1536;

const TAIL = 16;
const HEAD = 32;
const MAGIC = 48;
const SLOTS = 49;
const SLOT_SIZE = 50;
const LENS_BYTE = 256;
const BACKLOG_MAGIC = 0x626c6f67; // 'blog'

export interface SharedSoftnetBacklog {
  buffer: SharedArrayBuffer;
  slots: number;
  slotSize: number;
}

export interface SoftnetBacklogStats {
  /** Frames queued by enqueue_to_backlog, and their bytes. */
  enqueued: number;
  enqueued_bytes: number;
  /** Frames refused because the queue was full (softnet_data->dropped). */
  dropped: number;
  /** Frames longer than a slot (cannot happen for a frame a tap accepted; counted, not thrown). */
  too_big: number;
  /** Frames process_backlog handed to the host, and the batches it took them in. */
  processed: number;
  batches: number;
  /** Producer wake-ups of the consumer (one per flush that published something). */
  flushes: number;
}

function backlogBytes(slots: number, slotSize: number): number {
  return LENS_BYTE + 4 * slots + slots * slotSize + 64;
}

export class SoftnetBacklog {
  readonly buffer: SharedArrayBuffer;
  readonly slots: number;
  readonly slotSize: number;
  /** Where slot data lives: u8/i32 over the whole buffer, slot i at byte dataBase + i * slotSize. */
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly dataBase: number;
  private readonly idx: Int32Array;
  private readonly lens: Uint32Array;
  private readonly mask: number;
  /** The consumer's wake-up (the host worker sleeps on it), rung by flush(). */
  wait: SockWait | undefined;

  // Producer state.
  private tail: number;
  private publishedTail: number;
  private cachedHead: number;
  // Consumer state.
  private head: number;
  private cachedTail: number;
  /** The source words of the last enqueue, cached so an aligned copy makes no view per frame. */
  private srcU8: Uint8Array | undefined;
  private srcI32: Int32Array | undefined;

  enqueued = 0;
  enqueued_bytes = 0;
  dropped = 0;
  too_big = 0;
  processed = 0;
  batches = 0;
  flushes = 0;

  static create(slots: number = BACKLOG_SLOTS, slotSize: number = BACKLOG_SLOT_SIZE): SoftnetBacklog {
    check(slots, slotSize);
    const buffer = allocShared(backlogBytes(slots, slotSize), `backlog of ${slots} x ${slotSize}`);
    const w = new Int32Array(buffer, 0, LENS_BYTE >>> 2);
    w[MAGIC] = BACKLOG_MAGIC;
    w[SLOTS] = slots;
    w[SLOT_SIZE] = slotSize;
    return new SoftnetBacklog({ buffer, slots, slotSize });
  }

  static open(shared: SharedSoftnetBacklog, wait?: SockWait): SoftnetBacklog {
    const b = new SoftnetBacklog(shared);
    b.wait = wait;
    return b;
  }

  constructor(shared: SharedSoftnetBacklog) {
    const { buffer, slots, slotSize } = shared ?? ({} as Partial<SharedSoftnetBacklog>);
    if (!(buffer instanceof SharedArrayBuffer)) throw new TunError('EINVAL', 'backlog: the descriptor has no SharedArrayBuffer');
    check(slots, slotSize);
    if (buffer.byteLength !== backlogBytes(slots, slotSize)) throw new TunError('EINVAL', `backlog: ${buffer.byteLength}-byte buffer for ${slots} x ${slotSize}`);
    const w = new Int32Array(buffer, 0, LENS_BYTE >>> 2);
    if (Atomics.load(w, MAGIC) !== BACKLOG_MAGIC || w[SLOTS] !== slots || w[SLOT_SIZE] !== slotSize) {
      throw new TunError('EINVAL', `backlog: the buffer does not hold a backlog of ${slots} x ${slotSize}`);
    }
    this.buffer = buffer;
    this.slots = slots;
    this.slotSize = slotSize;
    this.mask = slots - 1;
    this.idx = w;
    this.lens = new Uint32Array(buffer, LENS_BYTE, slots);
    this.dataBase = LENS_BYTE + 4 * slots;
    this.u8 = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    this.tail = this.publishedTail = Atomics.load(w, TAIL);
    this.head = this.cachedHead = Atomics.load(w, HEAD);
    this.cachedTail = this.tail;
  }

  share(): SharedSoftnetBacklog {
    return { buffer: this.buffer, slots: this.slots, slotSize: this.slotSize };
  }

  // --- producer (the tap's Rx path, vhost worker) ---

  /**
   * enqueue_to_backlog: copies the `len`-byte frame at `src[off]` into the next slot. False (and
   * counted) when the queue is full or the frame does not fit a slot. Visible after flush().
   */
  enqueue_to_backlog(src: Uint8Array, off: number, len: number): boolean {
    if (len > this.slotSize) {
      this.too_big++;
      return false;
    }
    const t = this.tail;
    if (((t - this.cachedHead) | 0) >= this.slots) {
      this.cachedHead = Atomics.load(this.idx, HEAD);
      if (((t - this.cachedHead) | 0) >= this.slots) {
        this.dropped++;
        return false;
      }
    }
    const slot = t & this.mask;
    const at = this.dataBase + slot * this.slotSize;
    if ((off & 3) === 0) {
      if (this.srcU8 !== src) {
        this.srcU8 = src;
        this.srcI32 = (src.byteOffset & 3) === 0 ? new Int32Array(src.buffer, src.byteOffset, src.byteLength >>> 2) : undefined;
      }
      const s32 = this.srcI32;
      if (s32 !== undefined) {
        // Whole words, then the last few bytes one by one.
        const words = len >>> 2, d = at >>> 2, s = off >>> 2, d32 = this.i32;
        for (let i = 0; i < words; i++) d32[d + i] = s32[s + i]!;
        for (let i = words << 2; i < len; i++) this.u8[at + i] = src[off + i]!;
        return this.commit(slot, t, len);
      }
    }
    const u8 = this.u8;
    for (let i = 0; i < len; i++) u8[at + i] = src[off + i]!;
    return this.commit(slot, t, len);
  }

  private commit(slot: number, t: number, len: number): boolean {
    this.lens[slot] = len;
    this.tail = (t + 1) | 0;
    this.enqueued++;
    this.enqueued_bytes += len;
    return true;
  }

  /** Publishes what was queued since the last flush and wakes the consumer (once per batch). */
  flush(): void {
    const t = this.tail;
    if (t === this.publishedTail) return;
    this.publishedTail = t;
    Atomics.store(this.idx, TAIL, t);
    this.flushes++;
    this.wait?.wake();
  }

  // --- consumer (the host worker) ---

  /**
   * process_backlog: hands up to `budget` frames to `fn` (bytes at u8[off], len; valid only during
   * the call), then publishes the head once. Returns how many.
   */
  process_backlog(budget: number, fn: (u8: Uint8Array, off: number, len: number) => void): number {
    const h = this.head;
    let avail = (this.cachedTail - h) | 0;
    if (avail < budget) {
      this.cachedTail = Atomics.load(this.idx, TAIL);
      avail = (this.cachedTail - h) | 0;
    }
    const n = avail < budget ? avail : budget;
    if (n <= 0) return 0;
    const lens = this.lens, mask = this.mask, base = this.dataBase, size = this.slotSize, u8 = this.u8;
    for (let i = 0; i < n; i++) {
      const slot = (h + i) & mask;
      fn(u8, base + slot * size, lens[slot]!);
    }
    const nh = (h + n) | 0;
    this.head = nh;
    this.processed += n;
    this.batches++;
    Atomics.store(this.idx, HEAD, nh);
    return n;
  }

  /** Consumer side: true when published frames wait (one Atomics.load only when the cache says empty). */
  hasData(): boolean {
    if (this.cachedTail !== this.head) return true;
    this.cachedTail = Atomics.load(this.idx, TAIL);
    return this.cachedTail !== this.head;
  }

  /** Published frames not yet processed (two Atomics loads: for accounting, not the data path). */
  count(): number {
    return (Atomics.load(this.idx, TAIL) - Atomics.load(this.idx, HEAD)) | 0;
  }

  stats(): SoftnetBacklogStats {
    return {
      enqueued: this.enqueued, enqueued_bytes: this.enqueued_bytes, dropped: this.dropped, too_big: this.too_big,
      processed: this.processed, batches: this.batches, flushes: this.flushes,
    };
  }
}

function check(slots: unknown, slotSize: unknown): asserts slots is number {
  if (typeof slots !== 'number' || !isPow2(slots) || slots < 2 || slots > 1 << 16) {
    throw new TunError('EINVAL', `backlog: ${String(slots)} slots (a power of two in [2, 65536])`);
  }
  if (typeof slotSize !== 'number' || !Number.isInteger(slotSize) || slotSize % 4 !== 0 || slotSize < 64 || slotSize > 65536) {
    throw new TunError('EINVAL', `backlog: slot size ${String(slotSize)} (a multiple of 4 in [64, 65536])`);
  }
}

/** What the vhost worker and the host worker are both given (VhostWorkerData.backlog, HostWorkerData.backlog). */
export interface SharedHostBacklog {
  ring: SharedSoftnetBacklog;
  /** The host worker's wake-up, rung by the backlog's flush. */
  wait: SharedSockWait;
}

/** A fresh backlog and the host's wake-up, as descriptors for the two workers. */
export function createHostBacklog(slots: number = BACKLOG_SLOTS): SharedHostBacklog {
  return { ring: SoftnetBacklog.create(slots).share(), wait: SockWait.create().share() };
}

/** Wakes a host worker sleeping on its backlog (after setting its stop cell, so it sees it at once). */
export function wakeHostBacklog(b: SharedHostBacklog): void {
  Atomics.add(b.wait.cells, b.wait.wakeIndex, 1);
  Atomics.notify(b.wait.cells, b.wait.wakeIndex);
}

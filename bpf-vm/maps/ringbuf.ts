// BPF_MAP_TYPE_RINGBUF (kernel/bpf/ringbuf.c): a multi-producer, single-consumer byte ring that
// programs write records into and user space reads, in shared memory laid out as the kernel's mmap
// view, so that a consumer in another worker reads it the way libbpf's ring_buffer does:
//
// - buffers[0], the control pages: consumer_pos (u64) at offset 0 (the consumer's page, which user
//   space writes) and producer_pos (u64) at offset PAGE_SIZE (the producer's page, read-only to it);
// - buffers[1], the data: max_entries bytes of records. A record is an 8-byte header (u32 len with
//   BPF_RINGBUF_BUSY_BIT and BPF_RINGBUF_DISCARD_BIT, u32 pg_off) followed by the sample, the whole
//   rounded up to 8 bytes. Positions grow without bound; a record lives at pos & (max_entries - 1).
//   The kernel maps the data pages twice in a row so that a record crossing the end is contiguous;
//   here the data buffer is twice max_entries long: a program writes a record that crosses the end
//   contiguously into the second half, and submit copies that part to the start before it clears
//   BUSY, so a consumer may read a record either contiguously or modulo the size;
// - buffers[2], words no consumer sees (the kernel keeps them in struct bpf_ringbuf): the producers'
//   lock (the kernel's spinlock), pending_pos, and a wake-up sequence a consumer may wait on.
//
// `values` (what program pointers index) is the data buffer: bpf_ringbuf_reserve hands out pointers
// into it. As with every map, a stray write of an unverified program can damage records, never the
// positions.
import { ERRNO } from '../errno.ts';
import { BpfError } from '../errors.ts';
import type { BpfMap, MapSpec } from './map.ts';
import type { SharedMapState } from './shared.ts';
import { allocShared, checkShared, copyBytes } from './mem.ts';
import { lockAcquire, lockRelease } from './lock.ts';

export const RINGBUF_PAGE_SIZE = 4096;
export const BPF_RINGBUF_BUSY_BIT = 0x80000000;
export const BPF_RINGBUF_DISCARD_BIT = 0x40000000;
export const BPF_RINGBUF_HDR_SZ = 8;

/** Flags of bpf_ringbuf_output/submit/discard. */
export const BPF_RB = {
  BPF_RB_NO_WAKEUP: 1,
  BPF_RB_FORCE_WAKEUP: 2,
} as const;

/** What bpf_ringbuf_query reports. */
export const BPF_RB_QUERY = {
  BPF_RB_AVAIL_DATA: 0,
  BPF_RB_RING_SIZE: 1,
  BPF_RB_CONS_POS: 2,
  BPF_RB_PROD_POS: 3,
} as const;

/** The kernel's data pages start after struct bpf_ringbuf's first page and the two position pages. */
const DATA_PGOFF = 3;
/** Offsets, in bytes, of the positions in the control pages. */
export const RINGBUF_CONSUMER_POS_OFF = 0;
export const RINGBUF_PRODUCER_POS_OFF = RINGBUF_PAGE_SIZE;
const CTL_BYTES = 2 * RINGBUF_PAGE_SIZE;
/** Internal words (Int32 indices): the lock, the wake-up sequence, then pending_pos as a float64 at byte 8. */
const W_LOCK = 0;
const W_WAKE = 1;
const INTERNAL_BYTES = 16;
/** The kernel's RINGBUF_MAX_RECORD_SZ (UINT_MAX / 4). */
const RINGBUF_MAX_RECORD_SZ = 0xffffffff / 4;

/** ringbuf_map_alloc's checks: max_entries a power of two and a multiple of the page size, no keys, no values. */
export function ringbufAllocCheck(spec: MapSpec, fail: (code: 'EINVAL' | 'E2BIG', why: string) => never): void {
  // RINGBUF_CREATE_FLAG_MASK is BPF_F_NUMA_NODE alone.
  if ((spec.flags & ~4) !== 0) fail('EINVAL', `map_flags 0x${(spec.flags >>> 0).toString(16)} not supported for this map type`);
  if (spec.keySize !== 0 || spec.valueSize !== 0) fail('EINVAL', `key_size ${spec.keySize} and value_size ${spec.valueSize} must be 0`);
  const n = spec.maxEntries;
  if (n < RINGBUF_PAGE_SIZE || n % RINGBUF_PAGE_SIZE !== 0 || (n & (n - 1)) !== 0 || n > 2 ** 30) {
    fail('EINVAL', `max_entries ${n} must be a power of two multiple of the page size (${RINGBUF_PAGE_SIZE})`);
  }
}

export function ringbufBytes(spec: MapSpec): number {
  return CTL_BYTES + 2 * spec.maxEntries + INTERNAL_BYTES;
}

const roundUpRec = (len: number): number => (len + BPF_RINGBUF_HDR_SZ + 7) & ~7;

export class RingBufMap implements BpfMap {
  readonly spec: MapSpec;
  /** The data, twice max_entries long (see the file comment). */
  readonly values: Uint8Array;
  /** The size of the ring (max_entries) and its mask. */
  readonly size: number;
  readonly mask: number;
  /** consumer_pos at [0], producer_pos at [PAGE_SIZE / 8]. */
  readonly pos: BigInt64Array;
  /** The data as int32 words, for the headers' atomic accesses. */
  readonly hdr: Int32Array;
  private readonly internal: Int32Array;
  private readonly pendingPos: Float64Array;
  private readonly buffers: SharedArrayBuffer[];

  static create(spec: MapSpec): RingBufMap {
    const what = `ringbuf ${spec.name}`;
    return new RingBufMap(spec, [
      allocShared(CTL_BYTES, what), allocShared(2 * spec.maxEntries, what), allocShared(INTERNAL_BYTES, what),
    ]);
  }

  static open(state: SharedMapState): RingBufMap {
    return new RingBufMap(state.spec, state.buffers);
  }

  private constructor(spec: MapSpec, buffers: SharedArrayBuffer[]) {
    const what = `ringbuf ${spec.name}`;
    this.spec = spec;
    this.size = spec.maxEntries;
    this.mask = spec.maxEntries - 1;
    const ctl = checkShared(buffers[0], CTL_BYTES, what);
    const data = checkShared(buffers[1], 2 * this.size, what);
    const internal = checkShared(buffers[2], INTERNAL_BYTES, what);
    this.buffers = [ctl, data, internal];
    this.pos = new BigInt64Array(ctl, 0, CTL_BYTES / 8);
    this.values = new Uint8Array(data, 0, 2 * this.size);
    this.hdr = new Int32Array(data, 0, (2 * this.size) / 4);
    this.internal = new Int32Array(internal, 0, 2);
    this.pendingPos = new Float64Array(internal, 8, 1);
  }

  consumerPos(): number {
    return Number(Atomics.load(this.pos, RINGBUF_CONSUMER_POS_OFF / 8));
  }

  producerPos(): number {
    return Number(Atomics.load(this.pos, RINGBUF_PRODUCER_POS_OFF / 8));
  }

  /** The wake-up sequence: it changes whenever a submit wakes the consumer. */
  wakeSeq(): number {
    return Atomics.load(this.internal, W_WAKE);
  }

  /** Waits (Atomics.wait) until the wake-up sequence moves past `seq`, at most `ms` milliseconds. */
  waitWake(seq: number, ms: number): void {
    Atomics.wait(this.internal, W_WAKE, seq, ms);
  }

  private wake(): void {
    Atomics.add(this.internal, W_WAKE, 1);
    Atomics.notify(this.internal, W_WAKE);
  }

  /**
   * __bpf_ringbuf_reserve: room for a `size`-byte sample, marked BUSY; returns the sample's offset
   * in `values` (the header is 8 bytes before it), or -1 when the ring is full or `size` too large.
   */
  reserve(size: number): number {
    if (size > RINGBUF_MAX_RECORD_SZ) return -1;
    const len = roundUpRec(size);
    if (len > this.size) return -1;
    const consPos = this.consumerPos();
    if (!lockAcquire(this.internal, W_LOCK)) return -1;
    try {
      const prodPos = this.producerPos();
      // Skip the records committed since the oldest one still BUSY: the ring may not lap it.
      let pend = this.pendingPos[0]!;
      while (pend < prodPos) {
        const h = Atomics.load(this.hdr, (pend % this.size) / 4);
        if (h & BPF_RINGBUF_BUSY_BIT) break;
        pend += roundUpRec(h & ~BPF_RINGBUF_DISCARD_BIT & 0x7fffffff);
      }
      this.pendingPos[0] = pend;
      const newProd = prodPos + len;
      if (newProd - consPos > this.mask || newProd - pend > this.mask) return -1;
      const off = prodPos % this.size;
      Atomics.store(this.hdr, off / 4, (size | BPF_RINGBUF_BUSY_BIT) | 0);
      Atomics.store(this.hdr, off / 4 + 1, DATA_PGOFF + Math.floor(off / RINGBUF_PAGE_SIZE));
      Atomics.store(this.pos, RINGBUF_PRODUCER_POS_OFF / 8, BigInt(newProd));
      return off + BPF_RINGBUF_HDR_SZ;
    } finally {
      lockRelease(this.internal, W_LOCK);
    }
  }

  /** Whether `sampleOff` is the sample of a record reserved and not yet submitted or discarded. */
  isReserved(sampleOff: number): boolean {
    const off = sampleOff - BPF_RINGBUF_HDR_SZ;
    if (!Number.isInteger(off) || off < 0 || off >= this.size || (off & 7) !== 0) return false;
    return (Atomics.load(this.hdr, off / 4) & BPF_RINGBUF_BUSY_BIT) !== 0;
  }

  /** bpf_ringbuf_commit: clears BUSY (sets DISCARD for a discard), then wakes the consumer as asked. */
  commit(sampleOff: number, flags: number, discard: boolean): void {
    const off = sampleOff - BPF_RINGBUF_HDR_SZ;
    const h = Atomics.load(this.hdr, off / 4);
    const len = h & 0x3fffffff;
    // A record that crosses the end was written contiguously past it: copy that part to the start.
    const end = sampleOff + len;
    if (!discard && end > this.size) copyBytes(this.values, 0, this.values, this.size, end - this.size);
    let n = (h ^ BPF_RINGBUF_BUSY_BIT) >>> 0;
    if (discard) n = (n | BPF_RINGBUF_DISCARD_BIT) >>> 0;
    Atomics.exchange(this.hdr, off / 4, n | 0);
    const cons = this.consumerPos() % this.size;
    if (flags & BPF_RB.BPF_RB_FORCE_WAKEUP) this.wake();
    else if (cons === off && !(flags & BPF_RB.BPF_RB_NO_WAKEUP)) this.wake();
  }

  /** bpf_ringbuf_output: 0, -EINVAL for unknown flags, -EAGAIN when full. */
  output(src: Uint8Array, srcOff: number, size: number, flags: number): number {
    if ((flags & ~(BPF_RB.BPF_RB_NO_WAKEUP | BPF_RB.BPF_RB_FORCE_WAKEUP)) !== 0) return -ERRNO.EINVAL;
    const s = this.reserve(size);
    if (s < 0) return -ERRNO.EAGAIN;
    copyBytes(this.values, s, src, srcOff, size);
    this.commit(s, flags, false);
    return 0;
  }

  /** bpf_ringbuf_query. */
  query(flags: number): number {
    const cons = this.consumerPos(), prod = this.producerPos();
    switch (flags) {
      case BPF_RB_QUERY.BPF_RB_AVAIL_DATA: return prod - cons;
      case BPF_RB_QUERY.BPF_RB_RING_SIZE: return this.size;
      case BPF_RB_QUERY.BPF_RB_CONS_POS: return cons;
      case BPF_RB_QUERY.BPF_RB_PROD_POS: return prod;
      default: return 0;
    }
  }

  // --- the map contract: a ring has no elements to look up, update or delete (-ENOTSUPP) ---
  lookupValueOffset(): number {
    return -1;
  }
  updateElem(): number {
    return -ERRNO.ENOTSUPP;
  }
  deleteElem(): number {
    return -ERRNO.ENOTSUPP;
  }
  lookup(): Uint8Array | undefined {
    return undefined;
  }
  update(): number {
    return -ERRNO.ENOTSUPP;
  }
  delete(): number {
    return -ERRNO.ENOTSUPP;
  }
  getNextKey(): Uint8Array | undefined {
    return undefined;
  }

  share(): SharedMapState {
    return { spec: this.spec, nrCpus: 1, buffers: this.buffers };
  }
}

/** The RingBufMap behind a map, or an error naming it. */
export function asRingBuf(map: BpfMap): RingBufMap {
  if (!(map instanceof RingBufMap)) throw new BpfError('EINVAL', `map '${map.spec.name}' is not a RINGBUF map`);
  return map;
}

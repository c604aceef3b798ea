// BPF_MAP_TYPE_HASH (kernel/bpf/hashtab.c, preallocated flavour) in shared memory, usable from
// several workers at once. The other flavours of hashtab.c subclass it through a few protected
// hooks (value layout, in-place updates, linking and eviction): percpu-hash.ts, lru-hash.ts, and
// devmap-hash.ts for DEVMAP_HASH.
//
// Layout. buffers[0] holds only values: element e's value at e * round_up(value_size, 8), fixed
// for the map's life, so a program's pointer (an offset) never moves. buffers[1] is an Int32Array
// with everything else:
//
//   [0, HEADER)            lock, count, free-ring head and length, seed, magic, geometry
//   buckets[nBuckets]      first element of each chain, or the chain's nulls marker
//   next[nElems]           the next element in the chain, or a nulls marker at the end
//   hash[nElems]           the element's jhash (int32)
//   free[nElems]           ring of free element numbers, oldest first
//   keys[nElems * kw]      the key, as kw = ceil(key_size / 4) little-endian words, zero-padded
//
// nBuckets = roundup_pow_of_two(max_entries); nElems = max_entries + spare elements (below).
//
// Readers (lookupValueOffset: the programs' bpf_map_lookup_elem) take no lock, like the kernel's
// RCU readers. A chain ends with a nulls marker that names its bucket (~bucket, always negative);
// elements are recycled while readers may be walking them, so a reader who ends on another
// bucket's marker knows it was carried into another chain and starts over (hlist_nulls). A walk
// longer than nElems steps, or a few failed restarts, falls back to a locked lookup, so a reader
// always finishes. The first pass reads with plain loads (the hot path; an element is published by
// an Atomics.store of the link after all of its fields are written); the retries use Atomics.load
// so that no stale value can be reused from one pass to the next.
//
// Writers (update/delete from programs and from user space) serialise on one map-wide lock
// (lock.ts). Holding it, they can walk chains with plain loads; they publish links with
// Atomics.store. One lock instead of the kernel's per-bucket locks: with two or three workers
// the hold time (well under a microsecond) matters more than parallelism, and it also covers the
// free ring and the element count, which the kernel protects separately.
//
// Updates never write a value in place. Like htab_map_update_elem, an update takes a free
// element, writes key and value there, links it at the head of the chain, and only then unlinks
// the old element: a reader sees the old value or the new one, never half of each. The kernel
// keeps one spare element per CPU for that; here the spares are max(nrCpus, MIN_SPARE) extra
// elements that live in the free ring, which is FIFO: a freed element goes to the back and is
// reused as late as possible, which stretches the grace period a program's pointer enjoys (the
// kernel's preallocated maps, too, reuse freed elements without waiting for readers; this is the
// same contract, with a longer grace in practice). Inserting a new key is refused with E2BIG once
// `count` reaches max_entries, whatever the number of free elements.
//
// While a recycled element is rewritten, its hash word is first set to a value that neither the
// old nor the new key hashes to, and the new hash is stored last, so a stale reader still holding
// that element matches neither key while its value is in flux.
import { BPF_MAP_TYPE, BPF_UPDATE, type BpfMap, type MapSpec } from './map.ts';
import type { SharedMapState } from './shared.ts';
import { BpfError } from '../errors.ts';
import { jhash1word, jhash2, jhash2words } from './jhash.ts';
import { LOCK_TIMEOUT_MS, lockAcquire, lockRelease } from './lock.ts';
import {
  BPF_F_LOCK, E2BIG, EBUSY, EEXIST, EFAULT, EINVAL, ENOENT, allocShared, checkShared, copyBytes, roundUp8,
  unknownUpdateFlags,
} from './mem.ts';

const { BPF_NOEXIST, BPF_EXIST } = BPF_UPDATE;
/** BPF_F_ZERO_SEED: the map hashes with seed 0 (the kernel otherwise draws a random seed). */
const BPF_F_ZERO_SEED = 1 << 6;
/**
 * The seed used without BPF_F_ZERO_SEED. Fixed rather than random so that runs (and their
 * iteration orders) are reproducible; no one attacks an emulator's hash chains.
 */
const HTAB_DEFAULT_SEED = 0x4a5b6c7d;
/** Spare elements beyond max_entries, at least this many whatever nrCpus. */
const MIN_SPARE = 4;
/** Lock-free retries after a nulls mismatch before a reader takes the lock. */
const READER_RETRIES = 4;

const H_LOCK = 0;
const H_COUNT = 1;
const H_FREE_HEAD = 2;
const H_FREE_LEN = 3;
const H_SEED = 4;
const H_MAGIC = 5;
const H_NBUCKETS = 6;
const H_NELEMS = 7;
/** Header words: one 64-byte line, so the lock word does not share a cache line with buckets. */
const HEADER = 16;
const MAGIC = 0x68746162; // 'htab'

export interface HashGeometry {
  nBuckets: number;
  nElems: number;
  keyWords: number;
  valuesBytes: number;
  metaWords: number;
}

function roundupPowOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** PERCPU_HASH and LRU_PERCPU_HASH keep one value per CPU in each element. */
export function isPercpuHash(type: number): boolean {
  return type === BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_HASH || type === BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/**
 * Bytes of one element's slot in `values`: round_up(value_size, 8), times nrCpus for the per-CPU
 * flavours (CPU c's copy at c * round_up(value_size, 8), the user-space layout of the value).
 */
export function hashSlotBytes(spec: MapSpec, nrCpus: number): number {
  return roundUp8(spec.valueSize) * (isPercpuHash(spec.type) ? nrCpus : 1);
}

export function hashSpare(nrCpus: number): number {
  return Math.max(nrCpus, MIN_SPARE);
}

/** Sizes of both buffers; exported so createMap can check them against its memory budget. */
export function hashGeometry(spec: MapSpec, nrCpus: number): HashGeometry {
  const nBuckets = roundupPowOfTwo(spec.maxEntries);
  const nElems = spec.maxEntries + hashSpare(nrCpus);
  const keyWords = Math.ceil(spec.keySize / 4);
  return {
    nBuckets,
    nElems,
    keyWords,
    valuesBytes: nElems * hashSlotBytes(spec, nrCpus),
    metaWords: HEADER + nBuckets + nElems * (3 + keyWords),
  };
}

export class HashMap implements BpfMap {
  readonly spec: MapSpec;
  readonly values: Uint8Array;
  protected readonly meta: Int32Array;
  protected readonly nrCpus: number;
  protected readonly keySize: number;
  protected readonly valueSize: number;
  protected readonly elemSize: number;
  protected readonly maxEntries: number;
  private readonly keyWords: number;
  private readonly nBuckets: number;
  private readonly mask: number;
  protected readonly nElems: number;
  private readonly seed: number;
  private readonly bucketsBase: number;
  private readonly nextBase: number;
  protected readonly hashBase: number;
  private readonly freeBase: number;
  protected readonly keysBase: number;
  /** The key being looked up, as words: per instance, since a worker runs one call at a time. */
  protected readonly scratch: Int32Array;

  static create(spec: MapSpec, nrCpus: number): HashMap {
    return HashMap.createAs(spec, nrCpus, (s, n, b) => new HashMap(s, n, b));
  }

  /** Initialises the shared table, then builds the map object (a subclass's) over its buffers. */
  protected static createAs<T extends HashMap>(
    spec: MapSpec, nrCpus: number, make: (spec: MapSpec, nrCpus: number, buffers: SharedArrayBuffer[]) => T,
  ): T {
    const g = hashGeometry(spec, nrCpus);
    const values = allocShared(g.valuesBytes, `hash map ${spec.name} values`);
    const metaBuf = allocShared(g.metaWords * 4, `hash map ${spec.name} table`);
    const meta = new Int32Array(metaBuf, 0, g.metaWords);
    // SOCKHASH hashes with jhash(key, key_size, 0) whatever its flags (sock_hash_bucket_hash).
    meta[H_SEED] = spec.flags & BPF_F_ZERO_SEED || spec.type === BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKHASH ? 0 : HTAB_DEFAULT_SEED;
    meta[H_NBUCKETS] = g.nBuckets;
    meta[H_NELEMS] = g.nElems;
    const bucketsBase = HEADER;
    for (let b = 0; b < g.nBuckets; b++) meta[bucketsBase + b] = ~b;
    const freeBase = HEADER + g.nBuckets + 2 * g.nElems;
    for (let e = 0; e < g.nElems; e++) meta[freeBase + e] = e;
    meta[H_FREE_HEAD] = 0;
    meta[H_FREE_LEN] = g.nElems;
    meta[H_COUNT] = 0;
    // Written last: a map opened elsewhere before this point would be refused.
    Atomics.store(meta, H_MAGIC, MAGIC);
    return make(spec, nrCpus, [values, metaBuf]);
  }

  static open(state: SharedMapState): HashMap {
    return new HashMap(state.spec, state.nrCpus, state.buffers);
  }

  protected constructor(spec: MapSpec, nrCpus: number, buffers: SharedArrayBuffer[]) {
    const g = hashGeometry(spec, nrCpus);
    const what = `hash map ${spec.name}`;
    this.spec = spec;
    this.nrCpus = nrCpus;
    this.values = new Uint8Array(checkShared(buffers[0], g.valuesBytes, what), 0, g.valuesBytes);
    this.meta = new Int32Array(checkShared(buffers[1], g.metaWords * 4, what), 0, g.metaWords);
    if (Atomics.load(this.meta, H_MAGIC) !== MAGIC || this.meta[H_NBUCKETS] !== g.nBuckets || this.meta[H_NELEMS] !== g.nElems) {
      throw new BpfError('EINVAL', `${what}: shared state does not match the spec (max_entries ${spec.maxEntries}, nrCpus ${nrCpus})`);
    }
    this.keySize = spec.keySize;
    this.valueSize = spec.valueSize;
    this.elemSize = hashSlotBytes(spec, nrCpus);
    this.maxEntries = spec.maxEntries;
    this.keyWords = g.keyWords;
    this.nBuckets = g.nBuckets;
    this.mask = g.nBuckets - 1;
    this.nElems = g.nElems;
    // The kernel hashes a key whose size is not a multiple of 4 with jhash over its bytes, which
    // starts from JHASH_INITVAL + key_size + seed; jhash2 over the zero-padded words starts from
    // JHASH_INITVAL + 4 * words + seed and mixes the same words. Folding the difference into the
    // seed makes the two equal, so bucket order (get_next_key) is the kernel's for every key size.
    this.seed = (this.meta[H_SEED]! + spec.keySize - 4 * g.keyWords) | 0;
    this.bucketsBase = HEADER;
    this.nextBase = HEADER + g.nBuckets;
    this.hashBase = this.nextBase + g.nElems;
    this.freeBase = this.hashBase + g.nElems;
    this.keysBase = this.freeBase + g.nElems;
    this.scratch = new Int32Array(g.keyWords);
  }

  // --- keys and hashing ---

  /** Packs the key's bytes into `scratch` (little-endian words, zero-padded) and returns its hash. */
  private loadKey(key: Uint8Array, off: number): number {
    const s = this.scratch;
    const ks = this.keySize;
    const full = ks >>> 2;
    let j = off;
    for (let i = 0; i < full; i++, j += 4) {
      s[i] = key[j]! | (key[j + 1]! << 8) | (key[j + 2]! << 16) | (key[j + 3]! << 24);
    }
    const rem = ks & 3;
    if (rem !== 0) {
      let w = 0;
      for (let r = 0; r < rem; r++) w |= key[j + r]! << (8 * r);
      s[full] = w;
    }
    const kw = this.keyWords;
    if (kw === 1) return jhash1word(s[0]!, this.seed) | 0;
    if (kw === 2) return jhash2words(s[0]!, s[1]!, this.seed) | 0;
    return jhash2(s, 0, kw, this.seed) | 0;
  }

  /** Whether element e holds the key in `scratch`. */
  private keyEquals(e: number): boolean {
    const m = this.meta;
    const s = this.scratch;
    const kw = this.keyWords;
    const base = this.keysBase + e * kw;
    for (let i = 0; i < kw; i++) if (m[base + i] !== s[i]) return false;
    return true;
  }

  private keyBytes(e: number): Uint8Array {
    const out = new Uint8Array(this.keySize);
    const base = this.keysBase + e * this.keyWords;
    for (let i = 0; i < this.keySize; i++) out[i] = (this.meta[base + (i >>> 2)]! >>> (8 * (i & 3))) & 0xff;
    return out;
  }

  // --- readers ---

  lookupValueOffset(key: Uint8Array, keyOff: number, _cpu: number): number {
    if (keyOff + this.keySize > key.length) return -1;
    const m = this.meta;
    let h: number;
    let w0 = 0;
    if (this.keySize === 4) {
      // The common case without the scratch round trip: one word, one compare per element.
      w0 = key[keyOff]! | (key[keyOff + 1]! << 8) | (key[keyOff + 2]! << 16) | (key[keyOff + 3]! << 24);
      h = jhash1word(w0, this.seed) | 0;
    } else {
      h = this.loadKey(key, keyOff);
    }
    const b = h & this.mask;
    let e = m[this.bucketsBase + b]!;
    let steps = 0;
    if (this.keySize === 4) {
      const hashBase = this.hashBase;
      const keysBase = this.keysBase;
      const nextBase = this.nextBase;
      while (e >= 0) {
        if (m[hashBase + e] === h && m[keysBase + e] === w0) return e * this.elemSize;
        e = m[nextBase + e]!;
        if (++steps > this.nElems) break;
      }
      if (e === ~b) return -1;
      this.scratch[0] = w0;
    } else {
      while (e >= 0) {
        if (m[this.hashBase + e] === h && this.keyEquals(e)) return e * this.elemSize;
        e = m[this.nextBase + e]!;
        if (++steps > this.nElems) break;
      }
      if (e === ~b) return -1;
    }
    return this.lookupRetry(h, b);
  }

  /**
   * The walk ended on another bucket's nulls marker (or ran too long): an element moved under us.
   * Walk again with atomic loads; after a few failures, take the lock.
   */
  private lookupRetry(h: number, b: number): number {
    const m = this.meta;
    for (let attempt = 0; attempt < READER_RETRIES; attempt++) {
      let e = Atomics.load(m, this.bucketsBase + b);
      let steps = 0;
      while (e >= 0 && steps++ <= this.nElems) {
        if (Atomics.load(m, this.hashBase + e) === h && this.keyEquals(e)) return e * this.elemSize;
        e = Atomics.load(m, this.nextBase + e);
      }
      if (e === ~b) return -1;
    }
    this.lockOrThrow();
    const e = this.findLocked(h, b);
    lockRelease(m, H_LOCK);
    return e < 0 ? -1 : e * this.elemSize;
  }

  /** The element holding the key in `scratch`, or -1. Only with the lock held: chains are stable. */
  private findLocked(h: number, b: number): number {
    const m = this.meta;
    let e = m[this.bucketsBase + b]!;
    while (e >= 0) {
      if (m[this.hashBase + e] === h && this.keyEquals(e)) return e;
      e = m[this.nextBase + e]!;
    }
    return -1;
  }

  // --- writers (lock held) ---

  /** Takes the oldest free element. The caller has checked that one exists. */
  private popFree(): number {
    const m = this.meta;
    const head = m[H_FREE_HEAD]!;
    const e = m[this.freeBase + head]!;
    m[H_FREE_HEAD] = head + 1 === this.nElems ? 0 : head + 1;
    m[H_FREE_LEN] = m[H_FREE_LEN]! - 1;
    return e;
  }

  /** Returns an element to the back of the ring. Its key, hash and next link stay as they were. */
  private pushFree(e: number): void {
    const m = this.meta;
    const len = m[H_FREE_LEN]!;
    let tail = m[H_FREE_HEAD]! + len;
    if (tail >= this.nElems) tail -= this.nElems;
    m[this.freeBase + tail] = e;
    m[H_FREE_LEN] = len + 1;
  }

  /** Removes e from bucket b's chain. e keeps its next link, so a reader standing on it can go on. */
  private unlink(b: number, e: number): void {
    const m = this.meta;
    const next = m[this.nextBase + e]!;
    const headSlot = this.bucketsBase + b;
    let prev = m[headSlot]!;
    if (prev === e) {
      Atomics.store(m, headSlot, next);
      return;
    }
    while (prev >= 0) {
      const n = m[this.nextBase + prev]!;
      if (n === e) {
        Atomics.store(m, this.nextBase + prev, next);
        return;
      }
      prev = n;
    }
  }

  /**
   * Fills a free element with the key in `scratch` and a value, then links it at the head of
   * bucket b. The hash word is poisoned while the value is written (see the file comment).
   */
  private fillAndLink(e: number, h: number, b: number, value: Uint8Array, valueOff: number, cpu: number, fromUser: boolean): void {
    const m = this.meta;
    const hashSlot = this.hashBase + e;
    let poison = ~h;
    if (poison === m[hashSlot]) poison ^= 1;
    Atomics.store(m, hashSlot, poison);
    const kw = this.keyWords;
    const kbase = this.keysBase + e * kw;
    for (let i = 0; i < kw; i++) m[kbase + i] = this.scratch[i]!;
    this.writeNewValue(e, value, valueOff, cpu, fromUser);
    Atomics.store(m, hashSlot, h);
    m[this.nextBase + e] = m[this.bucketsBase + b]!;
    // Publication: everything above is visible before the element is reachable.
    Atomics.store(m, this.bucketsBase + b, e);
  }

  // --- hooks for the other flavours of the hash table (percpu-hash.ts, lru-hash.ts) ---

  /** Bytes of a value as user space reads and writes it (per-CPU maps: every CPU's copy). */
  protected userValueSize(): number {
    return this.valueSize;
  }

  /** Writes a new (unpublished) element's value. */
  protected writeNewValue(e: number, value: Uint8Array, valueOff: number, _cpu: number, fromUser: boolean): void {
    copyBytes(this.values, e * this.elemSize, value, valueOff, fromUser ? this.userValueSize() : this.valueSize);
  }

  /** Per-CPU maps update an existing element in place, as the kernel does, and return true. */
  protected updateInPlace(_e: number, _value: Uint8Array, _valueOff: number, _cpu: number, _fromUser: boolean): boolean {
    return false;
  }

  /** A new key finds the map full (lock held): LRU maps evict an element and return true. */
  protected evictForInsert(): boolean {
    return false;
  }

  /** Element e was just published (lock held), replacing an element with the same key or not. */
  protected linked(_e: number, _replaced: boolean): void {}

  /** Element e was just unlinked and freed (lock held). */
  protected unlinked(_e: number): void {}

  /** Element e's key, as bytes. */
  protected elemKey(e: number): Uint8Array {
    return this.keyBytes(e);
  }

  /** Runs fn holding the writer lock. */
  protected withLock(fn: () => void): void {
    this.lockOrThrow();
    try {
      fn();
    } finally {
      lockRelease(this.meta, H_LOCK);
    }
  }

  /** Unlinks and frees element e, wherever it is (lock held): LRU eviction. */
  protected removeLocked(e: number): void {
    const m = this.meta;
    this.unlink(m[this.hashBase + e]! & this.mask, e);
    this.pushFree(e);
    m[H_COUNT] = m[H_COUNT]! - 1;
    this.unlinked(e);
  }

  updateElem(key: Uint8Array, keyOff: number, value: Uint8Array, valueOff: number, flags: number, cpu: number): number {
    if (keyOff + this.keySize > key.length || valueOff + this.valueSize > value.length) return EFAULT;
    return this.updateCommon(key, keyOff, value, valueOff, flags, cpu, false);
  }

  protected updateCommon(
    key: Uint8Array, keyOff: number, value: Uint8Array, valueOff: number, flags: number, cpu: number, fromUser: boolean,
  ): number {
    if (unknownUpdateFlags(flags)) return EINVAL;
    // BPF_F_LOCK needs a bpf_spin_lock in the value; these maps never have one.
    if (flags & BPF_F_LOCK) return EINVAL;
    const h = this.loadKey(key, keyOff);
    const b = h & this.mask;
    const m = this.meta;
    if (!lockAcquire(m, H_LOCK)) return EBUSY;
    const old = this.findLocked(h, b);
    let err = 0;
    if (old >= 0 && flags === BPF_NOEXIST) err = EEXIST;
    else if (old < 0 && flags === BPF_EXIST) err = ENOENT;
    else if (old >= 0 && this.updateInPlace(old, value, valueOff, cpu, fromUser)) err = 0;
    else if (old < 0 && m[H_COUNT]! >= this.maxEntries && !this.evictForInsert()) err = E2BIG;
    else {
      // A free element always exists: count <= max_entries and there are spares beyond it.
      const e = this.popFree();
      this.fillAndLink(e, h, b, value, valueOff, cpu, fromUser);
      if (old >= 0) {
        this.unlink(b, old);
        this.pushFree(old);
        this.unlinked(old);
      } else {
        m[H_COUNT] = m[H_COUNT]! + 1;
      }
      this.linked(e, old >= 0);
    }
    lockRelease(m, H_LOCK);
    return err;
  }

  deleteElem(key: Uint8Array, keyOff: number): number {
    return this.deleteWhere(key, keyOff, null);
  }

  /**
   * Deletes the key's element if `test` (run under the lock) accepts it: SOCKHASH removes an entry
   * only while it still names the closing socket. ENOENT when absent or refused.
   */
  protected deleteWhere(key: Uint8Array, keyOff: number, test: ((e: number) => boolean) | null): number {
    if (keyOff + this.keySize > key.length) return EFAULT;
    const h = this.loadKey(key, keyOff);
    const b = h & this.mask;
    const m = this.meta;
    if (!lockAcquire(m, H_LOCK)) return EBUSY;
    let e = this.findLocked(h, b);
    if (e >= 0 && test !== null && !test(e)) e = -1;
    if (e >= 0) {
      this.unlink(b, e);
      this.pushFree(e);
      m[H_COUNT] = m[H_COUNT]! - 1;
      this.unlinked(e);
    }
    lockRelease(m, H_LOCK);
    return e >= 0 ? 0 : ENOENT;
  }

  /**
   * Lookups have no errno to return: a lock whose holder died is a fault of the whole map, reported
   * as a typed error rather than a wrong miss or a hang.
   */
  protected lockOrThrow(): void {
    if (!lockAcquire(this.meta, H_LOCK)) {
      throw new BpfError('EBUSY', `hash map ${this.spec.name}: lock held for over ${LOCK_TIMEOUT_MS} ms (a worker died holding it?)`);
    }
  }

  // --- user space ---

  /** A copy made under the lock, so user space never sees a value being replaced. */
  lookup(key: Uint8Array): Uint8Array | undefined {
    if (key.length < this.keySize) return undefined;
    const h = this.loadKey(key, 0);
    const m = this.meta;
    this.lockOrThrow();
    const e = this.findLocked(h, h & this.mask);
    const out = e < 0 ? undefined : this.values.slice(e * this.elemSize, e * this.elemSize + this.userValueSize());
    lockRelease(m, H_LOCK);
    return out;
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    if (key.length < this.keySize || value.length < this.userValueSize()) return EFAULT;
    return this.updateCommon(key, 0, value, 0, flags, 0, true);
  }

  delete(key: Uint8Array): number {
    return this.deleteElem(key, 0);
  }

  /**
   * htab_map_get_next_key: the element after `key` in its chain, else the first element of the
   * following non-empty bucket; a missing key (or none) starts from bucket 0.
   */
  getNextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const m = this.meta;
    this.lockOrThrow();
    let from = 0;
    let found = -1;
    if (key !== undefined && key.length >= this.keySize) {
      const h = this.loadKey(key, 0);
      const b = h & this.mask;
      const e = this.findLocked(h, b);
      if (e >= 0) {
        const n = m[this.nextBase + e]!;
        if (n >= 0) found = n;
        else from = b + 1;
      }
    }
    for (let b = from; found < 0 && b < this.nBuckets; b++) {
      const first = m[this.bucketsBase + b]!;
      if (first >= 0) found = first;
    }
    const out = found >= 0 ? this.keyBytes(found) : undefined;
    lockRelease(m, H_LOCK);
    return out;
  }

  /** Number of elements, read without the lock (a snapshot). */
  count(): number {
    return Atomics.load(this.meta, H_COUNT);
  }

  share(): SharedMapState {
    return {
      spec: this.spec,
      nrCpus: this.nrCpus,
      buffers: [this.values.buffer as SharedArrayBuffer, this.meta.buffer as SharedArrayBuffer],
    };
  }
}

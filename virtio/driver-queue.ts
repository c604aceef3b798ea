// The driver's side of one split virtqueue, shaped like the split path of Linux's
// drivers/virtio/virtio_ring.c: a free list of descriptors, chains of device-readable then
// device-writable buffers (optionally through an indirect table), batched publication of
// avail.idx, kick decisions with event-idx suppression, and collection of used buffers.
//
// Cross-thread ordering: descriptors and avail.ring entries are plain stores made before the
// Atomics.store of avail.idx (publish), and used entries are plain loads made after an
// Atomics.load of used.idx, so one seq-cst Atomics operation per batch orders a whole batch.
import { RingError, VirtioError } from './errors.ts';
import type { GuestMemory } from './guest-memory.ts';
import type { PageAllocator } from './page-allocator.ts';
import { type SplitRing, VRING_AVAIL_F, VRING_DESC_F, VRING_USED_F, vringNeedEvent } from './split-ring.ts';

const F_NEXT = VRING_DESC_F.VRING_DESC_F_NEXT;
const F_WRITE = VRING_DESC_F.VRING_DESC_F_WRITE;
const F_INDIRECT = VRING_DESC_F.VRING_DESC_F_INDIRECT;
const NO_INTERRUPT = VRING_AVAIL_F.VRING_AVAIL_F_NO_INTERRUPT;
const NO_NOTIFY = VRING_USED_F.VRING_USED_F_NO_NOTIFY;

/** One guest buffer: a guest-physical address and a length. */
export interface BufSeg {
  addr: number;
  len: number;
}

export interface DriverQueueOptions {
  /** Shown in errors, e.g. "rx0". */
  name: string;
  /** VIRTIO_RING_F_EVENT_IDX negotiated: suppression through used_event/avail_event. */
  eventIdx?: boolean;
  /** VIRTIO_RING_F_INDIRECT_DESC negotiated: add(..., true) may use an indirect table. */
  indirect?: boolean;
  /** Where indirect tables come from (one region of Q tables, allocated on first use). */
  pages?: PageAllocator;
  /** Entries per indirect table (longer chains fall back to direct descriptors). Default 16. */
  maxIndirect?: number;
}

export class DriverQueue<T = unknown> {
  readonly name: string;
  readonly ring: SplitRing;
  readonly eventIdx: boolean;
  readonly indirect: boolean;
  /** Set when the device returned something impossible; the queue then does nothing. */
  broken: RingError | null = null;
  /** The device-written length of the buffer getBuf() returned last. */
  lastLen = 0;
  numFree: number;
  /** kickPrepare() outcomes, for the counters. */
  kicksNeeded = 0;
  kicksSuppressed = 0;

  private readonly mem: GuestMemory;
  private readonly pages: PageAllocator | undefined;
  private readonly maxIndirect: number;
  private indirectBase = -1;
  private freeHead = 0;
  /** Shadow of each descriptor's `next` (free list and chains): never trust what is in guest memory. */
  private readonly descNext: Uint16Array;
  /** Descriptors used by the chain whose head this is (1 for an indirect chain). */
  private readonly chainLen: Uint16Array;
  private readonly tokens: (T | undefined)[];
  private availShadow = 0;
  private numAdded = 0;
  private lastUsed = 0;
  private usedIdxCache = 0;
  private availFlagsShadow = 0;

  constructor(mem: GuestMemory, ring: SplitRing, opts: DriverQueueOptions) {
    this.mem = mem;
    this.ring = ring;
    this.name = opts.name;
    this.eventIdx = opts.eventIdx ?? false;
    this.indirect = opts.indirect ?? false;
    this.pages = opts.pages;
    this.maxIndirect = opts.maxIndirect ?? 16;
    const q = ring.size;
    this.numFree = q;
    this.descNext = new Uint16Array(q);
    for (let i = 0; i < q; i++) this.descNext[i] = (i + 1) & 0xffff;
    this.chainLen = new Uint16Array(q);
    this.tokens = new Array<T | undefined>(q).fill(undefined);
    // Pick up whatever the ring holds (zero for a fresh ring) so both sides start in agreement.
    this.availShadow = Atomics.load(ring.avail16, 1);
    this.lastUsed = this.usedIdxCache = Atomics.load(ring.used16, 1);
  }

  /** A single buffer: device-readable (tx) or device-writable (rx). Returns the head or -1 when full. */
  addBuf(addr: number, len: number, writable: boolean, token: T): number {
    if (this.broken !== null || this.numFree < 1) return -1;
    if (token === undefined) throw new VirtioError('EINVAL', `queue ${this.name}: a buffer needs a token`);
    const head = this.freeHead;
    this.freeHead = this.descNext[head]!;
    this.numFree--;
    this.writeDesc(head, addr, len, writable ? F_WRITE : 0, 0);
    this.chainLen[head] = 1;
    return this.finishAdd(head, token);
  }

  /**
   * Adds one chain: the `out` buffers (device-readable) then the `in` buffers (device-writable).
   * With `useIndirect` (and VIRTIO_RING_F_INDIRECT_DESC) the chain takes one descriptor pointing
   * at an indirect table. Returns the head, or -1 when there are not enough free descriptors.
   */
  add(out: readonly BufSeg[], inn: readonly BufSeg[], token: T, useIndirect = false): number {
    const total = out.length + inn.length;
    if (token === undefined) throw new VirtioError('EINVAL', `queue ${this.name}: a chain needs a token`);
    if (total === 0) throw new VirtioError('EINVAL', `queue ${this.name}: an empty chain`);
    if (this.broken !== null) return -1;
    if (useIndirect && this.indirect && total <= this.maxIndirect && this.numFree >= 1) return this.addIndirect(out, inn, token);
    if (this.numFree < total) return -1;
    const head = this.freeHead;
    let i = head;
    for (let k = 0; k < total; k++) {
      const seg = k < out.length ? out[k]! : inn[k - out.length]!;
      const next = this.descNext[i]!;
      this.writeDesc(i, seg.addr, seg.len, (k < out.length ? 0 : F_WRITE) | (k + 1 < total ? F_NEXT : 0), next);
      i = next;
    }
    this.freeHead = i;
    this.numFree -= total;
    this.chainLen[head] = total;
    return this.finishAdd(head, token);
  }

  private addIndirect(out: readonly BufSeg[], inn: readonly BufSeg[], token: T): number {
    const total = out.length + inn.length;
    const head = this.freeHead;
    const table = this.indirectTable(head);
    const v = this.mem.view;
    for (let k = 0; k < total; k++) {
      const seg = k < out.length ? out[k]! : inn[k - out.length]!;
      const at = table + 16 * k;
      v.setUint32(at, seg.addr >>> 0, true);
      v.setUint32(at + 4, Math.floor(seg.addr / 0x1_0000_0000) >>> 0, true);
      v.setUint32(at + 8, seg.len >>> 0, true);
      v.setUint16(at + 12, (k < out.length ? 0 : F_WRITE) | (k + 1 < total ? F_NEXT : 0), true);
      v.setUint16(at + 14, k + 1 < total ? k + 1 : 0, true);
    }
    this.freeHead = this.descNext[head]!;
    this.numFree--;
    this.writeDesc(head, table, 16 * total, F_INDIRECT, 0);
    this.chainLen[head] = 1;
    return this.finishAdd(head, token);
  }

  /** Head h always uses table h: a table is free exactly when its head descriptor is. */
  private indirectTable(head: number): number {
    if (this.indirectBase < 0) {
      if (this.pages === undefined) throw new VirtioError('EINVAL', `queue ${this.name}: indirect descriptors need a page allocator`);
      this.indirectBase = this.pages.alloc(this.ring.size * this.maxIndirect * 16, 16);
    }
    return this.indirectBase + head * this.maxIndirect * 16;
  }

  private writeDesc(i: number, addr: number, len: number, flags: number, next: number): void {
    const d32 = this.ring.desc32;
    const d16 = this.ring.desc16;
    d32[4 * i] = addr >>> 0;
    d32[4 * i + 1] = addr > 0xffff_ffff ? Math.floor(addr / 0x1_0000_0000) : 0;
    d32[4 * i + 2] = len;
    d16[8 * i + 6] = flags;
    d16[8 * i + 7] = next;
  }

  private finishAdd(head: number, token: T): number {
    this.tokens[head] = token;
    // The entry is a plain store: the device cannot see it before publish() moves avail.idx.
    this.ring.avail16[2 + (this.availShadow & this.ring.mask)] = head;
    this.availShadow = (this.availShadow + 1) & 0xffff;
    this.numAdded++;
    return head;
  }

  /** Makes every chain added so far visible to the device: one Atomics.store of avail.idx. */
  publish(): void {
    Atomics.store(this.ring.avail16, 1, this.availShadow);
  }

  /**
   * Publishes, then decides whether the device must be kicked for the chains added since the last
   * call (virtqueue_kick_prepare). The seq-cst store of avail.idx precedes the load of the
   * device's avail_event/flags, so a device that re-enabled notifications and re-checked avail.idx
   * either saw our chains or is seen here as wanting a kick.
   */
  kickPrepare(): boolean {
    this.publish();
    const added = this.numAdded;
    this.numAdded = 0;
    const newIdx = this.availShadow;
    const old = (newIdx - added) & 0xffff;
    let needs: boolean;
    // More than 65535 unkicked chains make the u16 window ambiguous: kick to be safe.
    if (added > 0xffff) needs = true;
    else if (this.eventIdx) needs = vringNeedEvent(Atomics.load(this.ring.used16, this.ring.availEventIdx), newIdx, old);
    else needs = added > 0 && (Atomics.load(this.ring.used16, 0) & NO_NOTIFY) === 0;
    if (needs) this.kicksNeeded++;
    else this.kicksSuppressed++;
    return needs;
  }

  /**
   * The next used buffer's token (its length in `lastLen`), or undefined when none is ready.
   * used.idx is read with Atomics only when the cached value is used up: once per batch.
   */
  getBuf(): T | undefined {
    if (this.broken !== null) return undefined;
    const r = this.ring;
    if (this.lastUsed === this.usedIdxCache) {
      // With callbacks on and EVENT_IDX, ask for an interrupt at the next entry before looking
      // again (virtqueue_get_buf's used_event update, done once per batch instead of per buffer).
      if (this.eventIdx && (this.availFlagsShadow & NO_INTERRUPT) === 0) Atomics.store(r.avail16, r.usedEventIdx, this.lastUsed);
      this.usedIdxCache = Atomics.load(r.used16, 1);
      if (this.lastUsed === this.usedIdxCache) return undefined;
    }
    const slot = this.lastUsed & r.mask;
    const id = r.used32[1 + 2 * slot]!;
    const token = id < r.size ? this.tokens[id] : undefined;
    if (token === undefined) {
      this.broken = new RingError('VQ_BAD_USED_ID', this.name, id, -1, `used entry ${this.lastUsed} returns id ${id}, which is not an outstanding head`);
      return undefined;
    }
    this.lastLen = r.used32[2 + 2 * slot]!;
    this.tokens[id] = undefined;
    this.detach(id);
    this.lastUsed = (this.lastUsed + 1) & 0xffff;
    return token;
  }

  /** Used entries the device published that getBuf() has not taken yet (an Atomics load: not per packet). */
  pendingUsed(): number {
    return (Atomics.load(this.ring.used16, 1) - this.lastUsed) & 0xffff;
  }

  private detach(head: number): void {
    const n = this.chainLen[head]!;
    let tail = head;
    for (let k = 1; k < n; k++) tail = this.descNext[tail]!;
    this.descNext[tail] = this.freeHead;
    this.freeHead = head;
    this.numFree += n;
  }

  /** Asks the device not to interrupt (a hint: interrupts may still come). */
  disableCb(): void {
    if ((this.availFlagsShadow & NO_INTERRUPT) !== 0) return;
    this.availFlagsShadow |= NO_INTERRUPT;
    const r = this.ring;
    // Under EVENT_IDX the flag is ignored: put used_event further away than any index the device
    // can reach with at most Q buffers outstanding (Linux's last_used_idx + 0x8888).
    if (this.eventIdx) Atomics.store(r.avail16, r.usedEventIdx, (this.lastUsed + 0x8888) & 0xffff);
    else Atomics.store(r.avail16, 0, this.availFlagsShadow);
  }

  /** Re-enables interrupts for the next used buffer; returns the index to pass to poll(). */
  enableCbPrepare(): number {
    const r = this.ring;
    if ((this.availFlagsShadow & NO_INTERRUPT) !== 0) {
      this.availFlagsShadow &= ~NO_INTERRUPT;
      if (!this.eventIdx) Atomics.store(r.avail16, 0, this.availFlagsShadow);
    }
    Atomics.store(r.avail16, r.usedEventIdx, this.lastUsed);
    return this.lastUsed;
  }

  /** True when used buffers arrived after enableCbPrepare() returned `last`. */
  poll(last: number): boolean {
    return Atomics.load(this.ring.used16, 1) !== last;
  }

  /**
   * Re-enables interrupts and re-checks: true means the ring is empty and an interrupt will come
   * for the next used buffer (safe to sleep); false means buffers arrived meanwhile (keep polling).
   */
  enableCb(): boolean {
    return !this.poll(this.enableCbPrepare());
  }

  /**
   * Like virtqueue_enable_cb_delayed: ask for an interrupt only after about 3/4 of the buffers
   * outstanding now have been used (tx completion). False when that many were already used
   * (the caller must keep collecting rather than wait for an interrupt that already passed).
   */
  enableCbDelayed(): boolean {
    const r = this.ring;
    if ((this.availFlagsShadow & NO_INTERRUPT) !== 0) {
      this.availFlagsShadow &= ~NO_INTERRUPT;
      if (!this.eventIdx) Atomics.store(r.avail16, 0, this.availFlagsShadow);
    }
    const bufs = Math.floor((((this.availShadow - this.lastUsed) & 0xffff) * 3) / 4);
    Atomics.store(r.avail16, r.usedEventIdx, (this.lastUsed + bufs) & 0xffff);
    return ((Atomics.load(r.used16, 1) - this.lastUsed) & 0xffff) <= bufs;
  }

  /** Chains added but not yet returned by the device. */
  get outstanding(): number {
    return this.ring.size - this.numFree;
  }

  /** After a device reset: every outstanding token, and the queue back to empty. */
  detachUnused(): T[] {
    const out: T[] = [];
    for (let h = 0; h < this.ring.size; h++) {
      const t = this.tokens[h];
      if (t === undefined) continue;
      out.push(t);
      this.tokens[h] = undefined;
      this.detach(h);
    }
    return out;
  }
}

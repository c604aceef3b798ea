// The device's side of one split virtqueue, shaped like QEMU's virtqueue_pop/push/flush and
// vhost's vhost_get_vq_desc/vhost_add_used/vhost_signal: pop the next available chain (walking
// NEXT links and indirect tables into a reusable DescChain), push used entries, publish used.idx
// once per batch, decide whether to interrupt, and suppress kicks while polling.
//
// The device trusts nothing in the ring. Anything malformed (see RingErrorCode) breaks the queue
// (the device model then sets NEEDS_RESET): pop() returns the RingError value, from then on
// returns it again without touching the ring, push/flush do nothing and no interrupt is asked
// for. pop() never throws and never loops more than Q steps.
import { RingError, type RingErrorCode, VirtioError } from './errors.ts';
import { DescChain } from './desc-chain.ts';
import type { GuestMemory } from './guest-memory.ts';
import { type SplitRing, VRING_AVAIL_F, VRING_DESC_F, VRING_USED_F, vringNeedEvent } from './split-ring.ts';

const F_NEXT = VRING_DESC_F.VRING_DESC_F_NEXT;
const F_WRITE = VRING_DESC_F.VRING_DESC_F_WRITE;
const F_INDIRECT = VRING_DESC_F.VRING_DESC_F_INDIRECT;
const NO_INTERRUPT = VRING_AVAIL_F.VRING_AVAIL_F_NO_INTERRUPT;
const NO_NOTIFY = VRING_USED_F.VRING_USED_F_NO_NOTIFY;

/** pop() found no available chain. */
export const VQ_EMPTY = -1;

export interface DeviceQueueOptions {
  name: string;
  eventIdx?: boolean;
  indirect?: boolean;
  /** Called once when the queue breaks (the device model sets NEEDS_RESET here). */
  onBroken?: (e: RingError) => void;
  /**
   * Where the device starts (VHOST_SET_VRING_BASE): the avail index of the first chain it will
   * pop, and the used index it publishes from. By default the ring's current indices, which
   * suits a device that takes a queue over while it is idle; a device started by another
   * thread after the driver may already have published must be given 0 for a fresh ring.
   */
  base?: { lastAvailIdx: number; usedIdx: number };
}

export class DeviceQueue {
  readonly name: string;
  readonly ring: SplitRing;
  readonly eventIdx: boolean;
  readonly indirect: boolean;
  /** The chain pop() returned last; overwritten by the next pop(). */
  readonly chain: DescChain;
  error: RingError | null = null;
  /** shouldNotify() outcomes, for the counters. */
  interruptsNeeded = 0;
  interruptsSuppressed = 0;

  private readonly mem: GuestMemory;
  private readonly onBroken: ((e: RingError) => void) | undefined;
  private lastAvail = 0;
  private availIdxCache = 0;
  private usedShadow = 0;
  private usedPublished = 0;
  private lastSignalled = 0;
  private notifyEnabled = true;
  /** Loop detection without clearing: stamp[i] === generation means "visited in this chain". */
  private readonly stamp: Uint32Array;
  private readonly istamp: Uint32Array;
  private generation = 0;

  constructor(mem: GuestMemory, ring: SplitRing, opts: DeviceQueueOptions) {
    this.mem = mem;
    this.ring = ring;
    this.name = opts.name;
    this.eventIdx = opts.eventIdx ?? false;
    this.indirect = opts.indirect ?? false;
    this.onBroken = opts.onBroken;
    this.chain = new DescChain(ring.size);
    this.stamp = new Uint32Array(ring.size);
    this.istamp = new Uint32Array(ring.size);
    const base = opts.base;
    this.lastAvail = base ? base.lastAvailIdx & 0xffff : Atomics.load(ring.avail16, 1);
    this.availIdxCache = this.lastAvail;
    this.usedShadow = this.usedPublished = this.lastSignalled = base ? base.usedIdx & 0xffff : Atomics.load(ring.used16, 1);
  }

  get broken(): boolean {
    return this.error !== null;
  }

  /** The device's next avail index (last_avail_idx). */
  get lastAvailIdx(): number {
    return this.lastAvail;
  }

  /**
   * Pops the next available chain into `this.chain` and returns its head; VQ_EMPTY when the
   * driver has published nothing new; the RingError when the ring is (or was found) malformed.
   * avail.idx is loaded with Atomics only when the cached value is used up: once per batch.
   */
  pop(): number | RingError {
    if (this.error !== null) return this.error;
    const r = this.ring;
    if (this.lastAvail === this.availIdxCache) {
      const idx = Atomics.load(r.avail16, 1);
      if (((idx - this.lastAvail) & 0xffff) > r.size) {
        return this.fail('VQ_AVAIL_IDX_JUMP', -1, -1, `avail.idx ${idx} is more than ${r.size} ahead of last_avail_idx ${this.lastAvail}`);
      }
      this.availIdxCache = idx;
      if (idx === this.lastAvail) return VQ_EMPTY;
    }
    const head = r.avail16[2 + (this.lastAvail & r.mask)]!;
    if (head >= r.size) return this.fail('VQ_HEAD_OUT_OF_RANGE', head, -1, `avail.ring[${this.lastAvail & r.mask}] names head ${head} >= queue size ${r.size}`);
    const err = this.walk(head);
    if (err !== null) return err;
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    return head;
  }

  /** Walks the chain at `head` into this.chain; null when it is well formed. */
  private walk(head: number): RingError | null {
    const r = this.ring;
    const q = r.size;
    const d32 = r.desc32;
    const d16 = r.desc16;
    const chain = this.chain;
    chain.reset(head);
    const gen = this.nextGeneration();
    let seenWritable = false;
    let i = head;
    for (;;) {
      if (this.stamp[i] === gen) return this.fail('VQ_DESC_LOOP', i, -1, `chain from head ${head} visits descriptor ${i} twice`);
      this.stamp[i] = gen;
      const lo = d32[4 * i]!;
      const hi = d32[4 * i + 1]!;
      const len = d32[4 * i + 2]!;
      const flags = d16[8 * i + 6]!;
      if ((flags & F_INDIRECT) !== 0) {
        if (!this.indirect) return this.fail('VQ_INDIRECT_NOT_NEGOTIATED', i, -1, 'INDIRECT without VIRTIO_RING_F_INDIRECT_DESC');
        if ((flags & F_NEXT) !== 0) return this.fail('VQ_INDIRECT_WITH_NEXT', i, -1, 'INDIRECT and NEXT set together');
        if (len === 0 || len % 16 !== 0) return this.fail('VQ_INDIRECT_BAD_LEN', i, -1, `indirect table length ${len} is not a positive multiple of 16`);
        if (hi !== 0 || !this.mem.contains(lo, len)) return this.fail('VQ_DESC_OUT_OF_BOUNDS', i, -1, `indirect table [0x${addrHex(hi, lo)}, +${len}) outside guest memory`);
        if (chain.count + len / 16 > q) return this.fail('VQ_CHAIN_TOO_LONG', i, -1, `indirect table of ${len / 16} entries makes the chain longer than ${q}`);
        // The write-only flag of the descriptor that refers to a table is ignored (spec 2.7.5.3.2).
        return this.walkIndirect(i, lo, len / 16, seenWritable);
      }
      if (hi !== 0 || !this.mem.contains(lo, len)) return this.fail('VQ_DESC_OUT_OF_BOUNDS', i, -1, `buffer [0x${addrHex(hi, lo)}, +${len}) outside guest memory of ${this.mem.size} bytes`);
      const writable = (flags & F_WRITE) !== 0;
      if (!writable && seenWritable) return this.fail('VQ_READ_AFTER_WRITE', i, -1, 'device-readable descriptor after a device-writable one');
      seenWritable ||= writable;
      // A chain of distinct descriptors in a table of Q cannot exceed Q: loops are caught above.
      chain.push(lo, len, writable);
      if ((flags & F_NEXT) === 0) return null;
      const next = d16[8 * i + 7]!;
      if (next >= q) return this.fail('VQ_NEXT_OUT_OF_RANGE', i, -1, `next ${next} >= queue size ${q}`);
      i = next;
    }
  }

  private walkIndirect(desc: number, table: number, n: number, seenWritableIn: boolean): RingError | null {
    const v = this.mem.view;
    const chain = this.chain;
    const gen = this.generation;
    let seenWritable = seenWritableIn;
    let j = 0;
    for (;;) {
      if (this.istamp[j] === gen) return this.fail('VQ_DESC_LOOP', desc, j, `indirect chain visits entry ${j} twice`);
      this.istamp[j] = gen;
      const at = table + 16 * j;
      const lo = v.getUint32(at, true);
      const hi = v.getUint32(at + 4, true);
      const len = v.getUint32(at + 8, true);
      const flags = v.getUint16(at + 12, true);
      if ((flags & F_INDIRECT) !== 0) return this.fail('VQ_NESTED_INDIRECT', desc, j, 'nested indirect table');
      if (hi !== 0 || !this.mem.contains(lo, len)) return this.fail('VQ_DESC_OUT_OF_BOUNDS', desc, j, `buffer [0x${addrHex(hi, lo)}, +${len}) outside guest memory of ${this.mem.size} bytes`);
      const writable = (flags & F_WRITE) !== 0;
      if (!writable && seenWritable) return this.fail('VQ_READ_AFTER_WRITE', desc, j, 'device-readable descriptor after a device-writable one');
      seenWritable ||= writable;
      chain.push(lo, len, writable);
      if ((flags & F_NEXT) === 0) return null;
      const next = v.getUint16(at + 14, true);
      if (next >= n) return this.fail('VQ_NEXT_OUT_OF_RANGE', desc, j, `next ${next} outside the indirect table of ${n} entries`);
      j = next;
    }
  }

  private nextGeneration(): number {
    this.generation = (this.generation + 1) >>> 0;
    if (this.generation === 0) {
      // Once every 2^32 chains: forget all stamps so an old one cannot look like this chain's.
      this.stamp.fill(0);
      this.istamp.fill(0);
      this.generation = 1;
    }
    return this.generation;
  }

  private fail(code: RingErrorCode, desc: number, entry: number, problem: string): RingError {
    const e = new RingError(code, this.name, desc, entry, problem);
    this.error = e;
    this.chain.reset(-1);
    this.onBroken?.(e);
    return e;
  }

  /**
   * Hands a chain back: used.ring[] = { id: head, len: bytes written }. A plain store, visible to
   * the driver only after flush(). Pushing a head that was never popped is a device bug (throws).
   */
  push(head: number, len: number): void {
    if (this.error !== null) return;
    const r = this.ring;
    if (!(head >= 0 && head < r.size)) throw new VirtioError('EINVAL', `queue ${this.name}: push of head ${head} outside 0..${r.size - 1}`);
    const slot = this.usedShadow & r.mask;
    r.used32[1 + 2 * slot] = head;
    r.used32[2 + 2 * slot] = len;
    this.usedShadow = (this.usedShadow + 1) & 0xffff;
  }

  /** Publishes every pushed entry: one Atomics.store of used.idx. */
  flush(): void {
    if (this.error !== null || this.usedShadow === this.usedPublished) return;
    Atomics.store(this.ring.used16, 1, this.usedShadow);
    this.usedPublished = this.usedShadow;
  }

  /**
   * Flushes, then decides whether the driver wants an interrupt for the entries published since
   * the last decision (QEMU's virtio_should_notify): vring_need_event against used_event under
   * EVENT_IDX, else avail.flags NO_INTERRUPT. The store of used.idx precedes the load of
   * used_event, pairing with the driver's store of used_event before its re-check of used.idx.
   */
  shouldNotify(): boolean {
    if (this.error !== null) return false;
    this.flush();
    const r = this.ring;
    const old = this.lastSignalled;
    const newIdx = this.usedPublished;
    this.lastSignalled = newIdx;
    let needs: boolean;
    if (this.eventIdx) needs = vringNeedEvent(Atomics.load(r.avail16, r.usedEventIdx), newIdx, old);
    else needs = newIdx !== old && (Atomics.load(r.avail16, 0) & NO_INTERRUPT) === 0;
    if (needs) this.interruptsNeeded++;
    else this.interruptsSuppressed++;
    return needs;
  }

  /**
   * Suppresses kicks while the device polls (vhost_disable_notify). Under EVENT_IDX nothing is
   * written: avail_event stays at the index of the last enable, which the driver passes with its
   * first chain, so later chains need no kick. Otherwise used.flags gets NO_NOTIFY.
   */
  disableNotify(): void {
    if (!this.notifyEnabled || this.error !== null) return;
    this.notifyEnabled = false;
    if (!this.eventIdx) Atomics.store(this.ring.used16, 0, NO_NOTIFY);
  }

  /**
   * Re-enables kicks before the device sleeps, then re-checks (vhost_enable_notify): true means
   * chains arrived meanwhile and the caller should disable again and keep popping instead of
   * sleeping. The seq-cst store of avail_event precedes the re-load of avail.idx, pairing with
   * the driver's store of avail.idx before its load of avail_event: one of the two sees the other.
   */
  enableNotify(): boolean {
    if (this.error !== null) return false;
    const r = this.ring;
    this.notifyEnabled = true;
    if (this.eventIdx) Atomics.store(r.used16, r.availEventIdx, this.lastAvail);
    else Atomics.store(r.used16, 0, 0);
    return this.hasAvail();
  }

  /** True when the driver has published chains this device has not popped yet. */
  hasAvail(): boolean {
    if (this.error !== null) return false;
    return Atomics.load(this.ring.avail16, 1) !== this.lastAvail;
  }
}

function addrHex(hi: number, lo: number): string {
  return hi === 0 ? lo.toString(16) : hi.toString(16) + lo.toString(16).padStart(8, '0');
}

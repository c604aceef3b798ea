// The split virtqueue layout (virtio 1.x 2.7, Linux include/uapi/linux/virtio_ring.h): three parts
// at guest-physical addresses, viewed through typed arrays over the shared guest memory so that
// both sides (in different workers) read and write the very same bytes.
//
//   descriptor table  align 16  16*Q   Q x { le64 addr; le32 len; le16 flags; le16 next }
//   available ring    align 2   6+2*Q  le16 flags; le16 idx; le16 ring[Q]; le16 used_event
//   used ring         align 4   6+8*Q  le16 flags; le16 idx; { le32 id; le32 len } ring[Q]; le16 avail_event
//
// idx fields are free-running u16 counters: the slot is idx & (Q-1) and they wrap 65535 -> 0, so
// every distance between two of them is computed as (a - b) & 0xffff.
import { VirtioError } from './errors.ts';
import { hex, type GuestMemory } from './guest-memory.ts';
import { isPow2, type PageAllocator } from './page-allocator.ts';

export const VRING_DESC_F = {
  /** This descriptor continues via the `next` field. */
  VRING_DESC_F_NEXT: 1,
  /** Device-writable (otherwise device-readable). */
  VRING_DESC_F_WRITE: 2,
  /** The buffer is a table of descriptors (needs VIRTIO_RING_F_INDIRECT_DESC). */
  VRING_DESC_F_INDIRECT: 4,
} as const;

export const VRING_USED_F = {
  /** Device -> driver hint: don't kick me (ignored under EVENT_IDX). */
  VRING_USED_F_NO_NOTIFY: 1,
} as const;

export const VRING_AVAIL_F = {
  /** Driver -> device hint: don't interrupt me (ignored under EVENT_IDX). */
  VRING_AVAIL_F_NO_INTERRUPT: 1,
} as const;

export const VIRTQUEUE_MAX_SIZE = 32768;
export const VRING_DESC_SIZE = 16;
export const VRING_DESC_ALIGN = 16;
export const VRING_AVAIL_ALIGN = 2;
export const VRING_USED_ALIGN = 4;

/**
 * vring_need_event: should the side that just moved its index from `old` to `newIdx` notify a
 * peer that asked to hear about index `event`? True when event lies in [old, newIdx), i.e. the
 * peer's event index was passed by this batch. All arithmetic is u16.
 */
export function vringNeedEvent(event: number, newIdx: number, old: number): boolean {
  return ((newIdx - event - 1) & 0xffff) < ((newIdx - old) & 0xffff);
}

export const descTableSize = (q: number): number => VRING_DESC_SIZE * q;
export const availRingSize = (q: number): number => 6 + 2 * q;
export const usedRingSize = (q: number): number => 6 + 8 * q;

/** Where the three parts of one queue live (guest-physical). Plain data: can be posted to a worker. */
export interface SplitRingLayout {
  size: number;
  desc: number;
  avail: number;
  used: number;
}

/** Throws EINVAL unless q is a power of two in 1..32768 and every part is aligned and in memory. */
export function checkLayout(mem: GuestMemory, l: SplitRingLayout): void {
  if (!isPow2(l.size) || l.size > VIRTQUEUE_MAX_SIZE) {
    throw new VirtioError('EINVAL', `queue size ${l.size} is not a power of two in 1..${VIRTQUEUE_MAX_SIZE}`);
  }
  const parts: [string, number, number, number][] = [
    ['descriptor table', l.desc, VRING_DESC_ALIGN, descTableSize(l.size)],
    ['available ring', l.avail, VRING_AVAIL_ALIGN, availRingSize(l.size)],
    ['used ring', l.used, VRING_USED_ALIGN, usedRingSize(l.size)],
  ];
  for (const [name, at, align, len] of parts) {
    if (!Number.isInteger(at) || at % align !== 0) throw new VirtioError('EINVAL', `${name} at 0x${hex(at)} is not ${align}-aligned`);
    if (!mem.contains(at, len)) throw new VirtioError('EFAULT', `${name} [0x${hex(at)}, +${len}) outside guest memory`);
  }
}

/**
 * Lays one queue out contiguously from `base` (16-aligned): descriptors, then the avail ring,
 * then the used ring at the next 4-byte boundary. Returns the layout and the total bytes.
 */
export function layoutAt(size: number, base: number): SplitRingLayout & { bytes: number } {
  const desc = base;
  const avail = desc + descTableSize(size);
  const used = align(avail + availRingSize(size), VRING_USED_ALIGN);
  return { size, desc, avail, used, bytes: used + usedRingSize(size) - base };
}

/** Allocates guest pages for a queue of `size` and zeroes them (a fresh ring is all zeroes). */
export function allocSplitRing(mem: GuestMemory, pages: PageAllocator, size: number): SplitRingLayout {
  const probe = layoutAt(size, 0);
  const base = pages.alloc(probe.bytes, VRING_DESC_ALIGN);
  const l = layoutAt(size, base);
  mem.fill(base, l.bytes);
  const layout = { size, desc: l.desc, avail: l.avail, used: l.used };
  checkLayout(mem, layout);
  return layout;
}

/**
 * Typed-array views of one queue, shared by the driver and device classes. Field indices:
 *   desc32[4i] addr low, desc32[4i+1] addr high, desc32[4i+2] len, desc16[8i+6] flags, desc16[8i+7] next
 *   avail16[0] flags, avail16[1] idx, avail16[2+s] ring[s], avail16[2+Q] used_event
 *   used16[0] flags, used16[1] idx, used32[1+2s] ring[s].id, used32[2+2s] ring[s].len, used16[2+4Q] avail_event
 * idx, flags and the event fields go through Atomics (they order the entries across threads);
 * descriptors and ring entries are plain accesses, published or consumed by those Atomics.
 */
export class SplitRing {
  readonly size: number;
  readonly mask: number;
  readonly layout: SplitRingLayout;
  readonly desc32: Uint32Array;
  readonly desc16: Uint16Array;
  readonly avail16: Uint16Array;
  readonly used16: Uint16Array;
  readonly used32: Uint32Array;
  /** Index in avail16 of used_event, in used16 of avail_event. */
  readonly usedEventIdx: number;
  readonly availEventIdx: number;

  constructor(mem: GuestMemory, layout: SplitRingLayout) {
    checkLayout(mem, layout);
    const q = layout.size;
    this.size = q;
    this.mask = q - 1;
    this.layout = { size: q, desc: layout.desc, avail: layout.avail, used: layout.used };
    this.desc32 = mem.u32At(layout.desc, 4 * q);
    this.desc16 = mem.u16At(layout.desc, 8 * q);
    this.avail16 = mem.u16At(layout.avail, 3 + q);
    this.used16 = mem.u16At(layout.used, 3 + 4 * q);
    this.used32 = mem.u32At(layout.used, 1 + 2 * q);
    this.usedEventIdx = 2 + q;
    this.availEventIdx = 2 + 4 * q;
  }

  // Accessors for tests and diagnostics (the queues use the arrays directly).
  availIdx(): number { return Atomics.load(this.avail16, 1); }
  usedIdx(): number { return Atomics.load(this.used16, 1); }
  usedEvent(): number { return Atomics.load(this.avail16, this.usedEventIdx); }
  availEvent(): number { return Atomics.load(this.used16, this.availEventIdx); }
  availFlags(): number { return Atomics.load(this.avail16, 0); }
  usedFlags(): number { return Atomics.load(this.used16, 0); }

  /** Writes descriptor i raw (tests use it to forge malformed rings). */
  writeDesc(i: number, addr: number, len: number, flags: number, next: number): void {
    this.desc32[4 * i] = addr >>> 0;
    this.desc32[4 * i + 1] = Math.floor(addr / 0x1_0000_0000) >>> 0;
    this.desc32[4 * i + 2] = len >>> 0;
    this.desc16[8 * i + 6] = flags;
    this.desc16[8 * i + 7] = next;
  }
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

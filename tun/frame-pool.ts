// Packet memory shared by the host and vhost workers: one SharedArrayBuffer of fixed-size frames
// and, beside them, each frame's data offset and length, so that a frame handle (its index, a u32)
// is all that travels through a ptr_ring. The allocator on top is page-pool.ts.
//
// A frame is laid out as the kernel lays out an XDP buffer (xdp_init_buff / tun_build_skb):
//   [hard start][XDP_PACKET_HEADROOM 256][data ... ][tail room][skb_shared_info 320]
// The default frame size is tun_build_skb's for a full 1518-byte frame (1514 + a VLAN tag):
// SKB_DATA_ALIGN(256 + 1518) + SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) = 1792 + 320 = 2112,
// a multiple of 64, so every frame (and its data at +256) starts on a cache line and 4-byte word
// copies are aligned.
//
// Shared layout (one SharedArrayBuffer):
//   [0, F*S)            frames; handle h at h*S. F = frames + scratch (scratch frames follow the
//                       allocator's frames and are never allocated, see scratchHandle()).
//   [F*S, F*S + 64F)    per frame, one 64-byte line: its skb head (skbuff.ts), whose last two
//                       words are the frame's meta: data offset from the frame's start, data
//                       length. Each frame's meta sits in its own line, as an xdp_frame's sits
//                       in its own headroom: with eight frames' meta to a line, the host writing
//                       a new frame's meta stole the line from vhost reading an older one's.
//   then 4*(1+remotes)  claim cells: [0] the page pool owner, [1+i] recycle ring i's producer
// plus one recycle ptr_ring per remote (its own SharedArrayBuffer), through which workers other
// than the owner give frames back.
import { XDP_PACKET_HEADROOM } from '../bpf-vm/index.ts';
import { allocShared, TunError } from './errors.ts';
import { PtrRing, type SharedPtrRing } from './ptr-ring.ts';

/** int32 fields of an skb head (skbuff.ts names them): 64 bytes. */
export const SKB_HEAD_FIELDS = 16;
/**
 * Words from one skb head to the next: 128 bytes, the fields in the middle 64 with 32 bytes on
 * either side. malloc aligns a SharedArrayBuffer to 16 bytes, not to a cache line, so heads laid
 * end to end would share lines with their neighbours: the producer filling frame h+1 and the
 * consumer reading frame h would pull one line back and forth. With the gap, no line holds the
 * fields of two heads, wherever the buffer starts.
 */
export const SKB_HEAD_WORDS = 32;
/** Bytes before the first head's fields. */
const SKB_HEAD_LEAD = 32;
/** Where a frame's meta pair sits in its skb head (SKB.DATA, SKB.LEN in skbuff.ts). */
const META_WORD = 14;
/** meta[META_STRIDE * h] is frame h's data offset, meta[META_STRIDE * h + 1] its length. */
export const META_STRIDE = SKB_HEAD_WORDS;

/** bpf-vm's XdpBuff reserves this much at the end of a frame (SKB_DATA_ALIGN(sizeof(struct skb_shared_info))). */
export const SKB_SHARED_INFO_SIZE = 320;
/** ETH_FRAME_LEN plus one VLAN tag, without FCS: the largest frame the default size must hold. */
export const ETH_MAX_FRAME = 1518;

export const FRAME = {
  /** The data starts this far into a frame when it arrives (XDP_PACKET_HEADROOM). */
  HEADROOM: XDP_PACKET_HEADROOM,
  SIZE: align64(XDP_PACKET_HEADROOM + ETH_MAX_FRAME) + SKB_SHARED_INFO_SIZE,
  /** Frame sizes are multiples of this, so frames start cache-line (and word) aligned. */
  ALIGN: 64,
} as const;

export const FRAME_POOL_DEFAULTS = {
  frames: 4096,
  /** Private frames for a worker's synchronous use (vhost copying a guest packet into the tap's Rx path). */
  scratch: 4,
  /** Workers other than the owner that return frames; each gets its own recycle ring. */
  remotes: 1,
} as const;

const MAX_FRAMES = 1 << 20;

export interface FramePoolOptions {
  frames?: number;
  frameSize?: number;
  scratch?: number;
  remotes?: number;
}

/** What another worker needs to open the same pool (structured-clone friendly). */
export interface SharedFramePool {
  buffer: SharedArrayBuffer;
  frames: number;
  frameSize: number;
  scratch: number;
  recycle: SharedPtrRing[];
}

export function framePoolBytes(frames: number, frameSize: number, scratch: number, remotes: number): number {
  const total = frames + scratch;
  return total * frameSize + 4 * SKB_HEAD_WORDS * total + 4 * (1 + remotes);
}

export class FramePool {
  readonly buffer: SharedArrayBuffer;
  /** Frames the allocator hands out: handles [0, frames). */
  readonly frames: number;
  readonly frameSize: number;
  /** Scratch frames: handles [frames, frames + scratch). */
  readonly scratch: number;
  /** The frame region, byte view: frame h at h * frameSize. */
  readonly u8: Uint8Array;
  /** The same region as int32 words (for word copies: frame h starts at word h * frameSize / 4). */
  readonly i32: Int32Array;
  /** Per frame: meta[META_STRIDE * h] data offset from the frame's start, meta[META_STRIDE * h + 1] data length. */
  readonly meta: Uint32Array;
  /** Per frame: its skb head, SKB_HEAD_WORDS int32 fields at h * SKB_HEAD_WORDS (see skbuff.ts). */
  readonly skb: Int32Array;
  /** Claim cells (Atomics): single-owner roles. */
  readonly claims: Int32Array;
  readonly recycle: readonly SharedPtrRing[];

  static create(opts: FramePoolOptions = {}): FramePool {
    const frames = opts.frames ?? FRAME_POOL_DEFAULTS.frames;
    const frameSize = opts.frameSize ?? FRAME.SIZE;
    const scratch = opts.scratch ?? FRAME_POOL_DEFAULTS.scratch;
    const remotes = opts.remotes ?? FRAME_POOL_DEFAULTS.remotes;
    checkGeometry(frames, frameSize, scratch);
    if (!Number.isInteger(remotes) || remotes < 1 || remotes > 64) throw new TunError('EINVAL', `frame pool: ${remotes} remotes (1..64)`);
    const buffer = allocShared(framePoolBytes(frames, frameSize, scratch, remotes), `frame pool of ${frames} x ${frameSize}`);
    const recycle: SharedPtrRing[] = [];
    for (let i = 0; i < remotes; i++) recycle.push(PtrRing.create(nextPow2(Math.max(2, frames))).share());
    const pool = new FramePool({ buffer, frames, frameSize, scratch, recycle });
    for (let h = 0; h < frames + scratch; h++) pool.meta[META_STRIDE * h] = FRAME.HEADROOM;
    return pool;
  }

  static open(shared: SharedFramePool): FramePool {
    return new FramePool(shared);
  }

  constructor(shared: SharedFramePool) {
    const { buffer, frames, frameSize, scratch, recycle } = shared ?? ({} as Partial<SharedFramePool>);
    if (!(buffer instanceof SharedArrayBuffer)) throw new TunError('EINVAL', 'frame pool: the descriptor has no SharedArrayBuffer');
    checkGeometry(frames, frameSize, scratch);
    if (!Array.isArray(recycle) || recycle.length < 1) throw new TunError('EINVAL', 'frame pool: the descriptor has no recycle rings');
    const need = framePoolBytes(frames, frameSize, scratch, recycle.length);
    if (buffer.byteLength !== need) {
      throw new TunError('EINVAL', `frame pool: ${buffer.byteLength}-byte buffer, ${frames}+${scratch} frames of ${frameSize} need ${need}`);
    }
    for (const r of recycle) {
      if (r?.capacity === undefined || r.capacity < frames) throw new TunError('EINVAL', `frame pool: a recycle ring of ${String(r?.capacity)} cannot hold ${frames} frames`);
    }
    const total = frames + scratch;
    this.buffer = buffer;
    this.frames = frames;
    this.frameSize = frameSize;
    this.scratch = scratch;
    this.recycle = recycle;
    this.u8 = new Uint8Array(buffer, 0, total * frameSize);
    this.i32 = new Int32Array(buffer, 0, (total * frameSize) >>> 2);
    const heads = total * frameSize + SKB_HEAD_LEAD;
    const headWords = SKB_HEAD_WORDS * (total - 1) + SKB_HEAD_FIELDS;
    this.skb = new Int32Array(buffer, heads, headWords);
    this.meta = new Uint32Array(buffer, heads + 4 * META_WORD, headWords - META_WORD);
    this.claims = new Int32Array(buffer, total * frameSize + 4 * SKB_HEAD_WORDS * total, 1 + recycle.length);
  }

  share(): SharedFramePool {
    return { buffer: this.buffer, frames: this.frames, frameSize: this.frameSize, scratch: this.scratch, recycle: [...this.recycle] };
  }

  get remotes(): number {
    return this.recycle.length;
  }

  /** Byte offset of frame h's hard start in u8. */
  frameStart(h: number): number {
    return h * this.frameSize;
  }

  /** Byte offset of frame h's first data byte in u8. */
  dataOffset(h: number): number {
    return h * this.frameSize + this.meta[META_STRIDE * h]!;
  }

  length(h: number): number {
    return this.meta[META_STRIDE * h + 1]!;
  }

  /** Records where frame h's data lies (offset from the frame's start) and how long it is. */
  setData(h: number, headroom: number, len: number): void {
    this.meta[META_STRIDE * h] = headroom;
    this.meta[META_STRIDE * h + 1] = len;
  }

  /** Largest data length a frame holds at the default headroom. */
  get maxData(): number {
    return this.frameSize - FRAME.HEADROOM - SKB_SHARED_INFO_SIZE;
  }

  /** Handle of scratch frame i: a frame of the shared buffer that no allocator hands out. */
  scratchHandle(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.scratch) throw new TunError('EINVAL', `frame pool: no scratch frame ${i} (have ${this.scratch})`);
    return this.frames + i;
  }

  /** A copy of frame h's data (tests and captures, not the data path). */
  read(h: number): Uint8Array {
    const off = this.dataOffset(h);
    return this.u8.slice(off, off + this.length(h));
  }

  /** Copies `bytes` into frame h at the default headroom (tests and slow paths). */
  write(h: number, bytes: Uint8Array): void {
    if (bytes.length > this.maxData) throw new TunError('EINVAL', `frame pool: ${bytes.length} bytes do not fit a frame (${this.maxData})`);
    this.u8.set(bytes, h * this.frameSize + FRAME.HEADROOM);
    this.setData(h, FRAME.HEADROOM, bytes.length);
  }
}

function checkGeometry(frames: unknown, frameSize: unknown, scratch: unknown): void {
  if (typeof frames !== 'number' || !Number.isInteger(frames) || frames < 1 || frames > MAX_FRAMES) {
    throw new TunError('EINVAL', `frame pool: ${String(frames)} frames (1..${MAX_FRAMES})`);
  }
  if (typeof scratch !== 'number' || !Number.isInteger(scratch) || scratch < 0 || scratch > 1024) {
    throw new TunError('EINVAL', `frame pool: ${String(scratch)} scratch frames (0..1024)`);
  }
  const min = FRAME.HEADROOM + 60 + SKB_SHARED_INFO_SIZE;
  if (typeof frameSize !== 'number' || !Number.isInteger(frameSize) || frameSize % FRAME.ALIGN !== 0 || frameSize < min || frameSize > 65536) {
    throw new TunError('EINVAL', `frame pool: frame size ${String(frameSize)} must be a multiple of ${FRAME.ALIGN} in [${min}, 65536]`);
  }
  if ((frames + scratch) * frameSize > 2 ** 31 - 1) throw new TunError('EINVAL', 'frame pool: more than 2 GiB of frames');
}

function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * Binds an XDP program to the pool's buffer once (xdp_init_buff for the whole pool): per packet
 * only the window moves (XdpBuff.reset), so no view is made per frame.
 */
export function bindXdpToPool(runner: { xdp: { prepare(b: Uint8Array, hs: number, fs: number, hr: number, len: number): void; ingressIfindex: number } }, pool: FramePool, ifindex: number): void {
  runner.xdp.prepare(pool.u8, 0, pool.frameSize, FRAME.HEADROOM, 0);
  runner.xdp.ingressIfindex = ifindex;
}

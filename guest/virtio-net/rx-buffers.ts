// The driver's packet buffers: one contiguous run of guest pages cut into equal buffers, each laid
// out for native XDP the way Linux's mergeable rx buffers are when a program is attached
// (virtnet_get_headroom, get_mergeable_buf_len plus the XDP room):
//
//   base                 base+256             base+256+12                base+256+descLen   base+truesize
//   | XDP headroom (256)  | virtio_net_hdr_v1  | frame (up to 1524 bytes) | skb_shared_info tail (320) |
//                        ^ the rx descriptor points here, length descLen (1536 for MTU 1500)
//
// MTU 1500: descLen = ALIGN(12 + 1518, 64) = 1536, truesize = 256 + 1536 + 320 = 2112 bytes. The
// headroom lets adjust_head grow the packet and leaves room for the tx header in front of a
// bounced frame; the tail keeps the 320 bytes XDP reserves. A buffer is identified by its index,
// which is also the token the rx and tx virtqueues carry, so XDP_TX hands the very same buffer to
// the tx queue and the rx ring is refilled from the free ones.
import type { GuestMemory, PageAllocator } from '../../virtio/index.ts';
import { VirtnetError } from './errors.ts';

/** Headroom before the virtio_net_hdr (VIRTIO_XDP_HEADROOM). */
export const VIRTIO_XDP_HEADROOM = 256;
/** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64: XDP's reserved tail. */
export const VIRTNET_XDP_TAILROOM = 320;
/** L1_CACHE_BYTES: buffer lengths are multiples of a cache line. */
export const VIRTNET_BUF_ALIGN = 64;
/** ETH_HLEN + VLAN_HLEN: what a frame adds to the MTU (GOOD_PACKET_LEN is 1500 + 18). */
export const VIRTNET_FRAME_OVERHEAD = 18;
export const ETH_DATA_LEN = 1500;

const HEADROOM = VIRTIO_XDP_HEADROOM;

export interface RxBufferGeometry {
  /** virtio_net_hdr size (12 with VERSION_1). */
  hdrLen: number;
  /** The device-writable length each rx descriptor offers: header plus the largest frame. */
  descLen: number;
  /** Bytes per buffer, headroom and tailroom included. */
  truesize: number;
}

export function rxBufferGeometry(mtu: number, hdrLen: number): RxBufferGeometry {
  const frame = Math.max(ETH_DATA_LEN, mtu) + VIRTNET_FRAME_OVERHEAD;
  const descLen = alignUp(hdrLen + frame, VIRTNET_BUF_ALIGN);
  return { hdrLen, descLen, truesize: VIRTIO_XDP_HEADROOM + descLen + VIRTNET_XDP_TAILROOM };
}

export class RxBufferPool {
  readonly base: number;
  readonly count: number;
  readonly hdrLen: number;
  readonly descLen: number;
  readonly truesize: number;
  /** Free buffer indices, a stack: the buffer freed last is the warmest in cache. */
  private readonly freeStack: Int32Array;
  private top = 0;
  /** 1 while a buffer is out (in a ring or being processed): catches a double put. */
  private readonly out: Uint8Array;

  constructor(mem: GuestMemory, pages: PageAllocator, count: number, geometry: RxBufferGeometry) {
    if (!Number.isInteger(count) || count < 1) throw new VirtnetError('EINVAL', `rx buffer pool of ${count} buffers`);
    this.count = count;
    this.hdrLen = geometry.hdrLen;
    this.descLen = geometry.descLen;
    this.truesize = geometry.truesize;
    try {
      this.base = pages.alloc(count * this.truesize, VIRTNET_BUF_ALIGN);
    } catch (e) {
      throw new VirtnetError('ENOMEM', `${count} packet buffers of ${this.truesize} bytes do not fit guest memory`, { cause: e });
    }
    mem.fill(this.base, count * this.truesize);
    this.freeStack = new Int32Array(count);
    this.out = new Uint8Array(count);
    // Lowest index on top, so a fresh ring holds buffers in address order.
    for (let i = 0; i < count; i++) this.freeStack[i] = count - 1 - i;
    this.top = count;
  }

  get free(): number {
    return this.top;
  }

  /** A free buffer's index, or -1 when every buffer is out. */
  get(): number {
    if (this.top === 0) return -1;
    const idx = this.freeStack[--this.top]!;
    this.out[idx] = 1;
    return idx;
  }

  put(idx: number): void {
    if (this.out[idx] !== 1) throw new VirtnetError('EINVAL', `rx buffer ${idx} returned twice (or never taken)`);
    this.out[idx] = 0;
    this.freeStack[this.top++] = idx;
  }

  /** Start of buffer `idx` (xdp_buff's hard start). */
  bufAddr(idx: number): number {
    return this.base + idx * this.truesize;
  }

  /** Where the virtio_net_hdr of buffer `idx` sits: what the rx descriptor points at. */
  hdrAddr(idx: number): number {
    return this.base + idx * this.truesize + HEADROOM;
  }
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

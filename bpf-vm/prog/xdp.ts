// The XDP program type: struct xdp_md, struct xdp_buff's bounds, the actions.
import { BpfError } from '../errors.ts';
import type { CtxLoad } from '../interp/env.ts';
import { Region, REGION_ID, regionTag } from '../interp/regions.ts';

export const XDP_ACTION = {
  XDP_ABORTED: 0,
  XDP_DROP: 1,
  XDP_PASS: 2,
  XDP_TX: 3,
  XDP_REDIRECT: 4,
} as const;
export type XdpAction = (typeof XDP_ACTION)[keyof typeof XDP_ACTION];

export function xdpActionName(a: number): string {
  return ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'][a] ?? `XDP_UNKNOWN(${a})`;
}

/** Offsets of struct xdp_md's u32 fields. */
export const XDP_MD = {
  data: 0,
  data_end: 4,
  data_meta: 8,
  ingress_ifindex: 12,
  rx_queue_index: 16,
  egress_ifindex: 20,
} as const;
export const XDP_MD_SIZE = 24;

export const XDP_PACKET_HEADROOM = 256;
/** sizeof(struct xdp_frame): adjust_head/adjust_meta may not grow into it (x86-64). */
export const XDP_FRAME_SIZE = 40;
/** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64: reserved at the end of the frame. */
export const SKB_SHARED_INFO_SIZE = 320;
export const ETH_HLEN = 14;
/** Metadata must be a multiple of 4 and fit skb_shared_info's u8 meta_len (xdp_metalen_invalid). */
export const XDP_META_MAX = 252;

/**
 * struct xdp_buff: a window [data, data_end) inside a frame buffer, with data_meta before data.
 * The same packet region serves every run; only its bounds move, so no view is made per packet.
 */
export class XdpBuff {
  readonly region: Region;
  hardStart = 0;
  frameSz = 0;
  data = 0;
  dataEnd = 0;
  dataMeta = 0;
  ingressIfindex = 1;
  rxQueueIndex = 0;
  egressIfindex = 0;

  constructor(buffer: Uint8Array) {
    this.region = new Region(REGION_ID.PACKET, 'packet', 'packet', buffer, true);
  }

  get buffer(): Uint8Array {
    return this.region.u8;
  }

  /**
   * Places a packet of `len` bytes at `hardStart + headroom` of `buffer` (xdp_init_buff +
   * xdp_prepare_buff). The frame must lie inside the buffer, with room for the headroom, the packet
   * and the tail the kernel reserves for skb_shared_info.
   */
  prepare(buffer: Uint8Array, hardStart: number, frameSz: number, headroom: number, len: number): void {
    const ints = [hardStart, frameSz, headroom, len].every((v) => Number.isInteger(v) && v >= 0);
    if (!ints || hardStart + frameSz > buffer.length || headroom < XDP_FRAME_SIZE || headroom + len > frameSz - SKB_SHARED_INFO_SIZE) {
      throw new BpfError('EINVAL', `xdp_buff: frame [${hardStart}, +${frameSz}) with headroom ${headroom} and ${len} bytes does not fit a ${buffer.length}-byte buffer (tail room ${SKB_SHARED_INFO_SIZE})`);
    }
    this.region.rebind(buffer);
    this.hardStart = hardStart;
    this.frameSz = frameSz;
    this.data = hardStart + headroom;
    this.dataEnd = this.data + len;
    this.dataMeta = this.data;
    this.syncRegion();
  }

  /**
   * prepare() for the next frame of the buffer and frame size already prepared: the data path's
   * per-packet call. prepare() checks its arguments with an array and a closure, which costs more
   * than a small program's run; this keeps the same bounds with plain comparisons only.
   */
  reset(hardStart: number, headroom: number, len: number): void {
    const frameSz = this.frameSz;
    if (!(hardStart >= 0 && hardStart + frameSz <= this.region.u8.length && headroom >= XDP_FRAME_SIZE && len >= 0 && headroom + len <= frameSz - SKB_SHARED_INFO_SIZE)) {
      throw new BpfError('EINVAL', `xdp_buff: frame [${hardStart}, +${frameSz}) with headroom ${headroom} and ${len} bytes does not fit a ${this.region.u8.length}-byte buffer (tail room ${SKB_SHARED_INFO_SIZE})`);
    }
    this.hardStart = hardStart;
    const data = hardStart + headroom;
    this.data = data;
    this.dataEnd = data + len;
    this.dataMeta = data;
    this.region.lo = data;
    this.region.hi = data + len;
  }

  /** Largest data_end adjust_tail may reach: the frame minus the shared info (xdp_data_hard_end). */
  get hardEnd(): number {
    return this.hardStart + this.frameSz - SKB_SHARED_INFO_SIZE;
  }

  get length(): number {
    return this.dataEnd - this.data;
  }

  /** The bytes between data and data_end (a view: copy it to keep it). */
  packet(): Uint8Array {
    return this.region.u8.subarray(this.data, this.dataEnd);
  }

  /** Programs may touch [data_meta, data_end); keep the region's bounds in step with the buffer. */
  syncRegion(): void {
    this.region.lo = this.dataMeta;
    this.region.hi = this.dataEnd;
  }
}

const PACKET_HI = regionTag(REGION_ID.PACKET);

/**
 * Context loads for XDP (xdp_is_valid_access + xdp_convert_ctx_access): only aligned 4-byte reads;
 * data, data_end and data_meta become packet pointers, the rest plain u32 values. vxo's programs
 * are plain XDP programs, for which egress_ifindex is not a valid field.
 */
export const xdpCtxLoad: CtxLoad = (env, off, size, d) => {
  const x = env.xdp;
  if (x === undefined || size !== 4) return false;
  const R = env.R;
  switch (off) {
    case XDP_MD.data: R[d] = x.data; R[d + 1] = PACKET_HI; return true;
    case XDP_MD.data_end: R[d] = x.dataEnd; R[d + 1] = PACKET_HI; return true;
    case XDP_MD.data_meta: R[d] = x.dataMeta; R[d + 1] = PACKET_HI; return true;
    case XDP_MD.ingress_ifindex: R[d] = x.ingressIfindex; R[d + 1] = 0; return true;
    case XDP_MD.rx_queue_index: R[d] = x.rxQueueIndex; R[d + 1] = 0; return true;
    // egress_ifindex is readable only by programs attached to a DEVMAP entry (BPF_XDP_DEVMAP).
    default: return false;
  }
};

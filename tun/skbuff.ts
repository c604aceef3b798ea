// struct sk_buff, as much of it as the host stack of Case 2 reads and writes: the NIC builds one
// around each frame it passes up (build_skb), eth_type_trans fills in the protocol and packet type,
// the bridge moves it to the egress port, dev_queue_xmit picks the tap's queue from its flow hash,
// and the tap's recvmsg tells it apart from an XDP frame (tun_is_xdp_frame) to run the offloaded
// program the generic way. The data pointer and length stay in the frame pool's meta (the same
// two numbers an XDP frame has); the rest lives in the frame's skb head, one cache line of int32
// fields beside the frames (frame-pool.ts), so another worker reads it through the shared buffer.
import { META_STRIDE, SKB_HEAD_FIELDS, SKB_HEAD_WORDS, type FramePool } from './frame-pool.ts';
import { CHECKSUMS, PACKET_TYPES } from '../net/core/skbuff.ts';

// The constants are net's (one definition of the uapi values); tun's names stay for its users.
export { ETH_HLEN, NET_SKB_PAD } from '../net/core/skbuff.ts';

/** Word offsets in an skb head, named after struct sk_buff's fields. */
export const SKB = {
  /** SKB_KIND: what the tap's ring holds (the kernel tags the pointer, tun_xdp_to_ptr). */
  KIND: 0,
  /** refcount_t users: 1 for an skb nobody else holds (skb_share_check). */
  USERS: 1,
  /** skb->protocol, host order (ETH_P_IP, ...). */
  PROTOCOL: 2,
  /** PACKET_HOST, PACKET_OTHERHOST, ... */
  PKT_TYPE: 3,
  /** Header offsets from the frame's start (the kernel's are from skb->head). */
  MAC_HEADER: 4,
  NETWORK_HEADER: 5,
  TRANSPORT_HEADER: 6,
  MAC_LEN: 7,
  /** ifindex of skb->dev (changes as the skb moves through the bridge), and of the device it came in on. */
  DEV: 8,
  SKB_IIF: 9,
  /** skb->hash and its flags (SKB_HASH_FLAG). */
  HASH: 10,
  HASH_FLAGS: 11,
  /** CHECKSUM_NONE, ... */
  IP_SUMMED: 12,
  QUEUE_MAPPING: 13,
  /** skb->data (offset from the frame's start) and skb->len: the frame pool's meta pair (FramePool.meta). */
  DATA: 14,
  LEN: 15,
} as const satisfies Record<string, number>;

export const SKB_KIND = {
  /** An xdp_frame from tun_xdp_xmit (Case 1). */
  XDP_FRAME: 0,
  /** An sk_buff from the host stack (tun_net_xmit, Case 2). */
  SKB: 1,
} as const;

/** include/uapi/linux/if_packet.h (net's PACKET_TYPES). */
export const PACKET_TYPE = PACKET_TYPES;

/** include/linux/skbuff.h (net's CHECKSUMS). */
export const CHECKSUM = CHECKSUMS;

export const SKB_HASH_FLAG = {
  /** The hash covers the L4 ports (l4_hash). */
  L4_HASH: 1,
  /** Computed in software (sw_hash). */
  SW_HASH: 2,
} as const;

/**
 * build_skb: frame h becomes an skb whose data lies `headroom` bytes into the frame, `len` long.
 * The head is cleared, as build_skb clears struct sk_buff up to its tail.
 */
export function build_skb(pool: FramePool, h: number, headroom: number, len: number): void {
  const skb = pool.skb, b = h * SKB_HEAD_WORDS;
  skb.fill(0, b, b + SKB_HEAD_FIELDS);
  skb[b + SKB.KIND] = SKB_KIND.SKB;
  skb[b + SKB.USERS] = 1;
  const meta = pool.meta;
  meta[META_STRIDE * h] = headroom;
  meta[META_STRIDE * h + 1] = len;
}

/** skb_push: the data starts `n` bytes earlier (a header in front). */
export function skb_push(meta: Uint32Array, h: number, n: number): void {
  meta[META_STRIDE * h] = meta[META_STRIDE * h]! - n;
  meta[META_STRIDE * h + 1] = meta[META_STRIDE * h + 1]! + n;
}

/** __skb_pull: the data starts `n` bytes later (a header consumed). */
export function skb_pull(meta: Uint32Array, h: number, n: number): void {
  meta[META_STRIDE * h] = meta[META_STRIDE * h]! + n;
  meta[META_STRIDE * h + 1] = meta[META_STRIDE * h + 1]! - n;
}

/** The skb's fields by name (tests and --show output, not the data path). */
export function skbFields(pool: FramePool, h: number): Record<keyof typeof SKB, number> {
  const b = h * SKB_HEAD_WORDS;
  const out = {} as Record<keyof typeof SKB, number>;
  for (const [k, i] of Object.entries(SKB) as [keyof typeof SKB, number][]) out[k] = pool.skb[b + i]!;
  return out;
}

// struct sk_buff for the stacks: one buffer (skb->head) with data/tail offsets into it, header
// offsets, the device, the socket, and the control block the layers lend each other (IPCB,
// TCP_SKB_CB). Offsets are from the start of `head`, as the kernel's are from skb->head.
//
// Buffers are recycled: an emulated machine receives millions of packets a second and a fresh
// 2 KiB Uint8Array per packet costs more than the rest of the receive path. kfree_skb and
// consume_skb put the SkBuff and its buffer back on this worker's free lists; a buffer shared by
// clones (skb_clone, as TCP clones what it transmits) goes back when its last user frees it. So an
// skb must not be touched after it is freed, exactly as in the kernel.
import { NetError } from './errors.ts';
import type { NetDevice } from './netdevice.ts';
import type { SockCommon } from './sock-common.ts';

/** include/uapi/linux/if_ether.h */
export const ETH_P = {
  ETH_P_IP: 0x0800,
  ETH_P_ARP: 0x0806,
  ETH_P_8021Q: 0x8100,
  ETH_P_IPV6: 0x86dd,
  ETH_P_8021AD: 0x88a8,
  /** ptype_all: every protocol (packet taps). */
  ETH_P_ALL: 0x0003,
} as const;
export const { ETH_P_IP, ETH_P_ARP, ETH_P_IPV6, ETH_P_ALL } = ETH_P;
export const ETH_HLEN = 14;
export const ETH_ALEN = 6;
export const ETH_DATA_LEN = 1500;
export const ETH_ZLEN = 60;

/** include/uapi/linux/if_packet.h */
export const PACKET_TYPES = {
  PACKET_HOST: 0,
  PACKET_BROADCAST: 1,
  PACKET_MULTICAST: 2,
  PACKET_OTHERHOST: 3,
  PACKET_OUTGOING: 4,
  PACKET_LOOPBACK: 5,
} as const;
export const { PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST, PACKET_OTHERHOST, PACKET_OUTGOING } = PACKET_TYPES;

/** include/linux/skbuff.h */
export const CHECKSUMS = { CHECKSUM_NONE: 0, CHECKSUM_UNNECESSARY: 1, CHECKSUM_COMPLETE: 2, CHECKSUM_PARTIAL: 3 } as const;
export const { CHECKSUM_NONE, CHECKSUM_UNNECESSARY, CHECKSUM_COMPLETE, CHECKSUM_PARTIAL } = CHECKSUMS;

/** NET_SKB_PAD: headroom a driver reserves in front of a received frame. */
export const NET_SKB_PAD = 64;
/** MAX_TCP_HEADER-like headroom for locally built packets: link + IPv6 + TCP with options. */
export const MAX_HEADER = 128;
/** The pooled buffer size: an MTU frame, its headroom and the IPv6/TCP headers fit. */
export const SKB_POOL_BUF = 2048;

/**
 * enum skb_drop_reason (include/net/dropreason-core.h), the reasons this stack drops for. Every
 * kfree_skb names one, and the machine counts drops by it.
 */
export const SKB_DROP_REASONS = {
  SKB_NOT_DROPPED_YET: 0,
  SKB_CONSUMED: 1,
  SKB_DROP_REASON_NOT_SPECIFIED: 2,
  SKB_DROP_REASON_NO_SOCKET: 3,
  SKB_DROP_REASON_PKT_TOO_SMALL: 4,
  SKB_DROP_REASON_TCP_CSUM: 5,
  SKB_DROP_REASON_SOCKET_FILTER: 6,
  SKB_DROP_REASON_UDP_CSUM: 7,
  SKB_DROP_REASON_NETFILTER_DROP: 8,
  SKB_DROP_REASON_OTHERHOST: 9,
  SKB_DROP_REASON_IP_CSUM: 10,
  SKB_DROP_REASON_IP_INHDR: 11,
  SKB_DROP_REASON_IP_RPFILTER: 12,
  SKB_DROP_REASON_UNICAST_IN_L2_MULTICAST: 13,
  SKB_DROP_REASON_XFRM_POLICY: 14,
  SKB_DROP_REASON_IP_NOPROTO: 15,
  SKB_DROP_REASON_SOCKET_RCVBUFF: 16,
  SKB_DROP_REASON_PROTO_MEM: 17,
  SKB_DROP_REASON_TCP_MD5NOTFOUND: 18,
  SKB_DROP_REASON_SOCKET_BACKLOG: 19,
  SKB_DROP_REASON_TCP_FLAGS: 20,
  SKB_DROP_REASON_TCP_ZEROWINDOW: 21,
  SKB_DROP_REASON_TCP_OLD_DATA: 22,
  SKB_DROP_REASON_TCP_OVERWINDOW: 23,
  SKB_DROP_REASON_TCP_OFOMERGE: 24,
  SKB_DROP_REASON_TCP_RFC7323_PAWS: 25,
  SKB_DROP_REASON_TCP_INVALID_SEQUENCE: 26,
  SKB_DROP_REASON_TCP_RESET: 27,
  SKB_DROP_REASON_TCP_INVALID_SYN: 28,
  SKB_DROP_REASON_TCP_CLOSE: 29,
  SKB_DROP_REASON_TCP_FASTOPEN: 30,
  SKB_DROP_REASON_TCP_OLD_ACK: 31,
  SKB_DROP_REASON_TCP_TOO_OLD_ACK: 32,
  SKB_DROP_REASON_TCP_ACK_UNSENT_DATA: 33,
  SKB_DROP_REASON_TCP_OFO_QUEUE_PRUNE: 34,
  SKB_DROP_REASON_TCP_OFO_DROP: 35,
  SKB_DROP_REASON_IP_OUTNOROUTES: 36,
  SKB_DROP_REASON_BPF_CGROUP_EGRESS: 37,
  SKB_DROP_REASON_IPV6DISABLED: 38,
  SKB_DROP_REASON_NEIGH_CREATEFAIL: 39,
  SKB_DROP_REASON_NEIGH_FAILED: 40,
  SKB_DROP_REASON_NEIGH_QUEUEFULL: 41,
  SKB_DROP_REASON_NEIGH_DEAD: 42,
  SKB_DROP_REASON_TC_EGRESS: 43,
  SKB_DROP_REASON_QDISC_DROP: 44,
  SKB_DROP_REASON_CPU_BACKLOG: 45,
  SKB_DROP_REASON_XDP: 46,
  SKB_DROP_REASON_TC_INGRESS: 47,
  SKB_DROP_REASON_UNHANDLED_PROTO: 48,
  SKB_DROP_REASON_SKB_CSUM: 49,
  SKB_DROP_REASON_SKB_GSO_SEG: 50,
  SKB_DROP_REASON_SKB_UCOPY_FAULT: 51,
  SKB_DROP_REASON_DEV_HDR: 52,
  SKB_DROP_REASON_DEV_READY: 53,
  SKB_DROP_REASON_FULL_RING: 54,
  SKB_DROP_REASON_NOMEM: 55,
  SKB_DROP_REASON_HDR_TRUNC: 56,
  SKB_DROP_REASON_TAP_FILTER: 57,
  SKB_DROP_REASON_TAP_TXFILTER: 58,
  SKB_DROP_REASON_ICMP_CSUM: 59,
  SKB_DROP_REASON_INVALID_PROTO: 60,
  SKB_DROP_REASON_IP_INADDRERRORS: 61,
  SKB_DROP_REASON_IP_INNOROUTES: 62,
  SKB_DROP_REASON_PKT_TOO_BIG: 63,
  SKB_DROP_REASON_DUP_FRAG: 64,
  SKB_DROP_REASON_FRAG_REASM_TIMEOUT: 65,
  SKB_DROP_REASON_FRAG_TOO_FAR: 66,
  SKB_DROP_REASON_TCP_MINTTL: 67,
  SKB_DROP_REASON_IPV6_BAD_EXTHDR: 68,
  SKB_DROP_REASON_IPV6_NDISC_FRAG: 69,
  SKB_DROP_REASON_IPV6_NDISC_HOP_LIMIT: 70,
  SKB_DROP_REASON_IPV6_NDISC_BAD_CODE: 71,
  SKB_DROP_REASON_IPV6_NDISC_BAD_OPTIONS: 72,
  SKB_DROP_REASON_IPV6_NDISC_NS_OTHERHOST: 73,
  SKB_DROP_REASON_QUEUE_PURGE: 74,
  SKB_DROP_REASON_TC_COOKIE_ERROR: 75,
  SKB_DROP_REASON_PACKET_SOCK_ERROR: 76,
  SKB_DROP_REASON_TC_CHAIN_NOTFOUND: 77,
  SKB_DROP_REASON_TC_RECLASSIFY_LOOP: 78,
  SKB_DROP_REASON_TCP_LISTEN_OVERFLOW: 79,
  SKB_DROP_REASON_IP_FRAGMENT: 80,
  SKB_DROP_REASON_TCP_INVALID_ACK_SEQUENCE: 81,
  SKB_DROP_REASON_TCP_ABORT_ON_DATA: 82,
} as const;
export type SkbDropReason = (typeof SKB_DROP_REASONS)[keyof typeof SKB_DROP_REASONS];
const DROP_REASON_NAMES: string[] = [];
for (const [k, v] of Object.entries(SKB_DROP_REASONS)) DROP_REASON_NAMES[v] = k.replace(/^SKB_DROP_REASON_/, '');
/** The reason's name as the kernel's drop_reasons[] prints it (NO_SOCKET, IP_CSUM, ...). */
export function drop_reason_name(reason: number): string {
  return DROP_REASON_NAMES[reason] ?? `REASON_${reason}`;
}

/**
 * skb->cb, the 48 bytes each layer borrows while it owns the skb: IPCB/IP6CB on the way in,
 * TCP_SKB_CB in TCP's queues. Named fields rather than bytes; a layer sets what it reads.
 */
export class SkbCb {
  /** TCP_SKB_CB: sequence space of the segment, flags (TCPHDR_*), SACK state, the peer's ack. */
  seq = 0;
  end_seq = 0;
  tcp_flags = 0;
  sacked = 0;
  ack_seq = 0;
  /** tcp_tw_isn: the ISN a TIME_WAIT socket hands the new connection. */
  tcp_tw_isn = 0;
  /** When the segment was last sent (tcp_skb_timestamp_us, in us of the machine's clock). */
  tx_tstamp_us = 0;
  /** IPCB(skb)->iif / IP6CB(skb)->iif and flags (IPSKB_*). */
  iif = 0;
  ip_flags = 0;
  /** The L4 header offsets a protocol parsed (TCP's doff * 4 kept for the fast path). */
  doff = 0;

  clear(): void {
    this.seq = this.end_seq = this.tcp_flags = this.sacked = this.ack_seq = this.tcp_tw_isn = 0;
    this.tx_tstamp_us = this.iif = this.ip_flags = this.doff = 0;
  }

  copyFrom(o: SkbCb): void {
    this.seq = o.seq; this.end_seq = o.end_seq; this.tcp_flags = o.tcp_flags; this.sacked = o.sacked;
    this.ack_seq = o.ack_seq; this.tcp_tw_isn = o.tcp_tw_isn; this.tx_tstamp_us = o.tx_tstamp_us;
    this.iif = o.iif; this.ip_flags = o.ip_flags; this.doff = o.doff;
  }
}

/** struct skb_shared_info: what clones share, the buffer and its reference count. */
export class SkbSharedInfo {
  readonly buf: Uint8Array;
  readonly view: DataView;
  dataref = 1;
  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
}

export class SkBuff {
  /** The buffer (skb->head) and a DataView over it; shared with clones. */
  head: Uint8Array;
  view: DataView;
  shinfo: SkbSharedInfo;
  /** skb->data, skb->tail and skb->end as offsets into head; len = tail - data (all linear). */
  data = 0;
  tail = 0;
  end = 0;
  len = 0;
  /** Header offsets into head; -1 (the kernel's ~0) when unset. */
  mac_header = -1;
  network_header = -1;
  transport_header = -1;
  mac_len = 0;
  /** skb->protocol, host order (ETH_P_IP ...). */
  protocol = 0;
  pkt_type: number = PACKET_HOST;
  dev: NetDevice | null = null;
  /** ifindex of the device it arrived on. */
  skb_iif = 0;
  sk: SockCommon | null = null;
  /** Called when the skb is freed while it is charged to a socket (sock_wfree, sock_rfree). */
  destructor: ((skb: SkBuff) => void) | null = null;
  truesize = 0;
  hash = 0;
  l4_hash = false;
  sw_hash = false;
  mark = 0;
  priority = 0;
  /** Receive or transmit time, ns of the machine's clock. */
  tstamp = 0;
  ip_summed: number = CHECKSUM_NONE;
  csum = 0;
  queue_mapping = 0;
  /** tc: skb->tc_index, the classid a cls_bpf program sets (issue 16 fills them). */
  tc_index = 0;
  tc_classid = 0;
  /** The 48-byte control block (IPCB, TCP_SKB_CB). */
  readonly cb = new SkbCb();
  /** qdisc_skb_cb's data[20]: what tc programs see as __sk_buff.cb[0..4] (bytes over five words). */
  readonly bpf_cb_words = new Int32Array(5);
  readonly bpf_cb = new Uint8Array(this.bpf_cb_words.buffer);
  /** skb_metadata_len: bytes of XDP metadata just before data (tc's data_meta). */
  meta_len = 0;
  /** sk_buff_head links, while queued. */
  next: SkBuff | null = null;
  prev: SkBuff | null = null;
  /** True while on a free list, to catch a double free. */
  _freed = false;

  constructor(shinfo: SkbSharedInfo) {
    this.shinfo = shinfo;
    this.head = shinfo.buf;
    this.view = shinfo.view;
    this.end = shinfo.buf.length;
  }
}

const skbFreeList: SkBuff[] = [];
const bufFreeList: SkbSharedInfo[] = [];
/** Bounds on the free lists, so a burst does not pin its peak memory forever. */
const SKB_FREELIST_MAX = 8192;

function newShinfo(size: number): SkbSharedInfo {
  if (size === SKB_POOL_BUF) {
    const s = bufFreeList.pop();
    if (s !== undefined) {
      s.dataref = 1;
      return s;
    }
  }
  return new SkbSharedInfo(new Uint8Array(size));
}

function skbFromShinfo(sh: SkbSharedInfo): SkBuff {
  const skb = skbFreeList.pop();
  if (skb === undefined) return new SkBuff(sh);
  skb._freed = false;
  skb.shinfo = sh;
  skb.head = sh.buf;
  skb.view = sh.view;
  skb.end = sh.buf.length;
  return skb;
}

/**
 * alloc_skb: an empty skb with room for `size` bytes (data = tail = 0). Sizes up to SKB_POOL_BUF
 * come from the pool; larger ones (jumbo frames) are allocated.
 */
export function alloc_skb(size: number): SkBuff {
  if (!(size >= 0) || size > 65535 + MAX_HEADER + NET_SKB_PAD) {
    throw new NetError('EINVAL', `alloc_skb: ${size} bytes`);
  }
  const skb = skbFromShinfo(newShinfo(size <= SKB_POOL_BUF ? SKB_POOL_BUF : size));
  skb.truesize = skb.end;
  return skb;
}

/** netdev_alloc_skb: an skb for a received frame of `len` bytes, NET_SKB_PAD reserved. */
export function netdev_alloc_skb(dev: NetDevice | null, len: number): SkBuff {
  const skb = alloc_skb(len + NET_SKB_PAD);
  skb_reserve(skb, NET_SKB_PAD);
  skb.dev = dev;
  return skb;
}

/** Resets an skb's fields to alloc_skb's state; its buffer stays. */
function skb_reset_fields(skb: SkBuff): void {
  skb.data = skb.tail = skb.len = 0;
  skb.mac_header = skb.network_header = skb.transport_header = -1;
  skb.mac_len = 0;
  skb.protocol = 0;
  skb.pkt_type = PACKET_HOST;
  skb.dev = null;
  skb.skb_iif = 0;
  skb.sk = null;
  skb.destructor = null;
  skb.truesize = 0;
  skb.hash = 0;
  skb.l4_hash = skb.sw_hash = false;
  skb.mark = skb.priority = skb.tstamp = 0;
  skb.ip_summed = CHECKSUM_NONE;
  skb.csum = 0;
  skb.queue_mapping = skb.tc_index = skb.tc_classid = 0;
  skb.meta_len = 0;
  // Zero as the kernel's alloc does; written only by tc programs, so a test saves the fill.
  const w = skb.bpf_cb_words;
  if ((w[0]! | w[1]! | w[2]! | w[3]! | w[4]!) !== 0) w.fill(0);
  skb.cb.clear();
  skb.next = skb.prev = null;
}

function skb_release(skb: SkBuff): void {
  if (skb._freed) throw new NetError('EINVAL', 'skb freed twice');
  if (skb.destructor !== null) {
    const d = skb.destructor;
    skb.destructor = null;
    d(skb);
  }
  const sh = skb.shinfo;
  if (--sh.dataref === 0 && sh.buf.length === SKB_POOL_BUF && bufFreeList.length < SKB_FREELIST_MAX) bufFreeList.push(sh);
  skb_reset_fields(skb);
  skb._freed = true;
  if (skbFreeList.length < SKB_FREELIST_MAX) skbFreeList.push(skb);
}

/**
 * A drop: kfree_skb_reason. `onDrop` (one per worker, set by the machine) counts it by reason,
 * which is how every dropped packet is accounted for.
 */
export function kfree_skb_reason(skb: SkBuff, reason: number): void {
  skbDropHook?.(skb, reason);
  skb_release(skb);
}

export function kfree_skb(skb: SkBuff): void {
  kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NOT_SPECIFIED);
}

/** consume_skb: freed after use, not a drop. */
export function consume_skb(skb: SkBuff): void {
  skb_release(skb);
}

let skbDropHook: ((skb: SkBuff, reason: number) => void) | null = null;
/** Installs this worker's drop accounting (the kernel's kfree_skb tracepoint, in effect). */
export function set_skb_drop_hook(hook: ((skb: SkBuff, reason: number) => void) | null): void {
  skbDropHook = hook;
}

export function skb_reserve(skb: SkBuff, len: number): void {
  skb.data += len;
  skb.tail += len;
}

export function skb_headroom(skb: SkBuff): number {
  return skb.data;
}

export function skb_tailroom(skb: SkBuff): number {
  return skb.end - skb.tail;
}

/** skb_put: extends the data at the tail by len; returns the offset of the new bytes. */
export function skb_put(skb: SkBuff, len: number): number {
  const at = skb.tail;
  if (at + len > skb.end) throw new NetError('ENOSPC', `skb_put: ${len} bytes over the tail (tailroom ${skb.end - at})`);
  skb.tail += len;
  skb.len += len;
  return at;
}

/** skb_push: extends the data at the front by len (into the headroom); returns the new data offset. */
export function skb_push(skb: SkBuff, len: number): number {
  if (len > skb.data) throw new NetError('ENOSPC', `skb_push: ${len} bytes under the head (headroom ${skb.data})`);
  skb.data -= len;
  skb.len += len;
  return skb.data;
}

/** skb_pull: removes len bytes from the front; false (and nothing moved) if the skb is shorter. */
export function skb_pull(skb: SkBuff, len: number): boolean {
  if (len > skb.len) return false;
  skb.data += len;
  skb.len -= len;
  return true;
}

/** pskb_may_pull: all data is linear here, so this is a length check. */
export function pskb_may_pull(skb: SkBuff, len: number): boolean {
  return len <= skb.len;
}

/** skb_trim / pskb_trim: shortens the data to len (drops link-layer padding). */
export function skb_trim(skb: SkBuff, len: number): void {
  if (len < skb.len) {
    skb.len = len;
    skb.tail = skb.data + len;
  }
}

export function skb_reset_mac_header(skb: SkBuff): void {
  skb.mac_header = skb.data;
}
export function skb_reset_network_header(skb: SkBuff): void {
  skb.network_header = skb.data;
}
export function skb_reset_transport_header(skb: SkBuff): void {
  skb.transport_header = skb.data;
}
export function skb_set_network_header(skb: SkBuff, offset: number): void {
  skb.network_header = skb.data + offset;
}
export function skb_set_transport_header(skb: SkBuff, offset: number): void {
  skb.transport_header = skb.data + offset;
}
export function skb_network_offset(skb: SkBuff): number {
  return skb.network_header - skb.data;
}
export function skb_transport_offset(skb: SkBuff): number {
  return skb.transport_header - skb.data;
}
/** skb_network_header_len: transport minus network header. */
export function skb_network_header_len(skb: SkBuff): number {
  return skb.transport_header - skb.network_header;
}

/** skb_clone: a new skb over the same buffer (headers pushed by either land in shared headroom, as in the kernel). */
export function skb_clone(skb: SkBuff): SkBuff {
  skb.shinfo.dataref++;
  const n = skbFromShinfo(skb.shinfo);
  copy_skb_header(n, skb);
  n.data = skb.data;
  n.tail = skb.tail;
  n.len = skb.len;
  return n;
}

/** skb_cloned: the buffer has other users, so writing into it needs a copy first. */
export function skb_cloned(skb: SkBuff): boolean {
  return skb.shinfo.dataref !== 1;
}

/** skb_copy: a private copy of buffer and header fields, headroom kept. */
export function skb_copy(skb: SkBuff): SkBuff {
  const n = alloc_skb(skb.end);
  n.head.set(skb.head.subarray(0, skb.tail), 0);
  copy_skb_header(n, skb);
  n.data = skb.data;
  n.tail = skb.tail;
  n.len = skb.len;
  return n;
}

/** pskb_copy-like: a private copy with `headroom` bytes in front of the data. */
export function skb_copy_expand(skb: SkBuff, headroom: number, tailroom: number): SkBuff {
  const n = alloc_skb(headroom + skb.len + tailroom);
  n.head.set(skb.head.subarray(skb.data, skb.tail), headroom);
  copy_skb_header(n, skb);
  const shift = headroom - skb.data;
  n.data = headroom;
  n.tail = headroom + skb.len;
  n.len = skb.len;
  if (skb.mac_header >= 0) n.mac_header = skb.mac_header + shift;
  if (skb.network_header >= 0) n.network_header = skb.network_header + shift;
  if (skb.transport_header >= 0) n.transport_header = skb.transport_header + shift;
  return n;
}

function copy_skb_header(n: SkBuff, o: SkBuff): void {
  n.mac_header = o.mac_header;
  n.network_header = o.network_header;
  n.transport_header = o.transport_header;
  n.mac_len = o.mac_len;
  n.protocol = o.protocol;
  n.pkt_type = o.pkt_type;
  n.dev = o.dev;
  n.skb_iif = o.skb_iif;
  n.truesize = o.truesize;
  n.hash = o.hash;
  n.l4_hash = o.l4_hash;
  n.sw_hash = o.sw_hash;
  n.mark = o.mark;
  n.priority = o.priority;
  n.tstamp = o.tstamp;
  n.ip_summed = o.ip_summed;
  n.csum = o.csum;
  n.queue_mapping = o.queue_mapping;
  n.tc_index = o.tc_index;
  n.tc_classid = o.tc_classid;
  n.meta_len = o.meta_len;
  n.bpf_cb.set(o.bpf_cb);
  n.cb.copyFrom(o.cb);
}

/** skb_orphan: detaches the skb from its socket, running the destructor now. */
export function skb_orphan(skb: SkBuff): void {
  if (skb.destructor !== null) {
    const d = skb.destructor;
    skb.destructor = null;
    d(skb);
  }
  skb.sk = null;
}

/** A copy of the data bytes (for tests and captures; not for hot paths). */
export function skb_data_bytes(skb: SkBuff): Uint8Array {
  return skb.head.slice(skb.data, skb.tail);
}

/** struct sk_buff_head: a doubly linked queue with its length, as sockets and devices queue skbs. */
export class SkBuffHead {
  first: SkBuff | null = null;
  last: SkBuff | null = null;
  qlen = 0;
  /** Bytes queued (sum of skb->len), for queue limits that count bytes. */
  bytes = 0;
}

export function skb_queue_empty(q: SkBuffHead): boolean {
  return q.qlen === 0;
}
export function skb_queue_len(q: SkBuffHead): number {
  return q.qlen;
}
export function skb_peek(q: SkBuffHead): SkBuff | null {
  return q.first;
}
export function skb_peek_tail(q: SkBuffHead): SkBuff | null {
  return q.last;
}

export function __skb_queue_tail(q: SkBuffHead, skb: SkBuff): void {
  skb.next = null;
  skb.prev = q.last;
  if (q.last !== null) q.last.next = skb;
  else q.first = skb;
  q.last = skb;
  q.qlen++;
  q.bytes += skb.len;
}

export function __skb_queue_head(q: SkBuffHead, skb: SkBuff): void {
  skb.prev = null;
  skb.next = q.first;
  if (q.first !== null) q.first.prev = skb;
  else q.last = skb;
  q.first = skb;
  q.qlen++;
  q.bytes += skb.len;
}

/** __skb_queue_after: inserts skb after `prev` (before the head if prev is null). */
export function __skb_queue_after(q: SkBuffHead, prev: SkBuff | null, skb: SkBuff): void {
  if (prev === null) return __skb_queue_head(q, skb);
  skb.prev = prev;
  skb.next = prev.next;
  if (prev.next !== null) prev.next.prev = skb;
  else q.last = skb;
  prev.next = skb;
  q.qlen++;
  q.bytes += skb.len;
}

export function __skb_unlink(skb: SkBuff, q: SkBuffHead): void {
  if (skb.prev !== null) skb.prev.next = skb.next;
  else q.first = skb.next;
  if (skb.next !== null) skb.next.prev = skb.prev;
  else q.last = skb.prev;
  skb.next = skb.prev = null;
  q.qlen--;
  q.bytes -= skb.len;
}

export function __skb_dequeue(q: SkBuffHead): SkBuff | null {
  const skb = q.first;
  if (skb !== null) __skb_unlink(skb, q);
  return skb;
}

/** skb_queue_purge_reason: frees everything queued. */
export function skb_queue_purge_reason(q: SkBuffHead, reason: number): void {
  for (let skb = __skb_dequeue(q); skb !== null; skb = __skb_dequeue(q)) kfree_skb_reason(skb, reason);
}

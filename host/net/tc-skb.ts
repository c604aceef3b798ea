// A frame-pool skb as tc programs see it: the BpfSkb a SkbProgramRunner runs on, over skb h's
// head words and frame bytes. The host's skbs are handles into shared arrays (FramePool), not
// objects, so one PoolSkb is pointed at each skb in turn (load), the classifiers run on it, and
// what they may change goes back (store) before the verdict is acted on: the data window (the
// program's bpf_skb_change_tail), the protocol and packet type, and the fields the pool's skb head
// has no word for (mark, priority, tc_index), which TcSkbState keeps per handle on this worker.
//
// Offsets: the pool counts from the frame's start, a BpfSkb from `head` (the whole frame region of
// the pool, so the program's packet region is the frame's [data, data + len) window inside it).
import type { BpfSkb, BpfSockRef } from '../../bpf-vm/prog/sock-host.ts';
import { META_STRIDE, SKB, SKB_HEAD_WORDS, SKB_SHARED_INFO_SIZE, type FramePool } from '../../tun/index.ts';

/** qdisc_skb_cb's data[]: __sk_buff.cb[0..4]. */
const QDISC_CB_DATA = 20;
// Module constants: read once, not through the re-exporting module on every packet.
const {
  MAC_HEADER, NETWORK_HEADER, TRANSPORT_HEADER, MAC_LEN, PROTOCOL, PKT_TYPE, QUEUE_MAPPING, HASH, HASH_FLAGS, SKB_IIF, DEV,
} = SKB;
const HEAD_WORDS = SKB_HEAD_WORDS, STRIDE = META_STRIDE, SHINFO = SKB_SHARED_INFO_SIZE;

/**
 * struct sk_buff's fields the pool's skb head lacks, per frame handle: set by tc programs, read by
 * the later hooks the skb passes (the NIC's ingress marks, the tap's egress matches). build_skb
 * clears them where host/net builds an skb (reset), a bridge clone copies them (clone).
 */
export class TcSkbState {
  readonly mark: Uint32Array;
  readonly priority: Uint32Array;
  readonly tc_index: Uint16Array;

  constructor(frames: number) {
    this.mark = new Uint32Array(frames);
    this.priority = new Uint32Array(frames);
    this.tc_index = new Uint16Array(frames);
  }

  reset(h: number): void {
    this.mark[h] = 0;
    this.priority[h] = 0;
    this.tc_index[h] = 0;
  }

  clone(from: number, to: number): void {
    this.mark[to] = this.mark[from]!;
    this.priority[to] = this.priority[from]!;
    this.tc_index[to] = this.tc_index[from]!;
  }
}

/** The skb's device as __sk_buff.ifindex reads it (skb->dev->ifindex). */
interface SkbDev {
  ifindex: number;
}

export class PoolSkb implements BpfSkb {
  readonly head: Uint8Array;
  readonly view: DataView;
  data = 0;
  tail = 0;
  end = 0;
  len = 0;
  mac_header = -1;
  network_header = -1;
  transport_header = -1;
  mac_len = 0;
  protocol = 0;
  pkt_type = 0;
  mark = 0;
  priority = 0;
  queue_mapping = 0;
  hash = 0;
  tc_index = 0;
  tc_classid = 0;
  tstamp = 0;
  skb_iif = 0;
  meta_len = 0;
  readonly bpf_cb = new Uint8Array(QDISC_CB_DATA);
  readonly dev: SkbDev = { ifindex: 0 };
  /** No socket owns a frame of the host's bridge path. */
  sk: BpfSockRef | null = null;
  /** The skb this adapter shows, -1 between runs. */
  h = -1;
  private start = 0;

  constructor(readonly pool: FramePool, readonly state: TcSkbState) {
    this.head = pool.u8;
    this.view = new DataView(pool.u8.buffer, pool.u8.byteOffset, pool.u8.byteLength);
  }

  /** Points the adapter at skb h (qdisc_skb_cb's data cleared: cb lives for one hook's classification). */
  load(h: number): void {
    const fp = this.pool, skb = fp.skb, meta = fp.meta, b = h * HEAD_WORDS;
    const start = h * fp.frameSize;
    this.h = h;
    this.start = start;
    this.data = start + meta[STRIDE * h]!;
    this.len = meta[STRIDE * h + 1]!;
    this.tail = this.data + this.len;
    this.end = start + fp.frameSize - SHINFO;
    // 0 is "unset": no header starts at a frame's first byte (the headroom is in front).
    const mac = skb[b + MAC_HEADER]!, nh = skb[b + NETWORK_HEADER]!, th = skb[b + TRANSPORT_HEADER]!;
    this.mac_header = mac === 0 ? -1 : start + mac;
    this.network_header = nh === 0 ? -1 : start + nh;
    this.transport_header = th === 0 ? -1 : start + th;
    this.mac_len = skb[b + MAC_LEN]!;
    this.protocol = skb[b + PROTOCOL]! & 0xffff;
    this.pkt_type = skb[b + PKT_TYPE]!;
    this.queue_mapping = skb[b + QUEUE_MAPPING]! & 0xffff;
    this.hash = skb[b + HASH_FLAGS] === 0 ? 0 : skb[b + HASH]! >>> 0;
    this.skb_iif = skb[b + SKB_IIF]!;
    this.dev.ifindex = skb[b + DEV]!;
    const st = this.state;
    this.mark = st.mark[h]!;
    this.priority = st.priority[h]!;
    this.tc_index = st.tc_index[h]!;
    this.tc_classid = 0;
    this.tstamp = 0;
    this.meta_len = 0;
    this.bpf_cb.fill(0);
  }

  /** Writes back what the classification may have changed. */
  store(): void {
    const h = this.h, fp = this.pool, start = this.start;
    fp.meta[STRIDE * h] = this.data - start;
    fp.meta[STRIDE * h + 1] = this.len;
    const b = h * HEAD_WORDS, skb = fp.skb;
    skb[b + PROTOCOL] = this.protocol;
    skb[b + PKT_TYPE] = this.pkt_type;
    const st = this.state;
    st.mark[h] = this.mark;
    st.priority[h] = this.priority;
    st.tc_index[h] = this.tc_index;
    this.h = -1;
  }
}

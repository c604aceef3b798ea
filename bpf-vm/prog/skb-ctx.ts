// struct __sk_buff at run time for tc (SCHED_CLS/SCHED_ACT) and socket filters: what the kernel's
// bpf_convert_ctx_access turns each load and store into, computed from the BpfSkb behind the run.
// The verifier (verifier/ctx-skb.ts) decides which accesses a program may make; this answers every
// one it accepts, narrow loads with the kernel's exact shift-and-mask (convert_ctx_accesses), and
// checks bounds on its own for unverified runs. data, data_end and data_meta become pointers into
// the packet region, which bindSkbPacket points at skb->head with [data - meta_len, data + len).
import type { CtxLoad, ExecEnv } from '../interp/env.ts';
import { Region, REGION_ID, regionTag } from '../interp/regions.ts';
import { SK_BUFF, SK_BUFF_CB_SIZE, SOCK_SLOT } from './bpf-sock.ts';
import type { BpfSkb } from './sock-host.ts';

const PACKET_HI = regionTag(REGION_ID.PACKET);
const TWO32 = 4294967296;
/** NO_QUEUE_MAPPING (include/linux/skbuff.h): a store of this or more leaves queue_mapping alone. */
export const NO_QUEUE_MAPPING = 0xffff;
/** PKT_TYPE_MAX: pkt_type is a 3-bit field. */
const PKT_TYPE_MAX = 7;

/**
 * skb fields only some BpfSkb carry: skb_shinfo's gso_segs, gso_size and hwtstamp and
 * qdisc_skb_cb's pkt_len (wire_len). A test run's skb sets them from ctx_in; a stack's skb without
 * them reads as an skb that was never segmented nor hardware-stamped, on the wire with its length.
 */
export interface SkbShinfoFields {
  gso_segs: number;
  gso_size: number;
  /** skb_hwtstamps(skb)->hwtstamp, ns (a u64, exact). */
  hwtstamp: bigint;
  wire_len: number;
  /**
   * skb->tstamp exactly, as two u32 halves, for an skb that keeps it so (a test run's ctx_in may
   * hold any u64; a number is exact only below 2^53). When present, tstamp is their value.
   */
  tstamp_lo: number;
  tstamp_hi: number;
}
export type SkbWithShinfo = BpfSkb & Partial<SkbShinfoFields>;

/** skb_at_tc_ingress for the skb of this run (false outside tc's ingress hook). */
export function skb_at_tc_ingress(env: ExecEnv): boolean {
  return env.skbAtIngress;
}

/** Atomics on the packet are refused by the verifier; an unverified one faults (no aligned view). */
const NO_I32 = new Int32Array(0);

/**
 * bpf_compute_data_pointers: points the packet region at the skb's buffer, [data - meta_len,
 * data + len). Uses the skb's own DataView, so binding allocates nothing; called before each run
 * and after every helper that moves data or reallocates the head.
 */
export function bindSkbPacket(region: Region, skb: BpfSkb): void {
  if (region.u8 !== skb.head) {
    region.u8 = skb.head;
    region.dv = skb.view;
    region.i32 = NO_I32;
  }
  region.lo = skb.data - skb.meta_len;
  region.hi = skb.data + skb.len;
}

const bswap16 = (v: number): number => ((v & 0xff) << 8) | ((v >>> 8) & 0xff);

/** The width of the load fieldValue's field takes (the kernel's target_size); 0: no such field. */
let targetSize = 0;

/** The u32-class field at `base` (a multiple of 4) as convert_ctx_access loads it; sets targetSize. */
function fieldValue(skb: SkbWithShinfo, base: number): number {
  switch (base) {
    case SK_BUFF.len: targetSize = 4; return skb.len;
    case SK_BUFF.pkt_type: targetSize = 1; return skb.pkt_type & PKT_TYPE_MAX;
    case SK_BUFF.mark: targetSize = 4; return skb.mark;
    case SK_BUFF.queue_mapping: targetSize = 2; return skb.queue_mapping & 0xffff;
    // skb->protocol is a __be16 in memory: a little-endian load yields the byte-swapped value.
    case SK_BUFF.protocol: targetSize = 2; return bswap16(skb.protocol);
    // vxo's skbs never carry an offloaded VLAN tag: no tag, tci and proto 0.
    case SK_BUFF.vlan_present: targetSize = 1; return 0;
    case SK_BUFF.vlan_tci: targetSize = 2; return 0;
    case SK_BUFF.vlan_proto: targetSize = 2; return 0;
    case SK_BUFF.priority: targetSize = 4; return skb.priority;
    case SK_BUFF.ingress_ifindex: targetSize = 4; return skb.skb_iif;
    case SK_BUFF.ifindex: targetSize = 4; return skb.dev === null ? 0 : skb.dev.ifindex;
    case SK_BUFF.tc_index: targetSize = 2; return skb.tc_index & 0xffff;
    case SK_BUFF.hash: targetSize = 4; return skb.hash;
    case SK_BUFF.tc_classid: targetSize = 2; return skb.tc_classid & 0xffff;
    // No busy-polling NAPI ids in vxo: below MIN_NAPI_ID, which reads as 0.
    case SK_BUFF.napi_id: targetSize = 4; return 0;
    case SK_BUFF.wire_len: targetSize = 4; return skb.wire_len ?? skb.len;
    case SK_BUFF.gso_segs: targetSize = 2; return (skb.gso_segs ?? 0) & 0xffff;
    case SK_BUFF.gso_size: targetSize = 2; return (skb.gso_size ?? 0) & 0xffff;
    default: targetSize = 0; return 0;
  }
}

/** skb->sk for the program: a sock_common pointer without a reference, NULL without socket or host. */
function loadSk(env: ExecEnv, skb: BpfSkb, d: number): void {
  const R = env.R;
  const host = env.netHost;
  const sk = skb.sk;
  if (sk === null || host === undefined) { R[d] = 0; R[d + 1] = 0; return; }
  // One reference-less slot however often the program loads the field (SockSlots.view).
  R[d] = SOCK_SLOT.SOCK;
  R[d + 1] = env.socks.view(host, sk, env.pc);
}

function set64(env: ExecEnv, d: number, v: number): void {
  const R = env.R;
  R[d] = v % TWO32 | 0;
  R[d + 1] = Math.floor(v / TWO32) | 0;
}

const CB_END = SK_BUFF.cb + SK_BUFF_CB_SIZE;

/** The __sk_buff loads (bpf_convert_ctx_access and the verifier's narrow-load rewrite). */
export const skbCtxLoad: CtxLoad = (env, off, size, d) => {
  const skb: SkbWithShinfo | undefined = env.skb;
  if (skb === undefined || off < 0 || off % size !== 0) return false;
  const R = env.R;
  if (off >= SK_BUFF.cb && off < CB_END) {
    if (off + size > CB_END) return false;
    const cb = skb.bpf_cb, i = off - SK_BUFF.cb;
    if (size === 1) { R[d] = cb[i]!; R[d + 1] = 0; }
    else if (size === 2) { R[d] = cb[i]! | (cb[i + 1]! << 8); R[d + 1] = 0; }
    else {
      R[d] = cb[i]! | (cb[i + 1]! << 8) | (cb[i + 2]! << 16) | (cb[i + 3]! << 24);
      R[d + 1] = size === 8 ? cb[i + 4]! | (cb[i + 5]! << 8) | (cb[i + 6]! << 16) | (cb[i + 7]! << 24) : 0;
    }
    return true;
  }
  if (size === 8) {
    switch (off) {
      // No delivery-time (mono) stamps in vxo, so tc reads skb->tstamp as is at ingress too.
      case SK_BUFF.tstamp:
        if (skb.tstamp_hi !== undefined && skb.tstamp_lo !== undefined) { R[d] = skb.tstamp_lo; R[d + 1] = skb.tstamp_hi; }
        else set64(env, d, skb.tstamp);
        return true;
      case SK_BUFF.hwtstamp: {
        const h = skb.hwtstamp ?? 0n;
        R[d] = Number(BigInt.asIntN(32, h));
        R[d + 1] = Number(BigInt.asIntN(32, h >> 32n));
        return true;
      }
      case SK_BUFF.sk: loadSk(env, skb, d); return true;
      default: return false;
    }
  }
  switch (off) {
    case SK_BUFF.data: if (size !== 4) return false; R[d] = skb.data; R[d + 1] = PACKET_HI; return true;
    case SK_BUFF.data_end: if (size !== 4) return false; R[d] = skb.data + skb.len; R[d + 1] = PACKET_HI; return true;
    case SK_BUFF.data_meta: if (size !== 4) return false; R[d] = skb.data - skb.meta_len; R[d + 1] = PACKET_HI; return true;
    // BPF_SKB_TSTAMP_UNSPEC: the stamp (if any) is a receive time, never a delivery time.
    case SK_BUFF.tstamp_type: if (size !== 1) return false; R[d] = 0; R[d + 1] = 0; return true;
    default: break;
  }
  const base = off & ~3;
  let v = fieldValue(skb, base);
  if (targetSize === 0) return false;
  // The verifier loads the whole field and, when the access is narrower than what the field's
  // load yields, shifts the wanted bytes down and masks (little-endian: byte k is bits 8k..).
  // A narrow load at least as wide as the field's own load gets the field whole, whatever its
  // offset inside the u32 (the kernel's quirk: a 2-byte load at protocol + 2 reads protocol).
  if (size < targetSize) v = (v >>> ((off & 3) * 8)) & (size === 1 ? 0xff : 0xffff);
  R[d] = v | 0;
  R[d + 1] = 0;
  return true;
};

/**
 * The __sk_buff stores tc programs may make (socket filters: cb only, as their verifier allows):
 * value (lo, hi) into the field at `off`. False for an offset or size no rewrite exists for.
 * Called by both engines for a store through a context pointer; __sk_buff is the only context with
 * writable fields, so the engines call this directly rather than through the environment.
 */
export function skbCtxStore(env: ExecEnv, off: number, size: number, lo: number, hi: number): boolean {
  const skb: SkbWithShinfo | undefined = env.skb;
  if (skb === undefined || off < 0 || off % size !== 0) return false;
  if (off >= SK_BUFF.cb && off < CB_END) {
    if (off + size > CB_END) return false;
    const cb = skb.bpf_cb, i = off - SK_BUFF.cb;
    cb[i] = lo;
    if (size >= 2) cb[i + 1] = lo >>> 8;
    if (size >= 4) { cb[i + 2] = lo >>> 16; cb[i + 3] = lo >>> 24; }
    if (size === 8) { cb[i + 4] = hi; cb[i + 5] = hi >>> 8; cb[i + 6] = hi >>> 16; cb[i + 7] = hi >>> 24; }
    return true;
  }
  if (size === 8) {
    if (off !== SK_BUFF.tstamp) return false;
    if (skb.tstamp_hi !== undefined) { skb.tstamp_lo = lo | 0; skb.tstamp_hi = hi | 0; }
    else skb.tstamp = (hi >>> 0) * TWO32 + (lo >>> 0);
    return true;
  }
  if (size !== 4) return false;
  switch (off) {
    case SK_BUFF.mark: skb.mark = lo >>> 0; return true;
    case SK_BUFF.priority: skb.priority = lo >>> 0; return true;
    // 16-bit fields take the low half of the value.
    case SK_BUFF.tc_index: skb.tc_index = lo & 0xffff; return true;
    case SK_BUFF.tc_classid: skb.tc_classid = lo & 0xffff; return true;
    // The rewrite compares the whole 64-bit register: NO_QUEUE_MAPPING or more stores nothing.
    case SK_BUFF.queue_mapping:
      if (hi === 0 && (lo >>> 0) < NO_QUEUE_MAPPING) skb.queue_mapping = lo & 0xffff;
      return true;
    default: return false;
  }
}

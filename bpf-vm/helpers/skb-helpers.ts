// The skb helpers of tc and socket filter programs (net/core/filter.c): bytes in and out of the
// packet, checksum fix-ups, tail changes, redirect. Offsets count from skb->data (the link header
// for tc, where the protocol left it for a socket filter); vxo's skbs are linear, so skb->len bytes
// from data are all in the head. Helpers that unshare or reallocate go through the stack's
// BpfNetHost when there is one (skb_ensure_writable, skb_change_tail); a host-less run (a bare
// BPF_PROG_TEST_RUN) owns its skb outright and does the same work here.
import { ERRNO } from '../errno.ts';
import type { ExecEnv } from '../interp/env.ts';
import { REGION_ID } from '../interp/regions.ts';
import { bindSkbPacket } from '../prog/skb-ctx.ts';
import type { BpfSkb } from '../prog/sock-host.ts';
import { fibLookup } from './fib-lookup.ts';
import { ARG, RET, type HelperProto } from './proto.ts';

/** enum bpf_func_id values of this file's helpers (uapi bpf.h FN(...) order). */
export const BPF_FUNC_SKB = {
  skb_store_bytes: 9,
  l3_csum_replace: 10,
  l4_csum_replace: 11,
  redirect: 23,
  skb_load_bytes: 26,
  get_hash_recalc: 34,
  skb_change_tail: 38,
  skb_pull_data: 39,
  skb_load_bytes_relative: 68,
} as const;

/** bpf_skb_store_bytes flags. */
export const BPF_F_RECOMPUTE_CSUM = 1 << 0;
export const BPF_F_INVALIDATE_HASH = 1 << 1;
/** bpf_l3/l4_csum_replace: the size of the replaced field (0: `to` is a csum_diff result). */
export const BPF_F_HDR_FIELD_MASK = 0xf;
/** bpf_l4_csum_replace flags. */
export const BPF_F_PSEUDO_HDR = 1 << 4;
export const BPF_F_MARK_MANGLED_0 = 1 << 5;
export const BPF_F_MARK_ENFORCE = 1 << 6;
/** Linux 6.16: the pseudo header is IPv6 (matters only for CHECKSUM_PARTIAL skbs). */
export const BPF_F_IPV6 = 1 << 7;
/** bpf_redirect's flag: to the target's ingress instead of its egress. */
export const BPF_F_INGRESS = 1 << 0;
/** bpf_skb_load_bytes_relative's bases. */
export const BPF_HDR_START_MAC = 0;
export const BPF_HDR_START_NET = 1;
/** CSUM_MANGLED_0: a UDP checksum that computes to 0 is sent as 0xffff. */
const CSUM_MANGLED_0 = 0xffff;
/** TC_ACT_* the helpers return (include/uapi/linux/pkt_cls.h). */
export const TC_ACT_SHOT = 2;
export const TC_ACT_REDIRECT = 7;
/** BPF_SKB_MAX_LEN: SKB_MAX_ALLOC, what bpf_skb_change_tail may grow a packet to (x86-64). */
export const BPF_SKB_MAX_LEN = (4096 << 2) - 320;
const INT_MAX = 0x7fffffff;

function skbOf(env: ExecEnv, helper: string): BpfSkb {
  const skb = env.skb;
  if (skb === undefined) throw env.fault(`${helper} called without an skb`);
  return skb;
}

/** memcpy without a view per call for the short copies programs make (headers, a few words). */
function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, from: number, len: number): void {
  if (len > 64) { dst.set(src.subarray(from, from + len), at); return; }
  // Ascending is right for distinct buffers and for a copy down within one (dst before src);
  // a copy up within one buffer goes descending.
  if (dst === src && at > from) for (let i = len - 1; i >= 0; i--) dst[at + i] = src[from + i]!;
  else for (let i = 0; i < len; i++) dst[at + i] = src[from + i]!;
}

/** bpf_compute_data_pointers: the packet region follows the skb after data moved or head changed. */
function recomputeDataPointers(env: ExecEnv, skb: BpfSkb): void {
  const r = env.regions[REGION_ID.PACKET];
  if (r !== undefined) bindSkbPacket(r, skb);
}

/**
 * bpf_try_make_writable (skb_ensure_writable): the first `len` bytes must be in the packet, and
 * are unshared from clones by the host. 0 or a negative errno.
 */
function tryMakeWritable(env: ExecEnv, skb: BpfSkb, len: number): number {
  if (len > skb.len) return -ERRNO.ENOMEM;
  const host = env.netHost;
  return host === undefined ? 0 : host.skb_ensure_writable(skb, len);
}

export const skbLoadBytes: HelperProto = {
  id: BPF_FUNC_SKB.skb_load_bytes,
  name: 'skb_load_bytes',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_ANYTHING, ARG.ARG_PTR_TO_UNINIT_MEM, ARG.ARG_CONST_SIZE],
  ret: RET.RET_INTEGER,
  impl(env) {
    const R = env.R;
    const skb = skbOf(env, 'bpf_skb_load_bytes');
    const offset = R[4]! >>> 0, len = R[8]! >>> 0;
    const to = env.resolveMem(R[6]!, R[7]!, len, true, 'bpf_skb_load_bytes to');
    const at = env.addr;
    // skb_header_pointer: the bytes must lie inside the packet; on failure `to` is cleared.
    if (offset > INT_MAX || offset + len > skb.len) {
      to.u8.fill(0, at, at + len);
      env.setR0Int(-ERRNO.EFAULT);
      return;
    }
    copyBytes(to.u8, at, skb.head, skb.data + offset, len);
    env.setR0Int(0);
  },
};

export const skbLoadBytesRelative: HelperProto = {
  id: BPF_FUNC_SKB.skb_load_bytes_relative,
  name: 'skb_load_bytes_relative',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_ANYTHING, ARG.ARG_PTR_TO_UNINIT_MEM, ARG.ARG_CONST_SIZE, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env) {
    const R = env.R;
    const skb = skbOf(env, 'bpf_skb_load_bytes_relative');
    const offset = R[4]! >>> 0, len = R[8]! >>> 0, startHeader = R[10]! >>> 0;
    const to = env.resolveMem(R[6]!, R[7]!, len, true, 'bpf_skb_load_bytes_relative to');
    const at = env.addr;
    let start = -1;
    if (offset <= 0xffff) {
      if (startHeader === BPF_HDR_START_MAC) start = skb.mac_header;
      else if (startHeader === BPF_HDR_START_NET) start = skb.network_header;
    }
    // The bytes may be anywhere from the header to the tail, before skb->data included.
    if (start < 0 || start + offset + len > skb.tail) {
      to.u8.fill(0, at, at + len);
      env.setR0Int(-ERRNO.EFAULT);
      return;
    }
    copyBytes(to.u8, at, skb.head, start + offset, len);
    env.setR0Int(0);
  },
};

export const skbStoreBytes: HelperProto = {
  id: BPF_FUNC_SKB.skb_store_bytes,
  name: 'skb_store_bytes',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_ANYTHING, ARG.ARG_PTR_TO_MEM, ARG.ARG_CONST_SIZE, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  changesPktData: true,
  impl(env) {
    const R = env.R;
    const skb = skbOf(env, 'bpf_skb_store_bytes');
    const offset = R[4]! >>> 0, len = R[8]! >>> 0;
    const from = env.resolveMem(R[6]!, R[7]!, len, false, 'bpf_skb_store_bytes from');
    const at = env.addr;
    if ((R[10]! & ~(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH)) !== 0 || R[11] !== 0) { env.setR0Int(-ERRNO.EINVAL); return; }
    if (offset > INT_MAX || tryMakeWritable(env, skb, offset + len) !== 0) { env.setR0Int(-ERRNO.EFAULT); return; }
    recomputeDataPointers(env, skb);
    // BPF_F_RECOMPUTE_CSUM updates skb->csum of a CHECKSUM_COMPLETE skb; vxo's skbs reach
    // programs with CHECKSUM_NONE, for which there is nothing to update.
    copyBytes(skb.head, skb.data + offset, from.u8, at, len);
    if ((R[10]! & BPF_F_INVALIDATE_HASH) !== 0) skb.hash = 0;
    env.setR0Int(0);
  },
};

// Ones'-complement arithmetic as include/net/checksum.h does it on the CPU's (little-endian) view
// of the bytes: the result is right whatever the byte order, as long as all operands share it.
const csumAdd = (a: number, b: number): number => {
  const s = (a >>> 0) + (b >>> 0);
  return (s >= 4294967296 ? s - 4294967295 : s) >>> 0;
};
const csumSub = (a: number, b: number): number => csumAdd(a, ~b >>> 0);
function csumFold(c: number): number {
  let s = (c & 0xffff) + (c >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
function csum16Add(csum: number, addend: number): number {
  const a = addend & 0xffff;
  const r = ((csum & 0xffff) + a) & 0xffff;
  return (r + (r < a ? 1 : 0)) & 0xffff;
}
/** csum_replace4 and inet_proto_csum_replace4 on a CHECKSUM_NONE skb: fold(~unfold(sum) - from + to). */
const replace4 = (sum: number, from: number, to: number): number => csumFold(csumAdd(csumSub(~sum >>> 0, from), to));
/** csum_replace_by_diff: fold(~sum + diff). */
const replaceByDiff = (sum: number, diff: number): number => csumFold(csumAdd(diff, ~sum >>> 0));

/** The shared start of l3/l4_csum_replace: offset checks and an unshared, 2-byte-aligned field. */
function csumField(env: ExecEnv, skb: BpfSkb, offset: number): number {
  if (offset > 0xffff || (offset & 1) !== 0) return -ERRNO.EFAULT;
  if (tryMakeWritable(env, skb, offset + 2) !== 0) return -ERRNO.EFAULT;
  recomputeDataPointers(env, skb);
  return 0;
}

export const l3CsumReplace: HelperProto = {
  id: BPF_FUNC_SKB.l3_csum_replace,
  name: 'l3_csum_replace',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_ANYTHING, ARG.ARG_ANYTHING, ARG.ARG_ANYTHING, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  changesPktData: true,
  impl(env) {
    const R = env.R;
    const skb = skbOf(env, 'bpf_l3_csum_replace');
    const offset = R[4]! >>> 0, flags = R[10]!;
    if ((flags & ~BPF_F_HDR_FIELD_MASK) !== 0 || R[11] !== 0) { env.setR0Int(-ERRNO.EINVAL); return; }
    const err = csumField(env, skb, offset);
    if (err !== 0) { env.setR0Int(err); return; }
    const at = skb.data + offset, dv = skb.view, sum = dv.getUint16(at, true);
    const from = R[6]! >>> 0, to = R[8]! >>> 0;
    switch (flags & BPF_F_HDR_FIELD_MASK) {
      case 0:
        if (from !== 0 || R[7] !== 0) { env.setR0Int(-ERRNO.EINVAL); return; }
        dv.setUint16(at, replaceByDiff(sum, to), true);
        break;
      // csum_replace2: ~csum16_add(csum16_sub(~sum, old), new), the 16-bit variant.
      case 2: dv.setUint16(at, ~csum16Add(csum16Add(~sum & 0xffff, ~from & 0xffff), to) & 0xffff, true); break;
      case 4: dv.setUint16(at, replace4(sum, from, to), true); break;
      default: env.setR0Int(-ERRNO.EINVAL); return;
    }
    env.setR0Int(0);
  },
};

export const l4CsumReplace: HelperProto = {
  id: BPF_FUNC_SKB.l4_csum_replace,
  name: 'l4_csum_replace',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_ANYTHING, ARG.ARG_ANYTHING, ARG.ARG_ANYTHING, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  changesPktData: true,
  impl(env) {
    const R = env.R;
    const skb = skbOf(env, 'bpf_l4_csum_replace');
    const offset = R[4]! >>> 0, flags = R[10]!;
    const known = BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR | BPF_F_IPV6 | BPF_F_HDR_FIELD_MASK;
    if ((flags & ~known) !== 0 || R[11] !== 0) { env.setR0Int(-ERRNO.EINVAL); return; }
    const err = csumField(env, skb, offset);
    if (err !== 0) { env.setR0Int(err); return; }
    const at = skb.data + offset, dv = skb.view, sum = dv.getUint16(at, true);
    const mmzero = (flags & BPF_F_MARK_MANGLED_0) !== 0;
    // A UDP checksum of 0 means "none": leave it so unless told to enforce one.
    if (mmzero && (flags & BPF_F_MARK_ENFORCE) === 0 && sum === 0) { env.setR0Int(0); return; }
    const from = R[6]! >>> 0, to = R[8]! >>> 0;
    // inet_proto_csum_replace*: for a skb that is not CHECKSUM_PARTIAL (vxo's never are at tc),
    // the pseudo-header flag only matters to skb->csum, so the field changes as at L3. The
    // 2-byte form is the 4-byte one on the zero-extended values.
    let res: number;
    switch (flags & BPF_F_HDR_FIELD_MASK) {
      case 0:
        if (from !== 0 || R[7] !== 0) { env.setR0Int(-ERRNO.EINVAL); return; }
        res = replaceByDiff(sum, to);
        break;
      case 2: res = replace4(sum, from & 0xffff, to & 0xffff); break;
      case 4: res = replace4(sum, from, to); break;
      default: env.setR0Int(-ERRNO.EINVAL); return;
    }
    if (mmzero && res === 0) res = CSUM_MANGLED_0;
    dv.setUint16(at, res, true);
    env.setR0Int(0);
  },
};

/** __bpf_skb_min_len: what the packet may not shrink below (its network or transport header). */
function skbMinLen(skb: BpfSkb): number {
  let min = 0;
  if (skb.network_header >= 0 && skb.network_header - skb.data > 0) min = skb.network_header - skb.data;
  if (skb.transport_header >= 0 && skb.transport_header - skb.data > 0) min = skb.transport_header - skb.data;
  return min;
}

/**
 * A host-less skb's tail change (skb_cow, then __skb_grow or trim): within the buffer the tail just
 * moves; past it the head is reallocated with room for the new length. New bytes are zero.
 */
function changeTailLocal(skb: BpfSkb, newLen: number): void {
  const newTail = skb.data + newLen;
  if (newTail > skb.end) {
    const head = new Uint8Array(newTail);
    head.set(skb.head.subarray(0, skb.tail));
    skb.head = head;
    skb.view = new DataView(head.buffer);
    skb.end = newTail;
  } else if (newTail > skb.tail) {
    skb.head.fill(0, skb.tail, newTail);
  }
  skb.tail = newTail;
  skb.len = newLen;
}

export const skbChangeTail: HelperProto = {
  id: BPF_FUNC_SKB.skb_change_tail,
  name: 'skb_change_tail',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_ANYTHING, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  changesPktData: true,
  impl(env) {
    const R = env.R;
    const skb = skbOf(env, 'bpf_skb_change_tail');
    const newLen = R[4]! >>> 0;
    if (R[6] !== 0 || R[7] !== 0 || newLen > BPF_SKB_MAX_LEN || newLen < skbMinLen(skb)) { env.setR0Int(-ERRNO.EINVAL); return; }
    const host = env.netHost;
    let ret = 0;
    if (host !== undefined) ret = host.skb_change_tail(skb, newLen, 0n);
    else if (newLen !== skb.len) changeTailLocal(skb, newLen);
    recomputeDataPointers(env, skb);
    env.setR0Int(ret);
  },
};

export const skbPullData: HelperProto = {
  id: BPF_FUNC_SKB.skb_pull_data,
  name: 'skb_pull_data',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  changesPktData: true,
  impl(env) {
    const skb = skbOf(env, 'bpf_skb_pull_data');
    const len = env.R[4]! >>> 0;
    // len 0: the whole head (skb_headlen), which for vxo's linear skbs is the packet.
    const ret = tryMakeWritable(env, skb, len === 0 ? skb.len : len);
    recomputeDataPointers(env, skb);
    env.setR0Int(ret);
  },
};

/**
 * bpf_redirect for tc (a different prototype than XDP's under the same id): the target and
 * BPF_F_INGRESS are kept for cls_bpf's skb_do_redirect; any other flag makes it TC_ACT_SHOT.
 */
export const tcRedirect: HelperProto = {
  id: BPF_FUNC_SKB.redirect,
  name: 'redirect',
  args: [ARG.ARG_ANYTHING, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env) {
    const R = env.R;
    if ((R[4]! & ~BPF_F_INGRESS) !== 0 || R[5] !== 0) { env.setR0Int(TC_ACT_SHOT); return; }
    const r = env.redirect;
    r.ifindex = R[2]! >>> 0;
    r.map = undefined;
    r.key = 0;
    r.broadcast = false;
    r.excludeIngress = false;
    env.redirectFlags = R[4]!;
    env.setR0Int(TC_ACT_REDIRECT);
  },
};

/**
 * bpf_get_hash_recalc: skb_get_hash. The kernel hashes the flow keys with a per-boot random
 * seed, so its values cannot be matched; vxo hashes the same fields (addresses, ports, protocol)
 * with a fixed seed, stable across runs, and keeps a hash the skb already carries.
 */
export const getHashRecalc: HelperProto = {
  id: BPF_FUNC_SKB.get_hash_recalc,
  name: 'get_hash_recalc',
  args: [ARG.ARG_PTR_TO_CTX],
  ret: RET.RET_INTEGER,
  impl(env) {
    const skb = skbOf(env, 'bpf_get_hash_recalc');
    if (skb.hash === 0) skb.hash = flowHash(skb);
    env.setR0(skb.hash | 0, 0);
  },
};

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;

/** A jhash-like mix of the flow's addresses, ports and protocol; 0 when there is no IP header. */
function flowHash(skb: BpfSkb): number {
  const nh = skb.network_header, u8 = skb.head, tail = skb.tail;
  let from = 0, to = 0, proto = 0;
  if (skb.protocol === ETH_P_IP && nh >= 0 && nh + 20 <= tail) {
    from = nh + 12; to = nh + 20; proto = u8[nh + 9]!;
    const ihl = (u8[nh]! & 0xf) * 4;
    if ((proto === 6 || proto === 17) && nh + ihl + 4 <= tail) to = nh + ihl + 4;
  } else if (skb.protocol === ETH_P_IPV6 && nh >= 0 && nh + 40 <= tail) {
    from = nh + 8; to = nh + 40; proto = u8[nh + 6]!;
  } else return 0;
  let h = (0x9e3779b9 ^ proto) | 0;
  for (let i = from; i < to; i++) h = Math.imul(h ^ u8[i]!, 0x01000193);
  h ^= h >>> 16;
  return (h >>> 0) === 0 ? 1 : h >>> 0;
}

/** Every skb helper vxo implements (helper table by id); tc's redirect is listed per type only. */
export const SKB_HELPERS: readonly HelperProto[] = [
  skbStoreBytes, l3CsumReplace, l4CsumReplace, skbLoadBytes, getHashRecalc, skbChangeTail, skbPullData,
  skbLoadBytesRelative, fibLookup,
];
/** What tc (SCHED_CLS, SCHED_ACT) programs get beyond the base set (tc_cls_act_func_proto). */
export const TC_SKB_HELPERS: readonly HelperProto[] = [
  skbStoreBytes, l3CsumReplace, l4CsumReplace, tcRedirect, skbLoadBytes, getHashRecalc, skbChangeTail, skbPullData,
  skbLoadBytesRelative, fibLookup,
];
/** What socket filters get beyond the base set (sk_filter_func_proto). */
export const SOCKET_FILTER_SKB_HELPERS: readonly HelperProto[] = [skbLoadBytes, skbLoadBytesRelative];
/** Helpers of this file XDP programs get too (bpf_fib_lookup). */
export const XDP_SKB_HELPERS: readonly HelperProto[] = [fibLookup];

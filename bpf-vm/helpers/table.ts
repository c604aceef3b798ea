// Which helpers exist, and which program types may call them (the kernel's *_func_proto switches).
import { BPF_PROG_TYPE } from '../prog/types.ts';
import { forEachMapElem, loop } from './callbacks.ts';
import { csumDiff, csumUpdate } from './csum.ts';
import { mapDeleteElem, mapLookupElem, mapUpdateElem } from './map-helpers.ts';
import { getNumaNodeId, getPrandomU32, getSmpProcessorId, ktimeGetNs } from './misc.ts';
import type { HelperProto } from './proto.ts';
import { BASE_SK_HELPERS, SK_HELPERS, SK_LOOKUP_SK_HELPERS, SOCKET_FILTER_SK_HELPERS, TC_SK_HELPERS, XDP_SK_HELPERS } from './sk-helpers.ts';
import { SKB_HELPERS, SOCKET_FILTER_SKB_HELPERS, TC_SKB_HELPERS, XDP_SKB_HELPERS } from './skb-helpers.ts';
import { probeReadKernel } from './probe-read.ts';
import { RINGBUF_HELPERS } from './ringbuf-helpers.ts';
import { tailCall } from './tail-call.ts';
import { strtol, strtoul } from './strtol.ts';
import { tracePrintk } from './trace-printk.ts';
import { jiffies64, ktimeGetBootNs } from './time.ts';
import { xdpLoadBytes, xdpStoreBytes } from './xdp-bytes.ts';
import { redirect, redirectMap, xdpAdjustHead, xdpAdjustMeta, xdpAdjustTail } from './xdp-helpers.ts';

export const ALL_HELPERS: readonly HelperProto[] = [
  mapLookupElem, mapUpdateElem, mapDeleteElem, ktimeGetNs, tracePrintk, getPrandomU32,
  getSmpProcessorId, redirect, csumDiff, csumUpdate, getNumaNodeId, xdpAdjustHead, redirectMap,
  xdpAdjustMeta, xdpAdjustTail, strtol, strtoul, jiffies64, ktimeGetBootNs, xdpLoadBytes, xdpStoreBytes, ...SK_HELPERS, ...RINGBUF_HELPERS, tailCall, loop, forEachMapElem, ...SKB_HELPERS,
  probeReadKernel,
];

export const HELPERS_BY_ID: ReadonlyMap<number, HelperProto> = new Map(ALL_HELPERS.map((h) => [h.id, h]));

/** Helpers every program type gets (bpf_base_func_proto). */
const BASE = [mapLookupElem, mapUpdateElem, mapDeleteElem, ktimeGetNs, tracePrintk, getPrandomU32,
  getSmpProcessorId, getNumaNodeId, strtol, strtoul, jiffies64, ktimeGetBootNs, ...RINGBUF_HELPERS, tailCall, loop, forEachMapElem,
  // bpf_base_func_proto's CAP_PERFMON part: the bpf_skc_to_* casts and bpf_probe_read_kernel (BPF_CORE_READ).
  ...BASE_SK_HELPERS, probeReadKernel];

const BY_PROG_TYPE = new Map<number, ReadonlyMap<number, HelperProto>>([
  [BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, byId([...BASE, csumDiff, redirect, redirectMap, xdpAdjustHead, xdpAdjustMeta, xdpAdjustTail, xdpLoadBytes, xdpStoreBytes, ...XDP_SK_HELPERS, ...XDP_SKB_HELPERS])],
  [BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS, byId([...BASE, csumDiff, csumUpdate, ...TC_SK_HELPERS, ...TC_SKB_HELPERS])],
  [BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_ACT, byId([...BASE, csumDiff, csumUpdate, ...TC_SK_HELPERS, ...TC_SKB_HELPERS])],
  [BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER, byId([...BASE, ...SOCKET_FILTER_SK_HELPERS, ...SOCKET_FILTER_SKB_HELPERS])],
  // sk_lookup_func_proto: the base set, bpf_sk_assign (its SK_LOOKUP form) and bpf_sk_release.
  [BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP, byId([...BASE, ...SK_LOOKUP_SK_HELPERS])],
]);

function byId(list: readonly HelperProto[]): ReadonlyMap<number, HelperProto> {
  return new Map(list.map((h) => [h.id, h]));
}

/** The helpers a program of `progType` may call; unknown types get the base set. */
export function helpersFor(progType: number): ReadonlyMap<number, HelperProto> {
  return BY_PROG_TYPE.get(progType) ?? byId(BASE);
}

export function helperName(id: number): string | undefined {
  const h = HELPERS_BY_ID.get(id);
  return h ? `bpf_${h.name}` : undefined;
}

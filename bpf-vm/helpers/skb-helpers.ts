// The skb helpers of tc and socket filter programs (net/core/filter.c): filled by issue 16's tc work.
import type { HelperProto } from './proto.ts';

/** Every skb helper vxo implements (helper table by id). */
export const SKB_HELPERS: readonly HelperProto[] = [];
/** What tc (SCHED_CLS, SCHED_ACT) programs get beyond the base set (tc_cls_act_func_proto). */
export const TC_SKB_HELPERS: readonly HelperProto[] = [];
/** What socket filters get beyond the base set (sk_filter_func_proto). */
export const SOCKET_FILTER_SKB_HELPERS: readonly HelperProto[] = [];
/** Helpers of this file XDP programs get too (bpf_fib_lookup). */
export const XDP_SKB_HELPERS: readonly HelperProto[] = [];

// The tc verdicts (include/uapi/linux/pkt_cls.h) a classifier returns and sch_handle_ingress /
// sch_handle_egress act on, the cls_bpf flags, and the handle arithmetic of pkt_sched.h that
// `tc filter` and the clsact qdisc use. cls_bpf programs return the same numbers.
export const TC_ACT = {
  TC_ACT_UNSPEC: -1,
  TC_ACT_OK: 0,
  TC_ACT_RECLASSIFY: 1,
  TC_ACT_SHOT: 2,
  TC_ACT_PIPE: 3,
  TC_ACT_STOLEN: 4,
  TC_ACT_QUEUED: 5,
  TC_ACT_REPEAT: 6,
  TC_ACT_REDIRECT: 7,
  TC_ACT_TRAP: 8,
} as const;
export const {
  TC_ACT_UNSPEC, TC_ACT_OK, TC_ACT_RECLASSIFY, TC_ACT_SHOT, TC_ACT_PIPE, TC_ACT_STOLEN, TC_ACT_QUEUED, TC_ACT_REPEAT, TC_ACT_REDIRECT,
  TC_ACT_TRAP,
} = TC_ACT;

/** TCA_BPF_FLAG_ACT_DIRECT (`bpf da`): the program's return value is the action. */
export const TCA_BPF_FLAGS = { TCA_BPF_FLAG_ACT_DIRECT: 1 } as const;
/** TCA_CLS_FLAGS_*: where a filter runs (vxo's run in software only). */
export const TCA_CLS_FLAGS = { TCA_CLS_FLAGS_SKIP_HW: 1, TCA_CLS_FLAGS_SKIP_SW: 2, TCA_CLS_FLAGS_IN_HW: 4, TCA_CLS_FLAGS_NOT_IN_HW: 8 } as const;

/** pkt_sched.h: a handle is major:minor, 16 bits each. */
export const TC_H = {
  TC_H_MAJ_MASK: 0xffff0000,
  TC_H_MIN_MASK: 0x0000ffff,
  TC_H_UNSPEC: 0,
  TC_H_ROOT: 0xffffffff,
  /** clsact and ingress qdiscs sit at parent ffff:fff1 with handle ffff:. */
  TC_H_CLSACT: 0xfffffff1,
  TC_H_MIN_INGRESS: 0xfff2,
  TC_H_MIN_EGRESS: 0xfff3,
} as const;

export function TC_H_MAJ(h: number): number {
  return (h & TC_H.TC_H_MAJ_MASK) >>> 0;
}
export function TC_H_MIN(h: number): number {
  return h & TC_H.TC_H_MIN_MASK;
}
export function TC_H_MAKE(maj: number, min: number): number {
  return ((maj & TC_H.TC_H_MAJ_MASK) | (min & TC_H.TC_H_MIN_MASK)) >>> 0;
}

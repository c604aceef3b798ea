// The tc verdicts (include/uapi/linux/pkt_cls.h) a classifier returns and sch_handle_ingress /
// sch_handle_egress act on. cls_bpf programs return the same numbers (issue 16).
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
export const { TC_ACT_UNSPEC, TC_ACT_OK, TC_ACT_SHOT, TC_ACT_STOLEN, TC_ACT_REDIRECT } = TC_ACT;

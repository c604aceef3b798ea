// struct __sk_buff access for tc (SCHED_CLS/ACT) and socket filters: the kernel's
// tc_cls_act_is_valid_access and sk_filter_is_valid_access (net/core/filter.c).
import { invalid, type CtxAccess } from './ctx-access.ts';
import { ptrReg, scalarReg, type Reg } from './reg-state.ts';
import { unknownOfSize } from './scalar.ts';

// struct __sk_buff offsets.
const SKB = {
  mark: 8, queue_mapping: 12, priority: 32, tc_index: 44, cb0: 48, cb_end: 68, tc_classid: 72,
  data: 76, data_end: 80, family: 88, local_port: 136, data_meta: 140, flow_keys: 144, tstamp: 152, end: 192,
} as const;

export function skbAccess(a: CtxAccess, tc: boolean): Reg {
  const { off, size } = a;
  if (off < 0 || off + size > SKB.end || off % size !== 0 || a.signed) return invalid(a);
  if (off === SKB.data || off === SKB.data_end || off === SKB.data_meta) {
    if (!tc || a.write || size !== 4 || (off === SKB.data_meta && !tc)) return invalid(a);
    return ptrReg(off === SKB.data ? 'pkt' : off === SKB.data_end ? 'pkt_end' : 'pkt_meta');
  }
  if (off >= SKB.family && off < SKB.local_port + 4) return invalid(a); // socket fields: not for skb filters
  // sk_filter_is_valid_access: socket filters never see tc_classid nor tstamp.
  if (!tc && ((off >= SKB.tc_classid && off < SKB.tc_classid + 4) || (off >= SKB.tstamp && off < SKB.tstamp + 8))) return invalid(a);
  if (off >= SKB.flow_keys) {
    if (off === SKB.tstamp && size === 8) return scalarReg(unknownOfSize(8));
    return invalid(a);
  }
  // cb[0..4]: any aligned size inside the array, 8-byte loads and stores included.
  if (off >= SKB.cb0 && off < SKB.cb_end) {
    if (off + size > SKB.cb_end) return invalid(a);
    return scalarReg(unknownOfSize(size));
  }
  if (size > 4) return invalid(a);
  if (a.write) {
    const inCb = off >= SKB.cb0 && off < SKB.cb_end;
    const tcField = off === SKB.mark || off === SKB.priority || off === SKB.tc_index || off === SKB.tc_classid || off === SKB.queue_mapping;
    if (!(inCb || (tc && tcField)) || size !== 4 && !inCb) return invalid(a);
    return scalarReg(unknownOfSize(size));
  }
  return scalarReg(unknownOfSize(size));
}


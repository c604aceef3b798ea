// struct __sk_buff access for tc (SCHED_CLS/ACT) and socket filters: the kernel's
// tc_cls_act_is_valid_access and sk_filter_is_valid_access, each ending in bpf_skb_is_valid_access
// (net/core/filter.c). Every access accepted here has a run-time rewrite in prog/skb-ctx.ts.
import { SK_BUFF, SK_BUFF_CB_SIZE, SK_BUFF_SIZE } from '../prog/bpf-sock.ts';
import { invalid, type CtxAccess } from './ctx-access.ts';
import { ptrReg, scalarReg, type Reg } from './reg-state.ts';
import { unknownOfSize, unknownSigned } from './scalar.ts';

/** bpf_ctx_range(struct __sk_buff, field): the bytes [off, off + width) of a field. */
const inRange = (off: number, start: number, width: number): boolean => off >= start && off < start + width;
const CB_END = SK_BUFF.cb + SK_BUFF_CB_SIZE;
/** struct bpf_flow_keys *flow_keys: a __bpf_md_ptr, 8 bytes. */
const FLOW_KEYS_SIZE = 8;
/** The socket fields family..local_port: tc and socket filters have no full socket to read them from. */
const SOCK_FIELDS_END = SK_BUFF.local_port + 4;

/** tc_cls_act_is_valid_access's writable fields. */
function tcWritable(off: number): boolean {
  return inRange(off, SK_BUFF.mark, 4) || inRange(off, SK_BUFF.tc_index, 4) || inRange(off, SK_BUFF.priority, 4) ||
    inRange(off, SK_BUFF.tc_classid, 4) || inRange(off, SK_BUFF.cb, SK_BUFF_CB_SIZE) || inRange(off, SK_BUFF.tstamp, 8) ||
    inRange(off, SK_BUFF.queue_mapping, 4);
}

/** bpf_skb_is_valid_access: the rules every __sk_buff context shares. */
function skbIsValidAccess(a: CtxAccess): Reg {
  const { off, size, write } = a;
  if (off < 0 || off >= SK_BUFF_SIZE || off % size !== 0) return invalid(a);
  if (inRange(off, SK_BUFF.cb, SK_BUFF_CB_SIZE)) {
    if (off + size > CB_END) return invalid(a);
    return scalarReg(unknownOfSize(size));
  }
  if (inRange(off, SK_BUFF.remote_ip4, 4) || inRange(off, SK_BUFF.local_ip4, 4) || inRange(off, SK_BUFF.remote_ip6, 16) ||
      inRange(off, SK_BUFF.local_ip6, 16)) {
    return size !== 4 ? invalid(a) : scalarReg(unknownOfSize(4));
  }
  if (inRange(off, SK_BUFF.data, 4) || inRange(off, SK_BUFF.data_end, 4) || inRange(off, SK_BUFF.data_meta, 4)) {
    if (size !== 4) return invalid(a);
    return ptrReg(off === SK_BUFF.data ? 'pkt' : off === SK_BUFF.data_end ? 'pkt_end' : 'pkt_meta');
  }
  if (inRange(off, SK_BUFF.flow_keys, FLOW_KEYS_SIZE)) return invalid(a);
  if (inRange(off, SK_BUFF.hwtstamp, 8)) return write || size !== 8 ? invalid(a) : scalarReg(unknownOfSize(8));
  if (inRange(off, SK_BUFF.tstamp, 8)) return size !== 8 ? invalid(a) : scalarReg(unknownOfSize(8));
  if (off === SK_BUFF.sk) {
    if (write || size !== 8) return invalid(a);
    // PTR_TO_SOCK_COMMON_OR_NULL: each load is a pointer of its own, to be NULL-checked.
    return ptrReg('sock_common_or_null', { id: a.newId() });
  }
  // tstamp_type (read only through tc's own rule) and the padding after it up to hwtstamp.
  if (off >= SK_BUFF.tstamp_type && off < SK_BUFF.hwtstamp) return invalid(a);
  // The upper half of the sk pointer: the kernel accepts it here as a u32 field but then has no
  // rewrite for it and fails with "bpf verifier is misconfigured"; vxo refuses it here.
  if (inRange(off, SK_BUFF.sk, 8)) return invalid(a);
  // Only narrow reads, and whole-u32 writes, of the remaining u32 fields.
  if (size > 4) return invalid(a);
  if (write && size !== 4) return invalid(a);
  return scalarReg(unknownOfSize(size));
}

/** tc_cls_act_is_valid_access. */
function tcClsActIsValidAccess(a: CtxAccess): Reg {
  if (a.write && !tcWritable(a.off)) return invalid(a);
  if (a.off >= SK_BUFF.family && a.off < SOCK_FIELDS_END) return invalid(a);
  // tstamp_type: a byte, read only (writes were refused above).
  if (a.off === SK_BUFF.tstamp_type) return a.size === 1 ? scalarReg(unknownOfSize(1)) : invalid(a);
  return skbIsValidAccess(a);
}

/** sk_filter_is_valid_access: no packet pointers, no tc fields, no time stamps; only cb is writable. */
function skFilterIsValidAccess(a: CtxAccess): Reg {
  const off = a.off;
  if (inRange(off, SK_BUFF.tc_classid, 4) || inRange(off, SK_BUFF.data, 4) || inRange(off, SK_BUFF.data_meta, 4) ||
      inRange(off, SK_BUFF.data_end, 4) || (off >= SK_BUFF.family && off < SOCK_FIELDS_END) || inRange(off, SK_BUFF.tstamp, 8) ||
      inRange(off, SK_BUFF.wire_len, 4) || inRange(off, SK_BUFF.hwtstamp, 8)) {
    return invalid(a);
  }
  if (a.write && !inRange(off, SK_BUFF.cb, SK_BUFF_CB_SIZE)) return invalid(a);
  return skbIsValidAccess(a);
}

/** The register a __sk_buff load yields, or the kernel's rejection. `tc`: SCHED_CLS/ACT, else a socket filter. */
export function skbAccess(a: CtxAccess, tc: boolean): Reg {
  if (a.size < 1) return invalid(a);
  const r = tc ? tcClsActIsValidAccess(a) : skFilterIsValidAccess(a);
  if (!a.signed) return r;
  // A sign-extending load (BPF_MEMSX) of a scalar field: the field's value, then a movsx.
  // vxo refuses one of a pointer field (data, data_end, data_meta, sk).
  return r.type === 'scalar' ? scalarReg(unknownSigned(a.size)) : invalid(a);
}

// Context access rules per program type (the kernel's *_is_valid_access): which offsets and sizes a
// program may load from or store to its context, and what a load yields (packet pointers for
// data/data_end/data_meta). XDP follows vxo's runtime exactly: aligned 4-byte loads of the six
// xdp_md fields, nothing else (the kernel also allows narrow loads of some fields; vxo's engines
// do not implement them, so accepting them would let a verified program fault).
import { BPF_PROG_TYPE } from '../prog/types.ts';
import { XDP_MD } from '../prog/xdp.ts';
import { reject } from './env-types.ts';
import { ptrReg, scalarReg, type Reg } from './reg-state.ts';
import { unknownOfSize } from './scalar.ts';

export interface CtxAccess {
  off: number;
  size: number;
  write: boolean;
  signed: boolean;
}

const invalid = (a: CtxAccess): never => reject(`invalid bpf_context access off=${a.off} size=${a.size}`);

function xdpAccess(a: CtxAccess): Reg {
  // egress_ifindex exists only for programs attached to a device map entry.
  if (a.write || a.signed || a.size !== 4 || a.off < 0 || a.off >= XDP_MD.egress_ifindex || a.off % 4 !== 0) return invalid(a);
  switch (a.off) {
    case XDP_MD.data: return ptrReg('pkt');
    case XDP_MD.data_end: return ptrReg('pkt_end');
    case XDP_MD.data_meta: return ptrReg('pkt_meta');
    default: return scalarReg(unknownOfSize(4));
  }
}

// struct __sk_buff offsets.
const SKB = {
  mark: 8, queue_mapping: 12, priority: 32, tc_index: 44, cb0: 48, cb_end: 68, tc_classid: 72,
  data: 76, data_end: 80, family: 88, local_port: 136, data_meta: 140, flow_keys: 144, tstamp: 152, end: 192,
} as const;

function skbAccess(a: CtxAccess, tc: boolean): Reg {
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

/** The register a context load yields, or the kernel's rejection. */
export function ctxAccess(progType: number, a: CtxAccess): Reg {
  switch (progType) {
    case BPF_PROG_TYPE.BPF_PROG_TYPE_XDP: return xdpAccess(a);
    case BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS:
    case BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_ACT: return skbAccess(a, true);
    case BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER: return skbAccess(a, false);
    default: return invalid(a);
  }
}

/** Program types whose programs may read and write packet data directly. */
export function mayAccessPacket(progType: number, write: boolean): boolean {
  switch (progType) {
    case BPF_PROG_TYPE.BPF_PROG_TYPE_XDP:
    case BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS:
    case BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_ACT: return true;
    default: return false;
  }
}

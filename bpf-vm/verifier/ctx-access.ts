// Context access rules per program type (the kernel's *_is_valid_access): which offsets and sizes a
// program may load from or store to its context, and what a load yields (packet pointers for
// data/data_end/data_meta, a nullable socket for __sk_buff's sk). XDP: aligned 4-byte loads of the
// xdp_md fields a plain XDP program has (__is_valid_xdp_access wants size 4 for every field).
// __sk_buff (ctx-skb.ts) has the kernel's rules whole, narrow loads and stores included:
// prog/skb-ctx.ts answers every access they accept.
import { BPF_PROG_TYPE } from '../prog/types.ts';
import { skbAccess } from './ctx-skb.ts';
import { skLookupAccess } from './ctx-sk-lookup.ts';
import { XDP_MD } from '../prog/xdp.ts';
import { reject } from './env-types.ts';
import { ptrReg, scalarReg, type Reg } from './reg-state.ts';
import { unknownOfSize } from './scalar.ts';

export interface CtxAccess {
  off: number;
  size: number;
  write: boolean;
  signed: boolean;
  /** A fresh id, for a nullable pointer a load yields (skb->sk, bpf_sk_lookup's sk). */
  newId: () => number;
}

export const invalid = (a: CtxAccess): never => reject(`invalid bpf_context access off=${a.off} size=${a.size}`);

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

/** The register a context load yields, or the kernel's rejection. */
export function ctxAccess(progType: number, a: CtxAccess): Reg {
  switch (progType) {
    case BPF_PROG_TYPE.BPF_PROG_TYPE_XDP: return xdpAccess(a);
    case BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS:
    case BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_ACT: return skbAccess(a, true);
    case BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER: return skbAccess(a, false);
    case BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP: return skLookupAccess(a);
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

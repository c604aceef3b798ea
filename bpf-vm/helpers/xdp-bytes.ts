// bpf_xdp_load_bytes / bpf_xdp_store_bytes (net/core/filter.c, since Linux 5.18): copy between the
// XDP frame and program memory at an offset from xdp->data. The checks are bpf_xdp_pointer's:
// an offset or a length above 0xffff is -EFAULT, a range past the frame's end -EINVAL. vxo frames
// are linear (no multi-buffer frags), so the whole frame is data..data_end. A failed load leaves the
// buffer as it was, as the kernel does (skb_load_bytes clears it; the XDP helper does not).
import { ERRNO } from '../errno.ts';
import type { ExecEnv } from '../interp/env.ts';
import type { XdpBuff } from '../prog/xdp.ts';
import { ARG, RET, type HelperProto } from './proto.ts';

/** enum bpf_func_id: FN(xdp_load_bytes, 189), FN(xdp_store_bytes, 190). */
export const BPF_FUNC_xdp_load_bytes = 189;
export const BPF_FUNC_xdp_store_bytes = 190;

function xdpOf(env: ExecEnv, helper: string): XdpBuff {
  const x = env.xdp;
  if (x === undefined) throw env.fault(`${helper} called without an XDP context`);
  return x;
}

/** bpf_xdp_pointer's checks: 0, or the negative errno. Offset and length are the u32 arguments. */
function xdpRangeCheck(x: XdpBuff, offset: number, len: number): number {
  if (offset > 0xffff || len > 0xffff) return -ERRNO.EFAULT;
  if (offset + len > x.dataEnd - x.data) return -ERRNO.EINVAL;
  return 0;
}

export const xdpLoadBytes: HelperProto = {
  id: BPF_FUNC_xdp_load_bytes,
  name: 'xdp_load_bytes',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_ANYTHING, ARG.ARG_PTR_TO_UNINIT_MEM, ARG.ARG_CONST_SIZE],
  ret: RET.RET_INTEGER,
  impl(env) {
    const R = env.R;
    const x = xdpOf(env, 'bpf_xdp_load_bytes');
    const offset = R[4]! >>> 0;
    const len = R[8]! >>> 0;
    const dst = env.resolveMem(R[6]!, R[7]!, len, true, 'bpf_xdp_load_bytes buf');
    const err = xdpRangeCheck(x, offset, len);
    if (err !== 0) { env.setR0Int(err); return; }
    const from = x.data + offset;
    dst.u8.set(x.buffer.subarray(from, from + len), env.addr);
    env.setR0Int(0);
  },
};

export const xdpStoreBytes: HelperProto = {
  id: BPF_FUNC_xdp_store_bytes,
  name: 'xdp_store_bytes',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_ANYTHING, ARG.ARG_PTR_TO_MEM, ARG.ARG_CONST_SIZE],
  ret: RET.RET_INTEGER,
  impl(env) {
    const R = env.R;
    const x = xdpOf(env, 'bpf_xdp_store_bytes');
    const offset = R[4]! >>> 0;
    const len = R[8]! >>> 0;
    const src = env.resolveMem(R[6]!, R[7]!, len, false, 'bpf_xdp_store_bytes buf');
    const err = xdpRangeCheck(x, offset, len);
    if (err !== 0) { env.setR0Int(err); return; }
    // TypedArray.set copies as if through a temporary when both views share a buffer.
    x.buffer.set(src.u8.subarray(env.addr, env.addr + len), x.data + offset);
    env.setR0Int(0);
  },
};

// Checksum helpers. csum_diff computes csum_partial over ~from || to, seeded, as a 32-bit
// ones'-complement sum of little-endian words (what x86's csum_partial returns).
import { ERRNO } from '../errno.ts';
import { ARG, RET, type HelperProto } from './proto.ts';
import { BPF_FUNC } from './ids.ts';

const TWO32 = 4294967296;
/** sizeof(((struct bpf_scratchpad *)0)->diff): the most csum_diff looks at. */
const CSUM_DIFF_MAX = 512;

function fold32(s: number): number {
  while (s >= TWO32) s = (s % TWO32) + Math.floor(s / TWO32);
  return s;
}

function sumWords(u8: Uint8Array, off: number, len: number, invert: boolean): number {
  let s = 0;
  for (let i = 0; i < len; i += 4) {
    const w = (u8[off + i]! | (u8[off + i + 1]! << 8) | (u8[off + i + 2]! << 16) | (u8[off + i + 3]! << 24)) >>> 0;
    s += invert ? (~w >>> 0) : w;
  }
  return s;
}

export const csumDiff: HelperProto = {
  id: BPF_FUNC.csum_diff,
  name: 'csum_diff',
  args: [ARG.ARG_PTR_TO_MEM_OR_NULL, ARG.ARG_CONST_SIZE_OR_ZERO, ARG.ARG_PTR_TO_MEM_OR_NULL, ARG.ARG_CONST_SIZE_OR_ZERO, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env) {
    const R = env.R;
    const fromSize = R[4]! >>> 0, toSize = R[8]! >>> 0;
    if (R[5] !== 0 || R[9] !== 0 || ((fromSize | toSize) & 3) !== 0 || fromSize + toSize > CSUM_DIFF_MAX) {
      env.setR0Int(-ERRNO.EINVAL);
      return;
    }
    let s = R[10]! >>> 0;
    if (fromSize > 0) {
      const r = env.resolveMem(R[2]!, R[3]!, fromSize, false, 'bpf_csum_diff from');
      s += sumWords(r.u8, env.addr, fromSize, true);
    }
    if (toSize > 0) {
      const r = env.resolveMem(R[6]!, R[7]!, toSize, false, 'bpf_csum_diff to');
      s += sumWords(r.u8, env.addr, toSize, false);
    }
    env.setR0(fold32(s) | 0, 0);
  },
};

/**
 * bpf_csum_update adds to skb->csum when the skb carries CHECKSUM_COMPLETE. vxo has no skb program
 * contexts with a full checksum, so it answers as the kernel does for every other skb: -ENOTSUPP.
 */
export const csumUpdate: HelperProto = {
  id: BPF_FUNC.csum_update,
  name: 'csum_update',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env) {
    env.setR0Int(-ERRNO.ENOTSUPP);
  },
};

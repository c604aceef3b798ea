// BPF_LD | BPF_ABS / BPF_IND (classic BPF's packet loads): big-endian bytes at an offset from the
// start of packet data; an offset outside the packet ends the program with r0 = 0. For skb
// programs (tc, socket filters) these are the kernel's bpf_skb_load_helper_{8,16,32}: offsets count
// from skb->data, and the negative offsets SKF_NET_OFF and SKF_LL_OFF reach the network and link
// headers wherever skb->data is (bpf_internal_load_pointer_neg_helper).
import { RuntimeFault } from '../errors.ts';
import type { ExecEnv } from './env.ts';
import { REGION_ID } from './regions.ts';

/** include/uapi/linux/filter.h: the classic extension and header bases of negative offsets. */
export const SKF_AD_OFF = -0x1000;
export const SKF_NET_OFF = -0x100000;
export const SKF_LL_OFF = -0x200000;

/** The loaded value as an int32 bit pattern, or undefined when the bytes are outside the packet. */
export function legacyPacketLoad(env: ExecEnv, pc: number, size: 1 | 2 | 4, offset: number): number | undefined {
  const g = env.regions[REGION_ID.PACKET];
  if (g === undefined) throw new RuntimeFault(pc, 'legacy packet load without a packet');
  if (env.xdp === undefined && env.skb !== undefined) return skbLoad(env, g.dv, size, offset | 0);
  // Offsets count from the start of packet data, not from the metadata before it.
  const base = env.xdp ? env.xdp.data : g.lo;
  const a = base + offset;
  if (offset < 0 || a + size > g.hi) return undefined;
  return size === 1 ? g.u8[a]! : size === 2 ? g.dv.getUint16(a, false) : g.dv.getInt32(a, false);
}

function skbLoad(env: ExecEnv, dv: DataView, size: 1 | 2 | 4, offset: number): number | undefined {
  const skb = env.skb!;
  let a: number;
  if (offset >= 0) {
    // headlen - offset >= len: vxo's skbs are linear, so the whole packet is the head.
    if (skb.len - offset < size) return undefined;
    a = skb.data + offset;
  } else {
    if (offset >= SKF_NET_OFF) a = skb.network_header + offset - SKF_NET_OFF;
    else if (offset >= SKF_LL_OFF) {
      if (skb.mac_header < 0) return undefined;
      a = skb.mac_header + offset - SKF_LL_OFF;
    } else return undefined;
    // The header pointer may reach anywhere between skb->head and the tail.
    if (a < 0 || a + size > skb.tail) return undefined;
  }
  return size === 1 ? dv.getUint8(a) : size === 2 ? dv.getUint16(a, false) : dv.getInt32(a, false);
}

export const legacySize = (code: number): 1 | 2 | 4 => ((code & 0x18) === 0x10 ? 1 : (code & 0x18) === 0x08 ? 2 : 4);

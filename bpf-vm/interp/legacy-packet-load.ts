// BPF_LD | BPF_ABS / BPF_IND (classic BPF's packet loads): big-endian bytes at an offset from the
// start of packet data; an offset outside the packet ends the program with r0 = 0.
import { RuntimeFault } from '../errors.ts';
import type { ExecEnv } from './env.ts';
import { REGION_ID } from './regions.ts';

/** The loaded value as an int32 bit pattern, or undefined when the bytes are outside the packet. */
export function legacyPacketLoad(env: ExecEnv, pc: number, size: 1 | 2 | 4, offset: number): number | undefined {
  const g = env.regions[REGION_ID.PACKET];
  if (g === undefined) throw new RuntimeFault(pc, 'legacy packet load without a packet');
  // Offsets count from the start of packet data, not from the metadata before it.
  const base = env.xdp ? env.xdp.data : g.lo;
  const a = base + offset;
  if (offset < 0 || a + size > g.hi) return undefined;
  return size === 1 ? g.u8[a]! : size === 2 ? g.dv.getUint16(a, false) : g.dv.getInt32(a, false);
}

export const legacySize = (code: number): 1 | 2 | 4 => ((code & 0x18) === 0x10 ? 1 : (code & 0x18) === 0x08 ? 2 : 4);

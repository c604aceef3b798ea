// The flow hash tun_select_queue steers by (__skb_get_hash_symmetric): dissect the frame's
// Ethernet, one optional 802.1Q tag, IPv4 or IPv6, and the L4 ports of TCP/UDP/UDP-Lite/SCTP/DCCP;
// order the addresses and the ports so that both directions of a flow hash alike
// (__flow_hash_consistentify); then jhash2 the key words with a per-boot random seed
// (__flow_hash_from_keys; a zero hash becomes 1). The key words are the kernel's fields in our
// own order, so the values differ from a kernel's, as they do between two boots of one.
import { jhash2 } from '../bpf-vm/index.ts';

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_8021Q = 0x8100;
const ETH_P_8021AD = 0x88a8;
/** By IP protocol: 1 where the first four L4 bytes are the ports (TCP, UDP, DCCP, SCTP, UDP-Lite). A table, not a Set: it is read per packet. */
const PORTS_AT_L4 = new Uint8Array(256);
for (const p of [6, 17, 33, 132, 136]) PORTS_AT_L4[p] = 1;
const IP_MF_OFFSET = 0x3fff;

export class FlowDissector {
  /** basic (n_proto, ip_proto), ports, then up to 8 address words. */
  private readonly keys = new Int32Array(10);

  constructor(readonly hashrnd: number = randomSeed()) {}

  /** The symmetric flow hash of the `len`-byte Ethernet frame at `u8[off]`; never 0. */
  hashSymmetric(u8: Uint8Array, off: number, len: number): number {
    const keys = this.keys;
    if (len < 14) return this.finish(0, 0, 0);
    let proto = (u8[off + 12]! << 8) | u8[off + 13]!;
    let l3 = off + 14;
    const end = off + len;
    if ((proto === ETH_P_8021Q || proto === ETH_P_8021AD) && l3 + 4 <= end) {
      proto = (u8[l3 + 2]! << 8) | u8[l3 + 3]!;
      l3 += 4;
    }
    let ipProto = 0, l4 = -1, nAddr = 0;
    if (proto === ETH_P_IP && l3 + 20 <= end && u8[l3]! >> 4 === 4) {
      const ihl = (u8[l3]! & 15) * 4;
      ipProto = u8[l3 + 9]!;
      const s = readBe32(u8, l3 + 12), d = readBe32(u8, l3 + 16);
      // __flow_hash_consistentify: the smaller address first (compared unsigned).
      if (s >>> 0 <= d >>> 0) { keys[2] = s; keys[3] = d; } else { keys[2] = d; keys[3] = s; }
      nAddr = 2;
      const frag = ((u8[l3 + 6]! << 8) | u8[l3 + 7]!) & IP_MF_OFFSET;
      if (frag === 0 && ihl >= 20) l4 = l3 + ihl;
    } else if (proto === ETH_P_IPV6 && l3 + 40 <= end) {
      ipProto = u8[l3 + 6]!;
      const first = compare16(u8, l3 + 8, l3 + 24) <= 0;
      const a = first ? l3 + 8 : l3 + 24, b = first ? l3 + 24 : l3 + 8;
      for (let i = 0; i < 4; i++) {
        keys[2 + i] = readBe32(u8, a + 4 * i);
        keys[6 + i] = readBe32(u8, b + 4 * i);
      }
      nAddr = 8;
      l4 = l3 + 40;
    }
    let ports = 0;
    if (l4 >= 0 && PORTS_AT_L4[ipProto] === 1 && l4 + 4 <= end) {
      const sp = (u8[l4]! << 8) | u8[l4 + 1]!, dp = (u8[l4 + 2]! << 8) | u8[l4 + 3]!;
      ports = sp <= dp ? (sp << 16) | dp : (dp << 16) | sp;
    }
    return this.finish(proto | (ipProto << 16), ports, nAddr);
  }

  private finish(basic: number, ports: number, nAddr: number): number {
    const keys = this.keys;
    keys[0] = basic;
    keys[1] = ports;
    const h = jhash2(keys, 0, 2 + nAddr, this.hashrnd);
    return h === 0 ? 1 : h;
  }
}

/** reciprocal_scale: maps a 32-bit hash onto [0, n) without a division. */
export function reciprocal_scale(hash: number, n: number): number {
  return Math.floor(((hash >>> 0) * n) / 4294967296);
}

function readBe32(u8: Uint8Array, i: number): number {
  return (u8[i]! << 24) | (u8[i + 1]! << 16) | (u8[i + 2]! << 8) | u8[i + 3]!;
}

function compare16(u8: Uint8Array, a: number, b: number): number {
  for (let i = 0; i < 16; i++) {
    const d = u8[a + i]! - u8[b + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function randomSeed(): number {
  return crypto.getRandomValues(new Int32Array(1))[0]!;
}

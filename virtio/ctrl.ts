// The control virtqueue's command format (virtio 1.x 5.1.6.5, virtio_net.h):
//   device-readable:  u8 class; u8 command; command-specific data...
//   device-writable:  u8 ack (VIRTIO_NET_OK / VIRTIO_NET_ERR); then, in newer specs, a
//                     command-specific result (e.g. VIRTIO_NET_CTRL_STATS_GET)
// The readable part may be split over any number of descriptors (Linux sends the header and the
// data in separate ones); the parser gathers it into one copy, so a guest that rewrites the
// buffer while the device works cannot change the command under it. The EBPF class payloads of
// the offload RFC come with the next issue.
import { VirtioError } from './errors.ts';
import { type GuestMemory, hex } from './guest-memory.ts';

export const VIRTIO_NET_CTRL = {
  VIRTIO_NET_CTRL_RX: 0,
  VIRTIO_NET_CTRL_MAC: 1,
  VIRTIO_NET_CTRL_VLAN: 2,
  VIRTIO_NET_CTRL_ANNOUNCE: 3,
  VIRTIO_NET_CTRL_MQ: 4,
  VIRTIO_NET_CTRL_GUEST_OFFLOADS: 5,
  VIRTIO_NET_CTRL_NOTF_COAL: 6,
  VIRTIO_NET_CTRL_HASH_TUNNEL: 7,
  VIRTIO_NET_CTRL_STATS: 8,
} as const;

/**
 * The offload RFC's class for eBPF map and program commands. It predates the standard
 * VIRTIO_NET_CTRL_NOTF_COAL, which took the same number 6: the two cannot both be offered by one
 * device, so the emulated device dispatches class 6 to EBPF (as the RFC's QEMU did) and does not
 * implement notification coalescing. Kept as its own name so the clash stays visible.
 */
export const VIRTIO_NET_CTRL_EBPF = 6;

export const VIRTIO_NET_ACK = {
  VIRTIO_NET_OK: 0,
  VIRTIO_NET_ERR: 1,
} as const;

export const VIRTIO_NET_CTRL_RX_CMD = {
  VIRTIO_NET_CTRL_RX_PROMISC: 0,
  VIRTIO_NET_CTRL_RX_ALLMULTI: 1,
  VIRTIO_NET_CTRL_RX_ALLUNI: 2,
  VIRTIO_NET_CTRL_RX_NOMULTI: 3,
  VIRTIO_NET_CTRL_RX_NOUNI: 4,
  VIRTIO_NET_CTRL_RX_NOBCAST: 5,
} as const;

export const VIRTIO_NET_CTRL_MAC_CMD = {
  VIRTIO_NET_CTRL_MAC_TABLE_SET: 0,
  VIRTIO_NET_CTRL_MAC_ADDR_SET: 1,
} as const;

export const VIRTIO_NET_CTRL_VLAN_CMD = {
  VIRTIO_NET_CTRL_VLAN_ADD: 0,
  VIRTIO_NET_CTRL_VLAN_DEL: 1,
} as const;

export const VIRTIO_NET_CTRL_ANNOUNCE_CMD = {
  VIRTIO_NET_CTRL_ANNOUNCE_ACK: 0,
} as const;

export const VIRTIO_NET_CTRL_MQ_CMD = {
  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET: 0,
  VIRTIO_NET_CTRL_MQ_RSS_CONFIG: 1,
  VIRTIO_NET_CTRL_MQ_HASH_CONFIG: 2,
  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN: 1,
  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX: 0x8000,
} as const;

export const VIRTIO_NET_CTRL_GUEST_OFFLOADS_CMD = {
  VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET: 0,
} as const;

export const VIRTIO_NET_CTRL_NOTF_COAL_CMD = {
  VIRTIO_NET_CTRL_NOTF_COAL_TX_SET: 0,
  VIRTIO_NET_CTRL_NOTF_COAL_RX_SET: 1,
  VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET: 2,
  VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET: 3,
} as const;

export const VIRTIO_NET_CTRL_STATS_CMD = {
  VIRTIO_NET_CTRL_STATS_QUERY: 0,
  VIRTIO_NET_CTRL_STATS_GET: 1,
} as const;

/** The segments of a popped chain (a DescChain fits; so does anything shaped like one). */
export interface ChainLike {
  count: number;
  addr: ArrayLike<number>;
  len: ArrayLike<number>;
  writable: ArrayLike<number>;
}

export interface CtrlSeg {
  addr: number;
  len: number;
}

/** A command as the device parsed it. */
export interface CtrlCommand {
  cls: number;
  cmd: number;
  /** A copy of the readable bytes after the 2-byte header. */
  data: Uint8Array;
  /** Where the ack byte goes: the first device-writable byte. */
  ackAddr: number;
  /** The device-writable space after the ack (the command-specific result buffer). */
  result: CtrlSeg[];
  resultCapacity: number;
}

/**
 * Parses a popped control chain. Returns a VirtioError value, never throws, for a chain that is
 * not a command: fewer than 2 readable bytes (CTRL_NO_HEADER), no writable byte for the ack
 * (CTRL_NO_ACK), or segments out of order or outside guest memory (EPROTO / EFAULT).
 */
export function parseCtrlCommand(mem: GuestMemory, chain: ChainLike): CtrlCommand | VirtioError {
  const n = chain.count;
  if (!(Number.isInteger(n) && n >= 0 && n <= chain.addr.length && n <= chain.len.length && n <= chain.writable.length)) {
    return new VirtioError('EPROTO', `control chain: ${String(n)} segments is not a valid count`);
  }
  let readable = 0;
  let readBytes = 0;
  for (let i = 0; i < n; i++) {
    const a = chain.addr[i]!;
    const l = chain.len[i]!;
    if (!mem.contains(a, l)) return new VirtioError('EFAULT', `control chain: segment ${i} [0x${hex(a)}, +${l}) outside guest memory`);
    if (chain.writable[i] === 0) {
      if (readable !== i) return new VirtioError('EPROTO', `control chain: readable segment ${i} after a writable one`);
      readable++;
      readBytes += l;
    }
  }
  if (readBytes < 2) return new VirtioError('CTRL_NO_HEADER', `control chain: ${readBytes} readable byte(s), the class/command header needs 2`);
  // Gather the readable bytes into one copy.
  const all = new Uint8Array(readBytes);
  let off = 0;
  for (let i = 0; i < readable; i++) {
    const a = chain.addr[i]!;
    const l = chain.len[i]!;
    all.set(mem.u8.subarray(a, a + l), off);
    off += l;
  }
  let ackAddr = -1;
  const result: CtrlSeg[] = [];
  let resultCapacity = 0;
  for (let i = readable; i < n; i++) {
    let a = chain.addr[i]!;
    let l = chain.len[i]!;
    if (ackAddr < 0 && l > 0) {
      ackAddr = a;
      a++;
      l--;
    }
    if (ackAddr >= 0 && l > 0) {
      result.push({ addr: a, len: l });
      resultCapacity += l;
    }
  }
  if (ackAddr < 0) return new VirtioError('CTRL_NO_ACK', `control chain (class ${all[0]}, command ${all[1]}): no device-writable byte for the ack`);
  return { cls: all[0]!, cmd: all[1]!, data: all.subarray(2), ackAddr, result, resultCapacity };
}

/**
 * Completes a command: scatters `result` (if any) into the result buffer, then writes the ack.
 * Returns the used length (1 + result bytes), or ENOSPC when the guest's result buffer is too
 * small (the ack is then VIRTIO_NET_ERR and the used length 1).
 */
export function completeCtrlCommand(mem: GuestMemory, c: CtrlCommand, ack: number, result?: Uint8Array): number | VirtioError {
  const r = result ?? new Uint8Array(0);
  if (r.length > c.resultCapacity) {
    mem.u8[c.ackAddr] = VIRTIO_NET_ACK.VIRTIO_NET_ERR;
    return new VirtioError('ENOSPC', `control command ${c.cls}/${c.cmd}: ${r.length}-byte result, the guest gave ${c.resultCapacity}`);
  }
  let off = 0;
  for (const s of c.result) {
    if (off >= r.length) break;
    const k = Math.min(s.len, r.length - off);
    mem.u8.set(r.subarray(off, off + k), s.addr);
    off += k;
  }
  mem.u8[c.ackAddr] = ack & 0xff;
  return 1 + r.length;
}

/** A command laid out by the driver in one guest buffer, ready for DriverQueue.add(out, in). */
export interface CtrlRequest {
  out: CtrlSeg[];
  in: CtrlSeg[];
  ackAddr: number;
  resultAddr: number;
  resultLen: number;
}

/** Bytes buildCtrlCommand needs for `dataLen` bytes of data and a `resultLen`-byte result. */
export function ctrlCommandBytes(dataLen: number, resultLen = 0): number {
  return 2 + dataLen + 1 + resultLen;
}

/**
 * Driver side (virtnet_send_command_reply): lays out [class, command][data][ack][result] at
 * `buf`, the header and the data in separate readable segments as Linux sends them. The ack is
 * preset to 0xff so a device that never answers is told apart from OK and ERR.
 */
export function buildCtrlCommand(
  mem: GuestMemory, buf: number, capacity: number, cls: number, cmd: number, data: Uint8Array, resultLen = 0,
): CtrlRequest {
  const need = ctrlCommandBytes(data.length, resultLen);
  if (need > capacity) throw new VirtioError('ENOSPC', `control command ${cls}/${cmd} needs ${need} bytes, the buffer has ${capacity}`);
  if (!(isU8(cls) && isU8(cmd))) throw new VirtioError('EINVAL', `control class ${cls} / command ${cmd} is not a u8`);
  mem.check(buf, need);
  mem.u8[buf] = cls;
  mem.u8[buf + 1] = cmd;
  mem.u8.set(data, buf + 2);
  const ackAddr = buf + 2 + data.length;
  mem.u8[ackAddr] = 0xff;
  mem.u8.fill(0, ackAddr + 1, ackAddr + 1 + resultLen);
  const out: CtrlSeg[] = [{ addr: buf, len: 2 }];
  if (data.length > 0) out.push({ addr: buf + 2, len: data.length });
  const inn: CtrlSeg[] = [{ addr: ackAddr, len: 1 }];
  if (resultLen > 0) inn.push({ addr: ackAddr + 1, len: resultLen });
  return { out, in: inn, ackAddr, resultAddr: ackAddr + 1, resultLen };
}

/** Driver side: the ack (0xff if the device never wrote it) and a copy of the result bytes it wrote. */
export function readCtrlReply(mem: GuestMemory, req: CtrlRequest, usedLen: number): { ack: number; result: Uint8Array } {
  const written = Math.max(0, Math.min(req.resultLen, usedLen - 1));
  return { ack: mem.readU8(req.ackAddr), result: mem.copyOut(req.resultAddr, written) };
}

function isU8(n: number): boolean { return Number.isInteger(n) && n >= 0 && n <= 0xff; }

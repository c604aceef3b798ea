// struct virtio_net_hdr_v1 (virtio_net.h), the header before every packet on rx and tx queues:
//   u8 flags; u8 gso_type; le16 hdr_len; le16 gso_size; le16 csum_start; le16 csum_offset;
//   le16 num_buffers
// 12 bytes with VERSION_1 or MRG_RXBUF; the legacy header without MRG_RXBUF stops before
// num_buffers (10 bytes). The codec reads and writes at a guest-physical address, filling a
// caller-owned object, so the packet path allocates nothing.
import { VirtioError } from './errors.ts';
import { type GuestMemory, hex } from './guest-memory.ts';
import type { FeatureSet } from './features.ts';
import { VIRTIO_F, VIRTIO_NET_F } from './features.ts';

export const VIRTIO_NET_HDR_F = {
  VIRTIO_NET_HDR_F_NEEDS_CSUM: 1,
  VIRTIO_NET_HDR_F_DATA_VALID: 2,
  VIRTIO_NET_HDR_F_RSC_INFO: 4,
} as const;

export const VIRTIO_NET_HDR_GSO = {
  VIRTIO_NET_HDR_GSO_NONE: 0,
  VIRTIO_NET_HDR_GSO_TCPV4: 1,
  VIRTIO_NET_HDR_GSO_UDP: 3,
  VIRTIO_NET_HDR_GSO_TCPV6: 4,
  VIRTIO_NET_HDR_GSO_UDP_L4: 5,
  VIRTIO_NET_HDR_GSO_ECN: 0x80,
} as const;

/** sizeof(struct virtio_net_hdr_v1) and sizeof(struct virtio_net_hdr) (legacy, no num_buffers). */
export const VIRTIO_NET_HDR_V1_SIZE = 12;
export const VIRTIO_NET_HDR_LEGACY_SIZE = 10;

export interface VirtioNetHdr {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
  /** Only in the 12-byte header; 1 when the packet fits one buffer. */
  numBuffers: number;
}

export function emptyNetHdr(): VirtioNetHdr {
  return { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0, numBuffers: 0 };
}

/** The header size the negotiated features imply (virtnet_probe's hdr_len choice). */
export function netHdrSize(f: FeatureSet): number {
  return f.has(VIRTIO_F.VIRTIO_F_VERSION_1) || f.has(VIRTIO_NET_F.VIRTIO_NET_F_MRG_RXBUF)
    ? VIRTIO_NET_HDR_V1_SIZE
    : VIRTIO_NET_HDR_LEGACY_SIZE;
}

function checkSize(size: number): void {
  if (size !== VIRTIO_NET_HDR_V1_SIZE && size !== VIRTIO_NET_HDR_LEGACY_SIZE) {
    throw new VirtioError('EINVAL', `virtio_net_hdr size ${size} is neither 12 nor 10`);
  }
}

/** Reads the header at `gpa` into `out` (returned). Throws EFAULT outside guest memory. */
export function readNetHdr(mem: GuestMemory, gpa: number, out: VirtioNetHdr, size = VIRTIO_NET_HDR_V1_SIZE): VirtioNetHdr {
  checkSize(size);
  mem.check(gpa, size);
  const v = mem.view;
  out.flags = v.getUint8(gpa);
  out.gsoType = v.getUint8(gpa + 1);
  out.hdrLen = v.getUint16(gpa + 2, true);
  out.gsoSize = v.getUint16(gpa + 4, true);
  out.csumStart = v.getUint16(gpa + 6, true);
  out.csumOffset = v.getUint16(gpa + 8, true);
  out.numBuffers = size === VIRTIO_NET_HDR_V1_SIZE ? v.getUint16(gpa + 10, true) : 0;
  return out;
}

/** Writes `h` at `gpa`. Throws EFAULT outside guest memory, EINVAL for a field out of its range. */
export function writeNetHdr(mem: GuestMemory, gpa: number, h: VirtioNetHdr, size = VIRTIO_NET_HDR_V1_SIZE): void {
  checkSize(size);
  mem.check(gpa, size);
  if (!(isU8(h.flags) && isU8(h.gsoType) && isU16(h.hdrLen) && isU16(h.gsoSize) && isU16(h.csumStart) && isU16(h.csumOffset) && isU16(h.numBuffers))) {
    throw new VirtioError('EINVAL', `virtio_net_hdr at 0x${hex(gpa)}: a field is out of range ${JSON.stringify(h)}`);
  }
  const v = mem.view;
  v.setUint8(gpa, h.flags);
  v.setUint8(gpa + 1, h.gsoType);
  v.setUint16(gpa + 2, h.hdrLen, true);
  v.setUint16(gpa + 4, h.gsoSize, true);
  v.setUint16(gpa + 6, h.csumStart, true);
  v.setUint16(gpa + 8, h.csumOffset, true);
  if (size === VIRTIO_NET_HDR_V1_SIZE) v.setUint16(gpa + 10, h.numBuffers, true);
}

/**
 * The common case on the packet path: no offloads, `numBuffers` buffers (1 without merging).
 * The caller has bounds-checked the buffer (a validated descriptor); this is plain stores.
 */
export function writePlainNetHdr(mem: GuestMemory, gpa: number, numBuffers = 1, size = VIRTIO_NET_HDR_V1_SIZE): void {
  const u8 = mem.u8;
  for (let i = 0; i < size; i++) u8[gpa + i] = 0;
  if (size === VIRTIO_NET_HDR_V1_SIZE) {
    u8[gpa + 10] = numBuffers & 0xff;
    u8[gpa + 11] = numBuffers >>> 8;
  }
}

/**
 * What a device or driver should refuse in a header it received: null when well formed, else
 * the reason. Checks reserved flag bits, the gso type, gso fields without GSO, the checksum
 * window against `packetLen` (bytes after the header), and num_buffers when merging.
 */
export function validateNetHdr(h: VirtioNetHdr, packetLen: number, mergeable = false): string | null {
  const F = VIRTIO_NET_HDR_F;
  const G = VIRTIO_NET_HDR_GSO;
  if ((h.flags & ~(F.VIRTIO_NET_HDR_F_NEEDS_CSUM | F.VIRTIO_NET_HDR_F_DATA_VALID | F.VIRTIO_NET_HDR_F_RSC_INFO)) !== 0) {
    return `unknown flags 0x${h.flags.toString(16)}`;
  }
  const gso = h.gsoType & ~G.VIRTIO_NET_HDR_GSO_ECN;
  const knownGso: number[] = [G.VIRTIO_NET_HDR_GSO_NONE, G.VIRTIO_NET_HDR_GSO_TCPV4, G.VIRTIO_NET_HDR_GSO_UDP, G.VIRTIO_NET_HDR_GSO_TCPV6, G.VIRTIO_NET_HDR_GSO_UDP_L4];
  if (!knownGso.includes(gso)) return `unknown gso_type ${h.gsoType}`;
  if (gso === G.VIRTIO_NET_HDR_GSO_NONE && (h.gsoType & G.VIRTIO_NET_HDR_GSO_ECN) !== 0) return 'ECN without GSO';
  if (gso !== G.VIRTIO_NET_HDR_GSO_NONE && h.gsoSize === 0) return 'GSO with gso_size 0';
  if ((h.flags & F.VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0 && h.csumStart + h.csumOffset + 2 > packetLen) {
    return `checksum at ${h.csumStart}+${h.csumOffset} beyond the ${packetLen}-byte packet`;
  }
  if (mergeable && h.numBuffers === 0) return 'num_buffers 0 with MRG_RXBUF';
  return null;
}

function isU8(n: number): boolean { return Number.isInteger(n) && n >= 0 && n <= 0xff; }
function isU16(n: number): boolean { return Number.isInteger(n) && n >= 0 && n <= 0xffff; }

// Feature bits (Linux include/uapi/linux/virtio_config.h, virtio_ring.h, virtio_net.h) as two
// u32 halves: bits 0..31 in `lo`, 32..63 in `hi`. Plain numbers on every path; BigInt appears only
// in toBigInt/fromBigInt for display and interop.
import { VirtioError } from './errors.ts';

/** Device-independent bits (virtio_config.h, virtio_ring.h). */
export const VIRTIO_F = {
  VIRTIO_F_NOTIFY_ON_EMPTY: 24,
  VIRTIO_F_ANY_LAYOUT: 27,
  VIRTIO_RING_F_INDIRECT_DESC: 28,
  VIRTIO_RING_F_EVENT_IDX: 29,
  VIRTIO_F_VERSION_1: 32,
  VIRTIO_F_ACCESS_PLATFORM: 33,
  VIRTIO_F_RING_PACKED: 34,
  VIRTIO_F_IN_ORDER: 35,
  VIRTIO_F_ORDER_PLATFORM: 36,
  VIRTIO_F_SR_IOV: 37,
  VIRTIO_F_NOTIFICATION_DATA: 38,
  VIRTIO_F_RING_RESET: 40,
} as const;

/** virtio-net bits (virtio_net.h). */
export const VIRTIO_NET_F = {
  VIRTIO_NET_F_CSUM: 0,
  VIRTIO_NET_F_GUEST_CSUM: 1,
  VIRTIO_NET_F_CTRL_GUEST_OFFLOADS: 2,
  VIRTIO_NET_F_MTU: 3,
  VIRTIO_NET_F_MAC: 5,
  VIRTIO_NET_F_GUEST_TSO4: 7,
  VIRTIO_NET_F_GUEST_TSO6: 8,
  VIRTIO_NET_F_GUEST_ECN: 9,
  VIRTIO_NET_F_GUEST_UFO: 10,
  VIRTIO_NET_F_HOST_TSO4: 11,
  VIRTIO_NET_F_HOST_TSO6: 12,
  VIRTIO_NET_F_HOST_ECN: 13,
  VIRTIO_NET_F_HOST_UFO: 14,
  VIRTIO_NET_F_MRG_RXBUF: 15,
  VIRTIO_NET_F_STATUS: 16,
  VIRTIO_NET_F_CTRL_VQ: 17,
  VIRTIO_NET_F_CTRL_RX: 18,
  VIRTIO_NET_F_CTRL_VLAN: 19,
  VIRTIO_NET_F_CTRL_RX_EXTRA: 20,
  VIRTIO_NET_F_GUEST_ANNOUNCE: 21,
  VIRTIO_NET_F_MQ: 22,
  VIRTIO_NET_F_CTRL_MAC_ADDR: 23,
  VIRTIO_NET_F_HASH_REPORT: 57,
  VIRTIO_NET_F_RSS: 60,
  VIRTIO_NET_F_RSC_EXT: 61,
  VIRTIO_NET_F_STANDBY: 62,
  VIRTIO_NET_F_SPEED_DUPLEX: 63,
} as const;

const NAMES = new Map<number, string>(
  [...Object.entries(VIRTIO_F), ...Object.entries(VIRTIO_NET_F)].map(([k, v]) => [v, k]),
);

/** An immutable set of feature bits 0..63. */
export class FeatureSet {
  static readonly EMPTY = new FeatureSet(0, 0);

  private constructor(readonly lo: number, readonly hi: number) {}

  static of(...bits: number[]): FeatureSet {
    let lo = 0;
    let hi = 0;
    for (const b of bits) {
      if (!Number.isInteger(b) || b < 0 || b > 63) throw new VirtioError('EINVAL', `feature bit ${b} is not in 0..63`);
      if (b < 32) lo |= 1 << b;
      else hi |= 1 << (b - 32);
    }
    return new FeatureSet(lo >>> 0, hi >>> 0);
  }

  static fromHalves(lo: number, hi: number): FeatureSet {
    return new FeatureSet(lo >>> 0, hi >>> 0);
  }

  static fromBigInt(v: bigint): FeatureSet {
    if (v < 0n || v >= 1n << 64n) throw new VirtioError('EINVAL', `feature word ${v} is not a u64`);
    return new FeatureSet(Number(v & 0xffff_ffffn), Number(v >> 32n));
  }

  toBigInt(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  has(bit: number): boolean {
    if (bit < 0 || bit > 63) return false;
    return bit < 32 ? ((this.lo >>> bit) & 1) === 1 : ((this.hi >>> (bit - 32)) & 1) === 1;
  }

  with(...bits: number[]): FeatureSet {
    return this.or(FeatureSet.of(...bits));
  }

  without(...bits: number[]): FeatureSet {
    const m = FeatureSet.of(...bits);
    return new FeatureSet((this.lo & ~m.lo) >>> 0, (this.hi & ~m.hi) >>> 0);
  }

  and(o: FeatureSet): FeatureSet {
    return new FeatureSet((this.lo & o.lo) >>> 0, (this.hi & o.hi) >>> 0);
  }

  or(o: FeatureSet): FeatureSet {
    return new FeatureSet((this.lo | o.lo) >>> 0, (this.hi | o.hi) >>> 0);
  }

  isSubsetOf(o: FeatureSet): boolean {
    return (this.lo & ~o.lo) === 0 && (this.hi & ~o.hi) === 0;
  }

  equals(o: FeatureSet): boolean {
    return this.lo === o.lo && this.hi === o.hi;
  }

  bits(): number[] {
    const out: number[] = [];
    for (let b = 0; b < 64; b++) if (this.has(b)) out.push(b);
    return out;
  }

  /** Names of the set bits, e.g. ["VIRTIO_NET_F_MAC", "VIRTIO_F_VERSION_1", "bit 44"]. */
  names(): string[] {
    return this.bits().map((b) => NAMES.get(b) ?? `bit ${b}`);
  }

  toString(): string {
    return this.names().join('|') || '(none)';
  }
}

/** What the driver accepts: the features it understands that the device offers. */
export function negotiateFeatures(device: FeatureSet, driverSupported: FeatureSet): FeatureSet {
  return device.and(driverSupported);
}

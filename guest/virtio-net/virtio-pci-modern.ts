// The driver's register helpers for a virtio-pci modern device (Linux's
// drivers/virtio/virtio_pci_modern_dev.c and the config reads of virtio_pci_modern.c), over any
// VirtioPciRegs: the device model itself in one thread, an MmioTrapClient across threads. Every
// call is one or more register accesses; none is on the packet path.
import {
  FeatureSet, VIRTIO_NET_CONFIG, VIRTIO_NET_F, VIRTIO_PCI_CAP, VIRTIO_PCI_COMMON,
  type VirtioPciRegs,
} from '../../virtio/index.ts';

const C = VIRTIO_PCI_COMMON;
const COMMON = VIRTIO_PCI_CAP.COMMON;
const DEVICE = VIRTIO_PCI_CAP.DEVICE;

/** Bounded retries of a config read torn by a concurrent config change (a device changing config forever is broken). */
const MAX_CONFIG_GENERATION_RETRIES = 16;

/** struct virtio_net_config as the driver reads it; fields the features do not cover are undefined. */
export interface VirtioNetConfig {
  /** With VIRTIO_NET_F_MAC. */
  mac: Uint8Array | undefined;
  /** VIRTIO_NET_S_* bits, with VIRTIO_NET_F_STATUS. */
  status: number | undefined;
  /** With VIRTIO_NET_F_MTU. */
  mtu: number | undefined;
}

export class VirtioPciModernDevice {
  constructor(readonly regs: VirtioPciRegs) {}

  /** The 64 feature bits the device offers: two 32-bit windows through device_feature_select. */
  vp_modern_get_features(): FeatureSet {
    this.regs.write(COMMON, C.VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
    const lo = this.regs.read(COMMON, C.VIRTIO_PCI_COMMON_DF, 4);
    this.regs.write(COMMON, C.VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
    const hi = this.regs.read(COMMON, C.VIRTIO_PCI_COMMON_DF, 4);
    return FeatureSet.fromHalves(lo, hi);
  }

  /** The features the driver wrote last (read back through driver_feature_select). */
  vp_modern_get_driver_features(): FeatureSet {
    this.regs.write(COMMON, C.VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
    const lo = this.regs.read(COMMON, C.VIRTIO_PCI_COMMON_GF, 4);
    this.regs.write(COMMON, C.VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
    const hi = this.regs.read(COMMON, C.VIRTIO_PCI_COMMON_GF, 4);
    return FeatureSet.fromHalves(lo, hi);
  }

  vp_modern_set_features(f: FeatureSet): void {
    this.regs.write(COMMON, C.VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
    this.regs.write(COMMON, C.VIRTIO_PCI_COMMON_GF, 4, f.lo);
    this.regs.write(COMMON, C.VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
    this.regs.write(COMMON, C.VIRTIO_PCI_COMMON_GF, 4, f.hi);
  }

  vp_modern_get_status(): number {
    return this.regs.read(COMMON, C.VIRTIO_PCI_COMMON_STATUS, 1);
  }

  /** Writes the whole status byte (0 resets the device). */
  vp_modern_set_status(status: number): void {
    this.regs.write(COMMON, C.VIRTIO_PCI_COMMON_STATUS, 1, status & 0xff);
  }

  /** virtio_add_status: the sequence only ever adds bits, so read-modify-write. */
  virtio_add_status(bits: number): void {
    this.vp_modern_set_status(this.vp_modern_get_status() | bits);
  }

  vp_modern_generation(): number {
    return this.regs.read(COMMON, C.VIRTIO_PCI_COMMON_CFGGENERATION, 1);
  }

  vp_modern_get_num_queues(): number {
    return this.regs.read(COMMON, C.VIRTIO_PCI_COMMON_NUMQ, 2);
  }

  /** The selected queue's size: the device's maximum until the driver writes a smaller one. */
  vp_modern_get_queue_size(index: number): number {
    this.regs.write(COMMON, C.VIRTIO_PCI_COMMON_Q_SELECT, 2, index);
    return this.regs.read(COMMON, C.VIRTIO_PCI_COMMON_Q_SIZE, 2);
  }

  vp_modern_set_queue_size(index: number, size: number): void {
    this.regs.write(COMMON, C.VIRTIO_PCI_COMMON_Q_SELECT, 2, index);
    this.regs.write(COMMON, C.VIRTIO_PCI_COMMON_Q_SIZE, 2, size);
  }

  /** Descriptor table, driver (avail) and device (used) areas, each a 64-bit register in two halves. */
  vp_modern_queue_address(index: number, desc: number, driver: number, device: number): void {
    const r = this.regs;
    r.write(COMMON, C.VIRTIO_PCI_COMMON_Q_SELECT, 2, index);
    for (const [lo, addr] of [[C.VIRTIO_PCI_COMMON_Q_DESCLO, desc], [C.VIRTIO_PCI_COMMON_Q_AVAILLO, driver], [C.VIRTIO_PCI_COMMON_Q_USEDLO, device]] as const) {
      r.write(COMMON, lo, 4, addr >>> 0);
      r.write(COMMON, lo + 4, 4, Math.floor(addr / 0x1_0000_0000) >>> 0);
    }
  }

  vp_modern_set_queue_enable(index: number, enable: boolean): void {
    this.regs.write(COMMON, C.VIRTIO_PCI_COMMON_Q_SELECT, 2, index);
    this.regs.write(COMMON, C.VIRTIO_PCI_COMMON_Q_ENABLE, 2, enable ? 1 : 0);
  }

  vp_modern_get_queue_enable(index: number): boolean {
    this.regs.write(COMMON, C.VIRTIO_PCI_COMMON_Q_SELECT, 2, index);
    return this.regs.read(COMMON, C.VIRTIO_PCI_COMMON_Q_ENABLE, 2) === 1;
  }

  /**
   * Reads `len` bytes of device configuration, byte by byte, retried while config_generation
   * moves under it (__virtio_cread_many): a multi-byte field read across a device's config change
   * would otherwise mix old and new bytes.
   */
  virtio_cread_bytes(offset: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let attempt = 0; attempt < MAX_CONFIG_GENERATION_RETRIES; attempt++) {
      const gen = this.vp_modern_generation();
      for (let i = 0; i < len; i++) out[i] = this.regs.read(DEVICE, offset + i, 1);
      if (this.vp_modern_generation() === gen) return out;
    }
    return out;
  }

  virtio_cread16(offset: number): number {
    return this.regs.read(DEVICE, offset, 2) & 0xffff;
  }

  /** The parts of struct virtio_net_config the negotiated features make valid (virtnet_probe). */
  virtnet_read_config(features: FeatureSet): VirtioNetConfig {
    return {
      mac: features.has(VIRTIO_NET_F.VIRTIO_NET_F_MAC) ? this.virtio_cread_bytes(VIRTIO_NET_CONFIG.mac, 6) : undefined,
      status: features.has(VIRTIO_NET_F.VIRTIO_NET_F_STATUS) ? this.virtio_cread16(VIRTIO_NET_CONFIG.status) : undefined,
      mtu: features.has(VIRTIO_NET_F.VIRTIO_NET_F_MTU) ? this.virtio_cread16(VIRTIO_NET_CONFIG.mtu) : undefined,
    };
  }
}

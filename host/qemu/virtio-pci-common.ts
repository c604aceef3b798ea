// QEMU's side of virtio-pci modern (hw/virtio/virtio-pci.c, virtio_pci_common_read/write): the
// common configuration registers over a device's feature words, status machine and queues.
// The device-specific block (virtio_net_config) is the device's own; see VirtioNetPci.
import {
  DeviceStatus, FeatureSet, SplitRing, VIRTIO_CONFIG_S, VIRTIO_PCI_CAP, VIRTIO_PCI_COMMON,
  VirtioError, checkLayout, type GuestMemory, type SplitRingLayout, type VirtioPciCap, type VirtioPciRegs,
} from '../../virtio/index.ts';

const C = VIRTIO_PCI_COMMON;

/** One queue's registers as the driver programmed them. */
export interface VirtQueueConfig {
  size: number;
  maxSize: number;
  enabled: boolean;
  desc: number;
  avail: number;
  used: number;
  msixVector: number;
}

export interface VirtioPciDeviceHooks {
  /** Device-specific configuration space (the DEVICE capability). */
  readConfig(offset: number, size: 1 | 2 | 4): number;
  writeConfig?(offset: number, size: 1 | 2 | 4, value: number): void;
  /** The driver set DRIVER_OK: the queues are ready. Throwing marks the device NEEDS_RESET. */
  driverOk(queues: readonly VirtQueueConfig[], features: FeatureSet): void;
  /** The driver wrote 0 to device_status. */
  reset(): void;
}

export class VirtioPciCommon implements VirtioPciRegs {
  readonly status: DeviceStatus;
  readonly queues: VirtQueueConfig[];
  private dfselect = 0;
  private gfselect = 0;
  private qselect = 0;
  private driverLo = 0;
  private driverHi = 0;
  configGeneration = 0;
  /** Why the device last refused something (NEEDS_RESET or a refused status write). */
  lastError: Error | undefined;

  constructor(private readonly mem: GuestMemory, features: FeatureSet, queueMaxSizes: readonly number[], private readonly hooks: VirtioPciDeviceHooks) {
    this.status = new DeviceStatus(features);
    this.queues = queueMaxSizes.map((maxSize) => ({ size: maxSize, maxSize, enabled: false, desc: 0, avail: 0, used: 0, msixVector: 0xffff }));
  }

  read(cap: VirtioPciCap, offset: number, size: 1 | 2 | 4): number {
    if (cap === VIRTIO_PCI_CAP.DEVICE) return this.hooks.readConfig(offset, size);
    if (cap !== VIRTIO_PCI_CAP.COMMON) return 0;
    const q = this.queues[this.qselect];
    const f = this.status.deviceFeatures;
    switch (offset) {
      case C.VIRTIO_PCI_COMMON_DFSELECT: return this.dfselect;
      case C.VIRTIO_PCI_COMMON_DF: return this.dfselect === 0 ? f.lo : this.dfselect === 1 ? f.hi : 0;
      case C.VIRTIO_PCI_COMMON_GFSELECT: return this.gfselect;
      case C.VIRTIO_PCI_COMMON_GF: return this.gfselect === 0 ? this.driverLo : this.gfselect === 1 ? this.driverHi : 0;
      case C.VIRTIO_PCI_COMMON_NUMQ: return this.queues.length;
      case C.VIRTIO_PCI_COMMON_STATUS: return this.status.status;
      case C.VIRTIO_PCI_COMMON_CFGGENERATION: return this.configGeneration & 0xff;
      case C.VIRTIO_PCI_COMMON_Q_SELECT: return this.qselect;
      case C.VIRTIO_PCI_COMMON_Q_SIZE: return q ? q.size : 0;
      case C.VIRTIO_PCI_COMMON_Q_MSIX: return q ? q.msixVector : 0xffff;
      case C.VIRTIO_PCI_COMMON_Q_ENABLE: return q?.enabled ? 1 : 0;
      case C.VIRTIO_PCI_COMMON_Q_NOFF: return this.qselect;
      case C.VIRTIO_PCI_COMMON_Q_DESCLO: return q ? q.desc >>> 0 : 0;
      case C.VIRTIO_PCI_COMMON_Q_AVAILLO: return q ? q.avail >>> 0 : 0;
      case C.VIRTIO_PCI_COMMON_Q_USEDLO: return q ? q.used >>> 0 : 0;
      default: return 0; // high halves: guest memory is below 4 GiB
    }
  }

  write(cap: VirtioPciCap, offset: number, size: 1 | 2 | 4, value: number): void {
    if (cap === VIRTIO_PCI_CAP.DEVICE) { this.hooks.writeConfig?.(offset, size, value); return; }
    if (cap !== VIRTIO_PCI_CAP.COMMON) return;
    const q = this.queues[this.qselect];
    // Queue registers may only change before DRIVER_OK (virtio 1.x 4.1.4.3.2).
    const live = (this.status.status & VIRTIO_CONFIG_S.VIRTIO_CONFIG_S_DRIVER_OK) !== 0;
    switch (offset) {
      case C.VIRTIO_PCI_COMMON_DFSELECT: this.dfselect = value >>> 0; return;
      case C.VIRTIO_PCI_COMMON_GFSELECT: this.gfselect = value >>> 0; return;
      case C.VIRTIO_PCI_COMMON_GF:
        if (this.gfselect === 0) this.driverLo = value >>> 0;
        else if (this.gfselect === 1) this.driverHi = value >>> 0;
        return;
      case C.VIRTIO_PCI_COMMON_STATUS: this.writeStatus(value & 0xff); return;
      case C.VIRTIO_PCI_COMMON_Q_SELECT: this.qselect = value & 0xffff; return;
      case C.VIRTIO_PCI_COMMON_Q_SIZE:
        // A size the device cannot take is ignored; the driver reads it back and sees its write lost.
        if (q && !live && value >= 1 && value <= q.maxSize && (value & (value - 1)) === 0) q.size = value;
        return;
      case C.VIRTIO_PCI_COMMON_Q_MSIX: if (q) q.msixVector = value & 0xffff; return;
      case C.VIRTIO_PCI_COMMON_Q_ENABLE: if (q && !live && value === 1) q.enabled = true; return;
      case C.VIRTIO_PCI_COMMON_Q_DESCLO: if (q && !live) q.desc = value >>> 0; return;
      case C.VIRTIO_PCI_COMMON_Q_AVAILLO: if (q && !live) q.avail = value >>> 0; return;
      case C.VIRTIO_PCI_COMMON_Q_USEDLO: if (q && !live) q.used = value >>> 0; return;
      default: return;
    }
  }

  /** Validated views of the enabled queues (EINVAL/EFAULT for a layout outside guest memory). */
  ring(index: number): SplitRing {
    const q = this.queues[index];
    if (!q?.enabled) throw new VirtioError('EINVAL', `queue ${index} is not enabled`);
    const layout: SplitRingLayout = { size: q.size, desc: q.desc, avail: q.avail, used: q.used };
    checkLayout(this.mem, layout);
    return new SplitRing(this.mem, layout);
  }

  private writeStatus(v: number): void {
    if (v === 0) {
      this.status.reset();
      this.driverLo = this.driverHi = 0;
      for (const q of this.queues) Object.assign(q, { size: q.maxSize, enabled: false, desc: 0, avail: 0, used: 0, msixVector: 0xffff });
      this.hooks.reset();
      return;
    }
    const before = this.status.status;
    try {
      // FEATURES_OK: the device checks what the driver wrote; DeviceStatus refuses a superset.
      if ((v & VIRTIO_CONFIG_S.VIRTIO_CONFIG_S_FEATURES_OK) && !(before & VIRTIO_CONFIG_S.VIRTIO_CONFIG_S_FEATURES_OK)) {
        this.status.writeDriverFeatures(FeatureSet.fromHalves(this.driverLo, this.driverHi));
      }
      this.status.write(v);
    } catch (e) {
      // A refused FEATURES_OK stays clear, which is how the driver learns of it (3.1.1 step 6).
      this.lastError = e as Error;
      return;
    }
    if ((v & VIRTIO_CONFIG_S.VIRTIO_CONFIG_S_DRIVER_OK) && !(before & VIRTIO_CONFIG_S.VIRTIO_CONFIG_S_DRIVER_OK)) {
      try {
        for (const q of this.queues) {
          if (q.enabled) checkLayout(this.mem, { size: q.size, desc: q.desc, avail: q.avail, used: q.used });
        }
        this.hooks.driverOk(this.queues, this.status.negotiated);
      } catch (e) {
        this.lastError = e as Error;
        this.status.setNeedsReset();
      }
    }
  }
}

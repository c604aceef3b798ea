// Device status (virtio 1.x 2.1, virtio_config.h) and the device-side state machine behind the
// driver's writes: the initialisation sequence 3.1.1 is ACKNOWLEDGE, DRIVER, features,
// FEATURES_OK (the device may refuse the features by leaving it clear), DRIVER_OK. Bits are only
// added in that order; writing 0 resets; FAILED may be set at any time and ends the sequence.
import { VirtioError } from './errors.ts';
import { FeatureSet, VIRTIO_F } from './features.ts';

export const VIRTIO_CONFIG_S = {
  VIRTIO_CONFIG_S_ACKNOWLEDGE: 1,
  VIRTIO_CONFIG_S_DRIVER: 2,
  VIRTIO_CONFIG_S_DRIVER_OK: 4,
  VIRTIO_CONFIG_S_FEATURES_OK: 8,
  VIRTIO_CONFIG_S_NEEDS_RESET: 0x40,
  VIRTIO_CONFIG_S_FAILED: 0x80,
} as const;

const ACK = VIRTIO_CONFIG_S.VIRTIO_CONFIG_S_ACKNOWLEDGE;
const DRIVER = VIRTIO_CONFIG_S.VIRTIO_CONFIG_S_DRIVER;
const DRIVER_OK = VIRTIO_CONFIG_S.VIRTIO_CONFIG_S_DRIVER_OK;
const FEATURES_OK = VIRTIO_CONFIG_S.VIRTIO_CONFIG_S_FEATURES_OK;
const NEEDS_RESET = VIRTIO_CONFIG_S.VIRTIO_CONFIG_S_NEEDS_RESET;
const FAILED = VIRTIO_CONFIG_S.VIRTIO_CONFIG_S_FAILED;
const KNOWN = ACK | DRIVER | DRIVER_OK | FEATURES_OK | NEEDS_RESET | FAILED;

/** Each bit the driver may add, and the bits that must already be set. */
const PREREQ: [number, number, string][] = [
  [ACK, 0, 'ACKNOWLEDGE'],
  [DRIVER, ACK, 'DRIVER'],
  [FEATURES_OK, ACK | DRIVER, 'FEATURES_OK'],
  [DRIVER_OK, ACK | DRIVER | FEATURES_OK, 'DRIVER_OK'],
];

export class DeviceStatus {
  readonly deviceFeatures: FeatureSet;
  private _status = 0;
  private _driverFeatures = FeatureSet.EMPTY;

  constructor(deviceFeatures: FeatureSet) {
    this.deviceFeatures = deviceFeatures;
  }

  get status(): number { return this._status; }
  get driverFeatures(): FeatureSet { return this._driverFeatures; }
  get live(): boolean { return (this._status & (DRIVER_OK | NEEDS_RESET | FAILED)) === DRIVER_OK; }
  /** The features in force (meaningful once FEATURES_OK is set). */
  get negotiated(): FeatureSet { return this._driverFeatures; }

  /** The driver writes the features it accepts: only between DRIVER and FEATURES_OK. */
  writeDriverFeatures(f: FeatureSet): void {
    const s = this._status;
    if ((s & FAILED) !== 0) throw new VirtioError('ESTATUS', 'driver features written after FAILED (reset first)');
    if ((s & (ACK | DRIVER)) !== (ACK | DRIVER) || (s & FEATURES_OK) !== 0) {
      throw new VirtioError('ESTATUS', `driver features written in status 0x${s.toString(16)}: only after DRIVER and before FEATURES_OK`);
    }
    this._driverFeatures = f;
  }

  /**
   * A driver write of the status byte. 0 resets. Otherwise bits may only be added, each after
   * its prerequisites; an out-of-order write throws ESTATUS and changes nothing. FEATURES_OK
   * with features the device did not offer (or without VERSION_1 when the device requires it)
   * is refused the spec's way: the bit stays clear and the driver sees that on re-reading.
   */
  write(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new VirtioError('EINVAL', `status ${value} is not a byte`);
    if (value === 0) return this.reset();
    const cur = this._status;
    const bad = value & ~KNOWN;
    if (bad !== 0) throw new VirtioError('ESTATUS', `status bits 0x${bad.toString(16)} are unknown`);
    if ((value & cur) !== cur) throw new VirtioError('ESTATUS', `status 0x${value.toString(16)} clears bits of 0x${cur.toString(16)} (only a reset may)`);
    const added = value & ~cur;
    if ((added & NEEDS_RESET) !== 0) throw new VirtioError('ESTATUS', 'only the device sets NEEDS_RESET');
    if ((cur & FAILED) !== 0 && added !== 0) throw new VirtioError('ESTATUS', 'status after FAILED: reset first');
    for (const [bit, need, name] of PREREQ) {
      if ((added & bit) !== 0 && (value & need) !== need) {
        throw new VirtioError('ESTATUS', `${name} set in status 0x${value.toString(16)} before its prerequisites 0x${need.toString(16)}`);
      }
    }
    let next = value;
    if ((added & FEATURES_OK) !== 0 && !this.featuresAcceptable()) next &= ~(FEATURES_OK | DRIVER_OK);
    this._status = next;
  }

  private featuresAcceptable(): boolean {
    const f = this._driverFeatures;
    if (!f.isSubsetOf(this.deviceFeatures)) return false;
    // A device that offers VERSION_1 and no legacy interface needs the driver to accept it.
    return !this.deviceFeatures.has(VIRTIO_F.VIRTIO_F_VERSION_1) || f.has(VIRTIO_F.VIRTIO_F_VERSION_1);
  }

  /** The device found something it cannot go on with (e.g. a broken ring). */
  setNeedsReset(): void {
    if ((this._status & DRIVER_OK) !== 0) this._status |= NEEDS_RESET;
  }

  reset(): void {
    this._status = 0;
    this._driverFeatures = FeatureSet.EMPTY;
  }
}

/**
 * The driver's side of initialisation (virtio_dev_probe): ACKNOWLEDGE, DRIVER, accept the
 * supported subset, FEATURES_OK and read it back, DRIVER_OK. On refusal sets FAILED and throws.
 * `beforeDriverOk` is where a driver sets up its queues.
 */
export function driverInit(dev: DeviceStatus, supported: FeatureSet, beforeDriverOk?: (f: FeatureSet) => void): FeatureSet {
  dev.write(0);
  dev.write(ACK);
  dev.write(ACK | DRIVER);
  const accepted = dev.deviceFeatures.and(supported);
  dev.writeDriverFeatures(accepted);
  dev.write(ACK | DRIVER | FEATURES_OK);
  if ((dev.status & FEATURES_OK) === 0) {
    dev.write(dev.status | FAILED);
    throw new VirtioError('EPROTO', `device refused features ${accepted.toString()}`);
  }
  beforeDriverOk?.(accepted);
  dev.write(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
  return accepted;
}

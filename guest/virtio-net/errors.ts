// Errors of the guest's virtio_net driver, with the errno a Linux driver would return in the same
// place, so callers branch on `code`. A separate class from virtio/'s VirtioError because the
// driver fails for reasons the ring layer has no code for (a device refusing features is ENODEV in
// virtio_features_ok, a modern device without VERSION_1 is EINVAL in vp_finalize_features).
import type { VirtioError } from '../../virtio/index.ts';

export type VirtnetErrorCode =
  | 'EINVAL' // bad argument, or a device the driver cannot drive (no VERSION_1)
  | 'ENODEV' // the device refused FEATURES_OK, or stopped answering reset
  | 'ENOENT' // a queue the driver needs does not exist (size 0) or is already enabled
  | 'ENOMEM' // guest memory too small for rings and buffers
  | 'EBUSY' // a control command that timed out is still with the device
  | 'EOPNOTSUPP' // e.g. a control command without a negotiated control queue
  | 'ETIMEDOUT' // the device did not answer a control command in time
  | 'EIO'; // a broken virtqueue (the device returned something impossible)

export class VirtnetError extends Error {
  readonly code: VirtnetErrorCode;
  constructor(code: VirtnetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VirtnetError';
    this.code = code;
  }
}

/** A virtqueue the device broke (e.g. a used id that is not outstanding): the driver stops using it. */
export function brokenQueue(e: VirtioError): VirtnetError {
  return new VirtnetError('EIO', `virtqueue broken: ${e.message}`, { cause: e });
}

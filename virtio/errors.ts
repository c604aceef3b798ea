// Errors carry a stable `code` so callers branch on codes, not messages. virtio/ imports nothing of
// ours (not even bpf-vm's errors), so it has its own class; the codes are errno names where one
// fits and VQ_* names for the ways a device finds a ring malformed.

/** Why a device stopped using a queue (each one is NEEDS_RESET for the queue, see DeviceQueue). */
export type RingErrorCode =
  | 'VQ_AVAIL_IDX_JUMP' // avail.idx more than Q ahead of the device's last_avail_idx
  | 'VQ_HEAD_OUT_OF_RANGE' // avail.ring[] names a head >= Q
  | 'VQ_NEXT_OUT_OF_RANGE' // a NEXT field points outside its (direct or indirect) table
  | 'VQ_DESC_LOOP' // a chain visits a descriptor twice
  | 'VQ_CHAIN_TOO_LONG' // more than Q descriptors in one chain (direct and indirect together)
  | 'VQ_DESC_OUT_OF_BOUNDS' // a buffer or indirect table outside guest memory
  | 'VQ_READ_AFTER_WRITE' // a device-readable descriptor after a device-writable one
  | 'VQ_INDIRECT_WITH_NEXT' // INDIRECT and NEXT together
  | 'VQ_NESTED_INDIRECT' // an INDIRECT descriptor inside an indirect table
  | 'VQ_INDIRECT_BAD_LEN' // an indirect table whose length is 0 or not a multiple of 16
  | 'VQ_INDIRECT_NOT_NEGOTIATED' // INDIRECT used without VIRTIO_RING_F_INDIRECT_DESC
  | 'VQ_BAD_USED_ID'; // (driver side) the device returned an id that is not an outstanding head

export type VirtioErrorCode =
  | 'EINVAL' | 'ENOMEM' | 'EFAULT' | 'ENOSPC' | 'EPERM' | 'EPROTO' | 'ETIMEDOUT'
  | 'ESTATUS' // an out-of-order device status transition
  | 'CTRL_NO_HEADER' | 'CTRL_NO_ACK'
  | RingErrorCode;

export class VirtioError extends Error {
  readonly code: VirtioErrorCode;
  constructor(code: VirtioErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VirtioError';
    this.code = code;
  }
}

/**
 * A malformed ring found by one side. Names the queue and the descriptor (its index in the
 * descriptor table, plus the entry of the indirect table when the fault is inside one).
 */
export class RingError extends VirtioError {
  readonly queue: string;
  readonly desc: number;
  /** Index inside the indirect table, or -1 when the fault is in the descriptor table itself. */
  readonly indirectEntry: number;
  constructor(code: RingErrorCode, queue: string, desc: number, indirectEntry: number, problem: string) {
    const where = desc < 0 ? '' : indirectEntry < 0 ? `descriptor ${desc}: ` : `descriptor ${desc} indirect entry ${indirectEntry}: `;
    super(code, `queue ${queue}: ${where}${problem}`);
    this.name = 'RingError';
    this.queue = queue;
    this.desc = desc;
    this.indirectEntry = indirectEntry;
  }
}

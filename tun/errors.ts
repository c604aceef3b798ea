// Errors carry a stable `code` so callers branch on codes, not messages. tun/ has its own class
// (bpf-vm's BpfError is about programs); the codes are errno names.

export type TunErrorCode =
  | 'EINVAL' // a bad argument or a shared descriptor that does not describe what it claims
  | 'EBUSY' // a single-owner role (page pool owner, recycle ring producer) already taken
  | 'EOVERFLOW' // more frames returned than exist: a frame freed twice
  | 'ENOMEM'; // shared memory could not be allocated

export class TunError extends Error {
  readonly code: TunErrorCode;
  constructor(code: TunErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TunError';
    this.code = code;
  }
}

/** A SharedArrayBuffer, with allocation failure surfacing as ENOMEM rather than a RangeError. */
export function allocShared(byteLength: number, what: string): SharedArrayBuffer {
  try {
    return new SharedArrayBuffer(byteLength);
  } catch (cause) {
    throw new TunError('ENOMEM', `cannot allocate ${byteLength} bytes for ${what}`, { cause });
  }
}

export function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

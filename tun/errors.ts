// Errors carry a stable `code` so callers branch on codes, not messages. tun/ has its own class
// (bpf-vm's BpfError is about programs); the codes are errno names.

export type TunErrorCode =
  | 'EINVAL' // a bad argument or a shared descriptor that does not describe what it claims
  | 'EBUSY' // a single-owner role (page pool owner, recycle ring producer) already taken
  | 'EOVERFLOW' // more frames returned than exist: a frame freed twice
  | 'ENOMEM' // shared memory could not be allocated
  | 'EOPNOTSUPP'; // an operation the configured path lacks (an offloaded program on the path before the RFC)

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

/** The cache line shared layouts pad to (x86-64, arm64). */
export const CACHE_LINE = 64;

/**
 * `n` int32 cells in a SharedArrayBuffer of their own, a cache line of padding on each side. Small
 * buffers come from malloc side by side: without the padding, a cell one worker writes on every
 * wake can share its line with one another worker polls, and both miss on every access (see
 * virtio/shared-cells.ts, the same rule for the cells tun/ cannot import from there).
 */
export function allocSharedCells(n: number, what: string): Int32Array {
  if (!Number.isInteger(n) || n < 1 || n > 1 << 16) throw new TunError('EINVAL', `${what}: ${String(n)} cells (1..65536)`);
  const body = Math.ceil((4 * n) / CACHE_LINE) * CACHE_LINE;
  return new Int32Array(allocShared(CACHE_LINE + body + CACHE_LINE, what), CACHE_LINE, n);
}

export function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

// Errors carry a stable `code` (an errno name) so callers branch on codes, not messages.
//
// Which outcomes throw: the kernel-side functions return 0 or a negative errno for what a caller
// must expect (a port in use, a full run array), as the kernel does, so the per-packet and the
// bind paths never unwind. NetError is thrown for what the kernel would WARN_ON or BUG_ON (hashing
// a socket twice, arming a pending timer, a table size that is not a power of two) and by the
// parse helpers that users and tests call with strings.
import { ERRNO, type ErrnoName } from '../../bpf-vm/errno.ts';

export class NetError extends Error {
  readonly code: ErrnoName;
  constructor(code: ErrnoName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetError';
    this.code = code;
  }

  /** The errno number, for callers that report it as a system call would. */
  get errno(): number {
    return ERRNO[this.code];
  }

  /** The error for a kernel-style return value (`-EADDRINUSE`), for a socket layer to throw. */
  static fromErrno(ret: number, message: string, options?: { cause?: unknown }): NetError {
    const name = (Object.keys(ERRNO) as ErrnoName[]).find((k) => ERRNO[k] === Math.abs(ret));
    return new NetError(name ?? 'EINVAL', message, options);
  }
}

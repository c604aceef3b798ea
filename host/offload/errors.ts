// Why the device refused a class-EBPF command: a stable errno name (what crosses the control queue
// as the result's errno) and, for a program the host verifier rejected, its log.
import { ERRNO, type ErrnoName } from '../../bpf-vm/index.ts';

export class OffloadError extends Error {
  readonly code: ErrnoName;
  /** The host verifier's log, when it rejected the program. */
  readonly log: string | undefined;
  constructor(code: ErrnoName, message: string, options?: { cause?: unknown; log?: string }) {
    super(message, options);
    this.name = 'OffloadError';
    this.code = code;
    this.log = options?.log;
  }

  get errno(): number {
    return ERRNO[this.code];
  }
}

/** The errno name of a number the bpf-vm maps or verifier produced; EINVAL for one we do not know. */
export function errnoCode(n: number): ErrnoName {
  const abs = Math.abs(n);
  for (const [k, v] of Object.entries(ERRNO) as [ErrnoName, number][]) if (v === abs) return k;
  return 'EINVAL';
}

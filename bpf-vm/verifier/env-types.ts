// The verifier's internal rejection: thrown where a check fails, caught by the main loop, which
// turns it into a VerifierError with the log. `extra` lines follow the message in the log (the
// kernel often explains an error on a second line).
import type { BpfErrorCode } from '../errors.ts';

export class Reject extends Error {
  constructor(
    readonly code: BpfErrorCode,
    message: string,
    readonly extra: readonly string[] = [],
    /** The instruction concerned, when the main pass is not running (structural checks). */
    readonly pc?: number,
  ) {
    super(message);
    this.name = 'Reject';
  }
}

/** A safety violation (-EACCES in the kernel). */
export function reject(message: string, ...extra: string[]): never {
  throw new Reject('EACCES', message, extra);
}

/** A malformed program (-EINVAL). */
export function invalid(message: string, ...extra: string[]): never {
  throw new Reject('EINVAL', message, extra);
}

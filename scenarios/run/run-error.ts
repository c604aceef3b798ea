// Why a run did not give a result, by stable code:
// - 'EINVAL': it cannot start as asked (a value out of range, an unknown cell, a bad combination);
// - 'ENOENT': something it names does not exist (a program, an object, a capture, a section);
// - 'EIO': it started and then failed (a worker died or answered with an error, a socket call of
//   the run's own set-up failed, the counters say the run did not do what it was asked). A usage
//   error is the caller's to fix (exit status 2); EIO is the run's (exit status 1, as a fault).
//   A worker that died is WorkerFailed (worker-failed.ts), the other kind of run failure.
import { WorkerFailed } from './worker-failed.ts';

export const RUN_ERROR_CODES = ['EINVAL', 'ENOENT', 'EIO'] as const;
export type RunErrorCode = (typeof RUN_ERROR_CODES)[number];

export class RunError extends Error {
  readonly code: RunErrorCode;
  constructor(code: RunErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunError';
    this.code = code;
  }
}

/**
 * The run failed after it started, as opposed to a run that could not start as asked: a RunError
 * EIO, or a worker that died (WorkerFailed, code EWORKER: which worker, and its error).
 */
export function isRunFailure(e: unknown): e is RunError | WorkerFailed {
  return (e instanceof RunError && e.code === 'EIO') || e instanceof WorkerFailed;
}

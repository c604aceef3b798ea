// The dispatcher's errors: a stable code (errno name) and the cause, as the rest of vxo.
export type DispatchErrorCode = 'EINVAL' | 'ENOENT' | 'EEXIST' | 'ENOSPC' | 'EOPNOTSUPP' | 'EBADF' | 'E2BIG';

export class DispatchError extends Error {
  constructor(readonly code: DispatchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DispatchError';
  }
}

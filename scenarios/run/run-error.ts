// A run that cannot start as asked: an unknown program, a missing object or capture.
export class RunError extends Error {
  readonly code: 'EINVAL' | 'ENOENT';
  constructor(code: 'EINVAL' | 'ENOENT', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunError';
    this.code = code;
  }
}

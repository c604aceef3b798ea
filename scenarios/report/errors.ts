// Report-layer errors carry a stable `code` so the CLI can branch on it rather than on messages.

export type ReportErrorCode =
  | 'EMPTY' // a cell or summary asked of zero samples
  | 'EINVAL'; // data that contradicts the model (e.g. the same cell twice)

export class ReportError extends Error {
  readonly code: ReportErrorCode;
  constructor(code: ReportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReportError';
    this.code = code;
  }
}

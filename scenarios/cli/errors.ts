/** A command line that cannot be carried out as written (exit status 2). */
export class UsageError extends Error {
  readonly code = 'EUSAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A program the verifier refused (exit status 1, like a run-time fault). */
export class ProgramRejected extends Error {
  readonly code = 'EREJECTED';
  constructor(message: string) {
    super(message);
    this.name = 'ProgramRejected';
  }
}

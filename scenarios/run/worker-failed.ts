// A worker of a run that threw, exited or reported an error: one error naming the worker.
export class WorkerFailed extends Error {
  readonly code = 'EWORKER';
  constructor(readonly worker: string, cause: unknown) {
    super(`${worker} worker failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'WorkerFailed';
  }
}

// The run's threads as a group: start them, wait for each to report ready, stop them in order,
// and turn any failure (a throw, an exit, an error message) into one error naming the worker,
// reported within a second, so a broken worker never hangs a run.
import type { Worker } from 'node:worker_threads';
import { ShmCounters, type SharedCounters } from '../../virtio/index.ts';
import type { TraceMessage } from '../../virtio/trace-pipe.ts';
import { WorkerFailed } from './worker-failed.ts';

export { WorkerFailed };

interface Member {
  name: string;
  worker: Worker;
  ready: Promise<ShmCounters | undefined>;
  /** The worker's 'ready' message as posted (e.g. the guest's native maps). */
  readyMsg: Record<string, unknown> | undefined;
  done: Promise<Record<string, unknown>>;
  exited: boolean;
  /** It posted 'done'. */
  finished: boolean;
}

type Msg = { type: 'ready'; counters?: SharedCounters } | { type: 'done'; [k: string]: unknown } | { type: 'error'; message: string } | TraceMessage | { type: 'other' };

export class WorkerSet {
  private readonly members = new Map<string, Member>();
  private failure: WorkerFailed | undefined;
  private terminating = false;
  private readonly failListeners: ((e: WorkerFailed) => void)[] = [];

  /** A promise that rejects as soon as any worker fails (race it against every wait). */
  readonly failed: Promise<never>;

  /** Where the workers' bpf_trace_printk lines go (only workers started with a trace pipe send any). */
  onTrace: ((m: TraceMessage) => void) | undefined = undefined;

  /** Any other message a worker posts (e.g. a setup module's stack report), with the worker's name. */
  onOther: ((name: string, m: Record<string, unknown>) => void) | undefined = undefined;

  constructor() {
    this.failed = new Promise<never>((_, reject) => { this.failListeners.push(reject); });
    this.failed.catch(() => undefined);
  }

  add(name: string, worker: Worker): void {
    let onReady!: (c: ShmCounters | undefined) => void;
    let onDone!: (m: Record<string, unknown>) => void;
    const m: Member = {
      name, worker, exited: false, finished: false, readyMsg: undefined,
      ready: new Promise((r) => { onReady = r; }),
      done: new Promise((r) => { onDone = r; }),
    };
    worker.on('message', (msg: Msg) => {
      if (msg.type === 'ready') {
        m.readyMsg = msg;
        onReady(msg.counters ? new ShmCounters(msg.counters) : undefined);
      } else if (msg.type === 'done') {
        m.finished = true;
        onDone(msg);
      } else if (msg.type === 'error') this.fail(name, new Error(msg.message));
      else if (msg.type === 'trace') this.onTrace?.(msg);
      else this.onOther?.(name, msg as unknown as Record<string, unknown>);
    });
    worker.on('error', (e) => this.fail(name, e));
    worker.on('exit', (code) => {
      m.exited = true;
      // A worker ends by posting 'done' (then its exit code is 0); any other end is a failure.
      if (this.terminating) return;
      if (code !== 0) this.fail(name, new Error(`exited with code ${code}`));
      else if (!m.finished) this.fail(name, new Error('exited before it was done'));
    });
    this.members.set(name, m);
  }

  private fail(name: string, e: unknown): void {
    if (this.failure) return;
    this.failure = new WorkerFailed(name, e);
    for (const l of this.failListeners) l(this.failure);
  }

  get error(): WorkerFailed | undefined {
    return this.failure;
  }

  /** Resolves with the worker's live counters (if it made its own) once it is ready; rejects on any failure or after timeoutMs. */
  async ready(name: string, timeoutMs = 20_000): Promise<ShmCounters | undefined> {
    return this.guard(this.get(name).ready, `${name} worker did not get ready`, timeoutMs, name);
  }

  /** The worker's 'ready' message, once it came (undefined before). */
  readyMessage(name: string): Record<string, unknown> | undefined {
    return this.get(name).readyMsg;
  }

  /** Resolves with the worker's final message after it was told to stop. */
  async done(name: string, timeoutMs = 5_000): Promise<Record<string, unknown>> {
    return this.guard(this.get(name).done, `${name} worker did not stop`, timeoutMs, name);
  }

  private get(name: string): Member {
    const m = this.members.get(name);
    if (!m) throw new Error(`no worker '${name}'`);
    return m;
  }

  private async guard<T>(p: Promise<T>, what: string, timeoutMs: number, name: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WorkerFailed(name, new Error(`${what} within ${timeoutMs} ms`))), timeoutMs);
    });
    try {
      return await Promise.race([p, this.failed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Terminates every worker still running (after a failure, or at the very end). */
  async terminateAll(): Promise<void> {
    this.terminating = true;
    await Promise.all([...this.members.values()].filter((m) => !m.exited).map((m) => m.worker.terminate()));
  }
}

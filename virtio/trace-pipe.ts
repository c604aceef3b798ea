// bpf_trace_printk output of a worker's programs, on its way to the runner as the kernel's
// trace_pipe carries it to a reader (`vxo run --trace`). A worker makes one TracePipe only when
// tracing was asked for and hands `sink` to its programs' ExecEnv; without one the programs keep
// the engine's no-op sink, so the packet path pays nothing for the feature being there.
//
// Bounded: a program calling bpf_trace_printk per packet would produce millions of lines a second,
// more than any reader and the message port between threads can take. Each worker forwards at
// most `maxPerSec` lines in any one-second window and counts the rest; the count is posted when
// the window closes (on the next line after it) and at flush(), so the reader learns how many it
// missed.

/** Lines a worker forwards per second by default. */
export const TRACE_LINES_PER_SEC = 100;

interface TraceMessageBase {
  type: 'trace';
  /** The worker's name ('guest', 'vhost', 'host'). */
  worker: string;
  /** Its kernel task id, undefined without procfs. */
  tid: number | undefined;
  /** The CPU the program sees (bpf_get_smp_processor_id). */
  cpu: number;
  /** Seconds since the run's clock origin. */
  ts: number;
}

/** One line of a program's output, or how many were dropped by the rate limit. */
export type TraceMessage = (TraceMessageBase & { text: string }) | (TraceMessageBase & { suppressed: number });

/** What a worker is started with when the run traces (workerData.trace). */
export interface TraceSetup {
  /** The run's clock origin, epoch milliseconds. */
  t0: number;
  maxPerSec?: number;
}

export interface TracePipeOptions {
  worker: string;
  tid?: number | undefined;
  cpu?: number;
  /** Where messages go: the worker's parentPort.postMessage. */
  post: (m: TraceMessage) => void;
  /** Lines per one-second window (default TRACE_LINES_PER_SEC). */
  maxPerSec?: number;
  /** The clock origin as epoch milliseconds (performance.timeOrigin + now() at the run's start). */
  t0?: number;
  /** Milliseconds since this thread's time origin (tests). */
  clock?: () => number;
}

export class TracePipe {
  /** Lines forwarded and lines suppressed, over the pipe's life. */
  forwarded = 0;
  suppressedTotal = 0;
  private readonly maxPerSec: number;
  private readonly clock: () => number;
  private readonly base: number;
  private windowEnd = -Infinity;
  private used = 0;
  private suppressed = 0;

  constructor(private readonly o: TracePipeOptions) {
    this.maxPerSec = o.maxPerSec ?? TRACE_LINES_PER_SEC;
    if (!Number.isInteger(this.maxPerSec) || this.maxPerSec < 0) throw new RangeError(`trace pipe: ${this.maxPerSec} lines per second`);
    this.clock = o.clock ?? (() => performance.now());
    // The worker's clock and the runner's differ in origin: both are tied to epoch milliseconds.
    this.base = o.clock === undefined ? performance.timeOrigin - (o.t0 ?? performance.timeOrigin) : -(o.t0 ?? 0);
  }

  /** The ExecEnv trace sink: one line as bpf_trace_printk formatted it. */
  readonly sink = (text: string): void => {
    const now = this.clock();
    if (now >= this.windowEnd) {
      this.postSuppressed(now);
      this.windowEnd = now + 1000;
      this.used = 0;
    }
    if (this.used < this.maxPerSec) {
      this.used++;
      this.forwarded++;
      this.o.post({ ...this.head(now), text: text.endsWith('\n') ? text.slice(0, -1) : text });
    } else {
      this.suppressed++;
      this.suppressedTotal++;
    }
  };

  /** Posts the count of lines the current window suppressed, if any (call before the worker ends). */
  flush(): void {
    this.postSuppressed(this.clock());
  }

  /** A pipe for a worker's workerData.trace, or undefined when the run does not trace. */
  static forWorker(setup: TraceSetup | undefined, worker: string, tid: number | undefined, post: (m: TraceMessage) => void): TracePipe | undefined {
    return setup === undefined ? undefined : new TracePipe({ worker, tid, post, t0: setup.t0, maxPerSec: setup.maxPerSec });
  }

  private postSuppressed(now: number): void {
    if (this.suppressed === 0) return;
    this.o.post({ ...this.head(now), suppressed: this.suppressed });
    this.suppressed = 0;
  }

  private head(now: number): TraceMessageBase {
    return { type: 'trace', worker: this.o.worker, tid: this.o.tid, cpu: this.o.cpu ?? 0, ts: (now + this.base) / 1000 };
  }
}

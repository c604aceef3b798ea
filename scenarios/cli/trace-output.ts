// Where `vxo prog run` sends the program's bpf_trace_printk lines: a stream or file in
// trace_pipe's shape, and/or a list for the JSON output. Lines are written in 64 KiB batches,
// since a run with --repeat 1000000 may print millions; flush() before anything else is printed.
import { closeSync, openSync, writeSync } from 'node:fs';
import { formatTracePipeLine } from '../../bpf-vm/helpers/trace-pipe.ts';
import type { TraceSink } from '../../bpf-vm/interp/env.ts';
import { UsageError } from './errors.ts';

/** The JSON keeps this many lines; the kernel's trace buffer is bounded too. The rest are counted. */
export const JSON_TRACE_MAX = 65536;
const BATCH = 64 * 1024;

export type TraceDest = { kind: 'stderr' } | { kind: 'stdout' } | { kind: 'file'; path: string };

export class TraceOutput {
  /** The texts (without trace_pipe's header), kept for --json. */
  readonly texts: string[] = [];
  /** When each kept text was printed (the trace clock, ns). */
  private readonly times: bigint[] = [];
  /** Lines past JSON_TRACE_MAX, counted only. */
  lost = 0;
  private pending = '';
  private fd: number | undefined;
  /** The CPU the program runs on, for the [CPU] column. */
  cpu = 0;

  constructor(private readonly dest: TraceDest | undefined, private readonly collect: boolean) {
    if (dest?.kind === 'file') {
      try {
        this.fd = openSync(dest.path, 'w');
      } catch (e) {
        throw new UsageError(`cannot write --trace ${dest.path}: ${(e as Error).message}`);
      }
    }
  }

  readonly sink: TraceSink = (text) => {
    const timeNs = process.hrtime.bigint();
    if (this.collect) {
      if (this.texts.length < JSON_TRACE_MAX) {
        this.texts.push(text);
        this.times.push(timeNs);
      } else {
        this.lost++;
      }
    }
    if (this.dest === undefined) return;
    this.pending += this.line(text, timeNs);
    if (this.pending.length >= BATCH) this.flush();
  };

  private line(text: string, timeNs: bigint): string {
    return formatTracePipeLine(text, { comm: 'vxo', pid: process.pid, cpu: this.cpu, timeNs });
  }

  flush(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    if (this.dest?.kind === 'stderr') process.stderr.write(text);
    else if (this.dest?.kind === 'stdout') process.stdout.write(text);
    else if (this.fd !== undefined) writeSync(this.fd, text);
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** For a run that failed with --json and no --trace: the lines would be lost with the JSON, so show them. */
  spillTo(stream: NodeJS.WriteStream): void {
    stream.write(this.texts.map((text, i) => this.line(text, this.times[i]!)).join(''));
  }
}

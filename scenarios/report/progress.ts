// Progress while `vxo table` runs its cells, on stderr so stdout carries only the table. On a
// terminal, a bar redrawn in place. Elsewhere (a CI log, a file), plain lines: a bar's escape
// codes and carriage returns would litter the log, and silence for minutes looks like a hang, so
// one line when the table starts, then at most one every `intervalMs` as runs end, and one when
// the last run ends.

import { createRequire } from 'node:module';
import type * as CliProgress from 'cli-progress';
import { formatRate } from './fmt.ts';

/** The part of a stream the bar needs; process.stderr satisfies it. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): boolean;
}

export interface ProgressOptions {
  /** Cells in this table (8 for a full run). */
  cells: number;
  /** Runs per cell. */
  repeat: number;
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** false: nothing at all (the library's `progress: false`); default on. */
  enabled?: boolean;
  /** Plain lines when the stream is not a terminal (default); false: silent there, as the library is by default. */
  plain?: boolean;
  /** Plain lines: the least time between two (default PROGRESS_LINE_INTERVAL_MS). */
  intervalMs?: number;
  /** Milliseconds, for the elapsed time and the interval (tests). */
  clock?: () => number;
}

/** Plain progress lines come at most this often (the first and the last always come). */
export const PROGRESS_LINE_INTERVAL_MS = 5000;

export interface TableProgress {
  /** A run begins: `cell` and `run` count from 0; `name` is the cell's, e.g. "1/xdp1/offload". */
  start(cell: number, run: number, name: string): void;
  /** The run begun last has finished; its rate, when known, is shown until the next one ends. */
  done(mpps?: number): void;
  /** Remove the bar's timer and end the line; safe to call twice. */
  stop(): void;
}

const SILENT: TableProgress = { start() {}, done() {}, stop() {} };

export function createProgress(opts: ProgressOptions): TableProgress {
  if (opts.enabled === false) return SILENT;
  const stream = opts.stream ?? process.stderr;
  // Decided once: a stream does not become a terminal mid-run.
  if (stream.isTTY === true) return progressBar(opts, stream);
  return opts.plain === false ? SILENT : progressLines(opts, stream);
}

function elapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** "vxo table: run 5/24 done (cell 2/8 1/xdp1/offload, run 2/3): 13.40 Mpps, 0:12 elapsed". */
function progressLines(opts: ProgressOptions, stream: ProgressStream): TableProgress {
  const clock = opts.clock ?? (() => performance.now());
  const interval = opts.intervalMs ?? PROGRESS_LINE_INTERVAL_MS;
  const total = Math.max(1, opts.cells * opts.repeat);
  const t0 = clock();
  let last = -Infinity;
  let completed = 0;
  let current = { cell: 0, run: 0, name: '' };
  let begun = false;
  return {
    start(cell, run, name) {
      current = { cell, run, name };
      if (begun) return;
      begun = true;
      last = clock();
      stream.write(`vxo table: ${opts.cells} cell${opts.cells === 1 ? '' : 's'} x ${opts.repeat} run${opts.repeat === 1 ? '' : 's'}, starting with ${name}\n`);
    },
    done(mpps) {
      completed = Math.min(total, completed + 1);
      const now = clock();
      if (completed < total && now - last < interval) return;
      last = now;
      const rate = mpps !== undefined && Number.isFinite(mpps) ? `: ${rateText(mpps)}` : '';
      stream.write(`vxo table: run ${completed}/${total} done (cell ${current.cell + 1}/${opts.cells} ${current.name}, run ${current.run + 1}/${opts.repeat})${rate}, ${elapsed(now - t0)} elapsed\n`);
    },
    stop() {},
  };
}

function progressBar(opts: ProgressOptions, stream: ProgressStream): TableProgress {
  // Loaded here, not imported: only a terminal's bar needs the library.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof CliProgress;
  const total = Math.max(1, opts.cells * opts.repeat);
  const bar = new cliProgress.SingleBar(
    {
      // The cast is the library's own type: it accepts any writable with write() and isTTY.
      stream: stream as NodeJS.WritableStream,
      format: '{bar} cell {cell}/{cells} run {run}/{repeat} {name} | last {last} | {duration_formatted}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let completed = 0;
  let active = false;
  let payload = { cell: 0, cells: opts.cells, run: 0, repeat: opts.repeat, name: '', last: '-' };

  return {
    start(cell, run, name) {
      payload = { ...payload, cell: cell + 1, run: run + 1, name };
      if (!active) {
        bar.start(total, completed, payload);
        active = true;
      } else bar.update(completed, payload);
    },
    done(mpps) {
      completed = Math.min(total, completed + 1);
      if (mpps !== undefined && Number.isFinite(mpps)) payload = { ...payload, last: rateText(mpps) };
      if (active) bar.update(completed, payload);
    },
    stop() {
      if (!active) return;
      active = false;
      bar.stop();
    },
  };
}

/** A run's rate: Mpps with two decimals as the offload table's, thousands of pps below 0.1 Mpps (a suite's flood on a loaded machine). */
export function rateText(mpps: number): string {
  return mpps >= 0.1 ? `${mpps.toFixed(2)} Mpps` : `${formatRate(mpps * 1e6)} pps`;
}

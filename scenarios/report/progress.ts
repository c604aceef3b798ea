// A progress bar while `vxo table` runs its cells. It writes to stderr so stdout carries only the
// table, and it is entirely silent when stderr is not a terminal: no bar, no escape codes, no
// final newline, so CI logs and redirected output stay clean.

import cliProgress from 'cli-progress';

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
}

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
  const stream = opts.stream ?? process.stderr;
  // Decided once: a stream does not become a terminal mid-run, and checking here means the
  // library is never even constructed for a pipe.
  if (stream.isTTY !== true) return SILENT;

  const total = Math.max(1, opts.cells * opts.repeat);
  const bar = new cliProgress.SingleBar(
    {
      // The cast is the library's own type: it accepts any writable with write() and isTTY.
      stream: stream as NodeJS.WritableStream,
      format: '{bar} cell {cell}/{cells} run {run}/{repeat} {name} | last {last} Mpps | {duration_formatted}',
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
      if (mpps !== undefined && Number.isFinite(mpps)) payload = { ...payload, last: mpps.toFixed(2) };
      if (active) bar.update(completed, payload);
    },
    stop() {
      if (!active) return;
      active = false;
      bar.stop();
    },
  };
}

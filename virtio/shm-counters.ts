// Counters a worker keeps in shared memory so another thread (the scenario runner) can read them
// while the run goes on, without a message: one Float64 slot per named counter, written with
// plain stores by the one owning thread (a 64-bit store is not torn on the hosts Node supports),
// read whenever the reader likes. Exact at the end of a run, a moment old during it. A sequence
// cell (a seqlock: odd while a publication is being written) lets snapshot() take one whole
// publication: a run's window subtracts counters that must agree (the tap's frames put to user and
// vhost's delivered ones), which half of one publication and half of the next would not. The
// slots sit a cache line into their buffer, with a line after them, so they share no line with
// other cells; the sequence cell is the first word of the line before them.
import { CACHE_LINE } from './shared-cells.ts';

export interface SharedCounters {
  names: readonly string[];
  buffer: SharedArrayBuffer;
}

export class ShmCounters {
  readonly names: readonly string[];
  readonly values: Float64Array;
  /** [0]: the publication sequence, odd while one is being written. */
  private readonly seq: Int32Array;
  /** Where snapshot() copies the slots before it checks the sequence. */
  private readonly scratch: Float64Array;
  private readonly index: Map<string, number>;
  /** Least time between two publications that due() allows (ms). */
  intervalMs = 2;
  private last = -Infinity;

  constructor(shared: SharedCounters) {
    if (!(shared.buffer instanceof SharedArrayBuffer) || shared.buffer.byteLength < shmCountersBytes(shared.names.length)) {
      throw new TypeError(`shared counters: a buffer of ${shmCountersBytes(shared.names.length)} bytes is needed`);
    }
    this.names = shared.names;
    this.values = new Float64Array(shared.buffer, CACHE_LINE, shared.names.length);
    this.seq = new Int32Array(shared.buffer, 0, 1);
    this.scratch = new Float64Array(shared.names.length);
    this.index = new Map(shared.names.map((n, i) => [n, i]));
  }

  static create(names: readonly string[]): ShmCounters {
    return new ShmCounters({ names: [...names], buffer: new SharedArrayBuffer(shmCountersBytes(names.length)) });
  }

  share(): SharedCounters {
    return { names: this.names, buffer: this.values.buffer as SharedArrayBuffer };
  }

  /** The slot of a counter (hot paths keep it and write values[slot] directly). */
  slot(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw new RangeError(`no counter '${name}' (have ${this.names.join(', ')})`);
    return i;
  }

  /**
   * True at most once per `intervalMs`: building a flat record of a worker's counters allocates,
   * and a worker that publishes on every sleep (tens of thousands a second) would feed the garbage
   * collector's threads, which then take CPU from the data path. A reader sees values at most
   * this old; the final publication on the way out is unconditional.
   */
  due(now = performance.now()): boolean {
    if (now - this.last < this.intervalMs) return false;
    this.last = now;
    return true;
  }

  get(name: string): number {
    return this.values[this.slot(name)]!;
  }

  /** Copies a flat record of numbers into the slots of the same names (others are ignored). */
  publish(record: Readonly<Record<string, number>>): void {
    Atomics.add(this.seq, 0, 1);
    for (let i = 0; i < this.names.length; i++) {
      const v = record[this.names[i]!];
      if (v !== undefined) this.values[i] = v;
    }
    Atomics.add(this.seq, 0, 1);
  }

  /**
   * One whole publication: the slots are copied into a scratch array (a few hundred nanoseconds,
   * so a writer publishing back to back still leaves gaps to land in) and kept only if the
   * sequence was even and unchanged across the copy. A writer caught mid-publication and then
   * descheduled is waited for (Atomics.wait on the sequence cell, 1 ms at a time), up to
   * `maxWaitMs`; past that the last copy is returned rather than blocking the reader for good.
   */
  snapshot(maxWaitMs = 200): Record<string, number> {
    const tmp = this.scratch;
    const seq = this.seq;
    let deadline = 0;
    for (let tries = 0; ; tries++) {
      const s0 = Atomics.load(seq, 0);
      if ((s0 & 1) === 0) {
        tmp.set(this.values);
        if (Atomics.load(seq, 0) === s0) break;
      }
      if ((tries & 63) === 63) {
        const now = performance.now();
        if (deadline === 0) deadline = now + maxWaitMs;
        else if (now >= deadline) break;
        if ((s0 & 1) !== 0) Atomics.wait(seq, 0, s0, 1);
      }
    }
    const out: Record<string, number> = {};
    for (let i = 0; i < this.names.length; i++) out[this.names[i]!] = tmp[i]!;
    return out;
  }
}

function shmCountersBytes(n: number): number {
  return CACHE_LINE + Math.ceil((8 * n) / CACHE_LINE) * CACHE_LINE + CACHE_LINE;
}

// Counters a worker keeps in shared memory so another thread (the scenario runner) can read them
// while the run goes on, without a message: one Float64 slot per named counter, written with
// plain stores by the one owning thread (a 64-bit store is not torn on the hosts Node supports),
// read whenever the reader likes. Exact at the end of a run, a moment old during it. The slots sit
// a cache line into their buffer, with a line after them, so they share no line with other cells.
import { CACHE_LINE } from './shared-cells.ts';

export interface SharedCounters {
  names: readonly string[];
  buffer: SharedArrayBuffer;
}

export class ShmCounters {
  readonly names: readonly string[];
  readonly values: Float64Array;
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
    for (let i = 0; i < this.names.length; i++) {
      const v = record[this.names[i]!];
      if (v !== undefined) this.values[i] = v;
    }
  }

  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.names.length; i++) out[this.names[i]!] = this.values[i]!;
    return out;
  }
}

function shmCountersBytes(n: number): number {
  return CACHE_LINE + Math.ceil((8 * n) / CACHE_LINE) * CACHE_LINE + CACHE_LINE;
}

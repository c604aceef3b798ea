// The bridge's forwarding database: MAC -> port, an open-addressing hash table in typed arrays.
// A MAC as one number is up to 48 bits, beyond V8's small integers, so a Map keyed by it would box
// a heap number per lookup; here the key stays two int32 halves and a lookup allocates nothing.
// Entries are never aged out (the benchmark's topology is static); the table refuses to grow past
// its limit instead, and the bridge floods what it cannot learn.
import { HostNetError } from './errors.ts';

export const FDB_LEARN = {
  /** Already known on this port. */
  KNOWN: 0,
  LEARNED: 1,
  /** Known on another port: moved. */
  MOVED: 2,
  /** The table is at its limit: not learned. */
  FULL: 3,
} as const;

export class Fdb {
  readonly limit: number;
  private readonly mask: number;
  /** Per slot: hi16 + 1 (0 = empty), lo32, port. */
  private readonly his: Int32Array;
  private readonly los: Int32Array;
  private readonly ports: Int32Array;
  size = 0;

  constructor(limit = 4096) {
    if (!Number.isInteger(limit) || limit < 1 || limit > 1 << 20) throw new HostNetError('EINVAL', `fdb: limit ${limit}`);
    this.limit = limit;
    let cap = 2;
    while (cap < 2 * limit) cap *= 2; // load factor at most 1/2: short probe runs
    this.mask = cap - 1;
    this.his = new Int32Array(cap);
    this.los = new Int32Array(cap);
    this.ports = new Int32Array(cap);
  }

  /** The port of MAC (hi16, lo32), or -1. */
  lookup(hi: number, lo: number): number {
    const his = this.his, los = this.los, mask = this.mask, key = hi + 1;
    for (let i = slotOf(hi, lo) & mask; ; i = (i + 1) & mask) {
      const h = his[i]!;
      if (h === 0) return -1;
      if (h === key && los[i] === lo) return this.ports[i]!;
    }
  }

  /** Records that MAC (hi16, lo32) lives on `port`; returns what changed (FDB_LEARN). */
  learn(hi: number, lo: number, port: number): number {
    const his = this.his, los = this.los, mask = this.mask, key = hi + 1;
    for (let i = slotOf(hi, lo) & mask; ; i = (i + 1) & mask) {
      const h = his[i]!;
      if (h === 0) {
        if (this.size >= this.limit) return FDB_LEARN.FULL;
        his[i] = key;
        los[i] = lo;
        this.ports[i] = port;
        this.size++;
        return FDB_LEARN.LEARNED;
      }
      if (h === key && los[i] === lo) {
        if (this.ports[i] === port) return FDB_LEARN.KNOWN;
        this.ports[i] = port;
        return FDB_LEARN.MOVED;
      }
    }
  }
}

function slotOf(hi: number, lo: number): number {
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 16;
}

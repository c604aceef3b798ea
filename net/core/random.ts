// get_random_u32() for one emulated kernel: xoshiro128** seeded through splitmix32. Seeded, so a
// test that fixes the seed gets the same ephemeral ports and hash secrets on every run; a machine
// without a seed takes one from the operating system.
import { randomFillSync } from 'node:crypto';

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Prandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed?: number) {
    const s = seed ?? randomFillSync(new Uint32Array(1))[0]!;
    const st = { s: s | 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** get_random_u32(). */
  get_random_u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** get_random_u32_below(ceil): uniform in [0, ceil), ceil in 1..2^32. */
  get_random_u32_below(ceil: number): number {
    return Math.floor((this.get_random_u32() * ceil) / 4294967296);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

// Tristate numbers: a 64-bit value of which some bits are known (in `value`) and the others unknown
// (set in `mask`). Every operation over-approximates: for all x in a and y in b, op(x, y) is in op(a, b).
// BigInt throughout; the verifier is not on the per-packet path.

export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

export const U64_MASK = (1n << 64n) - 1n;
export const U32_MASK = 0xffffffffn;

const u64 = (x: bigint): bigint => x & U64_MASK;

export const tnumConst = (v: bigint): Tnum => ({ value: u64(v), mask: 0n });
export const TNUM_UNKNOWN: Tnum = { value: 0n, mask: U64_MASK };

/** Number of the highest set bit, 1-based (0 for 0). */
function fls64(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** The smallest tnum containing every value of [min, max] (unsigned). */
export function tnumRange(min: bigint, max: bigint): Tnum {
  const chi = min ^ max;
  const bits = fls64(chi);
  if (bits > 63) return TNUM_UNKNOWN;
  const delta = (1n << BigInt(bits)) - 1n;
  return { value: min & ~delta & U64_MASK, mask: delta };
}

export const tnumIsConst = (a: Tnum): boolean => a.mask === 0n;
export const tnumEqualsConst = (a: Tnum, v: bigint): boolean => a.mask === 0n && a.value === u64(v);
export const tnumIsUnknown = (a: Tnum): boolean => a.mask === U64_MASK;
export const tnumEquals = (a: Tnum, b: Tnum): boolean => a.value === b.value && a.mask === b.mask;

export function tnumLshift(a: Tnum, shift: number): Tnum {
  const s = BigInt(shift);
  return { value: u64(a.value << s), mask: u64(a.mask << s) };
}

export function tnumRshift(a: Tnum, shift: number): Tnum {
  const s = BigInt(shift);
  return { value: a.value >> s, mask: a.mask >> s };
}

/** Arithmetic right shift within `bits` (32 or 64): the sign bit, known or not, is replicated. */
export function tnumArshift(a: Tnum, shift: number, bits: number): Tnum {
  const w = BigInt(bits);
  const wmask = (1n << w) - 1n;
  const s = BigInt(shift);
  const sext = (x: bigint): bigint => BigInt.asIntN(bits, x);
  return { value: (sext(a.value) >> s) & wmask, mask: (sext(a.mask) >> s) & wmask };
}

export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sm = u64(a.mask + b.mask);
  const sv = u64(a.value + b.value);
  const sigma = u64(sm + sv);
  const chi = sigma ^ sv;
  const mu = chi | a.mask | b.mask;
  return { value: sv & ~mu & U64_MASK, mask: mu };
}

export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const dv = u64(a.value - b.value);
  const alpha = u64(dv + a.mask);
  const beta = u64(dv - b.mask);
  const chi = alpha ^ beta;
  const mu = chi | a.mask | b.mask;
  return { value: dv & ~mu & U64_MASK, mask: mu };
}

export function tnumNeg(a: Tnum): Tnum {
  return tnumSub(tnumConst(0n), a);
}

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const alpha = a.value | a.mask;
  const beta = b.value | b.mask;
  const v = a.value & b.value;
  return { value: v, mask: alpha & beta & ~v & U64_MASK };
}

export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask | b.mask;
  return { value: v, mask: mu & ~v & U64_MASK };
}

export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const v = a.value ^ b.value;
  const mu = a.mask | b.mask;
  return { value: v & ~mu & U64_MASK, mask: mu };
}

/**
 * Shift-and-add multiplication: for each bit of a, add b shifted (a known 1 adds b's unknown
 * part on top of the exact product of the known values; an unknown bit adds all of b's possible bits).
 */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  const accV = u64(a.value * b.value);
  let accM: Tnum = tnumConst(0n);
  let x = a;
  let y = b;
  while (x.value !== 0n || x.mask !== 0n) {
    if ((x.value & 1n) !== 0n) accM = tnumAdd(accM, { value: 0n, mask: y.mask });
    else if ((x.mask & 1n) !== 0n) accM = tnumAdd(accM, { value: 0n, mask: y.value | y.mask });
    x = tnumRshift(x, 1);
    y = tnumLshift(y, 1);
  }
  return tnumAdd(tnumConst(accV), accM);
}

/** Values known to be in both a and b (the caller knows both hold). */
export function tnumIntersect(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return { value: v & ~mu & U64_MASK, mask: mu };
}

/** Whether the two tnums can share a value at all. */
export function tnumOverlaps(a: Tnum, b: Tnum): boolean {
  return ((a.value ^ b.value) & ~(a.mask | b.mask) & U64_MASK) === 0n;
}

/** Truncation to `size` bytes (zero-extended). */
export function tnumCast(a: Tnum, size: number): Tnum {
  if (size >= 8) return a;
  const m = (1n << BigInt(size * 8)) - 1n;
  return { value: a.value & m, mask: a.mask & m };
}

/** Sign extension of the low `bits` bits to 64 bits. */
export function tnumSext(a: Tnum, bits: number): Tnum {
  const b = BigInt(bits);
  const low = (1n << b) - 1n;
  const sign = 1n << (b - 1n);
  const high = U64_MASK & ~low;
  const v = a.value & low, m = a.mask & low;
  if ((m & sign) !== 0n) return { value: v, mask: m | high };
  if ((v & sign) !== 0n) return { value: v | high, mask: m };
  return { value: v, mask: m };
}

/** Byte swap of the low `bytes` bytes (the rest cleared), as BPF_END to big-endian does on a little-endian host. */
export function tnumBswap(a: Tnum, bytes: number): Tnum {
  const swap = (x: bigint): bigint => {
    let r = 0n;
    for (let i = 0; i < bytes; i++) r = (r << 8n) | ((x >> BigInt(8 * i)) & 0xffn);
    return r;
  };
  return { value: swap(a.value), mask: swap(a.mask) };
}

/** Whether b's possible values are all possible values of a. */
export function tnumIn(a: Tnum, b: Tnum): boolean {
  if ((b.mask & ~a.mask & U64_MASK) !== 0n) return false;
  return (b.value & ~a.mask & U64_MASK) === a.value;
}

export function tnumIsAligned(a: Tnum, size: number): boolean {
  if (size <= 1) return true;
  return ((a.value | a.mask) & BigInt(size - 1)) === 0n;
}

export const tnumSubreg = (a: Tnum): Tnum => tnumCast(a, 4);
export const tnumClearSubreg = (a: Tnum): Tnum => ({ value: a.value & ~U32_MASK & U64_MASK, mask: a.mask & ~U32_MASK & U64_MASK });

/** a's upper half with `sub` as the lower half. */
export function tnumWithSubreg(a: Tnum, sub: Tnum): Tnum {
  const hi = tnumClearSubreg(a);
  const lo = tnumSubreg(sub);
  return { value: hi.value | lo.value, mask: hi.mask | lo.mask };
}

export const tnumMin = (a: Tnum): bigint => a.value;
export const tnumMax = (a: Tnum): bigint => a.value | a.mask;

/** The kernel's `(0x0; 0xff)` rendering. */
export function tnumToString(a: Tnum): string {
  return `(0x${a.value.toString(16)}; 0x${a.mask.toString(16)})`;
}

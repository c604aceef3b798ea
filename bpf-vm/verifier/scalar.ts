// A scalar's abstract value: signed and unsigned bounds of the 64-bit value and of its low 32-bit
// subregister, plus a tnum of known bits. The four views constrain each other; `syncScalar` lets
// each tighten the others (the kernel's reg_bounds_sync idea) and reports contradictions.
import {
  tnumCast, tnumConst, tnumIntersect, tnumIsConst, tnumRange, tnumSext, tnumSubreg, tnumWithSubreg,
  TNUM_UNKNOWN, U32_MASK, U64_MASK, type Tnum,
} from './tnum.ts';

export const S64_MIN = -(1n << 63n);
export const S64_MAX = (1n << 63n) - 1n;
export const U64_MAX = U64_MASK;
export const S32_MIN = -(1n << 31n);
export const S32_MAX = (1n << 31n) - 1n;
export const U32_MAX = U32_MASK;

export interface Scalar {
  readonly smin: bigint;
  readonly smax: bigint;
  readonly umin: bigint;
  readonly umax: bigint;
  readonly s32min: bigint;
  readonly s32max: bigint;
  readonly u32min: bigint;
  readonly u32max: bigint;
  readonly t: Tnum;
}

type Mut = { -readonly [K in keyof Scalar]: Scalar[K] };

/** Bounds of one width (the 64-bit value, or the 32-bit subregister). */
export interface Val {
  smin: bigint;
  smax: bigint;
  umin: bigint;
  umax: bigint;
  t: Tnum;
}

const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const s32 = (x: bigint): bigint => BigInt.asIntN(32, x);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

export const SCALAR_UNKNOWN: Scalar = Object.freeze({
  smin: S64_MIN, smax: S64_MAX, umin: 0n, umax: U64_MAX,
  s32min: S32_MIN, s32max: S32_MAX, u32min: 0n, u32max: U32_MAX, t: TNUM_UNKNOWN,
});

export function scalarConst(v: bigint): Scalar {
  const u = BigInt.asUintN(64, v);
  const lo = u & U32_MASK;
  return {
    smin: s64(u), smax: s64(u), umin: u, umax: u,
    s32min: s32(lo), s32max: s32(lo), u32min: lo, u32max: lo, t: tnumConst(u),
  };
}

export const SCALAR_ZERO: Scalar = Object.freeze(scalarConst(0n));

export const isConst = (s: Scalar): boolean => tnumIsConst(s.t);
export const isConstValue = (s: Scalar, v: bigint): boolean => tnumIsConst(s.t) && s.t.value === BigInt.asUintN(64, v);
/** The constant (as u64); only meaningful when isConst. */
export const constValue = (s: Scalar): bigint => s.t.value;
export const isConst32 = (s: Scalar): boolean => tnumIsConst(tnumSubreg(s.t));

export const isUnbounded = (s: Scalar): boolean =>
  s.smin === S64_MIN && s.smax === S64_MAX && s.umin === 0n && s.umax === U64_MAX;

/** The 64-bit view. */
export const val64 = (s: Scalar): Val => ({ smin: s.smin, smax: s.smax, umin: s.umin, umax: s.umax, t: s.t });
/** The 32-bit subregister view. */
export const val32 = (s: Scalar): Val => ({ smin: s.s32min, smax: s.s32max, umin: s.u32min, umax: s.u32max, t: tnumSubreg(s.t) });

/** A scalar from its two views; the result is synced (undefined if the views contradict each other). */
export function fromVals(v64: Val, v32?: Val): Scalar | undefined {
  const m: Mut = {
    smin: v64.smin, smax: v64.smax, umin: v64.umin, umax: v64.umax,
    s32min: S32_MIN, s32max: S32_MAX, u32min: 0n, u32max: U32_MAX, t: v64.t,
  };
  if (v32 !== undefined) {
    m.s32min = v32.smin; m.s32max = v32.smax; m.u32min = v32.umin; m.u32max = v32.umax;
    m.t = tnumWithSubreg(m.t, tnumIntersect(tnumSubreg(m.t), v32.t));
  }
  return syncScalar(m);
}

/** The 32-bit view zero-extended to 64 bits (what every ALU32 result and 32-bit load is). */
export function zext32(v32: Val): Scalar {
  const t = tnumCast(v32.t, 4);
  const m: Mut = {
    smin: 0n, smax: U32_MAX, umin: 0n, umax: U32_MAX,
    s32min: v32.smin, s32max: v32.smax, u32min: v32.umin, u32max: v32.umax, t,
  };
  return syncScalar(m) ?? unknownOfSize(4);
}

/** An unknown value of `size` bytes, zero-extended. */
export function unknownOfSize(size: number): Scalar {
  if (size >= 8) return SCALAR_UNKNOWN;
  const top = (1n << BigInt(size * 8)) - 1n;
  const m: Mut = {
    smin: 0n, smax: top, umin: 0n, umax: top,
    s32min: S32_MIN, s32max: S32_MAX, u32min: 0n, u32max: min(top, U32_MAX), t: tnumRange(0n, top),
  };
  return syncScalar(m)!;
}

/** An unknown value of `size` bytes, sign-extended to 64 bits (sign-extending loads). */
export function unknownSigned(size: number): Scalar {
  const bits = BigInt(size * 8);
  const lo = -(1n << (bits - 1n)), hi = (1n << (bits - 1n)) - 1n;
  const m: Mut = { ...SCALAR_UNKNOWN, smin: lo, smax: hi };
  return syncScalar(m)!;
}

/** The value truncated to `size` bytes and zero-extended (a narrow store followed by a load). */
export function truncate(s: Scalar, size: number): Scalar {
  if (size >= 8) return s;
  if (size === 4) return zext32(val32(s));
  const top = (1n << BigInt(size * 8)) - 1n;
  const fits = s.umax <= top;
  const m: Mut = {
    ...SCALAR_UNKNOWN,
    umin: fits ? s.umin : 0n, umax: fits ? s.umax : top, smin: 0n, smax: top, t: tnumCast(s.t, size),
  };
  return syncScalar(m) ?? unknownOfSize(size);
}

/** Sign extension of the low `bits` bits (movsx, ldsx). */
export function signExtend(s: Scalar, bits: 8 | 16 | 32): Scalar {
  const b = BigInt(bits);
  const low = (1n << b) - 1n;
  const half = 1n << (b - 1n);
  let lo = -half, hi = half - 1n;
  // The low bits form a contiguous range when the high parts of umin and umax agree.
  if (s.umin >> b === s.umax >> b) {
    const a = BigInt.asIntN(bits, s.umin & low), c = BigInt.asIntN(bits, s.umax & low);
    if (a <= c) { lo = a; hi = c; }
  }
  const m: Mut = { ...SCALAR_UNKNOWN, smin: lo, smax: hi, t: tnumSext(s.t, bits) };
  return syncScalar(m) ?? unknownSigned(bits / 8);
}

/**
 * Lets every view tighten the others until nothing changes (bounded). Returns undefined when the
 * constraints admit no value: the caller treats that as an impossible path.
 */
export function syncScalar(m: Mut): Scalar | undefined {
  for (let i = 0; i < 4; i++) {
    const { smin, smax, umin, umax, s32min, s32max, u32min, u32max, t } = m;
    step(m);
    if (!feasible(m)) return undefined;
    if (smin === m.smin && smax === m.smax && umin === m.umin && umax === m.umax && s32min === m.s32min &&
      s32max === m.s32max && u32min === m.u32min && u32max === m.u32max && t.value === m.t.value && t.mask === m.t.mask) break;
  }
  return m;
}

function feasible(m: Mut): boolean {
  return m.smin <= m.smax && m.umin <= m.umax && m.s32min <= m.s32max && m.u32min <= m.u32max &&
    (m.t.value & m.t.mask) === 0n;
}

const SIGN64 = 1n << 63n;
const SIGN32 = 1n << 31n;
const HI32 = U64_MASK ^ U32_MASK;

function step(m: Mut): void {
  // Known bits bound the values.
  const t = m.t;
  m.umin = max(m.umin, t.value);
  m.umax = min(m.umax, t.value | t.mask);
  m.smin = max(m.smin, s64(t.value | (t.mask & SIGN64)));
  m.smax = min(m.smax, s64(t.value | (t.mask & ~SIGN64 & U64_MASK)));
  const t32 = tnumSubreg(t);
  m.u32min = max(m.u32min, t32.value);
  m.u32max = min(m.u32max, t32.value | t32.mask);
  m.s32min = max(m.s32min, s32(t32.value | (t32.mask & SIGN32)));
  m.s32max = min(m.s32max, s32(t32.value | (t32.mask & (SIGN32 - 1n))));

  // 64-bit ranges confined to one 2^32 block bound the low half.
  if (m.umin >> 32n === m.umax >> 32n) {
    const a = m.umin & U32_MASK, b = m.umax & U32_MASK;
    m.u32min = max(m.u32min, a);
    m.u32max = min(m.u32max, b);
    if (s32(a) <= s32(b)) { m.s32min = max(m.s32min, s32(a)); m.s32max = min(m.s32max, s32(b)); }
  }
  if (m.smin >> 32n === m.smax >> 32n) {
    const a = m.smin & U32_MASK, b = m.smax & U32_MASK;
    m.u32min = max(m.u32min, a);
    m.u32max = min(m.u32max, b);
    if (s32(a) <= s32(b)) { m.s32min = max(m.s32min, s32(a)); m.s32max = min(m.s32max, s32(b)); }
  }
  // Signed and unsigned agree when a range does not cross the sign boundary.
  if (m.s32min >= 0n || m.s32max < 0n) {
    m.u32min = max(m.u32min, m.s32min & U32_MASK);
    m.u32max = min(m.u32max, m.s32max & U32_MASK);
  }
  if (s32(m.u32min) <= s32(m.u32max)) {
    m.s32min = max(m.s32min, s32(m.u32min));
    m.s32max = min(m.s32max, s32(m.u32max));
  }
  if (m.smin >= 0n || m.smax < 0n) {
    m.umin = max(m.umin, m.smin & U64_MASK);
    m.umax = min(m.umax, m.smax & U64_MASK);
  }
  if (s64(m.umin) <= s64(m.umax)) {
    m.smin = max(m.smin, s64(m.umin));
    m.smax = min(m.smax, s64(m.umax));
  }
  // The low half's bounds bound the 64-bit value within its first and last 2^32 block.
  m.umin = max(m.umin, (m.umin & HI32) | m.u32min);
  m.umax = min(m.umax, (m.umax & HI32) | m.u32max);
  m.smin = max(m.smin, (m.smin & ~U32_MASK) | m.u32min);
  m.smax = min(m.smax, (m.smax & ~U32_MASK) | m.u32max);
  // And the ranges give known bits.
  if (m.umin <= m.umax) {
    let nt = tnumIntersect(m.t, tnumRange(m.umin, m.umax));
    if (m.u32min <= m.u32max) nt = tnumWithSubreg(nt, tnumIntersect(tnumSubreg(nt), tnumRange(m.u32min, m.u32max)));
    m.t = nt;
  }
}

/** Intersection of two scalars known to describe the same value (undefined if disjoint). */
export function intersectScalars(a: Scalar, b: Scalar): Scalar | undefined {
  if (((a.t.value ^ b.t.value) & ~(a.t.mask | b.t.mask) & U64_MASK) !== 0n) return undefined;
  return syncScalar({
    smin: max(a.smin, b.smin), smax: min(a.smax, b.smax), umin: max(a.umin, b.umin), umax: min(a.umax, b.umax),
    s32min: max(a.s32min, b.s32min), s32max: min(a.s32max, b.s32max),
    u32min: max(a.u32min, b.u32min), u32max: min(a.u32max, b.u32max),
    t: tnumIntersect(a.t, b.t),
  });
}

/** Whether every value `cur` admits is admitted by `old` (pruning's range_within + tnum_in). */
export function scalarWithin(old: Scalar, cur: Scalar): boolean {
  if (old === cur) return true;
  if (old.smin > cur.smin || old.smax < cur.smax || old.umin > cur.umin || old.umax < cur.umax) return false;
  if (old.s32min > cur.s32min || old.s32max < cur.s32max || old.u32min > cur.u32min || old.u32max < cur.u32max) return false;
  if ((cur.t.mask & ~old.t.mask & U64_MASK) !== 0n) return false;
  return (cur.t.value & ~old.t.mask & U64_MASK) === old.t.value;
}

export function scalarEquals(a: Scalar, b: Scalar): boolean {
  return a === b || (a.smin === b.smin && a.smax === b.smax && a.umin === b.umin && a.umax === b.umax &&
    a.s32min === b.s32min && a.s32max === b.s32max && a.u32min === b.u32min && a.u32max === b.u32max &&
    a.t.value === b.t.value && a.t.mask === b.t.mask);
}

/** Whether a concrete u64 value is admitted (tests, facts). */
export function scalarContains(s: Scalar, v: bigint): boolean {
  const u = BigInt.asUintN(64, v), sv = s64(u), lo = u & U32_MASK;
  return u >= s.umin && u <= s.umax && sv >= s.smin && sv <= s.smax &&
    lo >= s.u32min && lo <= s.u32max && s32(lo) >= s.s32min && s32(lo) <= s.s32max &&
    (u & ~s.t.mask & U64_MASK) === s.t.value;
}

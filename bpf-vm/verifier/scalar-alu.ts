// Transfer functions of the ALU over abstract scalars. `valOp` works at any width (8 for exhaustive
// tests, 32 for subregisters, 64), `concreteOp` is the ISA's semantics on one pair of values (RFC 9669:
// division by zero gives 0, modulo by zero leaves the dividend, shift counts are masked).
import {
  fromVals, isConst, SCALAR_UNKNOWN, scalarConst, val32, val64, zext32, type Scalar, type Val,
} from './scalar.ts';
import {
  tnumAdd, tnumAnd, tnumArshift, tnumCast, tnumConst, tnumIsConst, tnumLshift, tnumMul, tnumOr, tnumRange,
  tnumRshift, tnumSub, tnumXor, type Tnum,
} from './tnum.ts';

export type AluOp = 'add' | 'sub' | 'mul' | 'div' | 'sdiv' | 'mod' | 'smod' | 'or' | 'and' | 'xor' | 'lsh' | 'rsh' | 'arsh';
export type Width = 8 | 16 | 32 | 64;

const umaxOf = (w: Width): bigint => (1n << BigInt(w)) - 1n;
const sminOf = (w: Width): bigint => -(1n << BigInt(w - 1));
const smaxOf = (w: Width): bigint => (1n << BigInt(w - 1)) - 1n;
const minB = (...xs: bigint[]): bigint => xs.reduce((a, b) => (b < a ? b : a));
const maxB = (...xs: bigint[]): bigint => xs.reduce((a, b) => (b > a ? b : a));

/** The ISA's result of `x op y` at width w (operands and result unsigned, reduced mod 2^w). */
export function concreteOp(op: AluOp, x: bigint, y: bigint, w: Width): bigint {
  const u = (v: bigint): bigint => BigInt.asUintN(w, v);
  const s = (v: bigint): bigint => BigInt.asIntN(w, v);
  x = u(x); y = u(y);
  const sh = Number(y & BigInt(w - 1));
  switch (op) {
    case 'add': return u(x + y);
    case 'sub': return u(x - y);
    case 'mul': return u(x * y);
    case 'div': return y === 0n ? 0n : x / y;
    case 'mod': return y === 0n ? x : x % y;
    case 'sdiv': {
      if (y === 0n) return 0n;
      return u(s(x) / s(y)); // BigInt division truncates; INT_MIN / -1 wraps back to INT_MIN
    }
    case 'smod': return y === 0n ? x : u(s(x) % s(y));
    case 'or': return x | y;
    case 'and': return x & y;
    case 'xor': return x ^ y;
    case 'lsh': return u(x << BigInt(sh));
    case 'rsh': return x >> BigInt(sh);
    case 'arsh': return u(s(x) >> BigInt(sh));
  }
}

/** Every value of width w. */
export function fullVal(w: Width): Val {
  return { smin: sminOf(w), smax: smaxOf(w), umin: 0n, umax: umaxOf(w), t: tnumCast({ value: 0n, mask: umaxOf(w) }, w / 8) };
}

/** Bounds implied by a tnum alone. */
export function valFromTnum(t: Tnum, w: Width): Val {
  const sign = 1n << BigInt(w - 1);
  return {
    umin: t.value, umax: t.value | t.mask,
    smin: BigInt.asIntN(w, t.value | (t.mask & sign)),
    smax: BigInt.asIntN(w, t.value | (t.mask & (sign - 1n))),
    t,
  };
}

function constVal(v: bigint, w: Width): Val {
  const u = BigInt.asUintN(w, v);
  return { smin: BigInt.asIntN(w, u), smax: BigInt.asIntN(w, u), umin: u, umax: u, t: tnumConst(u) };
}

function withRanges(t: Tnum, w: Width, u?: [bigint, bigint], s?: [bigint, bigint]): Val {
  const v = valFromTnum(tnumCast(t, w / 8), w);
  if (u) { v.umin = maxB(v.umin, u[0]); v.umax = minB(v.umax, u[1]); }
  if (s) { v.smin = maxB(v.smin, s[0]); v.smax = minB(v.smax, s[1]); }
  if (v.umin > v.umax || v.smin > v.smax) return fullVal(w);
  return v;
}

/** [lo, hi] of an exact range computation that may have wrapped at width w (signed or not). */
function wrapRange(lo: bigint, hi: bigint, rmin: bigint, rmax: bigint, w: Width): [bigint, bigint] | undefined {
  const span = 1n << BigInt(w);
  if (lo >= rmin && hi <= rmax) return [lo, hi];
  if (lo > rmax && hi > rmax && hi - lo < span) return [lo - span, hi - span];
  if (lo < rmin && hi < rmin && hi - lo < span) return [lo + span, hi + span];
  return undefined;
}

function tnumUnion(a: Tnum, b: Tnum): Tnum {
  const mu = a.mask | b.mask | (a.value ^ b.value);
  return { value: a.value & ~mu, mask: mu };
}

function shiftTnum(a: Tnum, k1: number, k2: number, f: (t: Tnum, k: number) => Tnum): Tnum {
  let t = f(a, k1);
  for (let k = k1 + 1; k <= k2; k++) t = tnumUnion(t, f(a, k));
  return t;
}

/** An over-approximation of { x op y | x in a, y in b } at width w. */
export function valOp(op: AluOp, a: Val, b: Val, w: Width): Val {
  if (tnumIsConst(a.t) && tnumIsConst(b.t)) return constVal(concreteOp(op, a.t.value, b.t.value, w), w);
  const UMAX = umaxOf(w), SMIN = sminOf(w), SMAX = smaxOf(w);
  const bytes = w / 8;
  switch (op) {
    case 'add': {
      const t = tnumAdd(a.t, b.t);
      return withRanges(t, w, wrapRange(a.umin + b.umin, a.umax + b.umax, 0n, UMAX, w), wrapRange(a.smin + b.smin, a.smax + b.smax, SMIN, SMAX, w));
    }
    case 'sub': {
      const t = tnumSub(a.t, b.t);
      return withRanges(t, w, wrapRange(a.umin - b.umax, a.umax - b.umin, 0n, UMAX, w), wrapRange(a.smin - b.smax, a.smax - b.smin, SMIN, SMAX, w));
    }
    case 'mul': {
      const t = tnumMul(a.t, b.t);
      const hi = a.umax * b.umax;
      const u: [bigint, bigint] | undefined = hi <= UMAX ? [a.umin * b.umin, hi] : undefined;
      const p = [a.smin * b.smin, a.smin * b.smax, a.smax * b.smin, a.smax * b.smax];
      const s: [bigint, bigint] | undefined = minB(...p) >= SMIN && maxB(...p) <= SMAX ? [minB(...p), maxB(...p)] : undefined;
      return withRanges(t, w, u, s);
    }
    case 'and': {
      const t = tnumAnd(a.t, b.t);
      const s: [bigint, bigint] | undefined = a.smin >= 0n || b.smin >= 0n
        ? [0n, minB(...[a, b].filter((v) => v.smin >= 0n).map((v) => v.smax))] : undefined;
      return withRanges(t, w, [0n, minB(a.umax, b.umax)], s);
    }
    case 'or': {
      const t = tnumOr(a.t, b.t);
      return withRanges(t, w, [maxB(a.umin, b.umin), UMAX]);
    }
    case 'xor': return withRanges(tnumXor(a.t, b.t), w);
    case 'lsh': case 'rsh': case 'arsh': {
      if (b.umax >= BigInt(w)) return fullVal(w);
      const k1 = Number(b.umin), k2 = Number(b.umax);
      const K1 = BigInt(k1), K2 = BigInt(k2);
      if (op === 'lsh') {
        const t = shiftTnum(a.t, k1, k2, (x, k) => tnumCast(tnumLshift(x, k), bytes));
        const u: [bigint, bigint] | undefined = (a.umax << K2) <= UMAX ? [a.umin << K1, a.umax << K2] : undefined;
        // Signed bounds follow from the unsigned ones only, as in the kernel (scalarAlu adds its
        // special case of << 32 on a non-negative low half).
        return withRanges(t, w, u);
      }
      if (op === 'rsh') {
        const t = shiftTnum(a.t, k1, k2, (x, k) => tnumRshift(x, k));
        return withRanges(t, w, [a.umin >> K2, a.umax >> K1]);
      }
      const t = shiftTnum(a.t, k1, k2, (x, k) => tnumArshift(x, k, w));
      return withRanges(t, w, undefined, [minB(a.smin >> K1, a.smin >> K2), maxB(a.smax >> K1, a.smax >> K2)]);
    }
    case 'div': {
      if (b.umax === 0n) return constVal(0n, w);
      const u: [bigint, bigint] = b.umin >= 1n ? [a.umin / b.umax, a.umax / b.umin] : [0n, a.umax];
      return withRanges(tnumRange(u[0], u[1]), w, u);
    }
    case 'mod': {
      if (b.umax === 0n) return a;
      if (b.umin >= 1n && a.umax < b.umin) return a;
      const hi = b.umin >= 1n ? minB(a.umax, b.umax - 1n) : a.umax;
      return withRanges(tnumRange(0n, hi), w, [0n, hi]);
    }
    case 'sdiv': case 'smod': return fullVal(w);
  }
}

/** Ops whose low 32 result bits depend only on the operands' low 32 bits. */
const LOW_BITS_OPS: ReadonlySet<AluOp> = new Set<AluOp>(['add', 'sub', 'mul', 'and', 'or', 'xor']);

/** `a op b` on scalars; alu64 false is the 32-bit class (operands' low halves, result zero-extended). */
export function scalarAlu(op: AluOp, a: Scalar, b: Scalar, alu64: boolean): Scalar {
  if (!alu64) return zext32(valOp(op, val32(a), val32(b), 32));
  const v64 = valOp(op, val64(a), val64(b), 64);
  // `<< 32` then `s>> 32` sign-extends a subregister: keep the signed bounds of a non-negative one.
  if (op === 'lsh' && isConst(b) && b.t.value === 32n && a.s32min >= 0n) {
    v64.smin = a.s32min << 32n;
    v64.smax = a.s32max << 32n;
  }
  let v32: Val | undefined;
  if (LOW_BITS_OPS.has(op)) v32 = valOp(op, val32(a), val32(b), 32);
  else if (op === 'lsh' && b.umax < 32n) v32 = valOp('lsh', val32(a), val32(b), 32);
  return fromVals(v64, v32) ?? fromVals(v64) ?? SCALAR_UNKNOWN;
}

export function scalarNeg(a: Scalar, alu64: boolean): Scalar {
  return scalarAlu('sub', scalarConst(0n), a, alu64);
}

/** BPF_END / bswap: `toBe` swaps (on a little-endian host), otherwise it truncates. */
export function scalarEndian(a: Scalar, bits: 16 | 32 | 64, swap: boolean): Scalar {
  const bytes = bits / 8;
  const t0 = tnumCast(a.t, bytes);
  const t = swap ? swapTnum(t0, bytes) : t0;
  return fromVals(valFromTnum(t, 64)) ?? SCALAR_UNKNOWN;
}

function swapTnum(a: Tnum, bytes: number): Tnum {
  const sw = (x: bigint): bigint => {
    let r = 0n;
    for (let i = 0; i < bytes; i++) r = (r << 8n) | ((x >> BigInt(8 * i)) & 0xffn);
    return r;
  };
  return { value: sw(a.value), mask: sw(a.mask) };
}

// Soundness of the verifier's abstract arithmetic: tnums and bounds checked against concrete
// semantics, exhaustively at 8 bits and by sampling at 64/32 bits (BigInt references).
import test from 'ava';
import {
  tnumAdd, tnumAnd, tnumArshift, tnumCast, tnumIn, tnumLshift, tnumMul, tnumOr, tnumRange, tnumRshift,
  tnumSub, tnumXor, type Tnum,
} from '../../bpf-vm/verifier/tnum.ts';
import { concreteOp, scalarAlu, scalarEndian, valOp, type AluOp } from '../../bpf-vm/verifier/scalar-alu.ts';
import {
  intersectScalars, scalarConst, scalarContains, signExtend, syncScalar, truncate, SCALAR_UNKNOWN, type Scalar, type Val,
} from '../../bpf-vm/verifier/scalar.ts';
import { refineScalars, type CmpOp } from '../../bpf-vm/verifier/scalar-cmp.ts';

// A small deterministic PRNG so failures reproduce.
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 4294967296; };
}

const tnumMembers = (t: Tnum): bigint[] => {
  const out: bigint[] = [];
  for (let x = 0n; x < 256n; x++) if ((x & ~t.mask) === t.value) out.push(x);
  return out;
};
const contains = (t: Tnum, x: bigint): boolean => (x & ~t.mask & ((1n << 64n) - 1n)) === t.value;

test('tnum operations contain every concrete result (exhaustive over 6-bit tnums)', (t) => {
  const r = rng(7);
  const ops: [string, (a: Tnum, b: Tnum) => Tnum, (x: bigint, y: bigint) => bigint][] = [
    ['add', tnumAdd, (x, y) => BigInt.asUintN(64, x + y)],
    ['sub', tnumSub, (x, y) => BigInt.asUintN(64, x - y)],
    ['mul', tnumMul, (x, y) => BigInt.asUintN(64, x * y)],
    ['and', tnumAnd, (x, y) => x & y],
    ['or', tnumOr, (x, y) => x | y],
    ['xor', tnumXor, (x, y) => x ^ y],
  ];
  let checked = 0;
  for (let i = 0; i < 300; i++) {
    const mk = (): Tnum => { const mask = BigInt(Math.floor(r() * 64)); return { value: BigInt(Math.floor(r() * 64)) & ~mask, mask }; };
    const a = mk(), b = mk();
    for (const [name, f, g] of ops) {
      const res = f(a, b);
      for (const x of tnumMembers(a)) for (const y of tnumMembers(b)) {
        checked++;
        if (!contains(res, g(x, y))) t.fail(`${name}: ${x} op ${y} = ${g(x, y)} not in ${res.value}/${res.mask}`);
      }
    }
    for (let k = 0; k < 8; k++) {
      for (const x of tnumMembers(a)) {
        if (!contains(tnumLshift(a, k), BigInt.asUintN(64, x << BigInt(k)))) t.fail('lsh');
        if (!contains(tnumRshift(a, k), x >> BigInt(k))) t.fail('rsh');
        const s8 = tnumCast(a, 1);
        if (!contains(tnumArshift(s8, k, 8), BigInt.asUintN(8, BigInt.asIntN(8, x & 0xffn) >> BigInt(k)))) t.fail('arsh8');
      }
    }
  }
  t.true(checked > 10000);
});

test('tnumRange and tnumIn', (t) => {
  for (let lo = 0n; lo < 64n; lo++) for (let hi = lo; hi < 64n; hi++) {
    const tr = tnumRange(lo, hi);
    for (let x = lo; x <= hi; x++) if (!contains(tr, x)) t.fail(`range ${lo}..${hi} misses ${x}`);
  }
  t.true(tnumIn({ value: 0n, mask: 0xffn }, { value: 0x10n, mask: 0x0fn }));
  t.false(tnumIn({ value: 0x10n, mask: 0x0fn }, { value: 0n, mask: 0xffn }));
});

/** Random abstract 8-bit values, kept with their exact concretization. */
function randomVal8(r: () => number): { v: Val; members: bigint[] } | undefined {
  const mask = BigInt(Math.floor(r() * 256)) & BigInt(Math.floor(r() * 256));
  const t = { value: BigInt(Math.floor(r() * 256)) & ~mask, mask };
  const pick = (): bigint => BigInt(Math.floor(r() * 256));
  let [umin, umax] = [pick(), pick()].sort((a, b) => (a < b ? -1 : 1)) as [bigint, bigint];
  let [smin, smax] = [BigInt.asIntN(8, pick()), BigInt.asIntN(8, pick())].sort((a, b) => (a < b ? -1 : 1)) as [bigint, bigint];
  if (r() < 0.3) { umin = 0n; umax = 255n; }
  if (r() < 0.3) { smin = -128n; smax = 127n; }
  const members: bigint[] = [];
  for (let x = 0n; x < 256n; x++) {
    const s = BigInt.asIntN(8, x);
    if ((x & ~mask) === t.value && x >= umin && x <= umax && s >= smin && s <= smax) members.push(x);
  }
  if (members.length === 0) return undefined;
  return { v: { smin, smax, umin, umax, t }, members };
}

test('valOp over-approximates every ALU op (exhaustive pairs at 8 bits)', (t) => {
  const r = rng(11);
  const ops: AluOp[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'mod', 'smod', 'or', 'and', 'xor', 'lsh', 'rsh', 'arsh'];
  let pairs = 0;
  for (let i = 0; i < 4000; i++) {
    const a = randomVal8(r), b = randomVal8(r);
    if (!a || !b) continue;
    for (const op of ops) {
      const res = valOp(op, a.v, b.v, 8);
      for (const x of a.members) for (const y of b.members) {
        if ((op === 'lsh' || op === 'rsh' || op === 'arsh') && y >= 8n && b.v.umax < 8n) continue;
        const z = concreteOp(op, x, y, 8);
        const s = BigInt.asIntN(8, z);
        pairs++;
        if (z < res.umin || z > res.umax || s < res.smin || s > res.smax || (z & ~res.t.mask) !== res.t.value) {
          t.fail(`${op}: ${x} ${y} -> ${z} not in u[${res.umin},${res.umax}] s[${res.smin},${res.smax}] t=${res.t.value}/${res.t.mask}`);
          return;
        }
      }
    }
  }
  t.log(`${pairs} concrete pairs checked`);
  t.true(pairs > 100000);
});

test('concreteOp follows the ISA corner cases', (t) => {
  const M = (1n << 64n) - 1n;
  t.is(concreteOp('div', 7n, 0n, 64), 0n);
  t.is(concreteOp('mod', 7n, 0n, 64), 7n);
  t.is(concreteOp('sdiv', 1n << 63n, M, 64), 1n << 63n);
  t.is(concreteOp('smod', 1n << 63n, M, 64), 0n);
  t.is(concreteOp('smod', BigInt.asUintN(64, -13n), 3n, 64), BigInt.asUintN(64, -1n));
  t.is(concreteOp('lsh', 1n, 65n, 64), 2n);
  t.is(concreteOp('arsh', 0x80000000n, 31n, 32), 0xffffffffn);
});

const J = (x: unknown): string => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

/** A scalar built from sample values (their hull), with the samples as its known members. */
function sampleScalar(r: () => number): { s: Scalar; xs: bigint[] } {
  const base = [0n, 1n, 0xffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 63n, (1n << 64n) - 1n, (1n << 32n) + 5n];
  const n = 1 + Math.floor(r() * 4);
  const xs: bigint[] = [];
  const scale = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    let x: bigint;
    if (r() < 0.3) x = base[Math.floor(r() * base.length)]!;
    else x = BigInt(Math.floor(r() * 2 ** 20)) << BigInt(scale * 16);
    if (r() < 0.2) x = -x;
    xs.push(BigInt.asUintN(64, x));
  }
  let s: Scalar | undefined;
  const uMin = xs.reduce((a, b) => (b < a ? b : a)), uMax = xs.reduce((a, b) => (b > a ? b : a));
  const sv = xs.map((x) => BigInt.asIntN(64, x));
  const sMin = sv.reduce((a, b) => (b < a ? b : a)), sMax = sv.reduce((a, b) => (b > a ? b : a));
  let tn: Tnum = { value: xs[0]!, mask: 0n };
  for (const x of xs) { const mu = tn.mask | (tn.value ^ x); tn = { value: tn.value & ~mu, mask: mu }; }
  s = syncScalar({ ...SCALAR_UNKNOWN, umin: uMin, umax: uMax, smin: sMin, smax: sMax, t: tn });
  return { s: s!, xs };
}

test('scalarAlu contains every sampled result, 64-bit and 32-bit classes', (t) => {
  const r = rng(23);
  const ops: AluOp[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'mod', 'smod', 'or', 'and', 'xor', 'lsh', 'rsh', 'arsh'];
  let n = 0;
  for (let i = 0; i < 1500; i++) {
    const a = sampleScalar(r);
    const b = r() < 0.5 ? sampleScalar(r) : (() => { const k = BigInt(Math.floor(r() * 70)); return { s: scalarConst(k), xs: [k] }; })();
    for (const op of ops) for (const alu64 of [true, false]) {
      const res = scalarAlu(op, a.s, b.s, alu64);
      for (const x of a.xs) for (const y of b.xs) {
        const shiftOp = op === 'lsh' || op === 'rsh' || op === 'arsh';
        const z = alu64 ? concreteOp(op, x, y, 64) : concreteOp(op, x & 0xffffffffn, y & 0xffffffffn, 32);
        n++;
        if (!scalarContains(res, z)) {
          if (shiftOp && b.s.umax >= (alu64 ? 64n : 32n)) continue;
          t.fail(`${op}${alu64 ? '' : '32'} ${x} ${y} -> ${z} not in ${J(res)} a=${J(a.s)} b=${J(b.s)}`);
          return;
        }
      }
    }
    for (const bits of [8, 16, 32] as const) {
      const sx = signExtend(a.s, bits);
      for (const x of a.xs) if (!scalarContains(sx, BigInt.asUintN(64, BigInt.asIntN(bits, x)))) t.fail(`sext${bits} ${x}`);
    }
    for (const size of [1, 2, 4]) {
      const tr = truncate(a.s, size);
      for (const x of a.xs) if (!scalarContains(tr, x & ((1n << BigInt(size * 8)) - 1n))) t.fail(`trunc${size} ${x}`);
    }
    for (const bits of [16, 32, 64] as const) {
      const be = scalarEndian(a.s, bits, true);
      for (const x of a.xs) {
        let v = 0n;
        for (let k = 0; k < bits / 8; k++) v = (v << 8n) | ((x >> BigInt(8 * k)) & 0xffn);
        if (!scalarContains(be, v)) t.fail(`be${bits} ${x}`);
      }
    }
  }
  t.log(`${n} sampled results checked`);
  t.pass();
});

test('branch refinement keeps every value that satisfies the condition', (t) => {
  const r = rng(99);
  const ops: CmpOp[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'sgt', 'sge', 'slt', 'sle', 'set'];
  const holds = (op: CmpOp, x: bigint, y: bigint, is32: boolean): boolean => {
    const w = is32 ? 32 : 64;
    const ux = BigInt.asUintN(w, x), uy = BigInt.asUintN(w, y);
    const sx = BigInt.asIntN(w, x), sy = BigInt.asIntN(w, y);
    switch (op) {
      case 'eq': return ux === uy; case 'ne': return ux !== uy;
      case 'gt': return ux > uy; case 'ge': return ux >= uy; case 'lt': return ux < uy; case 'le': return ux <= uy;
      case 'sgt': return sx > sy; case 'sge': return sx >= sy; case 'slt': return sx < sy; case 'sle': return sx <= sy;
      case 'set': return (ux & uy) !== 0n;
    }
  };
  let n = 0;
  for (let i = 0; i < 2000; i++) {
    const a = sampleScalar(r);
    const b = r() < 0.5 ? sampleScalar(r) : (() => { const k = a.xs[0]! + BigInt(Math.floor(r() * 3)) - 1n; const u = BigInt.asUintN(64, k); return { s: scalarConst(u), xs: [u] }; })();
    for (const op of ops) for (const is32 of [false, true]) for (const taken of [true, false]) {
      const res = refineScalars(op, a.s, b.s, is32, taken);
      for (const x of a.xs) for (const y of b.xs) {
        if (holds(op, x, y, is32) !== taken) continue;
        n++;
        if (res === undefined || !scalarContains(res[0], x) || !scalarContains(res[1], y)) {
          t.fail(`${op}${is32 ? '32' : ''} ${taken} ${x} ${y}: ${res === undefined ? 'infeasible' : 'lost a value'}`);
          return;
        }
      }
    }
  }
  t.log(`${n} satisfying pairs checked`);
  t.pass();
});

test('intersectScalars keeps common values and detects disjoint ones', (t) => {
  const a = syncScalar({ ...SCALAR_UNKNOWN, umin: 10n, umax: 20n })!;
  const b = syncScalar({ ...SCALAR_UNKNOWN, umin: 15n, umax: 30n })!;
  const c = intersectScalars(a, b)!;
  t.is(c.umin, 15n);
  t.is(c.umax, 20n);
  t.is(intersectScalars(a, scalarConst(40n)), undefined);
});

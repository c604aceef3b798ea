// The int32-pair arithmetic against BigInt, on edge values and random ones.
import test from 'ava';
import {
  arsh64, gtS64, gtU64, lsh64, mul64, negate64, OUT, rsh64, sdiv64, smod64, udiv64, umod64,
} from '../bpf-vm/interp/int64.ts';

const M = (1n << 64n) - 1n;
const lo = (v: bigint): number => Number(BigInt.asIntN(32, v));
const hi = (v: bigint): number => Number(BigInt.asIntN(32, v >> 32n));
const out = (): bigint => (BigInt(OUT[1]! >>> 0) << 32n) | BigInt(OUT[0]! >>> 0);
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);

const EDGE = [0n, 1n, 2n, 3n, 7n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn,
  0x8000000000000000n, M, M - 1n, 0xdeadbeefcafebaben, 13n, s64(-13n) & M, 0x123456789n];

function* pairs(): Generator<[bigint, bigint]> {
  for (const a of EDGE) for (const b of EDGE) yield [a, b];
  let x = 0x243f6a8885a308d3n;
  for (let i = 0; i < 3000; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & M;
    const a = x;
    x = (x * 6364136223846793005n + 1442695040888963407n) & M;
    // Mix in small values so the 32-bit fast paths are exercised too.
    yield [i % 3 === 0 ? a & 0xffffffffn : a, i % 5 === 0 ? x & 0xffn : x];
  }
}

test('64-bit multiply, divide and modulo match BigInt', (t) => {
  let n = 0;
  for (const [a, b] of pairs()) {
    mul64(lo(a), hi(a), lo(b), hi(b)); t.is(out(), (a * b) & M);
    udiv64(lo(a), hi(a), lo(b), hi(b)); t.is(out(), b === 0n ? 0n : a / b);
    umod64(lo(a), hi(a), lo(b), hi(b)); t.is(out(), b === 0n ? a : a % b);
    const sa = s64(a), sb = s64(b);
    sdiv64(lo(a), hi(a), lo(b), hi(b)); t.is(out(), sb === 0n ? 0n : (sa === -(1n << 63n) && sb === -1n ? a : BigInt.asUintN(64, sa / sb)));
    smod64(lo(a), hi(a), lo(b), hi(b)); t.is(out(), sb === 0n ? a : sb === -1n ? 0n : BigInt.asUintN(64, sa % sb));
    t.is(gtU64(lo(a), hi(a), lo(b), hi(b)), a > b);
    t.is(gtS64(lo(a), hi(a), lo(b), hi(b)), sa > sb);
    n++;
  }
  t.log(`${n} operand pairs`);
});

test('64-bit shifts and negation match BigInt, counts masked to 63', (t) => {
  for (const [a] of pairs()) {
    for (const n of [0, 1, 31, 32, 33, 63, 64, 65]) {
      const k = BigInt(n & 63);
      lsh64(lo(a), hi(a), n); t.is(out(), (a << k) & M);
      rsh64(lo(a), hi(a), n); t.is(out(), a >> k);
      arsh64(lo(a), hi(a), n); t.is(out(), BigInt.asUintN(64, s64(a) >> k));
    }
    negate64(lo(a), hi(a)); t.is(out(), (-a) & M);
  }
});

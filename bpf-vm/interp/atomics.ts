// BPF_STX | BPF_ATOMIC on a region. 32-bit ops and 64-bit non-fetching add/or/and/xor use Int32
// Atomics on the low and high words (a non-fetching add carries into the high word with a second
// atomic add, so concurrent counters never lose an increment); 64-bit fetch, xchg and cmpxchg use
// BigInt64Array atomics, which are exact but slower, and rare in XDP programs.
import { BPF_ATOMIC_OP } from '../isa/opcodes.ts';
import type { Region } from './regions.ts';

const big64Views = new WeakMap<ArrayBufferLike, BigInt64Array>();

function big64(r: Region): BigInt64Array {
  const buf = r.u8.buffer;
  let v = big64Views.get(buf);
  if (v === undefined) {
    v = new BigInt64Array(buf, 0, buf.byteLength >>> 3);
    big64Views.set(buf, v);
  }
  return v;
}

/**
 * Executes one atomic op at byte offset `a` of region `r` (alignment already checked; `r.i32` is
 * non-empty). `R` is the register file, `s` and `d` register indices doubled. Returns nothing;
 * fetch variants write the old value into src, cmpxchg into r0.
 */
export function atomic32(R: Int32Array, r: Region, a: number, s: number, op: number): void {
  const i = a >>> 2;
  const v = R[s]!;
  const arr = r.i32;
  let old: number;
  switch (op & ~BPF_ATOMIC_OP.BPF_FETCH) {
    case BPF_ATOMIC_OP.BPF_ADD: old = Atomics.add(arr, i, v); break;
    case BPF_ATOMIC_OP.BPF_OR: old = Atomics.or(arr, i, v); break;
    case BPF_ATOMIC_OP.BPF_AND: old = Atomics.and(arr, i, v); break;
    case BPF_ATOMIC_OP.BPF_XOR: old = Atomics.xor(arr, i, v); break;
    case BPF_ATOMIC_OP.BPF_XCHG & ~BPF_ATOMIC_OP.BPF_FETCH: old = Atomics.exchange(arr, i, v); break;
    default: { // cmpxchg: compare with the low half of r0
      old = Atomics.compareExchange(arr, i, R[0]!, v);
      R[0] = old; R[1] = 0;
      return;
    }
  }
  if (op & BPF_ATOMIC_OP.BPF_FETCH) { R[s] = old; R[s + 1] = 0; }
}

export function atomic64(R: Int32Array, r: Region, a: number, s: number, op: number): void {
  const lo = R[s]!, hi = R[s + 1]!;
  const arr = r.i32;
  const i = a >>> 2;
  if ((op & BPF_ATOMIC_OP.BPF_FETCH) === 0) {
    switch (op) {
      case BPF_ATOMIC_OP.BPF_ADD: {
        const oldLo = Atomics.add(arr, i, lo);
        const carry = (oldLo >>> 0) + (lo >>> 0) > 0xffffffff ? 1 : 0;
        if (hi !== 0 || carry !== 0) Atomics.add(arr, i + 1, (hi + carry) | 0);
        return;
      }
      case BPF_ATOMIC_OP.BPF_OR: Atomics.or(arr, i, lo); Atomics.or(arr, i + 1, hi); return;
      case BPF_ATOMIC_OP.BPF_AND: Atomics.and(arr, i, lo); Atomics.and(arr, i + 1, hi); return;
      default: Atomics.xor(arr, i, lo); Atomics.xor(arr, i + 1, hi); return;
    }
  }
  const view = big64(r);
  const j = (r.u8.byteOffset + a) >>> 3;
  const v = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0));
  let old: bigint;
  switch (op) {
    case BPF_ATOMIC_OP.BPF_ADD | BPF_ATOMIC_OP.BPF_FETCH: old = Atomics.add(view, j, v); break;
    case BPF_ATOMIC_OP.BPF_OR | BPF_ATOMIC_OP.BPF_FETCH: old = Atomics.or(view, j, v); break;
    case BPF_ATOMIC_OP.BPF_AND | BPF_ATOMIC_OP.BPF_FETCH: old = Atomics.and(view, j, v); break;
    case BPF_ATOMIC_OP.BPF_XOR | BPF_ATOMIC_OP.BPF_FETCH: old = Atomics.xor(view, j, v); break;
    case BPF_ATOMIC_OP.BPF_XCHG: old = Atomics.exchange(view, j, v); break;
    default: {
      const expected = BigInt.asIntN(64, (BigInt(R[1]!) << 32n) | BigInt(R[0]! >>> 0));
      old = Atomics.compareExchange(view, j, expected, v);
      R[0] = Number(BigInt.asIntN(32, old)); R[1] = Number(BigInt.asIntN(32, old >> 32n));
      return;
    }
  }
  R[s] = Number(BigInt.asIntN(32, old)); R[s + 1] = Number(BigInt.asIntN(32, old >> 32n));
}

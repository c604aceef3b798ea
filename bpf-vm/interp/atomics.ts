// BPF_STX | BPF_ATOMIC on a region. Every operation is atomic on its whole width, as the kernel's
// locked instructions are: a 64-bit reader on another thread never sees half of an update.
// 32-bit ops use Int32 Atomics. A 64-bit add of a value that fits in 31 bits without carrying out
// of the low word (a counter's increment, nearly always) is a compare-and-swap of the low word
// alone, which leaves the high word untouched and so is atomic for 64-bit readers too; every other
// 64-bit operation uses BigInt64Array atomics, exact but slower.
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
  if (op === BPF_ATOMIC_OP.BPF_ADD && addLow32(arr, i, lo, hi)) return;
  const view = big64(r);
  const j = (r.u8.byteOffset + a) >>> 3;
  const v = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0));
  let old: bigint;
  switch (op & ~BPF_ATOMIC_OP.BPF_FETCH) {
    case BPF_ATOMIC_OP.BPF_ADD: old = Atomics.add(view, j, v); break;
    case BPF_ATOMIC_OP.BPF_OR: old = Atomics.or(view, j, v); break;
    case BPF_ATOMIC_OP.BPF_AND: old = Atomics.and(view, j, v); break;
    case BPF_ATOMIC_OP.BPF_XOR: old = Atomics.xor(view, j, v); break;
    case BPF_ATOMIC_OP.BPF_XCHG & ~BPF_ATOMIC_OP.BPF_FETCH: old = Atomics.exchange(view, j, v); break;
    default: {
      const expected = BigInt.asIntN(64, (BigInt(R[1]!) << 32n) | BigInt(R[0]! >>> 0));
      old = Atomics.compareExchange(view, j, expected, v);
      R[0] = Number(BigInt.asIntN(32, old)); R[1] = Number(BigInt.asIntN(32, old >> 32n));
      return;
    }
  }
  if (op & BPF_ATOMIC_OP.BPF_FETCH) { R[s] = Number(BigInt.asIntN(32, old)); R[s + 1] = Number(BigInt.asIntN(32, old >> 32n)); }
}

/**
 * The fast path of a non-fetching 64-bit add: when the addend is a small non-negative value and
 * the low word does not carry, a CAS of the low word is the whole update. False: use 64-bit atomics.
 */
export function addLow32(arr: Int32Array, i: number, lo: number, hi: number): boolean {
  if (hi !== 0 || lo < 0) return false;
  // The expected value comes from a plain read: the CAS validates it and returns the current
  // word when it was stale, so the common uncontended case costs one Atomics operation, not two.
  let old = arr[i]!;
  for (;;) {
    if ((old >>> 0) + lo > 0xffffffff) return false;
    const seen = Atomics.compareExchange(arr, i, old, (old + lo) | 0);
    if (seen === old) return true;
    old = seen;
  }
}

// 64-bit arithmetic on int32 (lo, hi) pairs. Results land in OUT[0] (lo) and OUT[1] (hi) so nothing
// is allocated; BigInt appears only on the rare 64-bit division paths whose operands exceed 32 bits.

export const OUT = new Int32Array(2);

const TWO32 = 4294967296;

/** Unsigned 32x32 -> 64 product. */
export function mulU32(a: number, b: number): void {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  OUT[0] = (mid << 16) | (p00 & 0xffff);
  OUT[1] = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

/** Low 64 bits of a 64x64 product. */
export function mul64(alo: number, ahi: number, blo: number, bhi: number): void {
  mulU32(alo, blo);
  OUT[1] = (OUT[1]! + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
}

const toBig = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const toBigSigned = (lo: number, hi: number): bigint => BigInt.asIntN(64, toBig(lo, hi));
function fromBig(v: bigint): void {
  const u = BigInt.asUintN(64, v);
  OUT[0] = Number(u & 0xffffffffn) | 0;
  OUT[1] = Number(u >> 32n) | 0;
}

/** Unsigned 64-bit division; division by zero gives 0 (eBPF semantics). */
export function udiv64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) { OUT[0] = 0; OUT[1] = 0; return; }
  if (ahi === 0 && bhi === 0) { OUT[0] = ((alo >>> 0) / (blo >>> 0)) | 0; OUT[1] = 0; return; }
  fromBig(toBig(alo, ahi) / toBig(blo, bhi));
}

/** Unsigned 64-bit modulo; modulo by zero leaves the dividend. */
export function umod64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) { OUT[0] = alo; OUT[1] = ahi; return; }
  if (ahi === 0 && bhi === 0) { OUT[0] = ((alo >>> 0) % (blo >>> 0)) | 0; OUT[1] = 0; return; }
  fromBig(toBig(alo, ahi) % toBig(blo, bhi));
}

/** Signed 64-bit division truncating toward zero; x/0 = 0, INT64_MIN / -1 = INT64_MIN. */
export function sdiv64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) { OUT[0] = 0; OUT[1] = 0; return; }
  if (bhi === -1 && blo === -1) { negate64(alo, ahi); return; }
  fromBig(toBigSigned(alo, ahi) / toBigSigned(blo, bhi));
}

/** Signed 64-bit remainder with the dividend's sign; x%0 = x, x % -1 = 0. */
export function smod64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) { OUT[0] = alo; OUT[1] = ahi; return; }
  if (bhi === -1 && blo === -1) { OUT[0] = 0; OUT[1] = 0; return; }
  fromBig(toBigSigned(alo, ahi) % toBigSigned(blo, bhi));
}

export function negate64(lo: number, hi: number): void {
  OUT[0] = (-lo) | 0;
  OUT[1] = (~hi + (lo === 0 ? 1 : 0)) | 0;
}

/** 32-bit signed division and remainder with eBPF's zero and overflow rules (results as int32). */
export function sdiv32(a: number, b: number): number {
  if (b === 0) return 0;
  if (b === -1) return (-a) | 0;
  return (a / b) | 0;
}
export function smod32(a: number, b: number): number {
  if (b === 0) return a;
  if (b === -1) return 0;
  return (a % b) | 0;
}

export function lsh64(lo: number, hi: number, n: number): void {
  n &= 63;
  if (n === 0) { OUT[0] = lo; OUT[1] = hi; }
  else if (n < 32) { OUT[1] = (hi << n) | (lo >>> (32 - n)); OUT[0] = lo << n; }
  else { OUT[1] = lo << (n - 32); OUT[0] = 0; }
}

export function rsh64(lo: number, hi: number, n: number): void {
  n &= 63;
  if (n === 0) { OUT[0] = lo; OUT[1] = hi; }
  else if (n < 32) { OUT[0] = (lo >>> n) | (hi << (32 - n)); OUT[1] = hi >>> n; }
  else { OUT[0] = hi >>> (n - 32); OUT[1] = 0; }
}

export function arsh64(lo: number, hi: number, n: number): void {
  n &= 63;
  if (n === 0) { OUT[0] = lo; OUT[1] = hi; }
  else if (n < 32) { OUT[0] = (lo >>> n) | (hi << (32 - n)); OUT[1] = hi >> n; }
  else { OUT[0] = hi >> (n - 32); OUT[1] = hi >> 31; }
}

/** a > b, unsigned 64-bit. */
export const gtU64 = (alo: number, ahi: number, blo: number, bhi: number): boolean =>
  (ahi >>> 0) > (bhi >>> 0) || (ahi === bhi && (alo >>> 0) > (blo >>> 0));
/** a > b, signed 64-bit. */
export const gtS64 = (alo: number, ahi: number, blo: number, bhi: number): boolean =>
  ahi > bhi || (ahi === bhi && (alo >>> 0) > (blo >>> 0));

/** A number in [0, 2^64) or a non-negative double below 2^53 as a pair (for helpers like ktime). */
export function fromNumber(n: number): void {
  OUT[0] = n % TWO32 | 0;
  OUT[1] = Math.floor(n / TWO32) | 0;
}

export function pairToBigInt(lo: number, hi: number): bigint {
  return toBig(lo, hi);
}

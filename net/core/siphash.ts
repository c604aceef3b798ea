// SipHash-2-4 (lib/siphash.c, include/linux/siphash.h): the keyed PRF behind SYN cookies,
// secure_tcp_seq and the timestamp offsets. JavaScript has no u64 arithmetic short of BigInt, which
// allocates, so every 64-bit lane is a (hi, lo) pair of int32s and the rounds are written out on
// locals. A SYN flood computes two hashes per cookie, so this is a hot path.
//
// Results are u64: the functions return the low 32 bits (what the callers that truncate to u32,
// cookie_hash among them, use) and leave the high half in siphash_out.hi. The message layout is the
// kernel's: siphash_2u32(a, b) hashes the u64 (b << 32 | a), siphash_4u32(a, b, c, d) the u64s
// (b << 32 | a) and (d << 32 | c), siphash_3u32(a, b, c) the u64 (b << 32 | a) with c in the
// length word, and bytes are read little-endian.

/** siphash_key_t: two u64s, each as (hi, lo) int32 halves. key[0] = k0hi:k0lo, key[1] = k1hi:k1lo. */
export class SiphashKey {
  k0lo: number;
  k0hi: number;
  k1lo: number;
  k1hi: number;

  constructor(k0lo = 0, k0hi = 0, k1lo = 0, k1hi = 0) {
    this.k0lo = k0lo | 0;
    this.k0hi = k0hi | 0;
    this.k1lo = k1lo | 0;
    this.k1hi = k1hi | 0;
  }

  /** The key as 16 bytes in memory (a siphash_key_t filled by get_random_bytes), key[i] little-endian. */
  static from_bytes(b: Uint8Array): SiphashKey {
    if (b.length < 16) throw new RangeError('siphash key: 16 bytes');
    const w = (o: number): number => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
    return new SiphashKey(w(0), w(4), w(8), w(12));
  }

  /** Four u32s as get_random_bytes would lay them: words 0,1 form key[0] (low, high), 2,3 key[1]. */
  static from_u32(w0: number, w1: number, w2: number, w3: number): SiphashKey {
    return new SiphashKey(w0, w1, w2, w3);
  }
}

/** The high 32 bits (u32) of the last result; the low half is the return value. */
export const siphash_out = { hi: 0 };

// Message words for the core: pairs (lo, hi) of u64s, then b (lo, hi).
const M = new Int32Array(2 * 9);

/**
 * SipHash-c-d over `n` u64 words in m[0..2n) and the final word b in m[2n], m[2n+1]. Returns the
 * low 32 bits (u32); the high half goes to siphash_out.hi. c = 2, d = 4 is SipHash-2-4; c = 1,
 * d = 3 is SipHash-1-3, what hsiphash is on 64-bit kernels.
 */
function sip(key: SiphashKey, m: Int32Array, n: number, c: number, d: number): number {
  // "somepseudorandomlygeneratedbytes"
  let v0l = 0x70736575 ^ key.k0lo, v0h = 0x736f6d65 ^ key.k0hi;
  let v1l = 0x6e646f6d ^ key.k1lo, v1h = 0x646f7261 ^ key.k1hi;
  let v2l = 0x6e657261 ^ key.k0lo, v2h = 0x6c796765 ^ key.k0hi;
  let v3l = 0x79746573 ^ key.k1lo, v3h = 0x74656462 ^ key.k1hi;
  // A 64-bit add is two 32-bit adds and the low half's carry, taken from the top bits of the
  // operands and the sum (bit operations keep everything in int32; comparing the sum as a u32
  // would leave the int32 range and run about 2.5x slower).
  let lo = 0, hi = 0, t = 0;
  // SIPROUND: v0 += v1; v1 = rol(v1, 13) ^ v0; v0 = rol(v0, 32); v2 += v3; v3 = rol(v3, 16) ^ v2;
  // v0 += v3; v3 = rol(v3, 21) ^ v0; v2 += v1; v1 = rol(v1, 17) ^ v2; v2 = rol(v2, 32).
  // Words 0..n-1 are the message, word n is b (the length byte over the leftover bytes): each is
  // absorbed with c rounds; then v2 ^= 0xff and d rounds.
  for (let i = 0; i <= n; i++) {
    const ml = m[2 * i]!, mh = m[2 * i + 1]!;
    v3l ^= ml; v3h ^= mh;
    for (let r = 0; r < c; r++) {
      lo = (v0l + v1l) | 0; v0h = (v0h + v1h + (((v0l & v1l) | ((v0l | v1l) & ~lo)) >>> 31)) | 0; v0l = lo;
      t = (v1h << 13) | (v1l >>> 19); v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l; v1h = t ^ v0h;
      t = v0l; v0l = v0h; v0h = t;
      lo = (v2l + v3l) | 0; v2h = (v2h + v3h + (((v2l & v3l) | ((v2l | v3l) & ~lo)) >>> 31)) | 0; v2l = lo;
      t = (v3h << 16) | (v3l >>> 16); v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l; v3h = t ^ v2h;
      lo = (v0l + v3l) | 0; v0h = (v0h + v3h + (((v0l & v3l) | ((v0l | v3l) & ~lo)) >>> 31)) | 0; v0l = lo;
      t = (v3h << 21) | (v3l >>> 11); v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l; v3h = t ^ v0h;
      lo = (v2l + v1l) | 0; v2h = (v2h + v1h + (((v2l & v1l) | ((v2l | v1l) & ~lo)) >>> 31)) | 0; v2l = lo;
      t = (v1h << 17) | (v1l >>> 15); v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l; v1h = t ^ v2h;
      t = v2l; v2l = v2h; v2h = t;
    }
    v0l ^= ml; v0h ^= mh;
  }
  v2l ^= 0xff;
  for (let r = 0; r < d; r++) {
    lo = (v0l + v1l) | 0; v0h = (v0h + v1h + (((v0l & v1l) | ((v0l | v1l) & ~lo)) >>> 31)) | 0; v0l = lo;
    t = (v1h << 13) | (v1l >>> 19); v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l; v1h = t ^ v0h;
    t = v0l; v0l = v0h; v0h = t;
    lo = (v2l + v3l) | 0; v2h = (v2h + v3h + (((v2l & v3l) | ((v2l | v3l) & ~lo)) >>> 31)) | 0; v2l = lo;
    t = (v3h << 16) | (v3l >>> 16); v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l; v3h = t ^ v2h;
    lo = (v0l + v3l) | 0; v0h = (v0h + v3h + (((v0l & v3l) | ((v0l | v3l) & ~lo)) >>> 31)) | 0; v0l = lo;
    t = (v3h << 21) | (v3l >>> 11); v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l; v3h = t ^ v0h;
    lo = (v2l + v1l) | 0; v2h = (v2h + v1h + (((v2l & v1l) | ((v2l | v1l) & ~lo)) >>> 31)) | 0; v2l = lo;
    t = (v1h << 17) | (v1l >>> 15); v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l; v1h = t ^ v2h;
    t = v2l; v2l = v2h; v2h = t;
  }
  hi = v0h ^ v1h ^ v2h ^ v3h;
  siphash_out.hi = hi >>> 0;
  return (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
}

/** siphash_1u32: the 4-byte message `first`. */
export function siphash_1u32(first: number, key: SiphashKey): number {
  M[0] = first; M[1] = 4 << 24;
  return sip(key, M, 0, 2, 4);
}

/** siphash_2u32 = siphash_1u64(second << 32 | first). */
export function siphash_2u32(first: number, second: number, key: SiphashKey): number {
  M[0] = first; M[1] = second;
  M[2] = 0; M[3] = 8 << 24;
  return sip(key, M, 1, 2, 4);
}

/** siphash_3u32: one u64 (second << 32 | first), `third` in the length word. */
export function siphash_3u32(first: number, second: number, third: number, key: SiphashKey): number {
  M[0] = first; M[1] = second;
  M[2] = third; M[3] = 12 << 24;
  return sip(key, M, 1, 2, 4);
}

/**
 * siphash_4u32 = siphash_2u64(second << 32 | first, forth << 32 | third): the SYN cookie hash, so
 * written out on locals with its absorb schedule in one loop of rounds (no message array).
 */
export function siphash_4u32(first: number, second: number, third: number, forth: number, key: SiphashKey): number {
  let v0l = 0x70736575 ^ key.k0lo, v0h = 0x736f6d65 ^ key.k0hi;
  let v1l = 0x6e646f6d ^ key.k1lo, v1h = 0x646f7261 ^ key.k1hi;
  let v2l = 0x6e657261 ^ key.k0lo, v2h = 0x6c796765 ^ key.k0hi;
  let v3l = 0x79746573 ^ key.k1lo, v3h = 0x74656462 ^ key.k1hi;
  let lo = 0, t = 0;
  const bh = 16 << 24;
  v3l ^= first; v3h ^= second;
  // Rounds 0-1 absorb word 1, 2-3 word 2, 4-5 the length word b, then 6-9 finalize.
  for (let r = 0; r < 10; r++) {
    if (r === 2) { v0l ^= first; v0h ^= second; v3l ^= third; v3h ^= forth; }
    else if (r === 4) { v0l ^= third; v0h ^= forth; v3h ^= bh; }
    else if (r === 6) { v0h ^= bh; v2l ^= 0xff; }
    lo = (v0l + v1l) | 0; v0h = (v0h + v1h + (((v0l & v1l) | ((v0l | v1l) & ~lo)) >>> 31)) | 0; v0l = lo;
    t = (v1h << 13) | (v1l >>> 19); v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l; v1h = t ^ v0h;
    t = v0l; v0l = v0h; v0h = t;
    lo = (v2l + v3l) | 0; v2h = (v2h + v3h + (((v2l & v3l) | ((v2l | v3l) & ~lo)) >>> 31)) | 0; v2l = lo;
    t = (v3h << 16) | (v3l >>> 16); v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l; v3h = t ^ v2h;
    lo = (v0l + v3l) | 0; v0h = (v0h + v3h + (((v0l & v3l) | ((v0l | v3l) & ~lo)) >>> 31)) | 0; v0l = lo;
    t = (v3h << 21) | (v3l >>> 11); v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l; v3h = t ^ v0h;
    lo = (v2l + v1l) | 0; v2h = (v2h + v1h + (((v2l & v1l) | ((v2l | v1l) & ~lo)) >>> 31)) | 0; v2l = lo;
    t = (v1h << 17) | (v1l >>> 15); v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l; v1h = t ^ v2h;
    t = v2l; v2l = v2h; v2h = t;
  }
  siphash_out.hi = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
  return (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
}

/**
 * SipHash-2-4 of `n` u64s given as (lo, hi) int32 pairs in m[0..2n) (a struct hashed with
 * siphash(&combined, n * 8, key), its bytes read little-endian). m must have room for two more
 * words, m[2n] and m[2n+1], which this overwrites.
 */
export function siphash_u64s(m: Int32Array, n: number, key: SiphashKey): number {
  m[2 * n] = 0;
  m[2 * n + 1] = ((n * 8) & 0xff) << 24;
  return sip(key, m, n, 2, 4);
}

/** siphash_1u64 with the u64 given as (lo, hi). */
export function siphash_1u64(lo: number, hi: number, key: SiphashKey): number {
  return siphash_2u32(lo, hi, key);
}

/** siphash_2u64, u64s as (lo, hi). */
export function siphash_2u64(alo: number, ahi: number, blo: number, bhi: number, key: SiphashKey): number {
  return siphash_4u32(alo, ahi, blo, bhi, key);
}

/** siphash_3u64. */
export function siphash_3u64(alo: number, ahi: number, blo: number, bhi: number, clo: number, chi: number, key: SiphashKey): number {
  M[0] = alo; M[1] = ahi; M[2] = blo; M[3] = bhi; M[4] = clo; M[5] = chi;
  M[6] = 0; M[7] = 24 << 24;
  return sip(key, M, 3, 2, 4);
}

/** siphash_4u64. */
export function siphash_4u64(
  alo: number, ahi: number, blo: number, bhi: number, clo: number, chi: number, dlo: number, dhi: number, key: SiphashKey,
): number {
  M[0] = alo; M[1] = ahi; M[2] = blo; M[3] = bhi; M[4] = clo; M[5] = chi; M[6] = dlo; M[7] = dhi;
  M[8] = 0; M[9] = 32 << 24;
  return sip(key, M, 4, 2, 4);
}

function bytes(data: Uint8Array, off: number, len: number, key: SiphashKey, c: number, d: number): number {
  const words = len >>> 3;
  const m = words + 1 <= 8 ? M : new Int32Array(2 * (words + 1));
  let p = off;
  for (let i = 0; i < words; i++, p += 8) {
    m[2 * i] = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16) | (data[p + 3]! << 24);
    m[2 * i + 1] = data[p + 4]! | (data[p + 5]! << 8) | (data[p + 6]! << 16) | (data[p + 7]! << 24);
  }
  // b: the length's low byte in the top byte, the 0..7 leftover bytes below it.
  let bl = 0, bh = (len & 0xff) << 24;
  const left = len & 7;
  for (let j = 0; j < left; j++) {
    const v = data[p + j]!;
    if (j < 4) bl |= v << (8 * j);
    else bh |= v << (8 * (j - 4));
  }
  m[2 * words] = bl;
  m[2 * words + 1] = bh;
  return sip(key, m, words, c, d);
}

/** siphash(data, len, key): SipHash-2-4 of `len` bytes at `off`. Low 32 bits; high half in siphash_out.hi. */
export function siphash(data: Uint8Array, off: number, len: number, key: SiphashKey): number {
  return bytes(data, off, len, key, 2, 4);
}

/**
 * hsiphash on a 64-bit kernel: SipHash-1-3 with the 64-bit key, truncated to u32 (the return
 * value). Only for hash tables, never where an attacker must not predict the output.
 */
export function hsiphash(data: Uint8Array, off: number, len: number, key: SiphashKey): number {
  return bytes(data, off, len, key, 1, 3);
}

/** The full u64 result of the last call, as a BigInt (tests and diagnostics only: allocates). */
export function siphash_u64(lo: number): bigint {
  return (BigInt(siphash_out.hi) << 32n) | BigInt(lo >>> 0);
}

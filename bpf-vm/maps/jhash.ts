// Bob Jenkins' lookup3 hash (public domain), the function the kernel's jhash.h implements and
// hashtab.c uses for hash map keys (jhash2 over u32 words when key_size % 4 == 0). Everything is
// int32 arithmetic: `| 0` keeps V8 on small integers, and results are returned as unsigned u32.

export const JHASH_INITVAL = 0xdeadbeef | 0;

function rol32(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Hash of a key held as `n` u32 words at `words[off..off+n)` (jhash2). The words are the key's
 * bytes read little-endian, zero-padded to a multiple of 4.
 */
export function jhash2(words: Int32Array | Uint32Array, off: number, n: number, initval: number): number {
  let a = (JHASH_INITVAL + (n << 2) + initval) | 0;
  let b = a;
  let c = a;
  let k = off;
  let len = n;
  while (len > 3) {
    a = (a + words[k]!) | 0;
    b = (b + words[k + 1]!) | 0;
    c = (c + words[k + 2]!) | 0;
    // __jhash_mix
    a = (a - c) | 0; a ^= rol32(c, 4); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rol32(a, 6); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rol32(b, 8); b = (b + a) | 0;
    a = (a - c) | 0; a ^= rol32(c, 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rol32(a, 19); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rol32(b, 4); b = (b + a) | 0;
    len -= 3;
    k += 3;
  }
  if (len === 0) return c >>> 0;
  if (len === 3) c = (c + words[k + 2]!) | 0;
  if (len >= 2) b = (b + words[k + 1]!) | 0;
  a = (a + words[k]!) | 0;
  return jhashFinal(a, b, c);
}

/** jhash_1word: the hash of a 4-byte key, equal to jhash2 over that one word. */
export function jhash1word(w: number, initval: number): number {
  const iv = (JHASH_INITVAL + 4 + initval) | 0;
  return jhashFinal((w + iv) | 0, iv, iv);
}

/** jhash_2words: the hash of an 8-byte key, equal to jhash2 over its two words. */
export function jhash2words(w0: number, w1: number, initval: number): number {
  const iv = (JHASH_INITVAL + 8 + initval) | 0;
  return jhashFinal((w0 + iv) | 0, (w1 + iv) | 0, iv);
}

/** jhash_3words: the hash of a 12-byte key, equal to jhash2 over its three words. */
export function jhash3words(w0: number, w1: number, w2: number, initval: number): number {
  const iv = (JHASH_INITVAL + 12 + initval) | 0;
  return jhashFinal((w0 + iv) | 0, (w1 + iv) | 0, (w2 + iv) | 0);
}

/** __jhash_final: the last mix of lookup3, returning c as a u32. */
function jhashFinal(a: number, b: number, c: number): number {
  c ^= b; c = (c - rol32(b, 14)) | 0;
  a ^= c; a = (a - rol32(c, 11)) | 0;
  b ^= a; b = (b - rol32(a, 25)) | 0;
  c ^= b; c = (c - rol32(b, 16)) | 0;
  a ^= c; a = (a - rol32(c, 4)) | 0;
  b ^= a; b = (b - rol32(a, 14)) | 0;
  c ^= b; c = (c - rol32(b, 24)) | 0;
  return c >>> 0;
}

// The values the HASH concurrency tests store: words that check one another, so a reader can tell
// a whole value from a torn one, and a value of its key from another key's. Word 0 is the key,
// word 1 the version, word i >= 2 is (key ^ version ^ MIX) + i, so any two halves of different
// writes disagree.
const MIX = 0x9e3779b9;

export function encodeValue(key: number, version: number, out: Uint8Array): Uint8Array {
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setUint32(0, key, true);
  v.setUint32(4, version, true);
  const x = (key ^ version ^ MIX) >>> 0;
  for (let i = 2; i < out.byteLength >> 2; i++) v.setUint32(4 * i, (x + i) >>> 0, true);
  return out;
}

/** The version in `n` words at words[w..] if they are one whole value of `key`, else -1. */
export function decodeWords(key: number, words: Int32Array, w: number, n: number): number {
  if (words[w]! >>> 0 !== key >>> 0) return -1;
  const version = words[w + 1]! >>> 0;
  const x = (key ^ version ^ MIX) >>> 0;
  for (let i = 2; i < n; i++) if (words[w + i]! >>> 0 !== ((x + i) >>> 0)) return -1;
  return version;
}

/** The same, on a value copied out by lookup(). */
export function decodeValue(key: number, value: Uint8Array): number {
  const copy = value.slice();
  return decodeWords(key, new Int32Array(copy.buffer, 0, copy.byteLength >> 2), 0, copy.byteLength >> 2);
}

export function keyBytes(key: number, out: Uint8Array, off = 0): Uint8Array {
  out[off] = key & 0xff;
  out[off + 1] = (key >>> 8) & 0xff;
  out[off + 2] = (key >>> 16) & 0xff;
  out[off + 3] = key >>> 24;
  return out;
}

// The values the HASH concurrency tests store: four u32 words that check one another, so a reader
// can tell a whole value from a torn one, and a value of its key from another key's.
export const VALUE_SIZE = 16;
const MIX = 0x9e3779b9;

export function encodeValue(key: number, version: number, out: Uint8Array): Uint8Array {
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setUint32(0, key, true);
  v.setUint32(4, version, true);
  v.setUint32(8, (key ^ version ^ MIX) >>> 0, true);
  v.setUint32(12, ~version >>> 0, true);
  return out;
}

/** The version a value holds for `key`, or -1 when the words do not belong together or to `key`. */
export function decodeValue(key: number, w0: number, w1: number, w2: number, w3: number): number {
  if (w0 >>> 0 !== key >>> 0) return -1;
  if (w2 >>> 0 !== ((key ^ w1 ^ MIX) >>> 0)) return -1;
  if (w3 >>> 0 !== (~w1 >>> 0)) return -1;
  return w1 >>> 0;
}

export function keyBytes(key: number, out: Uint8Array, off = 0): Uint8Array {
  out[off] = key & 0xff;
  out[off + 1] = (key >>> 8) & 0xff;
  out[off + 2] = (key >>> 16) & 0xff;
  out[off + 3] = key >>> 24;
  return out;
}

// The 28-byte records of the ringbuf concurrency test: producer id, sequence number, and 20 bytes
// that depend on both, so that a torn or misplaced record is recognised.
export function ringbufRecord(id: number, seq: number): Uint8Array {
  const b = new Uint8Array(28);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, id, true);
  dv.setUint32(4, seq, true);
  for (let i = 8; i < 28; i++) b[i] = (seq * 31 + id * 101 + i * 7) & 0xff;
  return b;
}

// Frame copies by int32 words: for small frames a plain word loop beats set(subarray) (which makes
// a view per call) and copyWithin several times over (architecture.md, measured limits). Both
// offsets are in words, so the bytes must be 4-aligned at both ends; a trailing partial word is
// copied whole, which frames allow (their tail room is far larger than 3 bytes).

/** Copies ceil(len / 4) words from src[srcWord...] to dst[dstWord...]. */
export function copyFrameWords(dst: Int32Array, dstWord: number, src: Int32Array, srcWord: number, len: number): void {
  const words = (len + 3) >>> 2;
  for (let i = 0; i < words; i++) dst[dstWord + i] = src[srcWord + i]!;
}

// Small shared control cells (doorbells, stop flags, MMIO trap words) in a SharedArrayBuffer of
// their own, with a cache line of padding on each side. A small SharedArrayBuffer comes from malloc
// beside the others, so without the padding a cell one worker writes on every wake can share a
// 64-byte line with a cell another worker polls on every loop: each access then misses for both.
// That false sharing depended on where malloc put the buffers and made runs bimodal (Case 2
// offload at 4.5-5 Mpps instead of 14.5, Case 1 at 4-7 instead of 12, in one run out of four).
import { VirtioError } from './errors.ts';

/** The cache line the padding is sized for (x86-64, arm64). */
export const CACHE_LINE = 64;

/** `n` int32 cells that share their cache lines with nothing else. */
export function sharedCells(n: number): Int32Array {
  if (!Number.isInteger(n) || n < 1 || n > 1 << 16) throw new VirtioError('EINVAL', `shared cells: ${String(n)} cells (1..65536)`);
  const body = Math.ceil((4 * n) / CACHE_LINE) * CACHE_LINE;
  return new Int32Array(new SharedArrayBuffer(CACHE_LINE + body + CACHE_LINE), CACHE_LINE, n);
}

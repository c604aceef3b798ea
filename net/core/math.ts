// include/linux/math.h, what the socket tables use of it.

/**
 * reciprocal_scale(val, ep_ro): maps a u32 hash onto [0, ep_ro) with a multiply, not a modulo,
 * as reuseport selection does. val * ep_ro < 2^48 is exact in a double.
 */
export function reciprocal_scale(val: number, ep_ro: number): number {
  return Math.floor(((val >>> 0) * ep_ro) / 4294967296);
}

// The kernel hashes addresses and ports as they sit in memory: a __be32 read as a u32 on a
// little-endian CPU (x86-64, arm64) is the byte-swapped host-order value. vxo keeps addresses in
// host order (10.0.0.1 is 0x0a000001) and swaps only where a hash is computed, so with the same
// secret a hash here equals the kernel's on x86-64.

/** cpu_to_be32 on a little-endian CPU: the u32 the kernel sees in a __be32 field. int32 result. */
export function cpu_to_be32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | ((x >>> 24) & 0xff);
}

/** cpu_to_be16 on a little-endian CPU: the u16 the kernel sees in a __be16 field. */
export function cpu_to_be16(x: number): number {
  return ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
}

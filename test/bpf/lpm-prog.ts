// Shared by test/bpf/lpm-*.test.ts and their worker: an XDP program that looks the IPv4
// destination of the packet up in an LPM_TRIE (key: prefixlen 32 and the address) and returns the
// u32 it finds, or LPM_MISS; and LPM keys.

export const LPM_MISS = 0xfffe;

export const LPM_LOOKUP_DST = [
  'ldxw %r2, [%r1+0]', 'ldxw %r3, [%r1+4]', 'mov %r4, %r2', 'add %r4, 34', 'jgt %r4, %r3, short',
  'stw [%r10-8], 32', 'ldxw %r5, [%r2+30]', 'stxw [%r10-4], %r5',
  'mov %r2, %r10', 'add %r2, -8', 'lddw %r1, map_by_fd(lpm)', 'call 1',
  'jeq %r0, 0, miss', 'ldxw %r0, [%r0+0]', 'exit',
  'miss:', `mov %r0, ${LPM_MISS}`, 'exit',
  'short:', 'mov %r0, 0', 'exit',
].join('\n');

/** struct bpf_lpm_trie_key_u8 for IPv4: prefixlen (host order, little-endian) then the address. */
export function lpmKey4(plen: number, addr: string): Uint8Array {
  const k = new Uint8Array(8);
  new DataView(k.buffer).setUint32(0, plen, true);
  k.set(addr.split('.').map(Number), 4);
  return k;
}

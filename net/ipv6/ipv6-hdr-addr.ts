// An IPv6 header's address field read into an In6Addr on the receive paths, each word computed
// and stored in this one frame. In6Addr.read gets each word from a helper; where V8 does not
// inline that helper (a big caller such as udp_recvmsg spends its inlining budget first), a word
// at or above 2^31 (fd00::/8, fe80::/10, most addresses) comes back as a freshly allocated 16-byte
// heap number. Stored here, a word costs no allocation as long as the field holds doubles in
// place, which V8 does for a field whose first value was a number (a class field declared without
// an initializer starts as undefined, and then each such store allocates again).
import type { In6Addr } from '../core/in6-addr.ts';

/** 16 bytes at `off` of b (network order) into out's words (host-order u32s, as In6Addr keeps them). */
export function ipv6_hdr_addr(b: Uint8Array, off: number, out: In6Addr): In6Addr {
  out.w0 = ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
  out.w1 = ((b[off + 4]! << 24) | (b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!) >>> 0;
  out.w2 = ((b[off + 8]! << 24) | (b[off + 9]! << 16) | (b[off + 10]! << 8) | b[off + 11]!) >>> 0;
  out.w3 = ((b[off + 12]! << 24) | (b[off + 13]! << 16) | (b[off + 14]! << 8) | b[off + 15]!) >>> 0;
  return out;
}

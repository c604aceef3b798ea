// Socket cookies (net/core/sock_diag.c): a number that names a socket for its lifetime, given on
// first use from a per-boot counter that starts at 1, so 0 always means "none". BPF programs,
// SOCKMAP and `ss` see it; the kernel's is a u64, and a counter that never passes 2^53 is exact
// in a JS number (the BPF boundary widens it to 64 bits).
import type { SockCommon } from './sock-common.ts';

export function sock_gen_cookie(sk: SockCommon): number {
  let c = sk.skc_cookie;
  if (c === 0) {
    c = sk.skc_net.boot.next_sock_cookie();
    sk.skc_cookie = c;
  }
  return c;
}

// Socket cookies (net/core/sock_diag.c): a number that names a socket for its lifetime, given on
// first use from a per-boot counter that starts at 1, so 0 always means "none". BPF programs,
// SOCKMAP and `ss` see it; the kernel's is a u64, and a counter that never passes 2^53 is exact
// in a JS number (the BPF boundary widens it to 64 bits).
//
// Each netns also keeps cookie -> socket for the sockets that have one, which is how a SOCKMAP
// entry (it holds the cookie) reaches its socket from BPF (BpfNetHost.sk_by_cookie). The entries
// hold the socket weakly and go when it is destroyed (sock_diag_forget from the close path) or,
// failing that, when a lookup finds the socket dead; a TIME_WAIT socket inherits its full
// socket's cookie but is not registered, as a sockmap never holds one.
import type { Net } from './net-namespace.ts';
import type { SockCommon } from './sock-common.ts';
import { sk_fullsock, sock_flag, SOCK_FLAGS } from './sock.ts';
import { TCP_CLOSE } from './tcp-states.ts';

/** Entries a netns may gather before a sweep drops the collected and dead ones. */
const SWEEP_AT = 4096;

class CookieTable {
  readonly socks = new Map<number, WeakRef<SockCommon>>();
  sweep_at = SWEEP_AT;
}
const tables = new WeakMap<Net, CookieTable>();

function table(net: Net): CookieTable {
  let t = tables.get(net);
  if (t === undefined) {
    t = new CookieTable();
    tables.set(net, t);
  }
  return t;
}

/**
 * A socket that is gone: a full socket in TCP_CLOSE, out of every table, and either orphaned
 * (SOCK_DEAD) or let go by its socket (close(2) cleared sk_socket; a listener closes that way).
 */
export function sock_diag_dead(sk: SockCommon): boolean {
  if (!sk_fullsock(sk) || sk.skc_state !== TCP_CLOSE || sk.skc_hashed) return false;
  return sock_flag(sk, SOCK_FLAGS.SOCK_DEAD) || sk.sk_socket === null;
}

function sweep(t: CookieTable): void {
  for (const [cookie, ref] of t.socks) {
    const sk = ref.deref();
    if (sk === undefined || sock_diag_dead(sk)) t.socks.delete(cookie);
  }
  t.sweep_at = Math.max(SWEEP_AT, 2 * t.socks.size);
}

export function sock_gen_cookie(sk: SockCommon): number {
  let c = sk.skc_cookie;
  if (c === 0) {
    c = sk.skc_net.boot.next_sock_cookie();
    sk.skc_cookie = c;
    const t = table(sk.skc_net);
    t.socks.set(c, new WeakRef(sk));
    if (t.socks.size >= t.sweep_at) sweep(t);
  }
  return c;
}

/** The live socket of `net` with this cookie, or null (never given, destroyed, or another netns's). */
export function sock_diag_lookup(net: Net, cookie: number): SockCommon | null {
  const t = tables.get(net);
  if (t === undefined) return null;
  const ref = t.socks.get(cookie);
  if (ref === undefined) return null;
  const sk = ref.deref();
  if (sk === undefined || sock_diag_dead(sk)) {
    t.socks.delete(cookie);
    return null;
  }
  return sk;
}

/** The socket is destroyed (sk_destruct): its cookie names nothing any more. */
export function sock_diag_forget(sk: SockCommon): void {
  if (sk.skc_cookie === 0 || !sk_fullsock(sk)) return;
  const t = tables.get(sk.skc_net);
  const ref = t?.socks.get(sk.skc_cookie);
  if (ref !== undefined && ref.deref() === sk) t!.socks.delete(sk.skc_cookie);
}

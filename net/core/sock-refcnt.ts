// The socket references BPF takes (include/net/sock.h's sk_is_refcounted, sock_gen_put). vxo's
// sockets belong to the garbage collector, so a reference frees nothing; it is still counted per
// netns, so a test can see that every bpf_sk_lookup_* result was released and every socket a tc
// program assigned to an skb was let go (sock_pfree) — the kernel's refcount discipline, checked.
//
// Which sockets are refcounted follows SOCK_RCU_FREE: listeners and UDP sockets are freed after an
// RCU grace period and never take a reference from a lookup; everything in ehash (established
// sockets, TIME_WAIT and request mini sockets) and any other full TCP socket does.
import type { Net } from './net-namespace.ts';
import { IPPROTO_UDP } from './socket-constants.ts';
import type { SockCommon } from './sock-common.ts';
import { sk_fullsock } from './sock.ts';
import { TCP_LISTEN } from './tcp-states.ts';

/** sock_flag(sk, SOCK_RCU_FREE): set by listen (TCP) and by hashing (UDP); a mini socket has no flags. */
export function sock_rcu_free(sk: SockCommon): boolean {
  if (!sk_fullsock(sk)) return false;
  return sk.sk_protocol === IPPROTO_UDP || sk.skc_state === TCP_LISTEN;
}

/** sk_is_refcounted: a lookup's result holds a reference to drop. */
export function sk_is_refcounted(sk: SockCommon): boolean {
  return !sock_rcu_free(sk);
}

class RefCount {
  held = 0;
}
const counts = new WeakMap<Net, RefCount>();

function count(net: Net): RefCount {
  let c = counts.get(net);
  if (c === undefined) {
    c = new RefCount();
    counts.set(net, c);
  }
  return c;
}

/** refcount_inc_not_zero on a refcounted socket (callers test sk_is_refcounted first). */
export function sock_hold(sk: SockCommon): void {
  count(sk.skc_net).held++;
}

/** sock_gen_put: drops a reference sock_hold took. */
export function sock_gen_put(sk: SockCommon): void {
  count(sk.skc_net).held--;
}

/** References BPF holds on this netns's sockets right now (0 once every lookup was released). */
export function bpf_sock_refs_held(net: Net): number {
  return counts.get(net)?.held ?? 0;
}

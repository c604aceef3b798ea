// The socket a tc program attached to a received skb with bpf_sk_assign (include/net/sock.h's
// skb_steal_sock, net/core/sock.c's sock_pfree). The helper leaves the socket on skb->sk with
// sock_pfree as destructor, which marks it "prefetched"; the transport's receive path takes it
// before any table or SK_LOOKUP lookup (inet_steal_sock in the TCP and UDP lookups), and an skb
// freed before that (dropped in IP, say) lets go of the socket through the destructor.
//
// bpf_sk_assign_tcp_reqsk (net/core/bpf-tcp-reqsk.ts) puts a request socket there the same way
// (TCP_NEW_SYN_RECV, syncookie_bpf). That one is not stolen: the receive path gets its listener
// (no reference, rsk_listener cleared) and the request stays on the skb, skb->sk and the
// destructor in place, for cookie_v{4,6}_check to take (cookie_bpf_check in ipv4/tcp-cookie.ts).
import { SkBuff } from './skbuff.ts';
import type { SockCommon } from './sock-common.ts';
import { sk_is_refcounted, sock_gen_put } from './sock-refcnt.ts';
import { RequestSock, reqsk_free } from './request-sock.ts';
import { TCP_NEW_SYN_RECV } from './tcp-states.ts';

/** The request bpf_sk_assign_tcp_reqsk left on skb->sk, or null. */
export function skb_bpf_reqsk(sk: SockCommon | null): RequestSock | null {
  return sk instanceof RequestSock && sk.skc_state === TCP_NEW_SYN_RECV && sk.syncookie_bpf ? sk : null;
}

/**
 * sock_pfree: the destructor of a prefetched socket; drops the reference bpf_sk_assign took, or
 * frees the request bpf_sk_assign_tcp_reqsk made (it held no reference, on the request or its
 * listener).
 */
export function sock_pfree(skb: SkBuff): void {
  const sk = skb.sk;
  if (sk === null || !sk_is_refcounted(sk)) return;
  const req = skb_bpf_reqsk(sk);
  if (req !== null) {
    reqsk_free(req);
    return;
  }
  sock_gen_put(sk);
}

/** skb_sk_is_prefetched: skb->sk came from bpf_sk_assign (or bpf_sk_assign_tcp_reqsk). */
export function skb_sk_is_prefetched(skb: SkBuff): boolean {
  return skb.destructor === sock_pfree;
}

/**
 * skb_steal_sock's *prefetched for any object: the skb carries a socket from bpf_sk_assign or a
 * request from bpf_sk_assign_tcp_reqsk. Read it before skb_steal_prefetched, whose null then means
 * "prefetched, but no socket to use" (a request whose listener was already taken), not "none".
 */
export function skb_prefetched(skb: object | null): boolean {
  return skb instanceof SkBuff && skb.sk !== null && skb.destructor === sock_pfree;
}

/**
 * skb_steal_sock for the receive paths: the prefetched socket, taken off the skb (skb->sk and the
 * destructor cleared, as the kernel's), or null when the skb carries none. The kernel hands the
 * reference to the caller, which puts it once the segment is processed; nothing here outlives the
 * call, so it is put at once. `skb` is any object: the lookups also serve callers with no SkBuff.
 *
 * A request from bpf_sk_assign_tcp_reqsk gives its listener instead (not refcounted) and stays on
 * the skb; its rsk_listener is cleared, so a second steal gets null (the kernel's NULL sk).
 */
export function skb_steal_prefetched(skb: object | null): SockCommon | null {
  // Every received datagram asks: one property test answers "no" without a type check.
  if (skb === null || (skb as Partial<SkBuff>).destructor !== sock_pfree || !(skb instanceof SkBuff)) return null;
  const sk = skb.sk;
  if (sk === null) return null;
  const req = skb_bpf_reqsk(sk);
  if (req !== null) {
    const listener = req.rsk_listener;
    req.rsk_listener = null;
    return listener;
  }
  skb.destructor = null;
  skb.sk = null;
  if (sk_is_refcounted(sk)) sock_gen_put(sk);
  return sk;
}

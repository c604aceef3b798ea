// The socket a tc program attached to a received skb with bpf_sk_assign (include/net/sock.h's
// skb_steal_sock, net/core/sock.c's sock_pfree). The helper leaves the socket on skb->sk with
// sock_pfree as destructor, which marks it "prefetched"; the transport's receive path takes it
// before any table or SK_LOOKUP lookup (inet_steal_sock in the TCP and UDP lookups), and an skb
// freed before that (dropped in IP, say) lets go of the socket through the destructor.
import { SkBuff } from './skbuff.ts';
import type { SockCommon } from './sock-common.ts';
import { sk_is_refcounted, sock_gen_put } from './sock-refcnt.ts';

/** sock_pfree: the destructor of a prefetched socket; drops the reference bpf_sk_assign took. */
export function sock_pfree(skb: SkBuff): void {
  const sk = skb.sk;
  if (sk !== null && sk_is_refcounted(sk)) sock_gen_put(sk);
}

/** skb_sk_is_prefetched: skb->sk came from bpf_sk_assign. */
export function skb_sk_is_prefetched(skb: SkBuff): boolean {
  return skb.destructor === sock_pfree;
}

/**
 * skb_steal_sock for the receive paths: the prefetched socket, taken off the skb (skb->sk and the
 * destructor cleared, as the kernel's), or null when the skb carries none. The kernel hands the
 * reference to the caller, which puts it once the segment is processed; nothing here outlives the
 * call, so it is put at once. `skb` is any object: the lookups also serve callers with no SkBuff.
 */
export function skb_steal_prefetched(skb: object | null): SockCommon | null {
  if (!(skb instanceof SkBuff)) return null;
  const sk = skb.sk;
  if (sk === null || skb.destructor !== sock_pfree) return null;
  skb.destructor = null;
  skb.sk = null;
  if (sk_is_refcounted(sk)) sock_gen_put(sk);
  return sk;
}

// TCP socket lookup for IPv6 (net/ipv6/inet6_hashtables.c): the same order as IPv4 (see
// ../ipv4/inet-hashtables.ts) over the same tables, with IPv6 addresses. Only AF_INET6 sockets
// match here; an IPv4 packet to a dual-stack socket is found by the IPv4 lookup through the
// socket's IPv4 view.
import { IS_ERR, type ErrPtr } from '../core/err-ptr.ts';
import { in6addr_any, ipv6_addr_equal, type ReadonlyIn6Addr } from '../core/in6-addr.ts';
import type { Net } from '../core/net-namespace.ts';
import { AF_INET6, IPPROTO_TCP, PF_INET6 } from '../core/socket-constants.ts';
import { skb_prefetched, skb_steal_prefetched } from '../core/skb-steal-sock.ts';
import type { Sock } from '../core/sock.ts';
import type { SockCommon } from '../core/sock-common.ts';
import { reuseport_select_sock, type SkBuffRef } from '../core/sock-reuseport.ts';
import { inet6_ehashfn, ipv6_portaddr_hash, type Inet6Ehashfn } from '../ipv4/inet-hashfn.ts';
import type { InetHashinfo } from '../ipv4/inet-hashinfo.ts';
import { inet_lookup_done, inet_sk_bound_dev_eq, inet_steal_sock_fits, inet_steal_sock_reuseport } from '../ipv4/inet-hashtables.ts';

/** inet6_match: the ehash entry is this connection. */
export function inet6_match(
  net: Net,
  sk: SockCommon,
  saddr: ReadonlyIn6Addr,
  daddr: ReadonlyIn6Addr,
  sport: number,
  hnum: number,
  dif: number,
  sdif: number,
): boolean {
  return (
    sk.skc_net === net &&
    sk.skc_family === PF_INET6 &&
    sk.skc_num === hnum &&
    sk.skc_dport === sport &&
    ipv6_addr_equal(sk.skc_v6_daddr, saddr) &&
    ipv6_addr_equal(sk.skc_v6_rcv_saddr, daddr) &&
    inet_sk_bound_dev_eq(net, sk.skc_bound_dev_if, dif, sdif)
  );
}

/**
 * compute_score for an IPv6 listener: -1 unless netns and port match, the socket is AF_INET6, bound
 * to daddr (:: in the wildcard pass), and its device fits. Then 1, or 2 if bound to a device; +1
 * for SO_INCOMING_CPU.
 */
export function compute_score(sk: Sock, net: Net, hnum: number, daddr: ReadonlyIn6Addr, dif: number, sdif: number): number {
  if (sk.skc_net !== net || sk.skc_num !== hnum || sk.skc_family !== PF_INET6) return -1;
  if (!ipv6_addr_equal(sk.skc_v6_rcv_saddr, daddr)) return -1;
  if (!inet_sk_bound_dev_eq(net, sk.skc_bound_dev_if, dif, sdif)) return -1;
  let score = sk.skc_bound_dev_if !== 0 ? 2 : 1;
  if (sk.skc_incoming_cpu === net.cpu) score++;
  return score;
}

/** inet6_lookup_reuseport: the group member for this flow, for an SO_REUSEPORT socket. */
export function inet6_lookup_reuseport(
  net: Net,
  sk: Sock,
  skb: SkBuffRef | null,
  doff: number,
  saddr: ReadonlyIn6Addr,
  sport: number,
  daddr: ReadonlyIn6Addr,
  hnum: number,
  ehashfn: Inet6Ehashfn,
): Sock | ErrPtr | undefined {
  if (!sk.skc_reuseport) return undefined;
  return reuseport_select_sock(sk, ehashfn(net, daddr, hnum, saddr, sport), skb, doff);
}

function inet6_lhash2_lookup(
  net: Net,
  chain: Sock[] | undefined,
  skb: SkBuffRef | null,
  doff: number,
  saddr: ReadonlyIn6Addr,
  sport: number,
  daddr: ReadonlyIn6Addr,
  hnum: number,
  dif: number,
  sdif: number,
): Sock | ErrPtr | undefined {
  if (chain === undefined) return undefined;
  let result: Sock | undefined;
  let hiscore = 0;
  for (let i = 0; i < chain.length; i++) {
    const sk = chain[i]!;
    const score = compute_score(sk, net, hnum, daddr, dif, sdif);
    if (score > hiscore) {
      result = sk;
      hiscore = score;
    }
  }
  if (result === undefined) return undefined;
  return inet6_lookup_reuseport(net, result, skb, doff, saddr, sport, daddr, hnum, inet6_ehashfn) ?? result;
}

/** inet6_lookup_run_sk_lookup: the netns's SK_LOOKUP programs, then reuseport unless no_reuseport. */
export function inet6_lookup_run_sk_lookup(
  net: Net,
  protocol: number,
  skb: SkBuffRef | null,
  doff: number,
  saddr: ReadonlyIn6Addr,
  sport: number,
  daddr: ReadonlyIn6Addr,
  hnum: number,
  dif: number,
  ehashfn: Inet6Ehashfn,
): Sock | ErrPtr | undefined {
  const run = net.sk_lookup;
  const sk = run.run_v6(protocol, saddr, sport, daddr, hnum, dif);
  if (run.no_reuseport || sk === undefined || IS_ERR(sk)) return sk;
  return inet6_lookup_reuseport(net, sk, skb, doff, saddr, sport, daddr, hnum, ehashfn) ?? sk;
}

/** inet6_lookup_listener: SK_LOOKUP, then lhash2 for daddr, then for ::. */
export function inet6_lookup_listener(
  net: Net,
  h: InetHashinfo,
  skb: SkBuffRef | null,
  doff: number,
  saddr: ReadonlyIn6Addr,
  sport: number,
  daddr: ReadonlyIn6Addr,
  hnum: number,
  dif: number,
  sdif: number,
): Sock | undefined {
  let result: Sock | ErrPtr | undefined;
  // SK_LOOKUP: absent from a kernel without the series (hooked false), skipped when no program is attached.
  const skl = net.sk_lookup;
  if (skl.hooked && skl.length !== 0) {
    result = inet6_lookup_run_sk_lookup(net, IPPROTO_TCP, skb, doff, saddr, sport, daddr, hnum, dif, inet6_ehashfn);
    if (result !== undefined) return inet_lookup_done(result);
  }
  const mask = h.lhash2_mask;
  result = inet6_lhash2_lookup(net, h.lhash2[ipv6_portaddr_hash(net, daddr, hnum) & mask], skb, doff, saddr, sport, daddr, hnum, dif, sdif);
  if (result === undefined) {
    result = inet6_lhash2_lookup(
      net,
      h.lhash2[ipv6_portaddr_hash(net, in6addr_any, hnum) & mask],
      skb,
      doff,
      saddr,
      sport,
      in6addr_any,
      hnum,
      dif,
      sdif,
    );
  }
  return inet_lookup_done(result);
}

/** __inet6_lookup_established. */
export function __inet6_lookup_established(
  net: Net,
  h: InetHashinfo,
  saddr: ReadonlyIn6Addr,
  sport: number,
  daddr: ReadonlyIn6Addr,
  hnum: number,
  dif: number,
  sdif: number,
): SockCommon | undefined {
  const hash = inet6_ehashfn(net, daddr, hnum, saddr, sport);
  const chain = h.ehash[hash & h.ehash_mask];
  if (chain === undefined) return undefined;
  for (let i = 0; i < chain.length; i++) {
    const sk = chain[i]!;
    if (sk.skc_hash !== hash) continue;
    if (inet6_match(net, sk, saddr, daddr, sport, hnum, dif, sdif)) return sk;
  }
  return undefined;
}

/** __inet6_lookup: ehash, then the listeners. */
export function __inet6_lookup(
  net: Net,
  h: InetHashinfo,
  skb: SkBuffRef | null,
  doff: number,
  saddr: ReadonlyIn6Addr,
  sport: number,
  daddr: ReadonlyIn6Addr,
  dport: number,
  dif: number,
  sdif: number,
): SockCommon | undefined {
  return (
    __inet6_lookup_established(net, h, saddr, sport, daddr, dport, dif, sdif) ??
    inet6_lookup_listener(net, h, skb, doff, saddr, sport, daddr, dport, dif, sdif)
  );
}

/** inet6_steal_sock: as inet_steal_sock, for IPv6. */
export function inet6_steal_sock(
  net: Net,
  skb_sk: SockCommon | null,
  prefetched: boolean,
  skb: SkBuffRef | null,
  doff: number,
  saddr: ReadonlyIn6Addr,
  sport: number,
  daddr: ReadonlyIn6Addr,
  dport: number,
  ehashfn: Inet6Ehashfn,
): SockCommon | ErrPtr | undefined {
  if (skb_sk === null) return undefined;
  if (!inet_steal_sock_reuseport(skb_sk, prefetched)) return skb_sk;
  return inet6_lookup_reuseport(net, skb_sk, skb, doff, saddr, sport, daddr, dport, ehashfn) ?? skb_sk;
}

/** __inet6_lookup_skb: the skb's socket (a prefetched one stolen, as __inet_lookup_skb), else ehash, else a listener. */
export function __inet6_lookup_skb(
  net: Net,
  h: InetHashinfo,
  skb: SkBuffRef | null,
  doff: number,
  skb_sk: SockCommon | null,
  prefetched: boolean,
  saddr: ReadonlyIn6Addr,
  sport: number,
  daddr: ReadonlyIn6Addr,
  dport: number,
  dif: number,
  sdif: number,
): SockCommon | undefined {
  // A prefetched socket whose listener was already taken (a kfunc request stolen twice) leaves
  // no socket: never the request itself, which has no listener to run it.
  const was = skb_prefetched(skb);
  const stolen = skb_steal_prefetched(skb);
  if (was) {
    skb_sk = stolen !== null && inet_steal_sock_fits(stolen, IPPROTO_TCP, AF_INET6) ? stolen : null;
    prefetched = true;
  }
  const sk = inet6_steal_sock(net, skb_sk, prefetched, skb, doff, saddr, sport, daddr, dport, inet6_ehashfn);
  if (sk !== undefined) return inet_lookup_done(sk);
  return __inet6_lookup(net, h, skb, doff, saddr, sport, daddr, dport, dif, sdif);
}

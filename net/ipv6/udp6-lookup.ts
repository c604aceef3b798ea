// UDP socket lookup for IPv6 (__udp6_lib_lookup, net/ipv6/udp.c): the order of the IPv4 lookup
// (see ../ipv4/udp-lookup.ts) over the same table, with IPv6 addresses. Only AF_INET6 sockets
// match; IPv4 datagrams reach dual-stack sockets through __udp4_lib_lookup.
import { IS_ERR, type ErrPtr } from '../core/err-ptr.ts';
import { in6addr_any, ipv6_addr_any, ipv6_addr_equal, type ReadonlyIn6Addr } from '../core/in6-addr.ts';
import type { Net } from '../core/net-namespace.ts';
import { AF_INET6, IPPROTO_UDP, PF_INET6 } from '../core/socket-constants.ts';
import { skb_steal_prefetched } from '../core/skb-steal-sock.ts';
import type { Sock } from '../core/sock.ts';
import { reuseport_has_conns, type SkBuffRef } from '../core/sock-reuseport.ts';
import { TCP_ESTABLISHED } from '../core/tcp-states.ts';
import { ipv6_portaddr_hash, udp6_ehashfn } from '../ipv4/inet-hashfn.ts';
import { UDP_HLEN, udp_sk_bound_dev_eq } from '../ipv4/udp-lookup.ts';
import type { UdpTable } from '../ipv4/udp-table.ts';
import { inet_lookup_done, inet_steal_sock_fits } from '../ipv4/inet-hashtables.ts';
import { inet6_lookup_reuseport, inet6_lookup_run_sk_lookup, inet6_steal_sock } from './inet6-hashtables.ts';

/**
 * compute_score for UDP over IPv6: -1 unless netns and port match, the socket is AF_INET6 and
 * bound to daddr. Then 0; +1 if connected to the source port (-1 if elsewhere); +1 if connected
 * to the source address (likewise); +1 if bound to the receiving device (-1 if to another); +1
 * for SO_INCOMING_CPU.
 */
export function compute_score(
  sk: Sock,
  net: Net,
  saddr: ReadonlyIn6Addr,
  sport: number,
  daddr: ReadonlyIn6Addr,
  hnum: number,
  dif: number,
  sdif: number,
): number {
  if (sk.skc_net !== net || sk.skc_num !== hnum || sk.skc_family !== PF_INET6) return -1;
  if (!ipv6_addr_equal(sk.skc_v6_rcv_saddr, daddr)) return -1;
  let score = 0;
  if (sk.skc_dport !== 0) {
    if (sk.skc_dport !== sport) return -1;
    score++;
  }
  if (!ipv6_addr_any(sk.skc_v6_daddr)) {
    if (!ipv6_addr_equal(sk.skc_v6_daddr, saddr)) return -1;
    score++;
  }
  if (!udp_sk_bound_dev_eq(net, sk.skc_bound_dev_if, dif, sdif)) return -1;
  if (sk.skc_bound_dev_if !== 0) score++;
  if (sk.skc_incoming_cpu === net.cpu) score++;
  return score;
}

/** udp6_lib_lookup2: as udp4_lib_lookup2; a score of 0 counts, so badness starts at -1. */
function udp6_lib_lookup2(
  net: Net,
  saddr: ReadonlyIn6Addr,
  sport: number,
  daddr: ReadonlyIn6Addr,
  hnum: number,
  dif: number,
  sdif: number,
  chain: Sock[],
  skb: SkBuffRef | null,
): Sock | ErrPtr | undefined {
  let result: Sock | ErrPtr | undefined;
  let badness = -1;
  for (let i = 0; i < chain.length; i++) {
    const sk = chain[i]!;
    const score = compute_score(sk, net, saddr, sport, daddr, hnum, dif, sdif);
    if (score <= badness) continue;
    badness = score;
    if (sk.skc_state === TCP_ESTABLISHED) {
      result = sk;
      continue;
    }
    const picked = inet6_lookup_reuseport(net, sk, skb, UDP_HLEN, saddr, sport, daddr, hnum, udp6_ehashfn);
    if (picked === undefined) {
      result = sk;
      continue;
    }
    result = picked;
    if (!reuseport_has_conns(sk)) return picked;
    if (IS_ERR(picked)) continue;
    const rescore = compute_score(picked, net, saddr, sport, daddr, hnum, dif, sdif);
    if (rescore > badness) badness = rescore;
  }
  return result;
}

/** __udp6_lib_lookup: the socket for a datagram (a prefetched one first, as __udp4_lib_lookup), or undefined. */
export function __udp6_lib_lookup(
  net: Net,
  t: UdpTable,
  saddr: ReadonlyIn6Addr,
  sport: number,
  daddr: ReadonlyIn6Addr,
  dport: number,
  dif: number,
  sdif: number,
  skb: SkBuffRef | null,
): Sock | undefined {
  if (skb !== null) {
    const stolen = skb_steal_prefetched(skb);
    if (stolen !== null && inet_steal_sock_fits(stolen, IPPROTO_UDP, AF_INET6)) {
      return inet_lookup_done(inet6_steal_sock(net, stolen, true, skb, UDP_HLEN, saddr, sport, daddr, dport, udp6_ehashfn)) as Sock | undefined;
    }
  }
  const mask = t.mask;
  let result = udp6_lib_lookup2(net, saddr, sport, daddr, dport, dif, sdif, t.hash2[ipv6_portaddr_hash(net, daddr, dport) & mask]!, skb);
  if (result !== undefined && !IS_ERR(result) && result.skc_state === TCP_ESTABLISHED) return result;
  // SK_LOOKUP: absent from a kernel without the series (hooked false), skipped when no program is attached.
  const skl = net.sk_lookup;
  if (skl.hooked && skl.length !== 0) {
    const sk = inet6_lookup_run_sk_lookup(net, IPPROTO_UDP, skb, UDP_HLEN, saddr, sport, daddr, dport, dif, udp6_ehashfn);
    if (sk !== undefined) return inet_lookup_done(sk);
  }
  if (result === undefined) {
    result = udp6_lib_lookup2(
      net,
      saddr,
      sport,
      in6addr_any,
      dport,
      dif,
      sdif,
      t.hash2[ipv6_portaddr_hash(net, in6addr_any, dport) & mask]!,
      skb,
    );
  }
  return inet_lookup_done(result);
}

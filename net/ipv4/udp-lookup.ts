// UDP socket lookup for IPv4 (__udp4_lib_lookup, net/ipv4/udp.c), in the order of sockets.md §1.2:
//   1. hash2 for (daddr, port): connected sockets and sockets bound to daddr, scored
//      (compute_score); an unconnected SO_REUSEPORT winner goes through reuseport selection
//      (udp_ehashfn), a connected one is taken as is;
//   2. a connected (TCP_ESTABLISHED) result ends the lookup: SK_LOOKUP never sees its packets;
//   3. SK_LOOKUP programs, when any are attached: any result, a socket or a refusal, ends the
//      lookup, so a program overrides sockets bound to the exact address, not only wildcard ones;
//   4. the step-1 result, if there was one;
//   5. hash2 for (INADDR_ANY, port);
//   6. a refusal becomes "no socket" (the caller answers with ICMP port unreachable).
// Addresses u32, ports host order; nothing is allocated.
import { IS_ERR, type ErrPtr } from '../core/err-ptr.ts';
import type { Net } from '../core/net-namespace.ts';
import { AF_INET, IPPROTO_UDP, PF_INET } from '../core/socket-constants.ts';
import { skb_steal_prefetched } from '../core/skb-steal-sock.ts';
import type { Sock } from '../core/sock.ts';
import { reuseport_has_conns, type SkBuffRef } from '../core/sock-reuseport.ts';
import { TCP_ESTABLISHED } from '../core/tcp-states.ts';
import { inet_lookup_done, inet_lookup_reuseport, inet_lookup_run_sk_lookup, inet_steal_sock, inet_steal_sock_fits } from './inet-hashtables.ts';
import { ipv4_portaddr_hash, udp_ehashfn } from './inet-hashfn.ts';
import type { UdpTable } from './udp-table.ts';

/** The UDP header length: what an SK_REUSEPORT program's data starts after. */
export const UDP_HLEN = 8;

/** udp_sk_bound_dev_eq: inet_bound_dev_eq with net.ipv4.udp_l3mdev_accept. */
export function udp_sk_bound_dev_eq(net: Net, bound_dev_if: number, dif: number, sdif: number): boolean {
  if (bound_dev_if === 0) return sdif === 0 || net.ipv4.sysctl_udp_l3mdev_accept;
  return bound_dev_if === dif || bound_dev_if === sdif;
}

/**
 * compute_score for UDP over IPv4: -1 unless netns and port match, the socket is not v6-only and
 * is bound to daddr. Then 2 for AF_INET (1 for a dual-stack AF_INET6 socket); +4 if connected to
 * the packet's source address (-1 if connected elsewhere); +4 if connected to its source port
 * (likewise); +4 if bound to the receiving device (-1 if to another); +1 for SO_INCOMING_CPU.
 */
export function compute_score(sk: Sock, net: Net, saddr: number, sport: number, daddr: number, hnum: number, dif: number, sdif: number): number {
  if (sk.skc_net !== net || sk.skc_num !== hnum || sk.skc_ipv6only) return -1;
  if (sk.skc_rcv_saddr !== daddr) return -1;
  let score = sk.skc_family === PF_INET ? 2 : 1;
  if (sk.skc_daddr !== 0) {
    if (sk.skc_daddr !== saddr) return -1;
    score += 4;
  }
  if (sk.skc_dport !== 0) {
    if (sk.skc_dport !== sport) return -1;
    score += 4;
  }
  if (!udp_sk_bound_dev_eq(net, sk.skc_bound_dev_if, dif, sdif)) return -1;
  if (sk.skc_bound_dev_if !== 0) score += 4;
  if (sk.skc_incoming_cpu === net.cpu) score++;
  return score;
}

/**
 * udp4_lib_lookup2: the best socket of one hash2 chain. An unconnected reuseport winner's pick is
 * final unless the group has connected members; then the pick is scored like any socket, so a
 * connected socket matching the 4-tuple still wins.
 */
function udp4_lib_lookup2(
  net: Net,
  saddr: number,
  sport: number,
  daddr: number,
  hnum: number,
  dif: number,
  sdif: number,
  chain: Sock[],
  skb: SkBuffRef | null,
): Sock | ErrPtr | undefined {
  let result: Sock | ErrPtr | undefined;
  let badness = 0;
  for (let i = 0; i < chain.length; i++) {
    const sk = chain[i]!;
    const score = compute_score(sk, net, saddr, sport, daddr, hnum, dif, sdif);
    if (score <= badness) continue;
    badness = score;
    if (sk.skc_state === TCP_ESTABLISHED) {
      result = sk;
      continue;
    }
    const picked = inet_lookup_reuseport(net, sk, skb, UDP_HLEN, saddr, sport, daddr, hnum, udp_ehashfn);
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

/**
 * __udp4_lib_lookup: the socket for a datagram to (daddr, dport) from (saddr, sport), or
 * undefined. A socket a tc program assigned to the skb (bpf_sk_assign) is taken first, before
 * any table and SK_LOOKUP (the kernel's __udp4_lib_rcv steals it just before this lookup): an
 * unconnected one goes through reuseport selection, an SK_REUSEPORT refusal meaning no socket.
 */
export function __udp4_lib_lookup(
  net: Net,
  t: UdpTable,
  saddr: number,
  sport: number,
  daddr: number,
  dport: number,
  dif: number,
  sdif: number,
  skb: SkBuffRef | null,
): Sock | undefined {
  if (skb !== null) {
    const stolen = skb_steal_prefetched(skb);
    if (stolen !== null && inet_steal_sock_fits(stolen, IPPROTO_UDP, AF_INET)) {
      return inet_lookup_done(inet_steal_sock(net, stolen, true, skb, UDP_HLEN, saddr, sport, daddr, dport, udp_ehashfn)) as Sock | undefined;
    }
  }
  const mask = t.mask;
  let result = udp4_lib_lookup2(net, saddr, sport, daddr, dport, dif, sdif, t.hash2[ipv4_portaddr_hash(net, daddr, dport) & mask]!, skb);
  if (result !== undefined && !IS_ERR(result) && result.skc_state === TCP_ESTABLISHED) return result;
  // SK_LOOKUP: absent from a kernel without the series (hooked false), skipped when no program is attached.
  const skl = net.sk_lookup;
  if (skl.hooked && skl.length !== 0) {
    const sk = inet_lookup_run_sk_lookup(net, IPPROTO_UDP, skb, UDP_HLEN, saddr, sport, daddr, dport, dif, udp_ehashfn);
    if (sk !== undefined) return inet_lookup_done(sk);
  }
  if (result === undefined) {
    result = udp4_lib_lookup2(net, saddr, sport, 0, dport, dif, sdif, t.hash2[ipv4_portaddr_hash(net, 0, dport) & mask]!, skb);
  }
  return inet_lookup_done(result);
}

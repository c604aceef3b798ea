// TCP socket lookup for IPv4 (net/ipv4/inet_hashtables.c), in the order of sockets.md §1.1:
//   1. the socket already on the skb (a tc program's bpf_sk_assign, or early demux): used as is,
//      bypassing the tables and SK_LOOKUP; a prefetched listener still goes through reuseport;
//   2. ehash, exact 4-tuple (__inet_lookup_established);
//   3. only on an ehash miss, the listeners (__inet_lookup_listener):
//      a. SK_LOOKUP programs, when any are attached: any result, a socket or a refusal, ends the
//         lookup; a selected socket goes through reuseport selection unless the program asked not;
//      b. lhash2 for (daddr, port), then c. lhash2 for (INADDR_ANY, port), each scored by
//         compute_score, the best listener then going through reuseport selection;
//      d. a refusal becomes "no socket" (the caller answers with a RST).
// The lookups take IPv4 addresses as u32 and ports in host order, allocate nothing, and return the
// socket or undefined.
//
// Reuseport selection runs once, on the best-scoring listener (the 2025 "lookup the best matched
// listen socket" change); older kernels ran it on the first listener that improved the score, so
// a later, better listener (bound to the device, say) lost to a group met earlier in the chain.
import { IS_ERR, type ErrPtr } from '../core/err-ptr.ts';
import type { Net } from '../core/net-namespace.ts';
import { AF_INET, IPPROTO_TCP, IPPROTO_UDP, PF_INET } from '../core/socket-constants.ts';
import { skb_prefetched, skb_steal_prefetched } from '../core/skb-steal-sock.ts';
import { sk_fullsock, type Sock } from '../core/sock.ts';
import type { SockCommon } from '../core/sock-common.ts';
import { reuseport_select_sock, type SkBuffRef } from '../core/sock-reuseport.ts';
import { TCP_CLOSE, TCP_LISTEN } from '../core/tcp-states.ts';
import { inet_ehashfn, ipv4_portaddr_hash, type InetEhashfn } from './inet-hashfn.ts';
import type { InetHashinfo } from './inet-hashinfo.ts';

/**
 * inet_bound_dev_eq: an unbound socket takes packets from any device (from a VRF slave only with
 * l3mdev_accept); a bound one only from its device.
 */
export function inet_bound_dev_eq(l3mdev_accept: boolean, bound_dev_if: number, dif: number, sdif: number): boolean {
  if (bound_dev_if === 0) return sdif === 0 || l3mdev_accept;
  return bound_dev_if === dif || bound_dev_if === sdif;
}

/** inet_sk_bound_dev_eq, reading the sysctl only when it can matter (per listener, per lookup). */
export function inet_sk_bound_dev_eq(net: Net, bound_dev_if: number, dif: number, sdif: number): boolean {
  if (bound_dev_if === 0) return sdif === 0 || net.ipv4.sysctl_tcp_l3mdev_accept;
  return bound_dev_if === dif || bound_dev_if === sdif;
}

/** inet_match: the ehash entry is this connection (saddr/sport are the packet's source, i.e. the peer). */
export function inet_match(net: Net, sk: SockCommon, saddr: number, daddr: number, sport: number, hnum: number, dif: number, sdif: number): boolean {
  return (
    sk.skc_net === net &&
    sk.skc_num === hnum &&
    sk.skc_dport === sport &&
    sk.skc_daddr === saddr &&
    sk.skc_rcv_saddr === daddr &&
    inet_sk_bound_dev_eq(net, sk.skc_bound_dev_if, dif, sdif)
  );
}

/**
 * compute_score for an IPv4 listener: -1 unless netns and port match, the socket is not v6-only,
 * its address is daddr (0 in the wildcard pass) and its device fits. Then 1, or 2 if bound to a
 * device; +1 for an AF_INET socket (so it beats a dual-stack AF_INET6 one); +1 if its
 * SO_INCOMING_CPU is this CPU.
 */
export function compute_score(sk: Sock, net: Net, hnum: number, daddr: number, dif: number, sdif: number): number {
  if (sk.skc_net !== net || sk.skc_num !== hnum || sk.skc_ipv6only) return -1;
  if (sk.skc_rcv_saddr !== daddr) return -1;
  if (!inet_sk_bound_dev_eq(net, sk.skc_bound_dev_if, dif, sdif)) return -1;
  let score = sk.skc_bound_dev_if !== 0 ? 2 : 1;
  if (sk.skc_family === PF_INET) score++;
  if (sk.skc_incoming_cpu === net.cpu) score++;
  return score;
}

/**
 * inet_lookup_reuseport: for an SO_REUSEPORT socket, the group member for this flow (hashed by
 * `ehashfn` over the packet's addresses and ports); undefined for any other socket.
 */
export function inet_lookup_reuseport(
  net: Net,
  sk: Sock,
  skb: SkBuffRef | null,
  doff: number,
  saddr: number,
  sport: number,
  daddr: number,
  hnum: number,
  ehashfn: InetEhashfn,
): Sock | ErrPtr | undefined {
  if (!sk.skc_reuseport) return undefined;
  const phash = ehashfn(net, daddr, hnum, saddr, sport);
  return reuseport_select_sock(sk, phash, skb, doff);
}

/**
 * inet_lhash2_lookup: the best-scoring listener of one chain, then its reuseport pick. IPv6 has its
 * own copy (inet6_lhash2_lookup), as in the kernel, and so do the ehash and UDP hash2 walks: one
 * walk for both families, given compute_score as a callback, measured 12-49% slower per lookup
 * once both families had run in the process (V8 no longer inlines a callback that has seen two
 * functions).
 */
function inet_lhash2_lookup(
  net: Net,
  chain: Sock[] | undefined,
  skb: SkBuffRef | null,
  doff: number,
  saddr: number,
  sport: number,
  daddr: number,
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
  return inet_lookup_reuseport(net, result, skb, doff, saddr, sport, daddr, hnum, inet_ehashfn) ?? result;
}

/**
 * inet_lookup_run_sk_lookup: the netns's SK_LOOKUP programs. A selected socket goes through
 * reuseport selection unless no_reuseport; a socket, a refusal, or undefined (look on).
 */
export function inet_lookup_run_sk_lookup(
  net: Net,
  protocol: number,
  skb: SkBuffRef | null,
  doff: number,
  saddr: number,
  sport: number,
  daddr: number,
  hnum: number,
  dif: number,
  ehashfn: InetEhashfn,
): Sock | ErrPtr | undefined {
  const run = net.sk_lookup;
  const sk = run.run_v4(protocol, saddr, sport, daddr, hnum, dif);
  if (run.no_reuseport || sk === undefined || IS_ERR(sk)) return sk;
  return inet_lookup_reuseport(net, sk, skb, doff, saddr, sport, daddr, hnum, ehashfn) ?? sk;
}

/** The lookups' `done:`, IPv4's and IPv6's: a refusal (an ERR_PTR) becomes "no socket". */
export function inet_lookup_done<S extends SockCommon>(result: S | ErrPtr | undefined): S | undefined {
  return IS_ERR(result) ? undefined : result;
}

/** __inet_lookup_listener: steps 3a-3d. */
export function __inet_lookup_listener(
  net: Net,
  h: InetHashinfo,
  skb: SkBuffRef | null,
  doff: number,
  saddr: number,
  sport: number,
  daddr: number,
  hnum: number,
  dif: number,
  sdif: number,
): Sock | undefined {
  let result: Sock | ErrPtr | undefined;
  // SK_LOOKUP: absent from a kernel without the series (hooked false), skipped when no program is attached.
  const skl = net.sk_lookup;
  if (skl.hooked && skl.length !== 0) {
    result = inet_lookup_run_sk_lookup(net, IPPROTO_TCP, skb, doff, saddr, sport, daddr, hnum, dif, inet_ehashfn);
    if (result !== undefined) return inet_lookup_done(result);
  }
  const mask = h.lhash2_mask;
  result = inet_lhash2_lookup(net, h.lhash2[ipv4_portaddr_hash(net, daddr, hnum) & mask], skb, doff, saddr, sport, daddr, hnum, dif, sdif);
  if (result === undefined) {
    result = inet_lhash2_lookup(net, h.lhash2[ipv4_portaddr_hash(net, 0, hnum) & mask], skb, doff, saddr, sport, 0, hnum, dif, sdif);
  }
  return inet_lookup_done(result);
}

/** __inet_lookup_established: the ehash entry for this exact connection (full, TIME_WAIT or request socket). */
export function __inet_lookup_established(
  net: Net,
  h: InetHashinfo,
  saddr: number,
  sport: number,
  daddr: number,
  hnum: number,
  dif: number,
  sdif: number,
): SockCommon | undefined {
  const hash = inet_ehashfn(net, daddr, hnum, saddr, sport);
  const chain = h.ehash[hash & h.ehash_mask];
  if (chain === undefined) return undefined;
  for (let i = 0; i < chain.length; i++) {
    const sk = chain[i]!;
    if (sk.skc_hash !== hash) continue;
    if (inet_match(net, sk, saddr, daddr, sport, hnum, dif, sdif)) return sk;
  }
  return undefined;
}

/** __inet_lookup: ehash, then the listeners. */
export function __inet_lookup(
  net: Net,
  h: InetHashinfo,
  skb: SkBuffRef | null,
  doff: number,
  saddr: number,
  sport: number,
  daddr: number,
  dport: number,
  dif: number,
  sdif: number,
): SockCommon | undefined {
  return (
    __inet_lookup_established(net, h, saddr, sport, daddr, dport, dif, sdif) ??
    __inet_lookup_listener(net, h, skb, doff, saddr, sport, daddr, dport, dif, sdif)
  );
}

/**
 * inet_steal_sock's test, IPv4's and IPv6's: the socket on the skb goes through reuseport selection
 * only if a BPF program prefetched it (bpf_sk_assign) and it is a TCP listener or an unconnected
 * UDP socket; any other is used as is.
 */
export function inet_steal_sock_reuseport(skb_sk: SockCommon, prefetched: boolean): skb_sk is Sock {
  if (!prefetched || !sk_fullsock(skb_sk)) return false;
  if (skb_sk.sk_protocol === IPPROTO_TCP) return skb_sk.skc_state === TCP_LISTEN;
  if (skb_sk.sk_protocol === IPPROTO_UDP) return skb_sk.skc_state === TCP_CLOSE;
  return false;
}

/**
 * inet_steal_sock: the socket already on the skb. A prefetched one (bpf_sk_assign) that is a TCP
 * listener or an unconnected UDP socket goes through reuseport selection; anything else is used as
 * is. undefined when the skb carries none; an error when an SK_REUSEPORT program refused.
 */
export function inet_steal_sock(
  net: Net,
  skb_sk: SockCommon | null,
  prefetched: boolean,
  skb: SkBuffRef | null,
  doff: number,
  saddr: number,
  sport: number,
  daddr: number,
  dport: number,
  ehashfn: InetEhashfn,
): SockCommon | ErrPtr | undefined {
  if (skb_sk === null) return undefined;
  if (!inet_steal_sock_reuseport(skb_sk, prefetched)) return skb_sk;
  return inet_lookup_reuseport(net, skb_sk, skb, doff, saddr, sport, daddr, dport, ehashfn) ?? skb_sk;
}

/**
 * Whether a socket a tc program prefetched can take this packet at all. The kernel trusts the
 * program (CAP_NET_ADMIN) and would hand, say, a UDP socket to tcp_v4_rcv; here such a socket is
 * let go and the lookup runs as if none had been assigned, so a wrong program cannot corrupt a
 * socket of another protocol or family. Mini sockets are TCP's.
 */
export function inet_steal_sock_fits(sk: SockCommon, protocol: number, family: number): boolean {
  if (sk_fullsock(sk) ? sk.sk_protocol !== protocol : protocol !== IPPROTO_TCP) return false;
  if (family === AF_INET) return !sk.skc_ipv6only;
  return sk.skc_family !== AF_INET;
}

/**
 * __inet_lookup_skb: the socket for a TCP segment: the one on the skb (`skb_sk`, with `prefetched`
 * when a BPF program assigned it), else ehash, else a listener. undefined means no socket (RST).
 * A socket bpf_sk_assign left on the skb (sock_pfree as destructor) is stolen from it here, as
 * skb_steal_sock does, whatever the caller passed: it bypasses ehash and SK_LOOKUP.
 */
export function __inet_lookup_skb(
  net: Net,
  h: InetHashinfo,
  skb: SkBuffRef | null,
  doff: number,
  skb_sk: SockCommon | null,
  prefetched: boolean,
  saddr: number,
  sport: number,
  daddr: number,
  dport: number,
  dif: number,
  sdif: number,
): SockCommon | undefined {
  // A prefetched socket whose listener was already taken (a kfunc request stolen twice) leaves
  // no socket: never the request itself, which has no listener to run it.
  const was = skb_prefetched(skb);
  const stolen = skb_steal_prefetched(skb);
  if (was) {
    skb_sk = stolen !== null && inet_steal_sock_fits(stolen, IPPROTO_TCP, AF_INET) ? stolen : null;
    prefetched = true;
  }
  const sk = inet_steal_sock(net, skb_sk, prefetched, skb, doff, saddr, sport, daddr, dport, inet_ehashfn);
  if (sk !== undefined) return inet_lookup_done(sk);
  return __inet_lookup(net, h, skb, doff, saddr, sport, daddr, dport, dif, sdif);
}

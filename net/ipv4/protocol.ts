// net/ipv4/protocol.c and net/ipv6/protocol.c: the transport handlers ip_local_deliver and
// ip6_input dispatch to by protocol number. The table is per boot, like the kernel's inet_protos[]
// (both machines run the same code, so each worker's copy of this module holds the same handlers).
import type { SkBuff } from '../core/skbuff.ts';

/** struct net_protocol. */
export interface NetProtocol {
  /**
   * Receives an skb whose data and transport_header are at the transport header, network_header
   * at a validated IP header, and len trimmed to the datagram (tot_len - ihl). Owns the skb.
   * Returns 0 (a negative value would ask for resubmission, which no handler here does).
   */
  handler(skb: SkBuff): number;
  /**
   * An ICMP error about a datagram this protocol sent: skb.data at the quoted (original) IP
   * header, type/code from the ICMP header, info the MTU for fragmentation-needed. Does not own
   * the skb (icmp_rcv frees it).
   */
  err_handler(skb: SkBuff, type: number, code: number, info: number): number;
}

/** struct inet6_protocol: the same for IPv6 (ICMPv6 errors, skb.data at the quoted IPv6 header). */
export interface Inet6Protocol {
  handler(skb: SkBuff): number;
  err_handler(skb: SkBuff, type: number, code: number, offset: number, info: number): number;
}

export const inet_protos: (NetProtocol | undefined)[] = new Array<NetProtocol | undefined>(256).fill(undefined);
export const inet6_protos: (Inet6Protocol | undefined)[] = new Array<Inet6Protocol | undefined>(256).fill(undefined);

export function inet_add_protocol(prot: NetProtocol, protocol: number): void {
  inet_protos[protocol] = prot;
}

export function inet6_add_protocol(prot: Inet6Protocol, protocol: number): void {
  inet6_protos[protocol] = prot;
}

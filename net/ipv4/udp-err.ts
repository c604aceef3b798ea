// ICMP errors about UDP datagrams this host sent (__udp4_lib_err, net/ipv4/udp.c), with
// icmp_err_convert (net/ipv4/icmp.c): which errno an ICMP type/code means and whether it is
// fatal. A connected socket takes a fatal error (port unreachable: ECONNREFUSED) as sk_err, which
// its next recv or send returns; an unconnected one hears of errors only with IP_RECVERR.
import type { Sock } from '../core/sock.ts';
import type { SkBuff } from '../core/skbuff.ts';
import { TCP_ESTABLISHED } from '../core/tcp-states.ts';
import { E } from '../core/sock-opts.ts';
import { __udp4_lib_lookup } from './udp-lookup.ts';
import { ICMP } from './icmp.ts';
import { IP_PMTUDISC } from './af-inet.ts';

/** icmp_err_convert[]: errno and fatality of each ICMP_DEST_UNREACH code. */
export const icmp_err_convert: readonly { errno: number; fatal: boolean }[] = [
  { errno: E.ENETUNREACH, fatal: false }, //   ICMP_NET_UNREACH
  { errno: E.EHOSTUNREACH, fatal: false }, //  ICMP_HOST_UNREACH
  { errno: E.ENOPROTOOPT, fatal: true }, //    ICMP_PROT_UNREACH
  { errno: E.ECONNREFUSED, fatal: true }, //   ICMP_PORT_UNREACH
  { errno: E.EMSGSIZE, fatal: false }, //      ICMP_FRAG_NEEDED
  { errno: E.EOPNOTSUPP, fatal: false }, //    ICMP_SR_FAILED
  { errno: E.ENETUNREACH, fatal: true }, //    ICMP_NET_UNKNOWN
  { errno: E.EHOSTDOWN, fatal: true }, //      ICMP_HOST_UNKNOWN
  { errno: E.ENONET, fatal: true }, //         ICMP_HOST_ISOLATED
  { errno: E.ENETUNREACH, fatal: true }, //    ICMP_NET_ANO
  { errno: E.EHOSTUNREACH, fatal: true }, //   ICMP_HOST_ANO
  { errno: E.ENETUNREACH, fatal: false }, //   ICMP_NET_UNR_TOS
  { errno: E.EHOSTUNREACH, fatal: false }, //  ICMP_HOST_UNR_TOS
  { errno: E.EHOSTUNREACH, fatal: true }, //   ICMP_PKT_FILTERED
  { errno: E.EHOSTUNREACH, fatal: true }, //   ICMP_PREC_VIOLATION
  { errno: E.EHOSTUNREACH, fatal: true }, //   ICMP_PREC_CUTOFF
];

/**
 * __udp4_lib_err: skb.data is the quoted IPv4 header of our datagram. Finds the sending socket
 * (the quoted destination is the remote end) and reports: sk_err + sk_error_report for a fatal
 * error on a connected socket, or for any error with IP_RECVERR. 0, or -ENOENT with no socket
 * (Icmp InErrors).
 */
export function __udp4_lib_err(skb: SkBuff, type: number, code: number, info: number): number {
  const dev = skb.dev;
  const net = dev !== null ? dev.nd_net : null;
  if (net === null) return -E.ENOENT;
  const v = skb.view;
  const iph = skb.data;
  const ihl = (skb.head[iph]! & 0x0f) * 4;
  const uh = iph + ihl;
  const saddr = v.getUint32(iph + 12);
  const daddr = v.getUint32(iph + 16);
  const sport = v.getUint16(uh);
  const dport = v.getUint16(uh + 2);
  const sk = __udp4_lib_lookup(net, net.ipv4.udp_table, daddr, dport, saddr, sport, skb.skb_iif, 0, null);
  if (sk === undefined) {
    net.mib.icmp.InErrors++;
    return -E.ENOENT;
  }
  let err = 0;
  let harderr = false;
  switch (type) {
    case ICMP.ICMP_TIME_EXCEEDED:
      err = E.EHOSTUNREACH;
      break;
    case ICMP.ICMP_SOURCE_QUENCH:
      return 0;
    case ICMP.ICMP_PARAMETERPROB:
      err = E.EPROTO;
      harderr = true;
      break;
    case ICMP.ICMP_DEST_UNREACH:
      if (code === ICMP.ICMP_FRAG_NEEDED) {
        // ipv4_sk_update_pmtu: the route's PMTU is the IP layer's; the socket hears EMSGSIZE.
        if (sk.pmtudisc !== IP_PMTUDISC.IP_PMTUDISC_DONT) {
          err = E.EMSGSIZE;
          harderr = true;
          break;
        }
        return 0;
      }
      err = E.EHOSTUNREACH;
      if (code <= ICMP.NR_ICMP_UNREACH) {
        harderr = icmp_err_convert[code]!.fatal;
        err = icmp_err_convert[code]!.errno;
      }
      break;
    case ICMP.ICMP_REDIRECT:
      return 0;
    default:
      return 0;
  }
  void info;
  if (!sk.recverr) {
    if (!harderr || sk.skc_state !== TCP_ESTABLISHED) return 0;
  }
  udp_report_error(sk, err);
  return 0;
}

/** sk->sk_err = err; sk_error_report(sk). */
export function udp_report_error(sk: Sock, err: number): void {
  sk.sk_err = err;
  sk.sk_error_report(sk);
}

/** udp_err: inet_protos[IPPROTO_UDP].err_handler. */
export function udp_err(skb: SkBuff, type: number, code: number, info: number): number {
  return __udp4_lib_err(skb, type, code, info);
}

// udp_sendmsg for IPv4 (net/ipv4/udp.c): a datagram to the connected peer or to msg_name, from
// the bound address, IP_PKTINFO's ipi_spec_dst, or what the route picks; the checksum over the
// pseudo-header; the send buffer (sk_wmem_alloc, given back when the device is done with the
// frame); Udp OutDatagrams / SndbufErrors where Linux counts them. No corking (MSG_MORE and
// UDP_CORK send at once) and no fragmentation: a datagram over the path MTU is -EMSGSIZE.
import { SOCK_FLAGS, sock_error, sock_flag, type Sock } from '../core/sock.ts';
import type { MsgHdr } from '../core/msghdr.ts';
import { AF_INET, AF_UNSPEC, IPPROTO_UDP } from '../core/socket-constants.ts';
import { MSG, SEND_SHUTDOWN } from '../core/socket-options.ts';
import { MAX_HEADER, alloc_skb, skb_put, skb_reserve, type SkBuff } from '../core/skbuff.ts';
import { csum_mangle_udp, csum_partial, csum_tcpudp_magic } from '../core/checksum.ts';
import { Flowi4 } from '../core/flow.ts';
import { TCP_ESTABLISHED } from '../core/tcp-states.ts';
import { E } from '../core/sock-opts.ts';
import { IP_PMTUDISC } from './af-inet.ts';
import { IpcmCookie, ip_cmsg_send } from './ip-sockglue.ts';
import { ip_route_output_key, rt_mtu, RTN } from './route.ts';
import { ip_build_and_send_pkt, type IpXmitOpts } from './ip-output.ts';
import { UDP_HDR_LEN } from './udp-rcv.ts';
import { udp_append_pending, udp_corkreq, udp_pending, udp_start_pending } from './udp-cork.ts';

const IPHDR_LEN = 20;
/** The largest UDP payload IPv4 carries: 65535 - 20 - 8. */
const UDP_MAX_PAYLOAD = 0xffff - IPHDR_LEN - UDP_HDR_LEN;

/**
 * SOCK_NOSPACE (a struct socket flag in the kernel): a send found the buffer full, so space
 * coming back wakes the writer. Kept in a high sk_flags bit.
 */
export const SOCK_NOSPACE = 1 << 30;

/** Per-send scratch: one datagram at a time per machine thread, so nothing is allocated per send. */
const fl4 = new Flowi4();
const ipc = new IpcmCookie();
const xmit: IpXmitOpts = {};

/**
 * sock_wfree: the device is done with a datagram; its truesize leaves sk_wmem_alloc, and a writer
 * that found the buffer full (SOCK_NOSPACE) is woken once half of it is free.
 */
export function sock_wfree(skb: SkBuff): void {
  const sk = skb.sk as Sock | null;
  if (sk === null) return;
  sk.sk_wmem_alloc -= skb.truesize;
  if ((sk.sk_flags & SOCK_NOSPACE) !== 0 && sk.sk_wmem_alloc < sk.sk_sndbuf >> 1) {
    sk.sk_flags &= ~SOCK_NOSPACE;
    sk.sk_write_space(sk);
  }
}

/**
 * sock_alloc_send_skb without blocking: an skb for `size` bytes after MAX_HEADER of headroom,
 * charged to the send buffer; or a pending error (sock_error: a connected socket's
 * ECONNREFUSED comes back on its next send too), -EPIPE after SHUT_WR, -EAGAIN (SOCK_NOSPACE
 * set) when the buffer is full.
 */
export function sock_alloc_send_skb(sk: Sock, size: number): SkBuff | number {
  const err = sock_error(sk);
  if (err !== 0) return err;
  if ((sk.sk_shutdown & SEND_SHUTDOWN) !== 0) return -E.EPIPE;
  if (sk.sk_wmem_alloc >= sk.sk_sndbuf) {
    sk.sk_flags |= SOCK_NOSPACE;
    return -E.EAGAIN;
  }
  const skb = alloc_skb(MAX_HEADER + size);
  skb_reserve(skb, MAX_HEADER);
  skb.sk = sk;
  sk.sk_wmem_alloc += skb.truesize;
  skb.destructor = sock_wfree;
  return skb;
}

/**
 * udp_send_skb's checksum and header: writes the UDP header and payload at skb.data, checksummed
 * over the IPv4 pseudo-header (or 0 with SO_NO_CHECK).
 */
export function udp4_build(skb: SkBuff, sk: Sock, data: Uint8Array, saddr: number, sport: number, daddr: number, dport: number): void {
  const ulen = UDP_HDR_LEN + data.length;
  const th = skb_put(skb, ulen);
  const v = skb.view;
  v.setUint16(th, sport);
  v.setUint16(th + 2, dport);
  v.setUint16(th + 4, ulen);
  v.setUint16(th + 6, 0);
  skb.head.set(data, th + UDP_HDR_LEN);
  skb.transport_header = th;
  if (!sk.sk_no_check_tx) {
    const sum = csum_partial(skb.head, th, ulen, 0);
    v.setUint16(th + 6, csum_mangle_udp(csum_tcpudp_magic(saddr, daddr, ulen, IPPROTO_UDP, sum)));
  }
}

/**
 * udp_sendmsg: bytes sent, or -EMSGSIZE (too big for UDP or, with IP_PMTUDISC_DO, for the path),
 * -EDESTADDRREQ (unconnected and no address), -EAFNOSUPPORT, -EINVAL (port 0), -EOPNOTSUPP
 * (MSG_OOB), -ENETUNREACH, -EACCES (broadcast without SO_BROADCAST), -EAGAIN (send buffer full:
 * SndbufErrors), -EPIPE after shutdown(SHUT_WR).
 */
export function udp_sendmsg(sk: Sock, msg: MsgHdr, data: Uint8Array, flags: number): number {
  const len = data.length;
  if (len > UDP_MAX_PAYLOAD) return -E.EMSGSIZE;
  if ((flags & MSG.MSG_OOB) !== 0) return -E.EOPNOTSUPP;
  const p = udp_pending(sk);
  if (p !== undefined) return udp_append_pending(sk, p, data, udp_corkreq(sk, flags));
  let daddr: number;
  let dport: number;
  const name = msg.msg_name;
  if (name !== undefined) {
    if (name.family !== AF_INET) {
      if ((name.family as number) !== AF_UNSPEC) return -E.EAFNOSUPPORT;
      return -E.EAFNOSUPPORT;
    }
    daddr = name.addr >>> 0;
    dport = name.port;
    if (dport === 0) return -E.EINVAL;
  } else {
    if (sk.skc_state !== TCP_ESTABLISHED) return -E.EDESTADDRREQ;
    daddr = sk.skc_daddr;
    dport = sk.skc_dport;
  }
  return udp_sendmsg_to(sk, msg, data, daddr, dport, flags);
}

/** The rest of udp_sendmsg once the destination is known (udpv6_sendmsg's v4-mapped sends come here). */
export function udp_sendmsg_to(sk: Sock, msg: MsgHdr, data: Uint8Array, daddr: number, dport: number, flags: number): number {
  const net = sk.skc_net;
  ipc.init(sk);
  if (msg.msg_control !== undefined) {
    const err = ip_cmsg_send(sk, msg, ipc);
    if (err !== 0) return err;
  }
  const f = fl4;
  f.flowi4_oif = ipc.oif;
  f.flowi4_iif = 0;
  f.flowi4_mark = sk.sk_mark;
  f.flowi4_tos = sk.tos;
  f.flowi4_proto = IPPROTO_UDP;
  f.flowi4_flags = 0;
  f.saddr = ipc.addr;
  f.daddr = daddr;
  f.fl4_sport = sk.inet_sport;
  f.fl4_dport = dport;
  const rt = ip_route_output_key(net, f);
  if (typeof rt === 'number') {
    if (rt === -E.ENETUNREACH) net.mib.ip.OutNoRoutes++;
    return rt;
  }
  if (rt.rt_type === RTN.RTN_BROADCAST && !sock_flag(sk, SOCK_FLAGS.SOCK_BROADCAST)) return -E.EACCES;
  const saddr = f.saddr;
  const mtu = rt_mtu(rt);
  const oif = ipc.oif;
  const tos = ipc.tos >= 0 ? ipc.tos : sk.tos;
  const ttl = ipc.ttl;
  if (udp_corkreq(sk, flags)) {
    // The flow is fixed now; the datagram leaves when the cork comes off.
    return udp_start_pending(sk, data, (d) => udp4_send(sk, d, saddr, daddr, dport, mtu, oif, tos, ttl));
  }
  return udp4_send(sk, data, saddr, daddr, dport, mtu, oif, tos, ttl);
}

/** udp_send_skb: one datagram on a resolved flow. Bytes sent or -errno (EMSGSIZE, EAGAIN, the device's). */
function udp4_send(sk: Sock, data: Uint8Array, saddr: number, daddr: number, dport: number, mtu: number, oif: number, tos: number, ttl: number): number {
  const net = sk.skc_net;
  const len = data.length;
  const fits = IPHDR_LEN + UDP_HDR_LEN + len <= mtu;
  const pmtudisc = sk.pmtudisc;
  if (!fits && (pmtudisc === IP_PMTUDISC.IP_PMTUDISC_DO || pmtudisc === IP_PMTUDISC.IP_PMTUDISC_PROBE)) return -E.EMSGSIZE;

  const skb = sock_alloc_send_skb(sk, UDP_HDR_LEN + len);
  if (typeof skb === 'number') {
    if (skb === -E.EAGAIN) net.mib.udp.SndbufErrors++;
    return skb;
  }
  udp4_build(skb, sk, data, saddr, sk.inet_sport, daddr, dport);
  skb.priority = sk.sk_priority;
  const o = xmit;
  o.ttl = ttl > 0 ? ttl : undefined;
  o.tos = tos;
  o.oif = oif !== 0 ? oif : undefined;
  o.df = pmtudisc >= IP_PMTUDISC.IP_PMTUDISC_DO || (pmtudisc === IP_PMTUDISC.IP_PMTUDISC_WANT && fits);
  o.mark = sk.sk_mark;
  const err = ip_build_and_send_pkt(skb, net, sk, saddr, daddr, IPPROTO_UDP, o);
  if (err !== 0) {
    // A device queue drop is not the sender's error unless it asked for errors (IP_RECVERR).
    if (err === -E.ENOBUFS && !sk.recverr) {
      net.mib.udp.SndbufErrors++;
      return len;
    }
    return err;
  }
  net.mib.udp.OutDatagrams++;
  return len;
}

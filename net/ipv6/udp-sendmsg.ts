// udpv6_sendmsg (net/ipv6/udp.c): an AF_INET6 socket's datagram. A v4-mapped destination (or an
// AF_INET msg_name) goes out as IPv4 through udp_sendmsg's path, unless the socket is v6-only
// (-ENETUNREACH). Otherwise: IPV6_PKTINFO in msg_control picks the source address and interface,
// the route picks what is left, the checksum (mandatory over IPv6) covers the pseudo-header.
import type { Sock } from '../core/sock.ts';
import type { MsgHdr } from '../core/msghdr.ts';
import { In6Addr, IPV6_ADDR_TYPES, ipv6_addr_any, ipv6_addr_type, ipv6_addr_v4mapped, type ReadonlyIn6Addr } from '../core/in6-addr.ts';
import { AF_INET, AF_INET6, IPPROTO_UDP } from '../core/socket-constants.ts';
import { MSG } from '../core/socket-options.ts';
import { csum_ipv6_magic, csum_partial } from '../core/checksum.ts';
import { Flowi6 } from '../core/flow.ts';
import { TCP_ESTABLISHED } from '../core/tcp-states.ts';
import { E } from '../core/sock-opts.ts';
import { dev_get_by_index } from '../core/dev.ts';
import { IP_PMTUDISC } from '../ipv4/af-inet.ts';
import { UDP_HDR_LEN } from '../ipv4/udp-rcv.ts';
import { udp_append_pending, udp_corkreq, udp_pending, udp_start_pending } from '../ipv4/udp-cork.ts';
import { skb_put } from '../core/skbuff.ts';
import { sock_alloc_send_skb, udp_sendmsg_to } from '../ipv4/udp-sendmsg.ts';
import { ip6_route_output } from './route.ts';
import { ip6_build_and_send_pkt, type Ip6XmitOpts } from './ip6-output.ts';
import { in6addr_loopback } from './datagram.ts';

const IPV6HDR_LEN = 40;
const fl6 = new Flowi6();
const xmit: Ip6XmitOpts = {};
const src = new In6Addr();
const dst = new In6Addr();

/** ip6_datagram_send_ctl's IPV6_PKTINFO: source address (must be ours) and interface. 0 or -errno. */
function ip6_datagram_send_ctl(sk: Sock, msg: MsgHdr, f: Flowi6): number {
  const ctl = msg.msg_control!;
  for (let i = 0; i < ctl.length; i++) {
    const c = ctl[i]!;
    if (c.kind !== 'IPV6_PKTINFO') continue;
    if (c.ifindex !== 0) {
      if (f.flowi6_oif !== 0 && f.flowi6_oif !== c.ifindex) return -E.EINVAL;
      if (dev_get_by_index(sk.skc_net, c.ifindex) === undefined) return -E.ENODEV;
      f.flowi6_oif = c.ifindex;
    }
    if (!ipv6_addr_any(c.addr)) f.saddr.copy_from(c.addr);
  }
  return 0;
}

/** udpv6_sendmsg: bytes sent or a negative errno (as udp_sendmsg's). */
export function udpv6_sendmsg(sk: Sock, msg: MsgHdr, data: Uint8Array, flags: number): number {
  const net = sk.skc_net;
  const len = data.length;
  if (len > 0xffff - UDP_HDR_LEN) return -E.EMSGSIZE;
  if ((flags & MSG.MSG_OOB) !== 0) return -E.EOPNOTSUPP;
  const p = udp_pending(sk);
  if (p !== undefined) return udp_append_pending(sk, p, data, udp_corkreq(sk, flags));
  let daddr: ReadonlyIn6Addr;
  let dport: number;
  let oif = sk.skc_bound_dev_if;
  const name = msg.msg_name;
  if (name !== undefined) {
    if (name.family === AF_INET) {
      if (sk.skc_ipv6only) return -E.ENETUNREACH;
      if (name.port === 0) return -E.EINVAL;
      return udp_sendmsg_to(sk, msg, data, name.addr >>> 0, name.port, flags);
    }
    if (name.family !== AF_INET6) return -E.EAFNOSUPPORT;
    daddr = ipv6_addr_any(name.addr) ? in6addr_loopback : name.addr;
    dport = name.port;
    if (dport === 0) return -E.EINVAL;
    // A link-local destination names its interface (sin6_scope_id).
    if (name.scope_id !== undefined && name.scope_id !== 0 && ipv6_addr_type(daddr) & IPV6_ADDR_TYPES.IPV6_ADDR_LINKLOCAL) {
      if (sk.skc_bound_dev_if !== 0 && sk.skc_bound_dev_if !== name.scope_id) return -E.EINVAL;
      oif = name.scope_id;
    }
  } else {
    if (sk.skc_state !== TCP_ESTABLISHED) return -E.EDESTADDRREQ;
    daddr = sk.skc_v6_daddr;
    dport = sk.skc_dport;
  }
  if (ipv6_addr_v4mapped(daddr)) {
    if (sk.skc_ipv6only) return -E.ENETUNREACH;
    return udp_sendmsg_to(sk, msg, data, daddr.w3, dport, flags);
  }
  const f = fl6;
  f.flowi6_oif = oif;
  f.flowi6_iif = 0;
  f.flowi6_mark = sk.sk_mark;
  f.flowi6_proto = IPPROTO_UDP;
  f.saddr.copy_from(sk.v6_saddr);
  if (ipv6_addr_v4mapped(f.saddr)) f.saddr.set(0, 0, 0, 0);
  f.daddr.copy_from(daddr);
  f.flowlabel = 0;
  f.fl6_sport = sk.inet_sport;
  f.fl6_dport = dport;
  if (msg.msg_control !== undefined) {
    const err = ip6_datagram_send_ctl(sk, msg, f);
    if (err !== 0) return err;
  }
  const rt = ip6_route_output(net, f);
  if (typeof rt === 'number') return rt;
  const mtu = rt.rt6i_pmtu !== 0 ? rt.rt6i_pmtu : rt.dst_dev.mtu;
  const oif2 = f.flowi6_oif;
  if (udp_corkreq(sk, flags)) {
    // The flow is fixed now; the datagram leaves when the cork comes off.
    const s6 = new In6Addr().copy_from(f.saddr);
    const d6 = new In6Addr().copy_from(f.daddr);
    return udp_start_pending(sk, data, (d) => udp6_send(sk, d, s6, d6, dport, mtu, oif2));
  }
  src.copy_from(f.saddr);
  dst.copy_from(f.daddr);
  return udp6_send(sk, data, src, dst, dport, mtu, oif2);
}

/** udp_v6_send_skb: one datagram on a resolved flow. Bytes sent or -errno. */
function udp6_send(sk: Sock, data: Uint8Array, saddr: ReadonlyIn6Addr, daddr: ReadonlyIn6Addr, dport: number, mtu: number, oif: number): number {
  const net = sk.skc_net;
  const len = data.length;
  if (IPV6HDR_LEN + UDP_HDR_LEN + len > mtu && sk.pmtudisc >= IP_PMTUDISC.IP_PMTUDISC_DO) return -E.EMSGSIZE;
  const skb = sock_alloc_send_skb(sk, UDP_HDR_LEN + len);
  if (typeof skb === 'number') {
    if (skb === -E.EAGAIN) net.mib.ipv6.Udp6SndbufErrors++;
    return skb;
  }
  const ulen = UDP_HDR_LEN + len;
  const th = skb_put(skb, ulen);
  const v = skb.view;
  v.setUint16(th, sk.inet_sport);
  v.setUint16(th + 2, dport);
  v.setUint16(th + 4, ulen);
  v.setUint16(th + 6, 0);
  skb.head.set(data, th + UDP_HDR_LEN);
  skb.transport_header = th;
  const c = csum_ipv6_magic(saddr, daddr, ulen, IPPROTO_UDP, csum_partial(skb.head, th, ulen, 0));
  v.setUint16(th + 6, c === 0 ? 0xffff : c);
  skb.priority = sk.sk_priority;
  const o = xmit;
  o.hop_limit = sk.hop_limit >= 0 ? sk.hop_limit : undefined;
  o.tclass = sk.tclass;
  o.oif = oif !== 0 ? oif : undefined;
  o.flowlabel = 0;
  const err = ip6_build_and_send_pkt(skb, net, sk, saddr, daddr, IPPROTO_UDP, o);
  if (err !== 0) {
    if (err === -E.ENOBUFS && !sk.recverr) {
      net.mib.ipv6.Udp6SndbufErrors++;
      return len;
    }
    return err;
  }
  net.mib.ipv6.Udp6OutDatagrams++;
  return len;
}

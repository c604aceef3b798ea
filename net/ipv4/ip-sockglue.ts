// The SOL_IP socket options and the IPv4 control messages (net/ipv4/ip_sockglue.c):
// ip_setsockopt / ip_getsockopt, ip_cmsg_recv_offset (what recvmsg reports for IP_PKTINFO and
// IP_RECVORIGDSTADDR) and ip_cmsg_send (IP_PKTINFO on sendmsg choosing the source address and
// interface). AF_INET6 sockets take these too, for their IPv4 side.
import type { Sock } from '../core/sock.ts';
import type { SockoptValue } from '../core/proto.ts';
import type { Cmsg, MsgHdr } from '../core/msghdr.ts';
import { SKB_DROP_REASONS, skb_queue_purge_reason, type SkBuff } from '../core/skbuff.ts';
import { AF_INET, SOCK_STREAM } from '../core/socket-constants.ts';
import { IP_OPTS, SOL_IP } from '../core/socket-options.ts';
import { TCP_ESTABLISHED } from '../core/tcp-states.ts';
import { Flowi4 } from '../core/flow.ts';
import { ipv6_addr_v4mapped } from '../core/in6-addr.ts';
import { dev_get_by_index } from '../core/dev.ts';
import { E, sockopt_int } from '../core/sock-opts.ts';
import { IP_PMTUDISC } from './af-inet.ts';
import { ip_route_output_key, RTN } from './route.ts';
import { inet_addr_type, inet_select_addr } from './devinet.ts';

/** IP_CMSG_* (include/net/inet_sock.h): the bits of cmsg_flags, one per control message asked for. */
export const IP_CMSG = {
  IP_CMSG_PKTINFO: 1 << 0,
  IP_CMSG_TTL: 1 << 1,
  IP_CMSG_TOS: 1 << 2,
  IP_CMSG_RECVOPTS: 1 << 3,
  IP_CMSG_RETOPTS: 1 << 4,
  IP_CMSG_PASSSEC: 1 << 5,
  IP_CMSG_ORIGDSTADDR: 1 << 6,
  IP_CMSG_CHECKSUM: 1 << 7,
  IP_CMSG_RECVFRAGSIZE: 1 << 8,
} as const;

/** INET_ECN_MASK: the two low bits of the TOS byte, which TCP keeps for ECN. */
const INET_ECN_MASK = 3;
/** ip_tos2prio[IPTOS_TOS(tos) >> 1]: the SO_PRIORITY an IP_TOS implies (rt_tos2priority). */
const ip_tos2prio = [0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4] as const;

export function rt_tos2priority(tos: number): number {
  return ip_tos2prio[(tos & 0x1e) >> 1]!;
}

function set_cmsg_flag(sk: Sock, flag: number, on: boolean): void {
  if (on) sk.cmsg_flags |= flag;
  else sk.cmsg_flags &= ~flag;
}

/** ip_sock_set_tos: TCP keeps its ECN bits; SO_PRIORITY follows the TOS. */
export function ip_sock_set_tos(sk: Sock, val: number): void {
  if (sk.sk_type === SOCK_STREAM) val = (val & ~INET_ECN_MASK) | (sk.tos & INET_ECN_MASK);
  val &= 0xff;
  if (sk.tos !== val) {
    sk.tos = val;
    sk.sk_priority = rt_tos2priority(val);
    sk.sk_dst_cache = null;
  }
}

/** ip_setsockopt: 0 or -ENOPROTOOPT / -EINVAL / -EPERM. */
export function ip_setsockopt(sk: Sock, level: number, optname: number, value: SockoptValue): number {
  if (level !== SOL_IP) return -E.ENOPROTOOPT;
  const val = sockopt_int(value);
  if (val === undefined) return -E.EINVAL;
  const on = val !== 0;
  switch (optname) {
    case IP_OPTS.IP_TTL:
      if (val !== -1 && (val < 1 || val > 255)) return -E.EINVAL;
      sk.uc_ttl = val;
      return 0;
    case IP_OPTS.IP_TOS:
      ip_sock_set_tos(sk, val);
      return 0;
    case IP_OPTS.IP_PKTINFO:
      set_cmsg_flag(sk, IP_CMSG.IP_CMSG_PKTINFO, on);
      return 0;
    case IP_OPTS.IP_RECVTTL:
      set_cmsg_flag(sk, IP_CMSG.IP_CMSG_TTL, on);
      return 0;
    case IP_OPTS.IP_RECVTOS:
      set_cmsg_flag(sk, IP_CMSG.IP_CMSG_TOS, on);
      return 0;
    case IP_OPTS.IP_RECVORIGDSTADDR:
      set_cmsg_flag(sk, IP_CMSG.IP_CMSG_ORIGDSTADDR, on);
      return 0;
    case IP_OPTS.IP_FREEBIND:
      sk.freebind = on;
      return 0;
    case IP_OPTS.IP_TRANSPARENT:
      // CAP_NET_RAW or CAP_NET_ADMIN, to set or clear.
      if (sk.sk_uid !== 0) return -E.EPERM;
      sk.transparent = on;
      return 0;
    case IP_OPTS.IP_BIND_ADDRESS_NO_PORT:
      sk.bind_address_no_port = on;
      return 0;
    case IP_OPTS.IP_RECVERR:
      sk.recverr = on;
      if (!on) skb_queue_purge_reason(sk.sk_error_queue, SKB_DROP_REASONS.SKB_DROP_REASON_NOT_SPECIFIED);
      return 0;
    case IP_OPTS.IP_MTU_DISCOVER:
      if (val < IP_PMTUDISC.IP_PMTUDISC_DONT || val > IP_PMTUDISC.IP_PMTUDISC_OMIT) return -E.EINVAL;
      sk.pmtudisc = val;
      return 0;
    case IP_OPTS.IP_MTU:
      return -E.ENOPROTOOPT;
    default:
      return -E.ENOPROTOOPT;
  }
}

/** ip_getsockopt: the value, or a negative errno. IP_TTL reports the default while unset. */
export function ip_getsockopt(sk: Sock, level: number, optname: number): SockoptValue {
  if (level !== SOL_IP) return -E.ENOPROTOOPT;
  const flag = (f: number): number => ((sk.cmsg_flags & f) !== 0 ? 1 : 0);
  switch (optname) {
    case IP_OPTS.IP_TTL:
      return sk.uc_ttl === -1 ? sk.skc_net.ipv4.sysctl_ip_default_ttl : sk.uc_ttl;
    case IP_OPTS.IP_TOS:
      return sk.tos;
    case IP_OPTS.IP_PKTINFO:
      return flag(IP_CMSG.IP_CMSG_PKTINFO);
    case IP_OPTS.IP_RECVTTL:
      return flag(IP_CMSG.IP_CMSG_TTL);
    case IP_OPTS.IP_RECVTOS:
      return flag(IP_CMSG.IP_CMSG_TOS);
    case IP_OPTS.IP_RECVORIGDSTADDR:
      return flag(IP_CMSG.IP_CMSG_ORIGDSTADDR);
    case IP_OPTS.IP_FREEBIND:
      return sk.freebind ? 1 : 0;
    case IP_OPTS.IP_TRANSPARENT:
      return sk.transparent ? 1 : 0;
    case IP_OPTS.IP_BIND_ADDRESS_NO_PORT:
      return sk.bind_address_no_port ? 1 : 0;
    case IP_OPTS.IP_RECVERR:
      return sk.recverr ? 1 : 0;
    case IP_OPTS.IP_MTU_DISCOVER:
      return sk.pmtudisc;
    case IP_OPTS.IP_MTU: {
      // Only a connected socket has a path to report.
      if (sk.skc_state !== TCP_ESTABLISHED || sk.skc_daddr === 0) return -E.ENOTCONN;
      const fl4 = new Flowi4();
      fl4.daddr = sk.skc_daddr;
      fl4.saddr = sk.inet_saddr;
      fl4.flowi4_oif = sk.skc_bound_dev_if;
      const rt = ip_route_output_key(sk.skc_net, fl4);
      if (typeof rt === 'number') return -E.ENOTCONN;
      return rt.rt_pmtu !== 0 ? rt.rt_pmtu : rt.dst_dev.mtu;
    }
    default:
      return -E.ENOPROTOOPT;
  }
}

/**
 * fib_compute_spec_dst: the address a reply to skb should come from (ipi_spec_dst): the
 * datagram's destination when it was addressed to us, else the receiving device's address for
 * the sender (a broadcast or multicast datagram).
 */
export function fib_compute_spec_dst(skb: SkBuff, saddr: number, daddr: number): number {
  const dev = skb.dev;
  if (dev === null || dev.nd_net === null) return daddr;
  if (inet_addr_type(dev.nd_net, daddr) === RTN.RTN_LOCAL) return daddr;
  return inet_select_addr(dev, saddr);
}

/**
 * ip_cmsg_recv_offset: the control messages sk's cmsg_flags ask for, about a received IPv4
 * datagram whose IP header is at skb.network_header and UDP header at skb.transport_header.
 * Appended to msg.msg_control.
 */
export function ip_cmsg_recv_offset(msg: MsgHdr, sk: Sock, skb: SkBuff): void {
  const flags = sk.cmsg_flags;
  if (flags === 0) return;
  const v = skb.view;
  const nh = skb.network_header;
  const saddr = v.getUint32(nh + 12);
  const daddr = v.getUint32(nh + 16);
  const out: Cmsg[] = msg.msg_control ?? (msg.msg_control = []);
  if (flags & IP_CMSG.IP_CMSG_PKTINFO) {
    out.push({ kind: 'IP_PKTINFO', ifindex: skb.cb.iif !== 0 ? skb.cb.iif : skb.skb_iif, spec_dst: fib_compute_spec_dst(skb, saddr, daddr), addr: daddr });
  }
  if (flags & IP_CMSG.IP_CMSG_ORIGDSTADDR) {
    const dport = v.getUint16(skb.transport_header + 2);
    out.push({ kind: 'IP_ORIGDSTADDR', addr: { family: AF_INET, addr: daddr, port: dport } });
  }
}

/** struct ipcm_cookie: what sendmsg's control messages set for one datagram. */
export class IpcmCookie {
  /** Source address (ipc.addr): IP_PKTINFO's ipi_spec_dst, else the socket's. */
  addr = 0;
  oif = 0;
  ttl = -1;
  tos = -1;
  has_pktinfo = false;

  /** ipcm_init_sk. */
  init(sk: Sock): this {
    this.addr = sk.inet_saddr;
    this.oif = sk.skc_bound_dev_if;
    this.ttl = -1;
    this.tos = -1;
    this.has_pktinfo = false;
    return this;
  }
}

/**
 * ip_cmsg_send: IP_PKTINFO in msg_control sets the source address (ipi_spec_dst) and the
 * outgoing interface (ipi_ifindex). 0 or -EINVAL (an IPv6 control message on an IPv4 send).
 */
export function ip_cmsg_send(sk: Sock, msg: MsgHdr, ipc: IpcmCookie): number {
  const ctl = msg.msg_control;
  if (ctl === undefined) return 0;
  for (let i = 0; i < ctl.length; i++) {
    const c = ctl[i]!;
    if (c.kind === 'IP_PKTINFO') {
      if (c.ifindex !== 0 && dev_get_by_index(sk.skc_net, c.ifindex) === undefined) return -E.ENODEV;
      ipc.oif = c.ifindex;
      ipc.addr = c.spec_dst >>> 0;
      ipc.has_pktinfo = true;
    } else if (c.kind === 'IPV6_PKTINFO') {
      // An AF_INET6 socket sending over IPv4 may name its source as a v4-mapped IPV6_PKTINFO.
      if (ipv6_addr_v4mapped(c.addr)) {
        ipc.oif = c.ifindex;
        ipc.addr = c.addr.w3;
        ipc.has_pktinfo = true;
      }
    } else {
      return -E.EINVAL;
    }
  }
  return 0;
}

// TCP over IPv6 (net/ipv6/tcp_ipv6.c): tcp_v6_rcv, tcp_v6_connect (a v4-mapped destination on a
// dual-stack socket connects over IPv4 with the ipv6_mapped operations), the replies without a
// socket, the SYN-ACK and child, SYN cookies and ICMPv6 errors, and tcpv6_prot. A dual-stack
// listener's IPv4 SYNs arrive through tcp_v4_rcv; its operations hand those to IPv4's.
import { E as ERRNO } from '../core/sock-opts.ts';
import { kfree_skb_reason, SKB_DROP_REASONS, ETH_P_IP, type SkBuff } from '../core/skbuff.ts';
import { csum_partial, csum_ipv6_magic } from '../core/checksum.ts';
import { Flowi6 } from '../core/flow.ts';
import { In6Addr, ipv6_addr_any, ipv6_addr_v4mapped, ipv6_addr_set_v4mapped, type ReadonlyIn6Addr } from '../core/in6-addr.ts';
import { AF_INET, AF_INET6, IPPROTO_TCP } from '../core/socket-constants.ts';
import { sk_v6_daddr_set, sk_v6_rcv_saddr_set, type SockCommon } from '../core/sock-common.ts';
import type { Sock } from '../core/sock.ts';
import type { Net } from '../core/net-namespace.ts';
import type { Proto } from '../core/proto.ts';
import type { Sockaddr } from '../core/msghdr.ts';
import { inet_reqsk, type RequestSock } from '../core/request-sock.ts';
import { TCP_STATES } from '../core/tcp-states.ts';
import { secure_tcpv6_seq, secure_tcpv6_ts_off } from '../core/secure-seq.ts';
import { inet6_add_protocol } from '../ipv4/protocol.ts';
import { __inet6_lookup_established, inet6_lookup_listener, __inet6_lookup_skb } from './inet6-hashtables.ts';
import { inet_twsk, inet_twsk_deschedule_put } from '../ipv4/inet-timewait-sock.ts';
import { ip6_build_and_send_pkt, ip6_xmit, type Ip6XmitOpts } from './ip6-output.ts';
import { IFF } from '../core/netdevice.ts';
import { Rt6Info, ip6_route_output, rt6_mtu } from './route.ts';
import { icmpv6_err_convert } from './udp-rcv.ts';
import { ICMPV6 } from './icmp.ts';
import { TcpSock, type TcpAfOps } from '../ipv4/tcp-sock.ts';
import { TCPHDR_ACK, TCPHDR_RST, TCP_TW } from '../ipv4/tcp-defs.ts';
import { tcp_make_synack, tcp_sync_mss, tcp_initialize_rcv_mss, tcp_current_mss, tcp_xmit_retransmit_queue } from '../ipv4/tcp-output.ts';
import { tcp_simple_retransmit } from '../ipv4/tcp-recovery.ts';
import { tcp_rcv_established } from '../ipv4/tcp-input.ts';
import { tcp_create_openreq_child, tcp_timewait_state_process } from '../ipv4/tcp-minisocks.ts';
import { tcp_conn_request, tcp_req_advmss } from '../ipv4/tcp-conn-request.ts';
import { __cookie_v6_init_sequence, __cookie_v6_check } from './syncookies.ts';
import { cookie_tcp_check_opts } from '../ipv4/tcp-cookie.ts';
import { ipv4_specific, tcp_filter_drop, tcp_reqsk_filter_drop, tcp_v4_connect, tcp_v4_do_rcv, tcp_v4_fill_cb } from '../ipv4/tcp-ipv4.ts';
import { sk_filter_inherit } from '../core/sk-filter.ts';
import { tcp_init_sock, tcp_prot_common } from '../ipv4/tcp.ts';
import {
  tcp_build_reply, tcp_build_reset, tcp_connect_finish, tcp_connect_hash, tcp_cookie_req_finish, tcp_do_rcv_slow,
  tcp_err_in_window, tcp_err_report, tcp_rcv_csum_error, tcp_rcv_no_socket, tcp_rcv_pull_header, tcp_rcv_reqsk,
  tcp_rcv_timewait_reply, tcp_reqsk_send_ack, tcp_syn_recv_acceptq_full, tcp_syn_recv_hash, tcp_synack_tsval, type TcpRcvOps,
  type TcpReplyTs,
} from '../ipv4/tcp-rcv-common.ts';

const saddr_tmp = new In6Addr();
const daddr_tmp = new In6Addr();
const rcv_saddr = new In6Addr();
const rcv_daddr = new In6Addr();

function ip6_saddr(skb: SkBuff, out: In6Addr): In6Addr {
  const v = skb.view;
  const n = skb.network_header;
  return out.set(v.getUint32(n + 8), v.getUint32(n + 12), v.getUint32(n + 16), v.getUint32(n + 20));
}
function ip6_daddr(skb: SkBuff, out: In6Addr): In6Addr {
  const v = skb.view;
  const n = skb.network_header;
  return out.set(v.getUint32(n + 24), v.getUint32(n + 28), v.getUint32(n + 32), v.getUint32(n + 36));
}

/** __tcp_v6_send_check. */
export function __tcp_v6_send_check(skb: SkBuff, saddr: ReadonlyIn6Addr, daddr: ReadonlyIn6Addr): void {
  const th = skb.data;
  skb.view.setUint16(th + 16, 0);
  const sum = csum_partial(skb.head, th, skb.len, 0);
  skb.view.setUint16(th + 16, csum_ipv6_magic(saddr, daddr, skb.len, IPPROTO_TCP, sum));
}

let cur_net: Net | null = null;

/** tcp_v6_send_response: the checksum and the transmit of a RST or ACK built without a full socket. */
function tcp_v6_send_response(net: Net, skb: SkBuff, rep: SkBuff, rst: boolean): void {
  const saddr = ip6_daddr(skb, new In6Addr());
  const daddr = ip6_saddr(skb, new In6Addr());
  __tcp_v6_send_check(rep, saddr, daddr);
  net.mib.tcp.OutSegs++;
  if (rst) net.mib.tcp.OutRsts++;
  ip6_build_and_send_pkt(rep, net, null, saddr, daddr, IPPROTO_TCP, { oif: skb.skb_iif });
}

/** tcp_v6_send_reset. */
export function tcp_v6_send_reset(sk: SockCommon | null, skb: SkBuff, net0?: Net): void {
  if (skb.view.getUint8(skb.transport_header + 13) & TCPHDR_RST) return;
  const net = sk?.skc_net ?? net0 ?? cur_net;
  if (net === null) return;
  tcp_v6_send_response(net, skb, tcp_build_reset(skb, TCPHDR_RST), true);
}

/** tcp_v6_send_ack. */
function tcp_v6_send_ack(net: Net, skb: SkBuff, seq: number, ack: number, win: number, ts: TcpReplyTs | null): void {
  tcp_v6_send_response(net, skb, tcp_build_reply(skb, seq, ack, win, ts, TCPHDR_ACK), false);
}

function req_is_v4(req: RequestSock): boolean {
  return ipv6_addr_v4mapped(req.skc_v6_daddr);
}

function tcp_v6_reqsk_send_ack(sk: TcpSock, skb: SkBuff, req: RequestSock): void {
  if (req_is_v4(req)) return ipv4_specific.reqsk_send_ack(sk, skb, req);
  tcp_reqsk_send_ack(tcp_v6_rcv_ops, sk, skb, req);
}

function tcp_v6_send_synack(sk: TcpSock, req: RequestSock, synack_type: number): number {
  if (req_is_v4(req)) return ipv4_specific.send_synack(sk, req, synack_type);
  const tsval = tcp_synack_tsval(sk, req, synack_type);
  const advmss = tcp_req_advmss(sk, req);
  req_dst_req = null;
  req_dst = null;
  const skb = tcp_make_synack(req, (tsval + req.ts_off) >>> 0, advmss);
  __tcp_v6_send_check(skb, req.skc_v6_rcv_saddr, req.skc_v6_daddr);
  sk.skc_net.mib.tcp.OutSegs++;
  synack_opts.oif = sk.skc_bound_dev_if;
  return ip6_build_and_send_pkt(skb, sk.skc_net, sk, req.skc_v6_rcv_saddr, req.skc_v6_daddr, IPPROTO_TCP, synack_opts);
}

/** The SYN-ACK's options, refilled per SYN-ACK (ip6_build_and_send_pkt reads them before it transmits), not a literal per SYN. */
const synack_opts: Ip6XmitOpts = { oif: 0 };

/**
 * The route tcp_v6_init_req found for the request being answered (route_req's dst): reused for
 * the advertised MSS, so one route lookup serves a SYN, as in the kernel and tcp-ipv4.ts. Let go
 * when the SYN-ACK is built; a route the netns's genid or a device going down invalidated is
 * looked up again.
 */
let req_dst_req: RequestSock | null = null;
let req_dst: Rt6Info | null = null;

function rt6_valid(net: Net, rt: Rt6Info): boolean {
  return rt.rt6i_genid === net.ipv6.fib6.genid && (rt.dst_dev.flags & IFF.IFF_UP) !== 0;
}

const fl6 = new Flowi6();

function tcp_v6_init_req(req: RequestSock, sk: TcpSock, skb: SkBuff): number {
  if (skb.protocol === ETH_P_IP) return ipv4_specific.init_req(req, sk, skb);
  sk_v6_rcv_saddr_set(req, ip6_daddr(skb, daddr_tmp));
  sk_v6_daddr_set(req, ip6_saddr(skb, saddr_tmp));
  const rt = tcp_v6_route_req(req);
  if (rt === null) return -ERRNO.ENETUNREACH;
  req_dst_req = req;
  req_dst = rt;
  return 0;
}

function tcp_v6_route_req(req: RequestSock): Rt6Info | null {
  fl6.flowi6_oif = req.skc_bound_dev_if;
  fl6.flowi6_proto = IPPROTO_TCP;
  fl6.saddr.copy_from(req.skc_v6_rcv_saddr);
  fl6.daddr.copy_from(req.skc_v6_daddr);
  const rt = ip6_route_output(req.skc_net, fl6);
  return typeof rt === 'number' ? null : rt;
}

function tcp_v6_req_mtu(req: RequestSock): number {
  if (req_is_v4(req)) return ipv4_specific.req_mtu(req);
  const rt = req === req_dst_req && req_dst !== null && rt6_valid(req.skc_net, req_dst) ? req_dst : tcp_v6_route_req(req);
  return rt === null ? 1280 : rt6_mtu(rt);
}

function tcp_v6_route_mtu(sk: TcpSock): number {
  const rt = sk.sk_dst_cache;
  return rt instanceof Rt6Info ? rt6_mtu(rt) : 0;
}

function tcp_v6_init_seq(skb: SkBuff): number {
  if (skb.protocol === ETH_P_IP) return ipv4_specific.init_seq(skb);
  const th = skb.transport_header;
  return secure_tcpv6_seq(cur_net!, ip6_daddr(skb, daddr_tmp), ip6_saddr(skb, saddr_tmp), skb.view.getUint16(th + 2), skb.view.getUint16(th));
}

function tcp_v6_init_ts_off(skb: SkBuff): number {
  if (skb.protocol === ETH_P_IP) return ipv4_specific.init_ts_off(skb);
  return secure_tcpv6_ts_off(cur_net!, ip6_daddr(skb, daddr_tmp), ip6_saddr(skb, saddr_tmp));
}

function cookie_v6_init_sequence(skb: SkBuff, mssp: { mss: number }): number {
  if (skb.protocol === ETH_P_IP) return ipv4_specific.cookie_init_seq(skb, mssp);
  const th = skb.transport_header;
  const v = skb.view;
  return __cookie_v6_init_sequence(cur_net!, ip6_saddr(skb, saddr_tmp), ip6_daddr(skb, daddr_tmp), v.getUint16(th), v.getUint16(th + 2), v.getUint32(th + 4), mssp);
}

/** tcp_v6_syn_recv_sock: an IPv6 child, or (for an IPv4 SYN on a dual-stack listener) a v4-mapped one. */
function tcp_v6_syn_recv_sock(sk: TcpSock, skb: SkBuff, req: RequestSock, own_req: { value: boolean }): TcpSock | null {
  if (skb.protocol === ETH_P_IP) {
    const newtp = ipv4_specific.syn_recv_sock(sk, skb, req, own_req);
    if (newtp === null) return null;
    ipv6_addr_set_v4mapped(newtp.inet_saddr, newtp.v6_saddr);
    newtp.icsk_af_ops = ipv6_mapped;
    return newtp;
  }
  if (tcp_syn_recv_acceptq_full(sk)) return null;
  const newtp = tcp_create_openreq_child(sk, req, skb);
  sk_filter_inherit(newtp, sk);
  sk_v6_rcv_saddr_set(newtp, req.skc_v6_rcv_saddr);
  sk_v6_daddr_set(newtp, req.skc_v6_daddr);
  newtp.v6_saddr.copy_from(req.skc_v6_rcv_saddr);
  newtp.inet_saddr = 0x7f000006;
  tcp_sync_mss(newtp, tcp_v6_req_mtu(req));
  newtp.advmss = tcp_req_advmss(sk, req);
  tcp_initialize_rcv_mss(newtp);
  return tcp_syn_recv_hash(sk, newtp, req, own_req);
}

function tcp_v6_conn_request(sk: TcpSock, skb: SkBuff): number {
  if (skb.protocol === ETH_P_IP) return ipv4_specific.conn_request(sk, skb);
  const isn = tw_isn;
  tw_isn = 0;
  return tcp_conn_request(sk, skb, isn);
}

let tw_isn = 0;

export const ipv6_specific: TcpAfOps = {
  net_header_len: 40,
  queue_xmit: (sk, skb) => ip6_xmit(sk, skb),
  send_check: (sk, skb) => __tcp_v6_send_check(skb, sk.v6_saddr, sk.skc_v6_daddr),
  conn_request: tcp_v6_conn_request,
  syn_recv_sock: tcp_v6_syn_recv_sock,
  send_synack: tcp_v6_send_synack,
  send_reset: (sk, skb) => (skb.protocol === ETH_P_IP ? ipv4_specific.send_reset(sk, skb) : tcp_v6_send_reset(sk, skb)),
  reqsk_send_ack: tcp_v6_reqsk_send_ack,
  route_mtu: tcp_v6_route_mtu,
  init_req: tcp_v6_init_req,
  req_mtu: tcp_v6_req_mtu,
  cookie_init_seq: cookie_v6_init_sequence,
  init_seq: tcp_v6_init_seq,
  init_ts_off: tcp_v6_init_ts_off,
};

/** ipv6_mapped: an AF_INET6 socket talking IPv4 (v4-mapped peer): IPv4's operations. */
export const ipv6_mapped: TcpAfOps = {
  net_header_len: 20,
  queue_xmit: (sk, skb) => ipv4_specific.queue_xmit(sk, skb),
  send_check: (sk, skb) => ipv4_specific.send_check(sk, skb),
  conn_request: (sk, skb) => ipv4_specific.conn_request(sk, skb),
  syn_recv_sock: (sk, skb, req, own) => ipv4_specific.syn_recv_sock(sk, skb, req, own),
  send_synack: (sk, req, t) => ipv4_specific.send_synack(sk, req, t),
  send_reset: (sk, skb) => ipv4_specific.send_reset(sk, skb),
  reqsk_send_ack: (sk, skb, req) => ipv4_specific.reqsk_send_ack(sk, skb, req),
  route_mtu: (sk) => ipv4_specific.route_mtu(sk),
  init_req: (req, sk, skb) => ipv4_specific.init_req(req, sk, skb),
  req_mtu: (req) => ipv4_specific.req_mtu(req),
  cookie_init_seq: (skb, mssp) => ipv4_specific.cookie_init_seq(skb, mssp),
  init_seq: (skb) => ipv4_specific.init_seq(skb),
  init_ts_off: (skb) => ipv4_specific.init_ts_off(skb),
};

function cookie_v6_check(sk: TcpSock, skb: SkBuff): TcpSock | null {
  const net = sk.skc_net;
  const flags = skb.cb.tcp_flags;
  if (!net.ipv4.sysctl_tcp_syncookies || !(flags & TCPHDR_ACK) || flags & TCPHDR_RST) return sk;
  const v = skb.view;
  const th = skb.transport_header;
  const saddr = ip6_saddr(skb, new In6Addr());
  const daddr = ip6_daddr(skb, new In6Addr());
  const req = cookie_tcp_check_opts(sk, skb, (seq, cookie) => __cookie_v6_check(net, saddr, daddr, v.getUint16(th), v.getUint16(th + 2), seq, cookie), () => secure_tcpv6_ts_off(net, daddr, saddr));
  if (req === null) return sk;
  sk_v6_rcv_saddr_set(req, daddr);
  sk_v6_daddr_set(req, saddr);
  return tcp_cookie_req_finish(sk, skb, req);
}

/** The IPv6 pieces of the shared receive steps (tcp-rcv-common.ts). */
const tcp_v6_rcv_ops: TcpRcvOps = {
  send_reset: tcp_v6_send_reset,
  send_ack: tcp_v6_send_ack,
  cookie_check: cookie_v6_check,
};

/** tcp_v6_do_rcv: IPv4 segments (a dual-stack socket) go to tcp_v4_do_rcv. */
export function tcp_v6_do_rcv(sk: TcpSock, skb: SkBuff): number {
  if (skb.protocol === ETH_P_IP) return tcp_v4_do_rcv(sk, skb);
  if (sk.skc_state === TCP_STATES.TCP_ESTABLISHED) {
    tcp_rcv_established(sk, skb);
    return 0;
  }
  return tcp_do_rcv_slow(tcp_v6_rcv_ops, sk, skb);
}

/** tcp_v6_rcv: the IPPROTO_TCP handler for IPv6 (the same checks and counters as tcp_v4_rcv). */
export function tcp_v6_rcv(skb: SkBuff): number {
  const net = skb.dev?.nd_net ?? null;
  if (net === null) {
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NOT_SPECIFIED);
    return 0;
  }
  cur_net = net;
  const thlen = tcp_rcv_pull_header(skb, net);
  if (thlen === 0) return 0;
  // One segment is processed at a time: the addresses go into preallocated objects.
  const saddr = ip6_saddr(skb, rcv_saddr);
  const daddr = ip6_daddr(skb, rcv_daddr);
  if (csum_ipv6_magic(saddr, daddr, skb.len, IPPROTO_TCP, csum_partial(skb.head, skb.data, skb.len, 0)) !== 0) {
    tcp_rcv_csum_error(skb, net);
    return 0;
  }
  tcp_v4_fill_cb(skb);
  const v = skb.view;
  const th = skb.transport_header;
  const sport = v.getUint16(th);
  const dport = v.getUint16(th + 2);
  const h = net.ipv4.tcp_hashinfo;
  const dif = skb.skb_iif;
  for (;;) {
    const sk = __inet6_lookup_skb(net, h, skb, thlen, skb.sk, false, saddr, sport, daddr, dport, dif, 0);
    if (sk === undefined) {
      tcp_rcv_no_socket(tcp_v6_rcv_ops, skb, net);
      return 0;
    }
    if (inet_twsk(sk)) {
      const isn = { value: 0 };
      const st = tcp_timewait_state_process(sk, skb, isn);
      if (st === TCP_TW.TCP_TW_SYN) {
        const sk2 = inet6_lookup_listener(net, h, skb, thlen, saddr, sport, daddr, dport, dif, 0);
        if (sk2 !== undefined) {
          inet_twsk_deschedule_put(sk);
          tw_isn = isn.value;
          return tcp_v6_process(sk2 as TcpSock, skb);
        }
      }
      tcp_rcv_timewait_reply(tcp_v6_rcv_ops, sk, skb, st);
      return 0;
    }
    if (inet_reqsk(sk)) {
      if (tcp_reqsk_filter_drop(sk, skb)) return 0;
      const listener = tcp_rcv_reqsk(tcp_v6_rcv_ops, sk, skb);
      if (listener === undefined) continue;
      return listener === null ? 0 : tcp_v6_process(listener, skb);
    }
    return tcp_v6_process(sk as TcpSock, skb);
  }
}

/** tcp_v6_rcv's `process:`: the socket's filter (tcp_filter), then the segment. */
function tcp_v6_process(tp: TcpSock, skb: SkBuff): number {
  if (tcp_filter_drop(tp, skb)) return 0;
  if (tp.skc_state !== TCP_STATES.TCP_LISTEN) tp.segs_in++;
  return tcp_v6_do_rcv(tp, skb);
}

/** tcp_v6_err: ICMPv6 errors (skb.data at the quoted IPv6 header, `offset` the TCP header's). */
export function tcp_v6_err(skb: SkBuff, type: number, code: number, offset: number, info: number): number {
  const net = skb.dev?.nd_net ?? cur_net;
  if (net === null || net === undefined) return -ERRNO.ENOENT;
  const v = skb.view;
  const ip6 = skb.data;
  const saddr = new In6Addr(v.getUint32(ip6 + 8), v.getUint32(ip6 + 12), v.getUint32(ip6 + 16), v.getUint32(ip6 + 20));
  const daddr = new In6Addr(v.getUint32(ip6 + 24), v.getUint32(ip6 + 28), v.getUint32(ip6 + 32), v.getUint32(ip6 + 36));
  const th = ip6 + (offset > 0 ? offset : 40);
  const sport = v.getUint16(th);
  const dport = v.getUint16(th + 2);
  const seq = v.getUint32(th + 4);
  const sk = __inet6_lookup_established(net, net.ipv4.tcp_hashinfo, daddr, dport, saddr, sport, skb.skb_iif, 0);
  if (sk === undefined) {
    net.mib.ipv6.Icmp6InErrors++;
    return -ERRNO.ENOENT;
  }
  if (inet_twsk(sk) || inet_reqsk(sk)) return 0;
  const tp = sk as TcpSock;
  if (!tcp_err_in_window(tp, seq)) return 0;
  if (type === ICMPV6.ICMPV6_PKT_TOOBIG) {
    if (info >= 1280 && tp.icsk_pmtu_cookie > info) {
      const rt = tp.sk_dst_cache;
      if (rt instanceof Rt6Info) rt.rt6i_pmtu = info;
      tcp_sync_mss(tp, info);
      tcp_simple_retransmit(tp, tcp_current_mss(tp), tcp_xmit_retransmit_queue);
    }
    return 0;
  }
  const conv = icmpv6_err_convert(type, code);
  const err = conv.errno;
  // Any error ends a handshake (the kernel's tcp_v6_err does not look at `fatal` here).
  return tcp_err_report(tp, err);
}

/**
 * tcp_v6_connect: to an IPv6 address, or (v4-mapped, on a socket that is not IPV6_V6ONLY) over
 * IPv4 with the ipv6_mapped operations.
 */
export function tcp_v6_connect(sk: TcpSock, addr: Sockaddr): number {
  if (addr.family !== AF_INET6) return -ERRNO.EAFNOSUPPORT;
  const net = sk.skc_net;
  let daddr: ReadonlyIn6Addr = addr.addr;
  if (ipv6_addr_any(daddr)) daddr = new In6Addr(0, 0, 0, 1);
  if (ipv6_addr_v4mapped(daddr)) {
    if (sk.skc_ipv6only) return -ERRNO.ENETUNREACH;
    sk.icsk_af_ops = ipv6_mapped;
    const err = tcp_v4_connect(sk, { family: AF_INET, addr: daddr.w3, port: addr.port });
    if (err !== 0) {
      sk.icsk_af_ops = ipv6_specific;
      return err;
    }
    ipv6_addr_set_v4mapped(sk.inet_saddr, sk.v6_saddr);
    ipv6_addr_set_v4mapped(sk.skc_rcv_saddr, sk.skc_v6_rcv_saddr);
    return 0;
  }
  fl6.flowi6_oif = sk.skc_bound_dev_if;
  fl6.flowi6_mark = sk.sk_mark;
  fl6.flowi6_proto = IPPROTO_TCP;
  fl6.saddr.copy_from(ipv6_addr_any(sk.skc_v6_rcv_saddr) ? sk.v6_saddr : sk.skc_v6_rcv_saddr);
  fl6.daddr.copy_from(daddr);
  const rt = ip6_route_output(net, fl6);
  if (typeof rt === 'number') return rt;
  if (ipv6_addr_any(sk.skc_v6_rcv_saddr)) sk_v6_rcv_saddr_set(sk, fl6.saddr);
  sk.v6_saddr.copy_from(fl6.saddr);
  sk.inet_saddr = 0x7f000006;
  sk.skc_dport = addr.port;
  sk_v6_daddr_set(sk, daddr);
  sk.rx_opt.mss_clamp = 1280 - 60;
  const err = tcp_connect_hash(sk);
  if (err !== 0) return err;
  sk.sk_dst_cache = rt;
  if (sk.write_seq === 0) sk.write_seq = secure_tcpv6_seq(net, sk.v6_saddr, sk.skc_v6_daddr, sk.inet_sport, sk.skc_dport);
  sk.tsoffset = secure_tcpv6_ts_off(net, sk.v6_saddr, sk.skc_v6_daddr);
  return tcp_connect_finish(sk, rt6_mtu(rt));
}

function tcp_v6_init_sock(sk: Sock): number {
  const tp = sk as TcpSock;
  tcp_init_sock(tp);
  tp.icsk_af_ops = ipv6_specific;
  return 0;
}

/** tcpv6_prot. */
export const tcpv6_prot: Proto & { keepalive(sk: Sock, val: boolean): void } = {
  name: 'TCPv6',
  init: tcp_v6_init_sock,
  connect: (sk: Sock, addr: Sockaddr): number => tcp_v6_connect(sk as TcpSock, addr),
  // The shared functions are looked up at call time: tcp.ts and this file import each other.
  close: (sk, timeout) => tcp_prot_common.close(sk, timeout),
  disconnect: (sk, flags) => tcp_prot_common.disconnect(sk, flags),
  accept: (sk, flags) => tcp_prot_common.accept(sk, flags),
  listen: (sk, backlog) => tcp_prot_common.listen(sk, backlog),
  shutdown: (sk, how) => tcp_prot_common.shutdown(sk, how),
  setsockopt: (sk, level, optname, value) => tcp_prot_common.setsockopt(sk, level, optname, value),
  getsockopt: (sk, level, optname) => tcp_prot_common.getsockopt(sk, level, optname),
  sendmsg: (sk, msg, data, flags) => tcp_prot_common.sendmsg(sk, msg, data, flags),
  recvmsg: (sk, msg, buf, flags) => tcp_prot_common.recvmsg(sk, msg, buf, flags),
  poll: (sk) => tcp_prot_common.poll(sk),
  hash: (sk) => tcp_prot_common.hash(sk),
  unhash: (sk) => tcp_prot_common.unhash(sk),
  get_port: (sk, snum) => tcp_prot_common.get_port(sk, snum),
  keepalive: (sk, val) => tcp_prot_common.keepalive(sk, val),
};

let registered = false;

/** tcpv6_init: IPPROTO_TCP in inet6_protos. */
export function tcpv6_init(): void {
  if (registered) return;
  registered = true;
  inet6_add_protocol({ handler: tcp_v6_rcv, err_handler: tcp_v6_err }, IPPROTO_TCP);
}

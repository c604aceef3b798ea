// TCP over IPv4 (net/ipv4/tcp_ipv4.c): the receive entry point (tcp_v4_rcv: header checks,
// checksum, socket lookup, request and TIME_WAIT mini sockets, RST for segments no socket
// wants), connect (route, source address, ephemeral port unique per 4-tuple, ISN), the replies
// sent without a full socket (tcp_v4_send_reset, tcp_v4_send_ack), the SYN-ACK, the child socket
// of a completed handshake, SYN cookie ACKs, and ICMP errors (tcp_v4_err).
import { E as ERRNO } from '../core/sock-opts.ts';
import { sk_filter, sk_filter_inherit, sk_filter_trim_cap } from '../core/sk-filter.ts';
import { kfree_skb_reason, SKB_DROP_REASONS, type SkBuff } from '../core/skbuff.ts';
import { csum_partial, csum_tcpudp_magic } from '../core/checksum.ts';
import { Flowi4 } from '../core/flow.ts';
import { AF_INET, IPPROTO_TCP, type InetFamily } from '../core/socket-constants.ts';
import { sk_daddr_set, sk_rcv_saddr_set, type SockCommon } from '../core/sock-common.ts';
import type { Sock } from '../core/sock.ts';
import type { Net } from '../core/net-namespace.ts';
import type { Sockaddr } from '../core/msghdr.ts';
import { inet_reqsk, type RequestSock } from '../core/request-sock.ts';
import { TCP_STATES, TCPF_STATES } from '../core/tcp-states.ts';
import { secure_tcp_seq, secure_tcp_ts_off } from '../core/secure-seq.ts';
import { inet_add_protocol } from './protocol.ts';
import { __inet_lookup_established, __inet_lookup_listener, __inet_lookup_skb } from './inet-hashtables.ts';
import { inet_twsk, inet_twsk_deschedule_put } from './inet-timewait-sock.ts';
import { ip_build_and_send_pkt, ip_queue_xmit, type IpXmitOpts } from './ip-output.ts';
import { Rtable, dst_tcp_usec_ts, ip_route_output_key, ip_rt_update_pmtu, rt_mtu, rt_valid, RTCF } from './route.ts';
import { IP_PMTUDISC } from './af-inet.ts';
import { skb_rt_type } from './ip-input.ts';
import { RTN } from './route.ts';
import { ICMP } from './icmp.ts';
import { icmp_err_convert } from './udp-err.ts';
import { TcpSock } from './tcp-sock.ts';
import type { TcpAfOps } from './tcp-sock.ts';
import { TCPHDR_ACK, TCPHDR_FIN, TCPHDR_RST, TCPHDR_SYN, TCP_TW } from './tcp-defs.ts';
import { tcp_make_synack, tcp_sync_mss, tcp_initialize_rcv_mss, tcp_current_mss, tcp_xmit_retransmit_queue } from './tcp-output.ts';
import { tcp_simple_retransmit } from './tcp-recovery.ts';
import { tcp_rcv_established } from './tcp-input.ts';
import { tcp_create_openreq_child, tcp_timewait_state_process } from './tcp-minisocks.ts';
import { inet_csk_reqsk_queue_drop, tcp_conn_request, tcp_listendrop, tcp_req_advmss } from './tcp-conn-request.ts';
import { __cookie_v4_init_sequence, __cookie_v4_check } from './syncookies.ts';
import { cookie_tcp_check_opts } from './tcp-cookie.ts';
import {
  tcp_build_reply, tcp_build_reset, tcp_connect_finish, tcp_connect_hash, tcp_cookie_req_finish, tcp_do_rcv_slow,
  tcp_err_in_window, tcp_err_report, tcp_rcv_csum_error, tcp_rcv_no_socket, tcp_rcv_pull_header, tcp_rcv_reqsk,
  tcp_rcv_timewait_reply, tcp_reqsk_send_ack, tcp_syn_recv_acceptq_full, tcp_syn_recv_hash, tcp_synack_tsval, type TcpRcvOps,
  type TcpReplyTs,
} from './tcp-rcv-common.ts';

/** The IPv4 header's addresses of the segment being processed. */
function ip_saddr(skb: SkBuff): number {
  return skb.view.getUint32(skb.network_header + 12);
}
function ip_daddr(skb: SkBuff): number {
  return skb.view.getUint32(skb.network_header + 16);
}

/** __tcp_v4_send_check: the TCP checksum over the pseudo-header (data at the TCP header). */
export function __tcp_v4_send_check(skb: SkBuff, saddr: number, daddr: number): void {
  const th = skb.data;
  skb.view.setUint16(th + 16, 0);
  const sum = csum_partial(skb.head, th, skb.len, 0);
  skb.view.setUint16(th + 16, csum_tcpudp_magic(saddr >>> 0, daddr >>> 0, skb.len, IPPROTO_TCP, sum));
}

/** tcp_v4_fill_cb: TCP_SKB_CB from the header (data at the TCP header). */
export function tcp_v4_fill_cb(skb: SkBuff): void {
  const v = skb.view;
  const th = skb.transport_header;
  const cb = skb.cb;
  const doff = (v.getUint8(th + 12) >>> 4) * 4;
  const flags = v.getUint8(th + 13);
  cb.seq = v.getUint32(th + 4);
  cb.end_seq = (cb.seq + (flags & TCPHDR_SYN ? 1 : 0) + (flags & TCPHDR_FIN ? 1 : 0) + skb.len - doff) >>> 0;
  cb.ack_seq = v.getUint32(th + 8);
  cb.tcp_flags = flags;
  cb.sacked = 0;
  cb.doff = doff;
}

const fl4 = new Flowi4();

/**
 * tcp_v4_send_reset: a RST for `skb` (a segment no socket or state accepts). Its sequence is the
 * segment's ACK, or it ACKs the segment when that had none; never a RST for a RST. OutRsts.
 */
export function tcp_v4_send_reset(sk: SockCommon | null, skb: SkBuff, net0?: Net): void {
  if (skb.view.getUint8(skb.transport_header + 13) & TCPHDR_RST) return;
  // No RST to a broadcast or multicast (the kernel checks the route type is local).
  if (sk === null && skb_rt_type(skb) !== RTN.RTN_LOCAL && skb_rt_type(skb) !== 0) return;
  const net = sk?.skc_net ?? net0 ?? skb.dev?.nd_net;
  if (net === undefined || net === null) return;
  const rep = tcp_build_reset(skb, TCPHDR_RST);
  const saddr = ip_daddr(skb);
  const daddr = ip_saddr(skb);
  __tcp_v4_send_check(rep, saddr, daddr);
  net.mib.tcp.OutSegs++;
  net.mib.tcp.OutRsts++;
  const full = sk !== null && 'sk_mark' in sk ? (sk as Sock) : null;
  ip_build_and_send_pkt(rep, net, null, saddr, daddr, IPPROTO_TCP, { oif: skb.skb_iif, tos: full?.tos ?? 0, mark: full?.sk_mark ?? 0 });
}

/**
 * tcp_v4_send_ack: an ACK without a full socket (TIME_WAIT, a request socket): seq, ack, window
 * (already scaled down), and timestamps when tsecr is given.
 */
function tcp_v4_send_ack(net: Net, skb: SkBuff, seq: number, ack: number, win: number, ts: TcpReplyTs | null): void {
  const rep = tcp_build_reply(skb, seq, ack, win, ts, TCPHDR_ACK);
  const saddr = ip_daddr(skb);
  const daddr = ip_saddr(skb);
  __tcp_v4_send_check(rep, saddr, daddr);
  net.mib.tcp.OutSegs++;
  ip_build_and_send_pkt(rep, net, null, saddr, daddr, IPPROTO_TCP, { oif: skb.skb_iif });
}

/** tcp_v4_reqsk_send_ack: a request socket's ACK for an out-of-window segment. */
function tcp_v4_reqsk_send_ack(sk: TcpSock, skb: SkBuff, req: RequestSock): void {
  tcp_reqsk_send_ack(tcp_v4_rcv_ops, sk, skb, req);
}

/** tcp_v4_send_synack: the SYN-ACK for req (timestamps carry the cookie's options for a cookie SYN-ACK). */
function tcp_v4_send_synack(sk: TcpSock, req: RequestSock, synack_type: number): number {
  const tsval = tcp_synack_tsval(sk, req, synack_type);
  const advmss = tcp_req_advmss(sk, req);
  req_dst_req = null;
  req_dst = null;
  const skb = tcp_make_synack(req, (tsval + req.ts_off) >>> 0, advmss);
  __tcp_v4_send_check(skb, req.skc_rcv_saddr, req.skc_daddr);
  sk.skc_net.mib.tcp.OutSegs++;
  synack_opts.oif = sk.skc_bound_dev_if;
  return ip_build_and_send_pkt(skb, sk.skc_net, sk, req.skc_rcv_saddr, req.skc_daddr, IPPROTO_TCP, synack_opts);
}

/**
 * The SYN-ACK's IP options, refilled per SYN-ACK rather than a literal per SYN of a flood:
 * ip_build_and_send_pkt reads them all before it transmits, so a SYN-ACK sent from inside that
 * transmit (over lo) refilling them changes nothing for the outer one.
 */
const synack_opts: IpXmitOpts = { df: true, oif: 0 };

/**
 * tcp_v4_init_req + route_req: the request's addresses are the SYN's, swapped. With timestamps,
 * the route decides the TS unit (tcp_conn_request's `req_usec_ts = dst_tcp_usec_ts(dst)`).
 */
function tcp_v4_init_req(req: RequestSock, _sk: TcpSock, skb: SkBuff): number {
  sk_rcv_saddr_set(req, ip_daddr(skb));
  sk_daddr_set(req, ip_saddr(skb));
  const rt = tcp_v4_route_req(req);
  if (typeof rt === 'number') return rt;
  req.req_usec_ts = req.tstamp_ok && dst_tcp_usec_ts(rt);
  req_dst_req = req;
  req_dst = rt;
  return 0;
}

function tcp_v4_route_req(req: RequestSock): Rtable | number {
  fl4.flowi4_oif = 0;
  fl4.flowi4_proto = IPPROTO_TCP;
  fl4.saddr = req.skc_rcv_saddr;
  fl4.daddr = req.skc_daddr;
  return ip_route_output_key(req.skc_net, fl4);
}

/**
 * The route tcp_v4_init_req found for the request being answered: tcp_conn_request keeps
 * route_req's dst for the advertised MSS and hands it to send_synack, so one route lookup serves
 * a SYN, as in the kernel. Let go when the SYN-ACK is built; a route no longer valid (the netns
 * genid moved, its device went down: __sk_dst_check) is looked up again.
 */
let req_dst_req: RequestSock | null = null;
let req_dst: Rtable | null = null;

function tcp_v4_req_mtu(req: RequestSock): number {
  let rt: Rtable | number;
  if (req === req_dst_req && req_dst !== null && rt_valid(req.skc_net, req_dst)) rt = req_dst;
  else rt = tcp_v4_route_req(req);
  return typeof rt === 'number' ? 1500 : rt_mtu(rt);
}

/** tcp_v4_route_mtu: the MTU of the connected socket's route (0 when none yet). */
function tcp_v4_route_mtu(sk: TcpSock): number {
  const rt = sk.sk_dst_cache;
  if (rt instanceof Rtable) return rt_mtu(rt);
  return 0;
}

/** tcp_v4_init_seq: the ISN for a SYN's 4-tuple (our side first). */
function tcp_v4_init_seq(skb: SkBuff): number {
  const th = skb.transport_header;
  return secure_tcp_seq(skb.dev?.nd_net ?? cur_net!, ip_daddr(skb), ip_saddr(skb), skb.view.getUint16(th + 2), skb.view.getUint16(th));
}

function tcp_v4_init_ts_off(skb: SkBuff): number {
  return secure_tcp_ts_off(skb.dev?.nd_net ?? cur_net!, ip_daddr(skb), ip_saddr(skb));
}

function cookie_v4_init_sequence(skb: SkBuff, mssp: { mss: number }): number {
  const th = skb.transport_header;
  const v = skb.view;
  return __cookie_v4_init_sequence(cur_net!, ip_saddr(skb), ip_daddr(skb), v.getUint16(th), v.getUint16(th + 2), v.getUint32(th + 4), mssp);
}

/** The netns of the segment being processed (skb.dev may be cleared by then). */
let cur_net: Net | null = null;

/**
 * tcp_v4_syn_recv_sock: the child of a completed handshake: addresses, MSS from the route, the
 * listener's port, into ehash in place of the request. null when the accept queue is full
 * (ListenOverflows, ListenDrops).
 */
function tcp_v4_syn_recv_sock(sk: TcpSock, skb: SkBuff, req: RequestSock, own_req: { value: boolean }): TcpSock | null {
  const net = sk.skc_net;
  if (tcp_syn_recv_acceptq_full(sk)) return null;
  const newtp = tcp_create_openreq_child(sk, req, skb);
  sk_filter_inherit(newtp, sk);
  // An IPv4 child of a dual-stack listener (tcp_v6_syn_recv_sock switches it to ipv6_mapped).
  newtp.icsk_af_ops = ipv4_specific;
  sk_rcv_saddr_set(newtp, req.skc_rcv_saddr);
  sk_daddr_set(newtp, req.skc_daddr);
  newtp.inet_saddr = req.skc_rcv_saddr;
  newtp.inet_id = net.boot.random.get_random_u32() & 0xffff;
  const mtu = tcp_v4_req_mtu(req);
  tcp_sync_mss(newtp, mtu);
  newtp.advmss = tcp_req_advmss(sk, req);
  tcp_initialize_rcv_mss(newtp);
  return tcp_syn_recv_hash(sk, newtp, req, own_req);
}

/** tcp_v4_conn_request: no SYN to a broadcast or multicast address. */
function tcp_v4_conn_request(sk: TcpSock, skb: SkBuff): number {
  const t = skb_rt_type(skb);
  if (t === RTN.RTN_BROADCAST || t === RTN.RTN_MULTICAST) {
    tcp_listendrop(sk);
    return 0;
  }
  const isn = tw_isn;
  tw_isn = 0;
  return tcp_conn_request(sk, skb, isn);
}

/** The ISN a TIME_WAIT socket hands a new connection (the kernel's per-CPU tcp_tw_isn). */
let tw_isn = 0;

export const ipv4_specific: TcpAfOps = {
  net_header_len: 20,
  queue_xmit: (sk, skb) => ip_queue_xmit(sk, skb),
  send_check: (sk, skb) => __tcp_v4_send_check(skb, sk.inet_saddr, sk.skc_daddr),
  conn_request: tcp_v4_conn_request,
  syn_recv_sock: tcp_v4_syn_recv_sock,
  send_synack: tcp_v4_send_synack,
  send_reset: (sk, skb) => tcp_v4_send_reset(sk, skb),
  reqsk_send_ack: tcp_v4_reqsk_send_ack,
  route_mtu: tcp_v4_route_mtu,
  init_req: tcp_v4_init_req,
  req_mtu: tcp_v4_req_mtu,
  cookie_init_seq: cookie_v4_init_sequence,
  init_seq: tcp_v4_init_seq,
  init_ts_off: tcp_v4_init_ts_off,
};

/**
 * cookie_v4_check: an ACK to a listener with no request socket may complete a SYN cookie
 * handshake. The listener itself when it is not a cookie (the caller then answers as LISTEN
 * does: a RST), the new child, or null (dropped).
 */
function cookie_v4_check(sk: TcpSock, skb: SkBuff): TcpSock | null {
  const net = sk.skc_net;
  const flags = skb.cb.tcp_flags;
  if (!net.ipv4.sysctl_tcp_syncookies || !(flags & TCPHDR_ACK) || flags & TCPHDR_RST) return sk;
  const v = skb.view;
  const th = skb.transport_header;
  const saddr = ip_saddr(skb);
  const daddr = ip_daddr(skb);
  const r = cookie_tcp_check_opts(sk, skb, (seq, cookie) => __cookie_v4_check(net, saddr, daddr, v.getUint16(th), v.getUint16(th + 2), seq, cookie), () => secure_tcp_ts_off(net, daddr, saddr));
  if (r === null) return sk;
  const req = r;
  sk_rcv_saddr_set(req, daddr);
  sk_daddr_set(req, saddr);
  return tcp_cookie_req_finish(sk, skb, req);
}

/** The IPv4 pieces of the shared receive steps (tcp-rcv-common.ts). */
const tcp_v4_rcv_ops: TcpRcvOps = {
  send_reset: tcp_v4_send_reset,
  send_ack: tcp_v4_send_ack,
  cookie_check: cookie_v4_check,
};

/**
 * tcp_v4_do_rcv: a segment for a full socket. ESTABLISHED takes the fast path; a listener first
 * checks for a SYN cookie ACK; everything else is tcp_rcv_state_process. A nonzero result there
 * means a RST.
 */
export function tcp_v4_do_rcv(sk: TcpSock, skb: SkBuff): number {
  if (sk.skc_state === TCP_STATES.TCP_ESTABLISHED) {
    tcp_rcv_established(sk, skb);
    return 0;
  }
  return tcp_do_rcv_slow(tcp_v4_rcv_ops, sk, skb);
}

/** tcp_checksum_complete over the pseudo-header; true when bad. */
function tcp_v4_checksum_bad(skb: SkBuff): boolean {
  const sum = csum_partial(skb.head, skb.data, skb.len, 0);
  return csum_tcpudp_magic(ip_saddr(skb), ip_daddr(skb), skb.len, IPPROTO_TCP, sum) !== 0;
}

/**
 * tcp_v4_rcv: the IPPROTO_TCP handler. InSegs for every segment; a short header or bad doff
 * (InErrs), a bad checksum (InCsumErrors, InErrs); then the socket lookup and the state's
 * handling; no socket: a RST (OutRsts). Owns the skb.
 */
export function tcp_v4_rcv(skb: SkBuff): number {
  const dev = skb.dev;
  const net = dev?.nd_net ?? null;
  if (net === null) {
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NOT_SPECIFIED);
    return 0;
  }
  cur_net = net;
  const thlen = tcp_rcv_pull_header(skb, net);
  if (thlen === 0) return 0;
  if (tcp_v4_checksum_bad(skb)) {
    tcp_rcv_csum_error(skb, net);
    return 0;
  }
  tcp_v4_fill_cb(skb);
  const v = skb.view;
  const th = skb.transport_header;
  const saddr = ip_saddr(skb);
  const daddr = ip_daddr(skb);
  const sport = v.getUint16(th);
  const dport = v.getUint16(th + 2);
  const h = net.ipv4.tcp_hashinfo;
  const dif = skb.skb_iif;
  for (;;) {
    const sk = __inet_lookup_skb(net, h, skb, thlen, skb.sk, false, saddr, sport, daddr, dport, dif, 0);
    if (sk === undefined) {
      tcp_rcv_no_socket(tcp_v4_rcv_ops, skb, net);
      return 0;
    }
    if (inet_twsk(sk)) {
      const isn = { value: 0 };
      const st = tcp_timewait_state_process(sk, skb, isn);
      if (st === TCP_TW.TCP_TW_SYN) {
        const sk2 = __inet_lookup_listener(net, h, skb, thlen, saddr, sport, daddr, dport, dif, 0);
        if (sk2 !== undefined) {
          inet_twsk_deschedule_put(sk);
          tw_isn = isn.value;
          return tcp_v4_process(sk2 as TcpSock, skb);
        }
      }
      tcp_rcv_timewait_reply(tcp_v4_rcv_ops, sk, skb, st);
      return 0;
    }
    if (inet_reqsk(sk)) {
      // The listener's filter sees the handshake's ACK before the request does.
      if (tcp_reqsk_filter_drop(sk, skb)) return 0;
      const listener = tcp_rcv_reqsk(tcp_v4_rcv_ops, sk, skb);
      // undefined: the listener closed, the request went, the lookup runs again.
      if (listener === undefined) continue;
      return listener === null ? 0 : tcp_v4_process(listener, skb);
    }
    return tcp_v4_process(sk as TcpSock, skb);
  }
}

/** tcp_v4_rcv's `process:` for a full socket: its filter, then the segment. */
function tcp_v4_process(sk: TcpSock, skb: SkBuff): number {
  if (tcp_filter_drop(sk, skb)) return 0;
  if (sk.skc_state !== TCP_STATES.TCP_LISTEN) sk.segs_in++;
  return tcp_v4_do_rcv(sk, skb);
}

/**
 * tcp_filter: sk's socket filter on a segment (skb->data at the TCP header); the header (doff * 4
 * bytes) always stays. 0, or -EPERM when the filter dropped it.
 */
export function tcp_filter(sk: Sock, skb: SkBuff): number {
  return sk_filter_trim_cap(sk, skb, (skb.head[skb.data + 12]! >>> 4) * 4);
}

/**
 * tcp_filter as tcp_v4_rcv / tcp_v6_rcv use it: true when the filter dropped the segment (counted
 * in sk_drops, freed as SOCKET_FILTER: discard_and_relse, no RST); otherwise TCP_SKB_CB is filled
 * again, the segment being perhaps shorter now.
 */
export function tcp_filter_drop(sk: Sock, skb: SkBuff): boolean {
  if (sk_filter(sk) === undefined) return false;
  if (tcp_filter(sk, skb) !== 0) {
    sk.sk_drops++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_SOCKET_FILTER);
    return true;
  }
  tcp_v4_fill_cb(skb);
  return false;
}

/** The NEW_SYN_RECV step's tcp_filter on the request's listener (while it still listens). */
export function tcp_reqsk_filter_drop(req: RequestSock, skb: SkBuff): boolean {
  const listener = req.rsk_listener;
  return listener !== null && listener.skc_state === TCP_STATES.TCP_LISTEN && tcp_filter_drop(listener, skb);
}

/**
 * tcp_v4_mtu_reduced: the route learns the path MTU (ip_rt_update_pmtu: below
 * net.ipv4.route.min_pmtu it is clamped to it and locked), then a smaller MSS, and what no longer
 * fits goes again at once (tcp_simple_retransmit).
 */
function tcp_v4_mtu_reduced(tp: TcpSock, mtu_info: number): void {
  if ((1 << tp.skc_state) & (TCPF_STATES.TCPF_LISTEN | TCPF_STATES.TCPF_CLOSE)) return;
  const net = tp.skc_net;
  const old = tp.sk_dst_cache instanceof Rtable ? tp.sk_dst_cache : null;
  ip_rt_update_pmtu(net, old, tp.skc_daddr, mtu_info);
  // __sk_dst_check: the cached route is stale now; look again.
  fl4.flowi4_oif = tp.skc_bound_dev_if;
  fl4.flowi4_mark = tp.sk_mark;
  fl4.flowi4_tos = tp.tos;
  fl4.flowi4_proto = IPPROTO_TCP;
  fl4.saddr = tp.inet_saddr >>> 0;
  fl4.daddr = tp.skc_daddr >>> 0;
  const rt = ip_route_output_key(net, fl4);
  if (typeof rt === 'number') return;
  tp.sk_dst_cache = rt;
  const mtu = rt_mtu(rt);
  if (mtu_info < mtu) tp.sk_err_soft = ERRNO.EMSGSIZE;
  if (tp.pmtudisc !== IP_PMTUDISC.IP_PMTUDISC_DONT && tp.icsk_pmtu_cookie > mtu) {
    tcp_sync_mss(tp, mtu);
    tcp_simple_retransmit(tp, tcp_current_mss(tp), tcp_xmit_retransmit_queue);
  }
}

/**
 * tcp_v4_err: an ICMP error about a segment we sent (skb.data at the quoted IP header). Port
 * unreachable during the handshake aborts it (ECONNREFUSED); on an established connection errors
 * are soft (reported on timeout) unless IP_RECVERR.
 */
export function tcp_v4_err(skb: SkBuff, type: number, code: number, info: number): number {
  const net = skb.dev?.nd_net ?? cur_net;
  if (net === null || net === undefined) return -ERRNO.ENOENT;
  const v = skb.view;
  const iph = skb.data;
  const ihl = (v.getUint8(iph) & 0x0f) * 4;
  const th = iph + ihl;
  const saddr = v.getUint32(iph + 12);
  const daddr = v.getUint32(iph + 16);
  const sport = v.getUint16(th);
  const dport = v.getUint16(th + 2);
  const seq = v.getUint32(th + 4);
  const sk = __inet_lookup_established(net, net.ipv4.tcp_hashinfo, daddr, dport, saddr, sport, skb.skb_iif, 0);
  if (sk === undefined) {
    net.mib.icmp.InErrors++;
    return -ERRNO.ENOENT;
  }
  if (inet_twsk(sk)) return 0;
  if (inet_reqsk(sk)) {
    // tcp_req_err: only an error about our SYN-ACK's sequence, and only the fatal ones, drop the request.
    const listener = sk.rsk_listener as TcpSock;
    const abort =
      type === ICMP.ICMP_PARAMETERPROB ||
      type === ICMP.ICMP_TIME_EXCEEDED ||
      (type === ICMP.ICMP_DEST_UNREACH && (code === ICMP.ICMP_NET_UNREACH || code === ICMP.ICMP_HOST_UNREACH));
    if (seq !== sk.snt_isn) net.mib.net.OutOfWindowIcmps++;
    else if (abort) {
      inet_csk_reqsk_queue_drop(listener, sk);
      tcp_listendrop(listener);
    }
    return 0;
  }
  const tp = sk as TcpSock;
  if (!tcp_err_in_window(tp, seq)) return 0;
  let err: number;
  switch (type) {
    case ICMP.ICMP_PARAMETERPROB:
      err = ERRNO.EPROTO;
      break;
    case ICMP.ICMP_DEST_UNREACH: {
      if (code > 15) return 0;
      if (code === ICMP.ICMP_FRAG_NEEDED) {
        // Path MTU discovery (RFC 1191): a smaller MSS from now on.
        if (tp.skc_state !== TCP_STATES.TCP_LISTEN) tcp_v4_mtu_reduced(tp, info);
        return 0;
      }
      err = icmp_err_convert[code]!.errno;
      break;
    }
    case ICMP.ICMP_TIME_EXCEEDED:
      err = ERRNO.EHOSTUNREACH;
      break;
    default:
      return 0;
  }
  return tcp_err_report(tp, err);
}

/**
 * tcp_v4_connect: route to the destination, take the route's source address if unbound, pick an
 * ephemeral port unique for the 4-tuple (inet_hash_connect), the ISN and timestamp offset, then
 * the SYN. 0 or a negative errno (-ENETUNREACH, -EADDRNOTAVAIL, -EAFNOSUPPORT).
 */
export function tcp_v4_connect(sk: TcpSock, addr: Sockaddr): number {
  if (addr.family !== AF_INET) return -ERRNO.EAFNOSUPPORT;
  const net = sk.skc_net;
  const daddr = addr.addr >>> 0;
  fl4.flowi4_oif = sk.skc_bound_dev_if;
  fl4.flowi4_mark = sk.sk_mark;
  fl4.flowi4_tos = sk.tos;
  fl4.flowi4_proto = IPPROTO_TCP;
  fl4.saddr = sk.inet_saddr >>> 0;
  fl4.daddr = daddr;
  const rt = ip_route_output_key(net, fl4);
  if (typeof rt === 'number') {
    if (rt === -ERRNO.ENETUNREACH) net.mib.ip.OutNoRoutes++;
    return rt;
  }
  if (rt.rt_flags & (RTCF.RTCF_MULTICAST | RTCF.RTCF_BROADCAST)) return -ERRNO.ENETUNREACH;
  if (sk.inet_saddr === 0) {
    sk.inet_saddr = fl4.saddr;
    sk_rcv_saddr_set(sk, fl4.saddr);
  }
  if (sk.rx_opt.ts_recent_stamp !== 0 && sk.skc_daddr !== daddr) {
    sk.rx_opt.ts_recent = 0;
    sk.rx_opt.ts_recent_stamp = 0;
    sk.write_seq = 0;
  }
  sk.tcp_usec_ts = dst_tcp_usec_ts(rt);
  sk.skc_dport = addr.port;
  sk_daddr_set(sk, daddr);
  sk.rx_opt.mss_clamp = 536;
  const err = tcp_connect_hash(sk);
  if (err !== 0) return err;
  sk.sk_dst_cache = rt;
  if (sk.write_seq === 0) sk.write_seq = secure_tcp_seq(net, sk.inet_saddr, sk.skc_daddr, sk.inet_sport, sk.skc_dport);
  sk.tsoffset = secure_tcp_ts_off(net, sk.inet_saddr, sk.skc_daddr);
  sk.inet_id = net.boot.random.get_random_u32() & 0xffff;
  return tcp_connect_finish(sk, rt_mtu(rt));
}

/** The TcpSock constructor socket(2) uses for TCP (prot->obj_size). */
export function tcp_sk_alloc(net: Net, family: InetFamily, type: number, protocol: number, uid: number): TcpSock {
  return new TcpSock(net, family, type, protocol, uid);
}

let registered = false;

/** tcp_v4_init: IPPROTO_TCP in inet_protos. */
export function tcp_v4_init(): void {
  if (registered) return;
  registered = true;
  inet_add_protocol({ handler: tcp_v4_rcv, err_handler: tcp_v4_err }, IPPROTO_TCP);
}


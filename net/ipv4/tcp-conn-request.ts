// A listener's SYN handling (tcp_conn_request in tcp_input.c, the SYN queue of
// inet_connection_sock.c): a request socket per SYN goes into ehash as TCP_NEW_SYN_RECV with a
// SYN-ACK retransmit timer; when the SYN queue is full (or always, with tcp_syncookies=2) the
// SYN-ACK carries a SYN cookie instead and nothing is kept; a full accept queue drops the SYN
// (ListenOverflows, ListenDrops).

import { TCP_STATES } from '../core/tcp-states.ts';
import { inet_reqsk_alloc, reqsk_timer_dispatch, type RequestSock } from '../core/request-sock.ts';
import type { SkBuff } from '../core/skbuff.ts';
import { AF_INET6 } from '../core/socket-constants.ts';
import { ipv6_addr_v4mapped } from '../core/in6-addr.ts';
import { inet_ehash_insert, inet_ehash_del } from './inet-hash.ts';
import { TcpOptionsReceived, type TcpSock } from './tcp-sock.ts';
import { TCP_RTO_MAX, TCP_SYNACK, TCP_TIMEOUT_INIT, TCPOLEN, TCP_HDR_LEN } from './tcp-defs.ts';
import { tcp_parse_options } from './tcp-options.ts';
import { tcp_full_space, tcp_mstamp_refresh } from './tcp-util.ts';
import { tcp_select_initial_window } from './tcp-output.ts';
import { sk_acceptq_is_full } from './tcp-accept.ts';
import { tcp_synq_overflow } from './syncookies.ts';

/** tcp_listendrop: a SYN or the completing ACK was dropped at the listener. ListenDrops. */
export function tcp_listendrop(sk: TcpSock): void {
  sk.sk_drops++;
  sk.skc_net.mib.net.ListenDrops++;
}

/** reqsk_timeout: the request's current SYN-ACK timeout (1 s doubled per timeout, at most max_timeout). */
export function reqsk_timeout(req: RequestSock, max_timeout: number): number {
  return Math.min(TCP_TIMEOUT_INIT * 2 ** req.num_timeout, max_timeout);
}

/** inet_csk_reqsk_queue_is_full: the SYN queue holds as many requests as the backlog. */
function inet_csk_reqsk_queue_is_full(sk: TcpSock): boolean {
  return sk.syn_queue_len >= sk.sk_max_ack_backlog;
}

/**
 * inet_csk_reqsk_queue_drop: the request leaves ehash and the SYN queue, its timer stops. true if
 * it was still there.
 */
export function inet_csk_reqsk_queue_drop(sk: TcpSock, req: RequestSock): boolean {
  const h = sk.skc_net.ipv4.tcp_hashinfo;
  // The child may already have taken the request's ehash slot (inet_ehash_nolisten).
  inet_ehash_del(h, req);
  const unlinked = req.rsk_queued;
  if (unlinked) {
    req.rsk_queued = false;
    sk.syn_queue_len--;
    if (req.num_timeout === 0) sk.syn_queue_young--;
  }
  req.rsk_dead = true;
  if (req._rsk_timer !== null) sk.skc_net.boot.clock.del_timer(req._rsk_timer);
  return unlinked;
}

/** inet_rtx_syn_ack / tcp_rtx_synack: the SYN-ACK again. RetransSegs, TCPSynRetrans. 0 or -errno. */
export function inet_rtx_syn_ack(sk: TcpSock, req: RequestSock): number {
  const res = sk.icsk_af_ops!.send_synack(sk, req, TCP_SYNACK.TCP_SYNACK_NORMAL);
  if (res === 0) {
    sk.skc_net.mib.tcp.RetransSegs++;
    sk.skc_net.mib.net.TCPSynRetrans++;
    req.num_retrans++;
  }
  return res;
}

/**
 * reqsk_timer_handler: the SYN-ACK timer. Retransmits with backoff up to tcp_synack_retries
 * (fewer for old requests when the queue is half full of them), then drops the request.
 */
function reqsk_timer_handler(req: RequestSock): void {
  const sk = req.rsk_listener as TcpSock | null;
  if (sk === null || req.rsk_dead) return;
  const net = sk.skc_net;
  if (sk.skc_state !== TCP_STATES.TCP_LISTEN) {
    inet_csk_reqsk_queue_drop(sk, req);
    return;
  }
  let max_syn_ack_retries = sk.icsk_syn_retries || net.ipv4.sysctl_tcp_synack_retries;
  const qlen = sk.syn_queue_len;
  // Keep half the queue for young requests: old ones get fewer retries when it fills.
  if (qlen << 1 > Math.max(8, sk.sk_max_ack_backlog)) {
    let young = sk.syn_queue_young << 1;
    while (max_syn_ack_retries > 2) {
      if (qlen < young) break;
      max_syn_ack_retries--;
      young <<= 1;
    }
  }
  const defer = sk.rskq_defer_accept;
  let expire: boolean;
  let resend: boolean;
  if (defer === 0) {
    expire = req.num_timeout >= max_syn_ack_retries;
    resend = true;
  } else {
    expire = req.num_timeout >= max_syn_ack_retries && (!req.acked || req.num_timeout >= defer);
    resend = !req.acked || req.num_timeout >= defer - 1;
  }
  net.mib.net.TCPTimeouts++;
  if (!expire && (!resend || inet_rtx_syn_ack(sk, req) === 0 || req.acked)) {
    if (req.num_timeout++ === 0) sk.syn_queue_young--;
    const clock = net.boot.clock;
    req.rsk_timer_expires = clock.get_jiffies_64() + reqsk_timeout(req, TCP_RTO_MAX);
    clock.mod_timer(req.rsk_timer, req.rsk_timer_expires);
    return;
  }
  inet_csk_reqsk_queue_drop(sk, req);
}
reqsk_timer_dispatch.handler = reqsk_timer_handler;

/** inet_csk_reqsk_queue_hash_add: into ehash (false if the 4-tuple is taken) and the SYN queue, timer armed. */
function inet_csk_reqsk_queue_hash_add(sk: TcpSock, req: RequestSock, timeout: number): boolean {
  const clock = sk.skc_net.boot.clock;
  if (!inet_ehash_insert(sk.skc_net.ipv4.tcp_hashinfo, req, null, true)) return false;
  req.rsk_timer_expires = clock.get_jiffies_64() + timeout;
  clock.mod_timer(req.rsk_timer, req.rsk_timer_expires);
  sk.syn_queue_len++;
  sk.syn_queue_young++;
  req.rsk_queued = true;
  return true;
}

/** tcp_syn_flood_action: send cookies (TCPReqQFullDoCookies) or drop (TCPReqQFullDrop). */
function tcp_syn_flood_action(sk: TcpSock): boolean {
  const net = sk.skc_net;
  if (net.ipv4.sysctl_tcp_syncookies) {
    net.mib.net.TCPReqQFullDoCookies++;
    return true;
  }
  net.mib.net.TCPReqQFullDrop++;
  return false;
}

const tmp_opt = new TcpOptionsReceived();
// Reused per SYN (tcp_conn_request is not re-entered between filling and reading them): one SYN in
// a flood should allocate no more than the request it makes.
const parse_sysctls = { tcp_timestamps: 0, tcp_sack: 0, tcp_window_scaling: 0 };
const mssp = { mss: 0 };

/** tcp_openreq_init_rwin: the window and scale the SYN-ACK offers. */
export function tcp_openreq_init_rwin(req: RequestSock, sk: TcpSock, mss: number): void {
  const full_space = tcp_full_space(sk);
  const r = tcp_select_initial_window(sk, full_space, mss - (req.tstamp_ok ? TCPOLEN.TCPOLEN_TSTAMP_ALIGNED : 0), req.wscale_ok, sk.user_window_clamp);
  req.rsk_rcv_wnd = r.rcv_wnd;
  req.rsk_window_clamp = r.window_clamp;
  req.rcv_wscale = r.rcv_wscale;
}

/** The advertised MSS for a request: the route MTU less headers, clamped by TCP_MAXSEG. */
export function tcp_req_advmss(sk: TcpSock, req: RequestSock): number {
  const mtu = sk.icsk_af_ops!.req_mtu(req);
  // The request's family decides (an IPv4 SYN on a dual-stack listener).
  const net_header_len = req.skc_family === AF_INET6 && !ipv6_addr_v4mapped(req.skc_v6_daddr) ? 40 : 20;
  let advmss = mtu - net_header_len - TCP_HDR_LEN;
  if (sk.rx_opt.user_mss !== 0 && sk.rx_opt.user_mss < advmss) advmss = sk.rx_opt.user_mss;
  return advmss;
}

/**
 * tcp_conn_request: a SYN to a listener. `isn` is nonzero when a TIME_WAIT socket handed the
 * 4-tuple over (TCP_TW_SYN), which bypasses the queue limits as in Linux. Always 0 (the SYN is
 * the caller's to free).
 */
export function tcp_conn_request(sk: TcpSock, skb: SkBuff, isn0: number): number {
  const net = sk.skc_net;
  const af = sk.icsk_af_ops!;
  let isn = isn0;
  const syncookies = net.ipv4.sysctl_tcp_syncookies;
  let want_cookie = false;
  if ((syncookies === 2 || inet_csk_reqsk_queue_is_full(sk)) && isn === 0) {
    want_cookie = tcp_syn_flood_action(sk);
    if (!want_cookie) {
      tcp_listendrop(sk);
      return 0;
    }
  }
  if (sk_acceptq_is_full(sk)) {
    net.mib.net.ListenOverflows++;
    tcp_listendrop(sk);
    return 0;
  }
  const req = inet_reqsk_alloc(sk);
  tmp_opt.saw_tstamp = tmp_opt.sack_ok = tmp_opt.wscale_ok = tmp_opt.tstamp_ok = false;
  tmp_opt.snd_wscale = 0;
  tmp_opt.mss_clamp = 536;
  tmp_opt.user_mss = sk.rx_opt.user_mss;
  parse_sysctls.tcp_timestamps = net.ipv4.sysctl_tcp_timestamps;
  parse_sysctls.tcp_sack = net.ipv4.sysctl_tcp_sack;
  parse_sysctls.tcp_window_scaling = net.ipv4.sysctl_tcp_window_scaling;
  tcp_parse_options(skb.view, skb.transport_header, skb.cb.doff >> 2, true, tmp_opt, null, parse_sysctls);
  // Without timestamps a cookie cannot carry SACK and window scaling.
  if (want_cookie && !tmp_opt.saw_tstamp) {
    tmp_opt.sack_ok = tmp_opt.wscale_ok = false;
    tmp_opt.snd_wscale = 0;
  }
  // tcp_openreq_init.
  req.rcv_isn = skb.cb.seq;
  req.rcv_nxt = (skb.cb.seq + 1) >>> 0;
  req.snt_synack = 0;
  req.mss = tmp_opt.mss_clamp;
  req.ts_recent = tmp_opt.saw_tstamp ? tmp_opt.rcv_tsval : 0;
  req.tstamp_ok = tmp_opt.saw_tstamp;
  req.sack_ok = tmp_opt.sack_ok;
  req.wscale_ok = tmp_opt.wscale_ok;
  req.snd_wscale = tmp_opt.snd_wscale;
  req.skc_dport = skb.view.getUint16(skb.transport_header);
  req.skc_num = skb.view.getUint16(skb.transport_header + 2);
  req.ir_iif = skb.skb_iif;
  req.snd_wnd = skb.view.getUint16(skb.transport_header + 14);
  if (af.init_req(req, sk, skb) !== 0) {
    tcp_listendrop(sk);
    return 0;
  }
  if (req.tstamp_ok) req.ts_off = af.init_ts_off(skb);
  if (!want_cookie && isn === 0) {
    const max_syn_backlog = net.ipv4.sysctl_max_syn_backlog;
    // Without cookies, the last quarter of the backlog is kept for peers known to be alive
    // (tcp_peer_is_proven; no metrics here, so none is proven).
    if (!syncookies && max_syn_backlog - sk.syn_queue_len < max_syn_backlog >> 2) {
      tcp_listendrop(sk);
      return 0;
    }
    isn = af.init_seq(skb);
  }
  const advmss = tcp_req_advmss(sk, req);
  if (want_cookie) {
    tcp_synq_overflow(sk);
    net.mib.net.SyncookiesSent++;
    mssp.mss = req.mss;
    isn = af.cookie_init_seq(skb, mssp);
    req.mss = mssp.mss;
    req.cookie_ts = req.tstamp_ok;
    if (!req.tstamp_ok) req.ecn_ok = false;
  }
  req.snt_isn = isn >>> 0;
  tcp_openreq_init_rwin(req, sk, advmss);
  if (!want_cookie) {
    if (!inet_csk_reqsk_queue_hash_add(sk, req, TCP_TIMEOUT_INIT)) return 0;
  }
  af.send_synack(sk, req, want_cookie ? TCP_SYNACK.TCP_SYNACK_COOKIE : TCP_SYNACK.TCP_SYNACK_NORMAL);
  if (!want_cookie) {
    tcp_mstamp_refresh(sk);
    req.snt_synack = sk.tcp_mstamp || 1;
  }
  return 0;
}



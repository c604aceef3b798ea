// The mini sockets (net/ipv4/tcp_minisocks.c): TIME_WAIT (tcp_time_wait turns a closing socket
// into an InetTimewaitSock; tcp_timewait_state_process answers the old connection's segments),
// and the SYN_RECV request sockets' handshake completion (tcp_check_req, tcp_create_openreq_child,
// tcp_child_process).
import type { SkBuff } from '../core/skbuff.ts';
import { TCP_STATES, type TcpState } from '../core/tcp-states.ts';
import { SOCK_FLAGS } from '../core/sock.ts';
import type { RequestSock } from '../core/request-sock.ts';
import { HZ } from '../core/clock.ts';
import { inet_twsk_alloc, inet_twsk_hashdance_schedule, inet_twsk_reschedule, inet_twsk_deschedule_put, TCP_TIMEWAIT_LEN, type InetTimewaitSock } from './inet-timewait-sock.ts';
import { TcpOptionsReceived, TcpSock, after, before } from './tcp-sock.ts';
import { TCPHDR_ACK, TCPHDR_FIN, TCPHDR_RST, TCPHDR_SYN, TCP_HDR_LEN, TCP_RTO_MAX, TCP_TIMES, TCP_TW, TCPOLEN, TCP_SIZES } from './tcp-defs.ts';
import { tcp_parse_options, tcp_paws_check } from './tcp-options.ts';
import { tcp_jiffies32, tcp_receive_window, tcp_init_wl, tcp_mstamp_refresh } from './tcp-util.ts';
import { tcp_done } from './tcp-done.ts';
import { tcp_oow_rate_limited } from './tcp-challenge.ts';
import { inet_csk_reset_keepalive_timer, keepalive_time_when } from './tcp-timer.ts';
import { tcp_rcv_state_process, tcp_synack_rtt_meas } from './tcp-rcv-state.ts';
import { inet_csk_reqsk_queue_drop, reqsk_timeout, inet_rtx_syn_ack } from './tcp-conn-request.ts';
import { inet_csk_reqsk_queue_add } from './tcp-accept.ts';

/** tcp_fin_time: the orphaned FIN_WAIT2 timeout (TCP_LINGER2 or tcp_fin_timeout), at least 3.5 RTOs. */
export function tcp_fin_time(tp: TcpSock): number {
  let fin_timeout = tp.linger2 !== 0 ? tp.linger2 : tp.skc_net.ipv4.sysctl_tcp_fin_timeout * HZ;
  const rto = tp.icsk_rto;
  const min = (rto << 2) - (rto >> 1);
  if (fin_timeout < min) fin_timeout = min;
  return fin_timeout;
}

/**
 * tcp_time_wait: sk becomes a TIME_WAIT mini socket (or an orphaned FIN_WAIT2 one) holding its
 * 4-tuple and port for TCP_TIMEWAIT_LEN (or `timeo`), and the full socket is done.
 */
export function tcp_time_wait(tp: TcpSock, state: TcpState, timeo0: number): void {
  const net = tp.skc_net;
  const tw = inet_twsk_alloc(tp, state, net.ipv4);
  if (tw === null) {
    // tcp_max_tw_buckets reached: the socket closes without a TIME_WAIT.
    net.mib.net.TCPTimeWaitOverflow++;
    tcp_done(tp);
    return;
  }
  tw.tw_rcv_wscale = tp.rx_opt.rcv_wscale;
  tw.tw_rcv_nxt = tp.rcv_nxt;
  tw.tw_snd_nxt = tp.snd_nxt;
  tw.tw_rcv_wnd = tcp_receive_window(tp);
  tw.tw_ts_recent = tp.rx_opt.ts_recent;
  tw.tw_ts_recent_stamp = tp.rx_opt.ts_recent_stamp;
  tw.tw_ts_offset = tp.tsoffset;
  tw.tw_usec_ts = tp.tcp_usec_ts;
  tw.tw_tstamp_ok = tp.rx_opt.tstamp_ok;
  tw.tw_last_oow_ack_time = 0;
  const rto = (tp.icsk_rto << 2) - (tp.icsk_rto >> 1);
  let timeo = timeo0 < rto ? rto : timeo0;
  if (state === TCP_STATES.TCP_TIME_WAIT) timeo = TCP_TIMEWAIT_LEN;
  inet_twsk_hashdance_schedule(tw, tp, net.ipv4.tcp_hashinfo, timeo);
  tcp_done(tp);
}

const tmp_opt = new TcpOptionsReceived();

/** tcp_paws_reject: PAWS for a mini socket (a RST gets the leeway of a quiet peer). */
function tcp_paws_reject(rx: TcpOptionsReceived, rst: boolean, now_sec: number): boolean {
  if (tcp_paws_check(rx, 0, now_sec)) return false;
  // RST with a stale timestamp after the peer was quiet for TCP_PAWS_MSL: accept.
  if (rst && now_sec >= rx.ts_recent_stamp + TCP_TIMES.TCP_PAWS_MSL) return false;
  return true;
}

function sysctls(net: TcpSock['skc_net']): { tcp_timestamps: number; tcp_sack: number; tcp_window_scaling: number } {
  return { tcp_timestamps: net.ipv4.sysctl_tcp_timestamps, tcp_sack: net.ipv4.sysctl_tcp_sack, tcp_window_scaling: net.ipv4.sysctl_tcp_window_scaling };
}

/** tcp_in_window: [seq, end_seq) overlaps [s_win, e_win]. */
function tcp_in_window(seq: number, end_seq: number, s_win: number, e_win: number): boolean {
  if (seq === s_win) return true;
  if (after(end_seq, s_win) && before(seq, e_win)) return true;
  return seq === e_win && seq === end_seq;
}

/** tcp_timewait_check_oow_rate_limit: ACK an out-of-window segment, at most every tcp_invalid_ratelimit. */
function tcp_timewait_check_oow_rate_limit(tw: InetTimewaitSock, skb: SkBuff, mib: 'TCPACKSkippedFinWait2' | 'TCPACKSkippedTimeWait'): number {
  if (!(skb.cb.tcp_flags & TCPHDR_RST) && !tcp_oow_rate_limited(tw.skc_net, { get last_oow_ack_time() { return tw.tw_last_oow_ack_time; }, set last_oow_ack_time(v: number) { tw.tw_last_oow_ack_time = v; } }, mib, skb)) {
    return TCP_TW.TCP_TW_ACK_OOW;
  }
  return TCP_TW.TCP_TW_SUCCESS;
}

/**
 * tcp_timewait_state_process: a segment for a TIME_WAIT (or orphaned FIN_WAIT2) mini socket.
 * Returns TCP_TW_*: ACK it (a retransmitted FIN), RST it, a new SYN that may reuse the 4-tuple
 * (tw_isn.value set), or nothing.
 */
export function tcp_timewait_state_process(tw: InetTimewaitSock, skb: SkBuff, tw_isn: { value: number }): number {
  const cb = skb.cb;
  const flags = cb.tcp_flags;
  const net = tw.skc_net;
  const now_sec = Math.floor(net.boot.clock.ktime_get_ns() / 1e9);
  let paws_reject = false;
  tmp_opt.saw_tstamp = false;
  if (cb.doff > TCP_HDR_LEN && tw.tw_ts_recent_stamp !== 0) {
    tmp_opt.tstamp_ok = true;
    tcp_parse_options(skb.view, skb.transport_header, cb.doff >> 2, false, tmp_opt, null, sysctls(net));
    if (tmp_opt.saw_tstamp) {
      if (tmp_opt.rcv_tsecr !== 0) tmp_opt.rcv_tsecr = (tmp_opt.rcv_tsecr - tw.tw_ts_offset) >>> 0;
      tmp_opt.ts_recent = tw.tw_ts_recent;
      tmp_opt.ts_recent_stamp = tw.tw_ts_recent_stamp;
      paws_reject = tcp_paws_reject(tmp_opt, (flags & TCPHDR_RST) !== 0, now_sec);
    }
  }
  const rcv_nxt = tw.tw_rcv_nxt;
  if (tw.tw_substate === TCP_STATES.TCP_FIN_WAIT2) {
    if (paws_reject || !tcp_in_window(cb.seq, cb.end_seq, rcv_nxt, (rcv_nxt + tw.tw_rcv_wnd) >>> 0)) {
      return tcp_timewait_check_oow_rate_limit(tw, skb, 'TCPACKSkippedFinWait2');
    }
    if (flags & TCPHDR_RST) {
      inet_twsk_deschedule_put(tw);
      return TCP_TW.TCP_TW_SUCCESS;
    }
    if (flags & TCPHDR_SYN && !before(cb.seq, rcv_nxt)) return TCP_TW.TCP_TW_RST;
    if (!(flags & TCPHDR_ACK) || !after(cb.end_seq, rcv_nxt) || cb.end_seq === cb.seq) return TCP_TW.TCP_TW_SUCCESS;
    // New data after a half-duplex close resets; only the FIN is welcome.
    if (!(flags & TCPHDR_FIN) || cb.end_seq !== ((rcv_nxt + 1) >>> 0)) return TCP_TW.TCP_TW_RST;
    tw.tw_substate = TCP_STATES.TCP_TIME_WAIT;
    tw.tw_rcv_nxt = cb.end_seq;
    if (tmp_opt.saw_tstamp) {
      tw.tw_ts_recent_stamp = now_sec;
      tw.tw_ts_recent = tmp_opt.rcv_tsval;
    }
    inet_twsk_reschedule(tw, TCP_TIMEWAIT_LEN);
    return TCP_TW.TCP_TW_ACK;
  }
  // The real TIME_WAIT.
  if (!paws_reject && cb.seq === rcv_nxt && (cb.seq === cb.end_seq || flags & TCPHDR_RST)) {
    if (flags & TCPHDR_RST) {
      // TIME_WAIT assassination (RFC 1337), allowed unless tcp_rfc1337 is set.
      if (!net.ipv4.sysctl_tcp_rfc1337) {
          inet_twsk_deschedule_put(tw);
        return TCP_TW.TCP_TW_SUCCESS;
      }
    } else {
      inet_twsk_reschedule(tw, TCP_TIMEWAIT_LEN);
    }
    if (tmp_opt.saw_tstamp) {
      tw.tw_ts_recent = tmp_opt.rcv_tsval;
      tw.tw_ts_recent_stamp = now_sec;
    }
    return TCP_TW.TCP_TW_SUCCESS;
  }
  // A new SYN above the old sequence space (or with a newer timestamp) may reopen the 4-tuple.
  if (
    flags & TCPHDR_SYN &&
    !(flags & (TCPHDR_RST | TCPHDR_ACK)) &&
    !paws_reject &&
    (after(cb.seq, rcv_nxt) || (tmp_opt.saw_tstamp && ((tw.tw_ts_recent - tmp_opt.rcv_tsval) | 0) < 0))
  ) {
    let isn = (tw.tw_snd_nxt + 65535 + 2) >>> 0;
    if (isn === 0) isn++;
    tw_isn.value = isn;
    return TCP_TW.TCP_TW_SYN;
  }
  if (paws_reject) net.mib.net.PAWSEstab++;
  if (!(flags & TCPHDR_RST)) {
    // Every other segment (a retransmitted FIN among them) restarts the timer and is ACKed.
    if (paws_reject || flags & TCPHDR_ACK) inet_twsk_reschedule(tw, TCP_TIMEWAIT_LEN);
    return tcp_timewait_check_oow_rate_limit(tw, skb, 'TCPACKSkippedTimeWait');
  }
  return TCP_TW.TCP_TW_SUCCESS;
}

/**
 * tcp_create_openreq_child: the full socket for a completed handshake (inet_csk_clone_lock plus
 * TCP's state from the request). SYN_RECV until the ACK is processed on it. PassiveOpens.
 */
export function tcp_create_openreq_child(listener: TcpSock, req: RequestSock, skb: SkBuff): TcpSock {
  const net = listener.skc_net;
  const newtp = new TcpSock(net, listener.skc_family, listener.sk_type, listener.sk_protocol, listener.sk_uid);
  // inet_csk_clone_lock: the listener's settings.
  newtp.skc_state = TCP_STATES.TCP_SYN_RECV;
  newtp.sk_prot = listener.sk_prot;
  newtp.icsk_af_ops = listener.icsk_af_ops;
  newtp.sk_rcvbuf = listener.sk_rcvbuf;
  newtp.sk_sndbuf = listener.sk_sndbuf;
  newtp.sk_userlocks = listener.sk_userlocks & ~8; // not SOCK_BINDPORT_LOCK: the child's port is inherited
  newtp.sk_flags = listener.sk_flags & (SOCK_FLAGS.SOCK_KEEPOPEN | SOCK_FLAGS.SOCK_LINGER | SOCK_FLAGS.SOCK_URGINLINE);
  newtp.sk_mark = listener.sk_mark;
  newtp.sk_priority = listener.sk_priority;
  newtp.sk_lingertime = listener.sk_lingertime;
  newtp.uc_ttl = listener.uc_ttl;
  newtp.tos = listener.tos;
  newtp.hop_limit = listener.hop_limit;
  newtp.tclass = listener.tclass;
  newtp.skc_bound_dev_if = listener.skc_bound_dev_if;
  newtp.skc_reuse = listener.skc_reuse;
  newtp.skc_ipv6only = listener.skc_ipv6only;
  newtp.nonagle = listener.nonagle;
  newtp.keepalive_time = listener.keepalive_time;
  newtp.keepalive_intvl = listener.keepalive_intvl;
  newtp.keepalive_probes = listener.keepalive_probes;
  newtp.linger2 = listener.linger2;
  newtp.icsk_user_timeout = listener.icsk_user_timeout;
  newtp.icsk_syn_retries = listener.icsk_syn_retries;
  newtp.icsk_ca_ops = listener.icsk_ca_ops;
  newtp.rx_opt.user_mss = listener.rx_opt.user_mss;
  newtp.skc_num = req.skc_num;
  newtp.inet_sport = req.skc_num;
  newtp.skc_dport = req.skc_dport;
  newtp.icsk_rto = listener.icsk_rto;
  newtp.icsk_ack_ato = 0;
  // TCP's part.
  let seq = (req.rcv_isn + 1) >>> 0;
  newtp.rcv_wup = newtp.copied_seq = newtp.rcv_nxt = seq;
  newtp.segs_in = 1;
  seq = (req.snt_isn + 1) >>> 0;
  newtp.snd_sml = newtp.snd_una = newtp.snd_nxt = newtp.snd_up = seq;
  tcp_init_wl(newtp, req.rcv_isn);
  newtp.icsk_ack_lrcvtime = tcp_jiffies32(newtp);
  newtp.lsndtime = tcp_jiffies32(newtp);
  newtp.total_retrans = req.num_retrans;
  newtp.write_seq = seq;
  newtp.snd_isn = req.snt_isn;
  newtp.rcv_isn = req.rcv_isn;
  if (newtp.sk_flags & SOCK_FLAGS.SOCK_KEEPOPEN) inet_csk_reset_keepalive_timer(newtp, keepalive_time_when(newtp));
  newtp.rx_opt.tstamp_ok = req.tstamp_ok;
  newtp.rx_opt.sack_ok = req.sack_ok;
  newtp.window_clamp = req.rsk_window_clamp;
  newtp.rcv_ssthresh = req.rsk_rcv_wnd;
  newtp.rcv_wnd = req.rsk_rcv_wnd;
  newtp.rx_opt.wscale_ok = req.wscale_ok;
  if (req.wscale_ok) {
    newtp.rx_opt.snd_wscale = req.snd_wscale;
    newtp.rx_opt.rcv_wscale = req.rcv_wscale;
  } else {
    newtp.rx_opt.snd_wscale = newtp.rx_opt.rcv_wscale = 0;
    newtp.window_clamp = Math.min(newtp.window_clamp, 65535);
  }
  newtp.snd_wnd = skb.view.getUint16(skb.transport_header + 14) * (1 << newtp.rx_opt.snd_wscale);
  newtp.max_window = newtp.snd_wnd;
  if (newtp.rx_opt.tstamp_ok) {
    newtp.tcp_usec_ts = req.req_usec_ts;
    newtp.rx_opt.ts_recent = req.ts_recent;
    newtp.rx_opt.ts_recent_stamp = Math.floor(net.boot.clock.ktime_get_ns() / 1e9);
    newtp.tcp_header_len = TCP_HDR_LEN + TCPOLEN.TCPOLEN_TSTAMP_ALIGNED;
  } else {
    newtp.tcp_usec_ts = false;
    newtp.rx_opt.ts_recent_stamp = 0;
    newtp.tcp_header_len = TCP_HDR_LEN;
  }
  if (req.num_timeout !== 0) {
    newtp.undo_marker = req.snt_isn;
    // snt_synack is in us: the child's retrans_stamp is in its TS unit.
    newtp.retrans_stamp = newtp.tcp_usec_ts ? req.snt_synack >>> 0 : Math.floor(req.snt_synack / 1000) >>> 0;
  }
  newtp.tsoffset = req.ts_off;
  if (skb.len >= TCP_SIZES.TCP_MSS_DEFAULT + newtp.tcp_header_len) newtp.icsk_ack_last_seg_size = skb.len - newtp.tcp_header_len;
  newtp.rx_opt.mss_clamp = req.mss;
  newtp.syncookie = req.syncookie;
  net.mib.tcp.PassiveOpens++;
  return newtp;
}

/**
 * tcp_check_req: a segment for a request socket (RFC 9293's SYN-RECEIVED, without a full socket).
 * Returns the new child (in the accept queue), the listener itself (the caller answers with a
 * RST: an ACK of something we never sent), or null (handled or dropped).
 */
export function tcp_check_req(sk: TcpSock, skb: SkBuff, req: RequestSock): TcpSock | null {
  const cb = skb.cb;
  let flg = cb.tcp_flags;
  const net = sk.skc_net;
  const now_sec = Math.floor(net.boot.clock.ktime_get_ns() / 1e9);
  let paws_reject = false;
  tmp_opt.saw_tstamp = false;
  if (cb.doff > TCP_HDR_LEN) {
    tmp_opt.tstamp_ok = req.tstamp_ok;
    tcp_parse_options(skb.view, skb.transport_header, cb.doff >> 2, false, tmp_opt, null, sysctls(net));
    if (tmp_opt.saw_tstamp) {
      tmp_opt.ts_recent = req.ts_recent;
      if (tmp_opt.rcv_tsecr !== 0) tmp_opt.rcv_tsecr = (tmp_opt.rcv_tsecr - req.ts_off) >>> 0;
      // The request keeps no stamp: estimate one from the timeout schedule.
      tmp_opt.ts_recent_stamp = now_sec - Math.floor(reqsk_timeout(req, TCP_RTO_MAX) / HZ);
      paws_reject = tcp_paws_reject(tmp_opt, (flg & TCPHDR_RST) !== 0, now_sec);
    }
  }
  const oow = req;
  // A retransmitted SYN: send the SYN-ACK again.
  if (cb.seq === req.rcv_isn && flg === TCPHDR_SYN && !paws_reject) {
    if (!tcp_oow_rate_limited(net, oow, 'TCPACKSkippedSynRecv', skb) && inet_rtx_syn_ack(sk, req) === 0) {
      const clock = net.boot.clock;
      req.rsk_timer_expires = clock.get_jiffies_64() + reqsk_timeout(req, TCP_RTO_MAX);
      clock.mod_timer(req.rsk_timer, req.rsk_timer_expires);
    }
    return null;
  }
  // An ACK of something else than our SYN: the listener answers with a RST.
  if (flg & TCPHDR_ACK && cb.ack_seq !== ((req.snt_isn + 1) >>> 0)) return sk;
  if (paws_reject || !tcp_in_window(cb.seq, cb.end_seq, req.rcv_nxt, (req.rcv_nxt + req.rsk_rcv_wnd) >>> 0)) {
    if (!(flg & TCPHDR_RST) && !tcp_oow_rate_limited(net, oow, 'TCPACKSkippedSynRecv', skb)) sk.icsk_af_ops!.reqsk_send_ack(sk, skb, req);
    if (paws_reject) net.mib.net.PAWSEstab++;
    return null;
  }
  if (tmp_opt.saw_tstamp && !after(cb.seq, req.rcv_nxt)) req.ts_recent = tmp_opt.rcv_tsval;
  // A SYN at rcv_isn is outside the window that starts at rcv_isn + 1.
  if (cb.seq === req.rcv_isn) flg &= ~TCPHDR_SYN;
  if (flg & (TCPHDR_RST | TCPHDR_SYN)) {
    net.mib.tcp.AttemptFails++;
    return embryonic_reset(sk, skb, req, flg);
  }
  if (!(flg & TCPHDR_ACK)) return null;
  // TCP_DEFER_ACCEPT: a bare ACK is dropped while the deferral lasts.
  if (req.num_timeout < sk.rskq_defer_accept && cb.end_seq === ((req.rcv_isn + 1) >>> 0)) {
    req.acked = true;
    net.mib.net.TCPDeferAcceptDrop++;
    return null;
  }
  const own_req = { value: false };
  const child = sk.icsk_af_ops!.syn_recv_sock(sk, skb, req, own_req);
  if (child === null) {
    // The accept queue is full: keep the request, the peer will retransmit (or abort_on_overflow).
    if (!net.ipv4.sysctl_tcp_abort_on_overflow) {
      req.acked = true;
      return null;
    }
    return embryonic_reset(sk, skb, req, flg);
  }
  tcp_mstamp_refresh(child);
  tcp_synack_rtt_meas(child, req.snt_synack, req.num_retrans);
  // inet_csk_complete_hashdance: the request leaves the SYN queue, the child joins the accept queue.
  if (own_req.value) {
    inet_csk_reqsk_queue_drop(sk, req);
    if (inet_csk_reqsk_queue_add(sk, req, child)) return child;
  }
  return null;
}

function embryonic_reset(sk: TcpSock, skb: SkBuff, req: RequestSock, flg: number): null {
  if (!(flg & TCPHDR_RST)) sk.icsk_af_ops!.send_reset(sk, skb);
  if (inet_csk_reqsk_queue_drop(sk, req)) sk.skc_net.mib.net.EmbryonicRsts++;
  return null;
}

/**
 * tcp_child_process: the completing ACK processed on the child (SYN_RECV -> ESTABLISHED), and the
 * listener woken. Nonzero when the caller must send a RST (and free the skb).
 */
export function tcp_child_process(parent: TcpSock, child: TcpSock, skb: SkBuff): number {
  const state = child.skc_state;
  child.segs_in++;
  const ret = tcp_rcv_state_process(child, skb);
  if (state === TCP_STATES.TCP_SYN_RECV && child.skc_state !== state) parent.sk_data_ready(parent);
  return ret;
}

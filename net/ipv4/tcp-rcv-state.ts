// The states other than ESTABLISHED (tcp_input.c's tcp_rcv_state_process and
// tcp_rcv_synsent_state_process): the answer to our SYN (including crossed SYNs), a listener's
// segments, SYN_RECV -> ESTABLISHED, and the closing states, and what happens when the connection
// is up (tcp_init_transfer, tcp_finish_connect).
import { kfree_skb_reason, consume_skb, SKB_DROP_REASONS, type SkBuff } from '../core/skbuff.ts';
import { TCP_STATES, TCPF_STATES } from '../core/tcp-states.ts';
import { sock_flag, SOCK_FLAGS } from '../core/sock.ts';
import { RCV_SHUTDOWN, SEND_SHUTDOWN } from '../core/socket-options.ts';
import { after, before, between, type TcpSock } from './tcp-sock.ts';
import { FLAG, ICSK_TIME, TCPHDR_ACK, TCPHDR_FIN, TCPHDR_RST, TCPHDR_SYN, TCP_DELACK_MAX, TCP_HDR_LEN, TCP_MAX_QUICKACKS, TCP_RTO_MAX, TCP_SIZES, TCP_TIMES, TCPOLEN } from './tcp-defs.ts';
import { tcp_parse_options, tcp_tsecr_unoffset } from './tcp-options.ts';
import { tcp_full_space, tcp_init_wl, tcp_jiffies32, tcp_mstamp_refresh, tcp_time_stamp_ts } from './tcp-util.ts';
import { tcp_ack, tcp_ack_update_rtt, tcp_store_ts_recent } from './tcp-ack.ts';
import { tcp_initialize_rcv_mss, tcp_send_ack, tcp_sync_mss, tcp_transmit_skb } from './tcp-output.ts';
import { inet_csk_reset_keepalive_timer, inet_csk_reset_xmit_timer, keepalive_time_when } from './tcp-timer.ts';
import { tcp_done, tcp_reset, tcp_set_state } from './tcp-done.ts';
import { tcp_send_challenge_ack } from './tcp-challenge.ts';
import { tcp_init_congestion_control } from './tcp-cong.ts';
import { tcp_time_wait, tcp_fin_time } from './tcp-minisocks.ts';
import { TCP_TIMEWAIT_LEN } from './inet-timewait-sock.ts';
import { tcp_shutdown_send } from './tcp-close.ts';
import {
  inet_csk_schedule_ack, sack, tcp_ack_snd_check, tcp_data_queue, tcp_data_snd_check, tcp_enter_quickack_mode, tcp_fast_path_on,
  tcp_sndbuf_expand, tcp_validate_incoming,
} from './tcp-input.ts';

/** tcp_init_buffer_space: the window clamp from the receive buffer (leaving 1/2^tcp_app_win for the application). */
function tcp_init_buffer_space(tp: TcpSock): void {
  tcp_sndbuf_expand(tp);
  const maxwin = tcp_full_space(tp);
  const app_win = tp.skc_net.ipv4.sysctl_tcp_app_win;
  if (tp.window_clamp >= maxwin) {
    tp.window_clamp = maxwin;
    if (app_win && maxwin > 4 * tp.advmss) tp.window_clamp = Math.max(maxwin - (maxwin >> app_win), 4 * tp.advmss);
  }
  if (app_win && tp.window_clamp > 2 * tp.advmss && tp.window_clamp + tp.advmss > maxwin) {
    tp.window_clamp = Math.max(2 * tp.advmss, maxwin - tp.advmss);
  }
  tp.rcv_ssthresh = Math.min(tp.rcv_ssthresh, tp.window_clamp);
  tp.snd_cwnd_stamp = tcp_jiffies32(tp);
}

/** tcp_init_transfer: the connection is up: congestion control, buffers. */
export function tcp_init_transfer(tp: TcpSock): void {
  // A retransmitted SYN (or SYN-ACK) leaves cwnd at 1 segment (RFC 6298 5.7 / RFC 5681 3.1).
  if (tp.total_retrans > 1 && tp.undo_marker === 0) tp.snd_cwnd = 1;
  else tp.snd_cwnd = TCP_SIZES.TCP_INIT_CWND;
  tp.snd_cwnd_stamp = tcp_jiffies32(tp);
  tcp_init_congestion_control(tp);
  tcp_init_buffer_space(tp);
}

/** tcp_finish_connect: SYN_SENT -> ESTABLISHED. */
function tcp_finish_connect(tp: TcpSock): void {
  tcp_set_state(tp, TCP_STATES.TCP_ESTABLISHED);
  tp.icsk_ack_lrcvtime = tcp_jiffies32(tp);
  tcp_init_transfer(tp);
  tp.lsndtime = tcp_jiffies32(tp);
  if (sock_flag(tp, SOCK_FLAGS.SOCK_KEEPOPEN)) inet_csk_reset_keepalive_timer(tp, keepalive_time_when(tp));
  if (tp.rx_opt.snd_wscale === 0) tcp_fast_path_on(tp);
  else tp.pred_flags = 0;
}

/** tcp_clear_options. */
function tcp_clear_options(tp: TcpSock): void {
  const rx = tp.rx_opt;
  rx.tstamp_ok = rx.sack_ok = rx.wscale_ok = false;
  rx.snd_wscale = 0;
}

/**
 * tcp_rcv_synsent_state_process: the answer to our SYN. <0 when done (ACK sent), 0 consumed, >0
 * when the caller must send a RST (an unacceptable ACK).
 */
function tcp_rcv_synsent_state_process(tp: TcpSock, skb: SkBuff): number {
  const cb = skb.cb;
  const flags = cb.tcp_flags;
  const v = skb.view;
  const th = skb.transport_header;
  const net = tp.skc_net;
  const saved_clamp = tp.rx_opt.mss_clamp;
  tcp_parse_options(v, th, cb.doff >> 2, true, tp.rx_opt, null, {
    tcp_timestamps: net.ipv4.sysctl_tcp_timestamps,
    tcp_sack: net.ipv4.sysctl_tcp_sack,
    tcp_window_scaling: net.ipv4.sysctl_tcp_window_scaling,
  });
  if (tp.rx_opt.saw_tstamp) tcp_tsecr_unoffset(tp);
  if (flags & TCPHDR_ACK) {
    if (!after(cb.ack_seq, tp.snd_una) || after(cb.ack_seq, tp.snd_nxt)) {
      // An old FIN/ACK or RST/ACK may have been ignored: retransmit the SYN soon.
      if (tp.icsk_retransmits === 0) inet_csk_reset_xmit_timer(tp, ICSK_TIME.ICSK_TIME_RETRANS, TCP_TIMES.TCP_TIMEOUT_MIN, TCP_RTO_MAX);
      tcp_clear_options(tp);
      tp.rx_opt.mss_clamp = saved_clamp;
      return 1;
    }
    if (
      tp.rx_opt.saw_tstamp &&
      tp.rx_opt.rcv_tsecr !== 0 &&
      !between(tp.rx_opt.rcv_tsecr, tp.retrans_stamp, tcp_time_stamp_ts(tp))
    ) {
      net.mib.net.PAWSActive++;
      tcp_clear_options(tp);
      tp.rx_opt.mss_clamp = saved_clamp;
      return 1;
    }
    if (flags & TCPHDR_RST) {
      tcp_reset(tp);
      consume_skb(skb);
      return 0;
    }
    if (!(flags & TCPHDR_SYN)) {
      tcp_clear_options(tp);
      tp.rx_opt.mss_clamp = saved_clamp;
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_FLAGS);
      return 0;
    }
    tcp_init_wl(tp, cb.seq);
    sack.n = 0;
    tcp_ack(tp, skb, FLAG.FLAG_SLOWPATH, sack);
    tp.rcv_nxt = (cb.seq + 1) >>> 0;
    tp.rcv_wup = tp.rcv_nxt;
    // RFC 7323 2.2: the window of a SYN is not scaled.
    tp.snd_wnd = v.getUint16(th + 14);
    if (!tp.rx_opt.wscale_ok) {
      tp.rx_opt.snd_wscale = tp.rx_opt.rcv_wscale = 0;
      tp.window_clamp = Math.min(tp.window_clamp, 65535);
    }
    if (tp.rx_opt.saw_tstamp) {
      tp.rx_opt.tstamp_ok = true;
      tp.tcp_header_len = TCP_HDR_LEN + TCPOLEN.TCPOLEN_TSTAMP_ALIGNED;
      tp.advmss -= TCPOLEN.TCPOLEN_TSTAMP_ALIGNED;
      tcp_store_ts_recent(tp);
    } else {
      tp.tcp_header_len = TCP_HDR_LEN;
    }
    tcp_sync_mss(tp, tp.icsk_pmtu_cookie);
    tcp_initialize_rcv_mss(tp);
    tp.copied_seq = tp.rcv_nxt;
    tcp_finish_connect(tp);
    if (!sock_flag(tp, SOCK_FLAGS.SOCK_DEAD)) tp.sk_state_change(tp);
    if (tp.rskq_defer_accept !== 0 || tp.icsk_ack_pingpong !== 0) {
      // Save an ACK: data will come soon and carry it.
      inet_csk_schedule_ack(tp);
      tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
      inet_csk_reset_xmit_timer(tp, ICSK_TIME.ICSK_TIME_DACK, TCP_DELACK_MAX, TCP_RTO_MAX);
      consume_skb(skb);
      return 0;
    }
    tcp_send_ack(tp);
    return -1;
  }
  if (flags & TCPHDR_RST) {
    tcp_clear_options(tp);
    tp.rx_opt.mss_clamp = saved_clamp;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_RESET);
    return 0;
  }
  if (flags & TCPHDR_SYN) {
    // Crossed SYNs (simultaneous open): SYN_RECV, and our SYN again with an ACK.
    tcp_set_state(tp, TCP_STATES.TCP_SYN_RECV);
    if (tp.rx_opt.saw_tstamp) {
      tp.rx_opt.tstamp_ok = true;
      tcp_store_ts_recent(tp);
      tp.tcp_header_len = TCP_HDR_LEN + TCPOLEN.TCPOLEN_TSTAMP_ALIGNED;
    } else {
      tp.tcp_header_len = TCP_HDR_LEN;
    }
    tp.rcv_nxt = (cb.seq + 1) >>> 0;
    tp.copied_seq = tp.rcv_nxt;
    tp.rcv_wup = tp.rcv_nxt;
    tp.snd_wnd = v.getUint16(th + 14);
    tp.snd_wl1 = cb.seq;
    tp.max_window = tp.snd_wnd;
    tcp_sync_mss(tp, tp.icsk_pmtu_cookie);
    tcp_initialize_rcv_mss(tp);
    const syn = tp.tcp_rtx_queue.first;
    if (syn !== null) {
      syn.cb.tcp_flags |= TCPHDR_ACK;
      tcp_transmit_skb(tp, syn, true);
    }
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NOT_SPECIFIED);
    return 0;
  }
  tcp_clear_options(tp);
  tp.rx_opt.mss_clamp = saved_clamp;
  kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_FLAGS);
  return 0;
}

/** tcp_synack_rtt_meas: the first RTT sample from the SYN-ACK (Karn: none if it was retransmitted, unless timestamps tell). */
export function tcp_synack_rtt_meas(tp: TcpSock, snt_synack_us: number, num_retrans: number): void {
  let rtt_us = -1;
  if (num_retrans === 0 && snt_synack_us !== 0) rtt_us = Math.max(tp.tcp_mstamp - snt_synack_us, 1);
  tcp_ack_update_rtt(tp, FLAG.FLAG_SYN_ACKED, rtt_us);
}

/**
 * tcp_rcv_state_process: every state but ESTABLISHED (and TIME_WAIT / NEW_SYN_RECV, which have
 * mini sockets). Returns 0 when the skb was consumed, nonzero when the caller must send a RST and
 * free it.
 */
export function tcp_rcv_state_process(tp: TcpSock, skb: SkBuff): number {
  const cb = skb.cb;
  const flags = cb.tcp_flags;
  switch (tp.skc_state) {
    case TCP_STATES.TCP_CLOSE:
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_CLOSE);
      return 0;
    case TCP_STATES.TCP_LISTEN:
      if (flags & TCPHDR_ACK) return 1;
      if (flags & TCPHDR_RST) {
        kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_RESET);
        return 0;
      }
      if (flags & TCPHDR_SYN) {
        if (flags & TCPHDR_FIN) {
          kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_FLAGS);
          return 0;
        }
        tp.icsk_af_ops!.conn_request(tp, skb);
        consume_skb(skb);
        return 0;
      }
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_FLAGS);
      return 0;
    case TCP_STATES.TCP_SYN_SENT: {
      tp.rx_opt.saw_tstamp = false;
      tcp_mstamp_refresh(tp);
      const queued = tcp_rcv_synsent_state_process(tp, skb);
      if (queued >= 0) return queued;
      consume_skb(skb);
      tcp_data_snd_check(tp);
      return 0;
    }
    default:
      break;
  }
  tcp_mstamp_refresh(tp);
  tp.rx_opt.saw_tstamp = false;
  if (!(flags & (TCPHDR_ACK | TCPHDR_RST | TCPHDR_SYN))) {
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_FLAGS);
    return 0;
  }
  if (!tcp_validate_incoming(tp, skb, false)) return 0;
  const acceptable = tcp_ack(tp, skb, FLAG.FLAG_SLOWPATH | FLAG.FLAG_UPDATE_TS_RECENT | FLAG.FLAG_NO_CHALLENGE_ACK, sack);
  if (acceptable <= 0) {
    if (tp.skc_state === TCP_STATES.TCP_SYN_RECV) return SKB_DROP_REASONS.SKB_DROP_REASON_TCP_OLD_ACK;
    if (acceptable < 0) {
      tcp_send_challenge_ack(tp);
      kfree_skb_reason(skb, -acceptable);
      return 0;
    }
  }
  switch (tp.skc_state) {
    case TCP_STATES.TCP_SYN_RECV: {
      tp.delivered++;
      tp.retrans_stamp = 0;
      tcp_init_transfer(tp);
      tp.copied_seq = tp.rcv_nxt;
      tcp_set_state(tp, TCP_STATES.TCP_ESTABLISHED);
      tp.sk_state_change(tp);
      tp.snd_una = cb.ack_seq;
      tp.snd_wnd = skb.view.getUint16(skb.transport_header + 14) * (1 << tp.rx_opt.snd_wscale);
      tcp_init_wl(tp, cb.seq);
      if (tp.rx_opt.tstamp_ok) tp.advmss -= TCPOLEN.TCPOLEN_TSTAMP_ALIGNED;
      tp.lsndtime = tcp_jiffies32(tp);
      tcp_initialize_rcv_mss(tp);
      tcp_fast_path_on(tp);
      if (tp.sk_shutdown & SEND_SHUTDOWN) tcp_shutdown_send(tp);
      break;
    }
    case TCP_STATES.TCP_FIN_WAIT1: {
      if (tp.snd_una !== tp.write_seq) break;
      tcp_set_state(tp, TCP_STATES.TCP_FIN_WAIT2);
      tp.sk_shutdown |= SEND_SHUTDOWN;
      if (!sock_flag(tp, SOCK_FLAGS.SOCK_DEAD)) {
        tp.sk_state_change(tp);
        break;
      }
      if (tp.linger2 < 0) {
        tcp_done(tp);
        tp.skc_net.mib.net.TCPAbortOnData++;
        return 1;
      }
      if (cb.end_seq !== cb.seq && after((cb.end_seq - (flags & TCPHDR_FIN ? 1 : 0)) >>> 0, tp.rcv_nxt)) {
        // Data after close(): the application cannot read it.
        tcp_done(tp);
        tp.skc_net.mib.net.TCPAbortOnData++;
        return 1;
      }
      const tmo = tcp_fin_time(tp);
      if (tmo > TCP_TIMEWAIT_LEN) {
        inet_csk_reset_keepalive_timer(tp, tmo - TCP_TIMEWAIT_LEN);
      } else if (flags & TCPHDR_FIN) {
        // The FIN in this segment must still be processed: hold the full socket a while.
        inet_csk_reset_keepalive_timer(tp, tmo);
      } else {
        tcp_time_wait(tp, TCP_STATES.TCP_FIN_WAIT2, tmo);
        consume_skb(skb);
        return 0;
      }
      break;
    }
    case TCP_STATES.TCP_CLOSING:
      if (tp.snd_una === tp.write_seq) {
        tcp_time_wait(tp, TCP_STATES.TCP_TIME_WAIT, 0);
        consume_skb(skb);
        return 0;
      }
      break;
    case TCP_STATES.TCP_LAST_ACK:
      if (tp.snd_una === tp.write_seq) {
        tcp_done(tp);
        consume_skb(skb);
        return 0;
      }
      break;
    default:
      break;
  }
  // Step 7: the segment text.
  const st: number = tp.skc_state;
  const TF = TCPF_STATES;
  if ((1 << st) & (TF.TCPF_CLOSE_WAIT | TF.TCPF_CLOSING | TF.TCPF_LAST_ACK) && !before(cb.seq, tp.rcv_nxt)) {
    // After the peer's FIN: nothing more to read.
    consume_skb(skb);
  } else if ((1 << st) & (TF.TCPF_CLOSE_WAIT | TF.TCPF_CLOSING | TF.TCPF_LAST_ACK | TF.TCPF_FIN_WAIT1 | TF.TCPF_FIN_WAIT2 | TF.TCPF_ESTABLISHED)) {
    // RFC 1122 4.2.2.13: data for a socket that cannot read any more resets it.
    if (
      st !== TCP_STATES.TCP_ESTABLISHED &&
      tp.sk_shutdown & RCV_SHUTDOWN &&
      cb.end_seq !== cb.seq &&
      after((cb.end_seq - (flags & TCPHDR_FIN ? 1 : 0)) >>> 0, tp.rcv_nxt)
    ) {
      tp.skc_net.mib.net.TCPAbortOnData++;
      tcp_reset(tp);
      return SKB_DROP_REASONS.SKB_DROP_REASON_TCP_ABORT_ON_DATA;
    }
    tcp_data_queue(tp, skb);
  } else {
    consume_skb(skb);
  }
  const st2: number = tp.skc_state;
  if (st2 !== TCP_STATES.TCP_CLOSE) {
    tcp_data_snd_check(tp);
    tcp_ack_snd_check(tp);
  }
  return 0;
}


// Processing the acknowledgment field (tcp_ack and its helpers in tcp_input.c): snd_una and the
// send window (with the peer's scale), the retransmit queue (tcp_clean_rtx_queue), RTT samples
// (RFC 6298, from a segment sent once, or from the echoed timestamp: Karn's rule), the SACK
// scoreboard (tcp_sacktag_write_queue), duplicate ACKs, and then congestion control.
import { consume_skb, __skb_unlink, SKB_DROP_REASONS, type SkBuff } from '../core/skbuff.ts';
import { TCP_CA, after, before, between, tcp_packets_in_flight, type TcpSock } from './tcp-sock.ts';
import { FLAG, FLAG_ACKED, FLAG_CA_ALERT, FLAG_FORWARD_PROGRESS, FLAG_NOT_DUP, TCPCB, TCPHDR_SYN } from './tcp-defs.ts';
import { tcp_fast_path_check, tcp_is_sack, tcp_jiffies32, tcp_send_head, tcp_time_stamp_ts, tcp_wnd_end } from './tcp-util.ts';
import { inet_csk_clear_xmit_timer, tcp_rearm_rto, tcp_set_rto } from './tcp-timer.ts';
import { tcp_probe0_when, tcp_sync_mss, tcp_xmit_retransmit_queue } from './tcp-output.ts';
import { inet_csk_reset_xmit_timer } from './tcp-timer.ts';
import { REXMIT, tcp_cwnd_reduction, tcp_fastretrans_alert, tcp_in_cwnd_reduction, tcp_remove_reno_sacks } from './tcp-recovery.ts';
import { ICSK_TIME, TCP_RTO_MAX } from './tcp-defs.ts';
import { tcp_paws_check, type ParsedSack } from './tcp-options.ts';
import { tcp_send_challenge_ack } from './tcp-challenge.ts';

/** tcp_rtt_estimator: RFC 6298's srtt and rttvar, in Linux's fixed point (srtt << 3, mdev << 2), us. */
export function tcp_rtt_estimator(tp: TcpSock, mrtt_us: number): void {
  let m = mrtt_us;
  let srtt = tp.srtt_us;
  const rto_min_us = tp.skc_net.ipv4.sysctl_tcp_rto_min_us;
  if (srtt !== 0) {
    m -= srtt >> 3;
    srtt += m;
    if (m < 0) {
      m = -m;
      m -= tp.mdev_us >> 2;
      if (m > 0) m >>= 3;
    } else {
      m -= tp.mdev_us >> 2;
    }
    tp.mdev_us += m;
    if (tp.mdev_us > tp.mdev_max_us) {
      tp.mdev_max_us = tp.mdev_us;
      if (tp.mdev_max_us > tp.rttvar_us) tp.rttvar_us = tp.mdev_max_us;
    }
    if (after(tp.snd_una, tp.rtt_seq)) {
      if (tp.mdev_max_us < tp.rttvar_us) tp.rttvar_us -= (tp.rttvar_us - tp.mdev_max_us) >> 2;
      tp.rtt_seq = tp.snd_nxt;
      tp.mdev_max_us = rto_min_us;
    }
  } else {
    srtt = m << 3;
    tp.mdev_us = m << 1;
    tp.rttvar_us = Math.max(tp.mdev_us, rto_min_us);
    tp.mdev_max_us = tp.rttvar_us;
    tp.rtt_seq = tp.snd_nxt;
  }
  tp.srtt_us = Math.max(1, srtt);
}

/** USEC_PER_SEC / TCP_TS_HZ: microseconds per millisecond TS tick. */
const USEC_PER_TS_TICK = 1000;
/** The largest tick count whose us value fits an s32 (INT_MAX / (USEC_PER_SEC / TCP_TS_HZ)). */
const TS_TICKS_MAX = Math.floor(0x7fffffff / USEC_PER_TS_TICK);

/**
 * tcp_rtt_tsopt_us: the RTT the echoed TSecr (stored less tsoffset) gives, in us, or -1. A usec_ts
 * connection's TS clock is already in us (a "negative" u32 difference is refused by the caller); a
 * millisecond one counts at least min_delta ticks and refuses differences whose us value would
 * overflow an s32.
 */
export function tcp_rtt_tsopt_us(tp: TcpSock, min_delta: number): number {
  let delta = (tcp_time_stamp_ts(tp) - tp.rx_opt.rcv_tsecr) >>> 0;
  if (tp.tcp_usec_ts) return delta | 0;
  if (delta < TS_TICKS_MAX) {
    if (delta === 0) delta = min_delta;
    return delta * USEC_PER_TS_TICK;
  }
  return -1;
}

/**
 * tcp_ack_update_rtt: one RTT sample per ACK: from the newest segment sent once that it
 * acknowledges (seq_rtt_us), else from the echoed timestamp. The RTO follows and the backoff resets.
 */
export function tcp_ack_update_rtt(tp: TcpSock, flag: number, seq_rtt_us0: number): boolean {
  let seq_rtt_us = seq_rtt_us0;
  const rx = tp.rx_opt;
  if (seq_rtt_us < 0 && rx.saw_tstamp && rx.rcv_tsecr !== 0 && flag & FLAG_ACKED) seq_rtt_us = tcp_rtt_tsopt_us(tp, 1);
  if (seq_rtt_us < 0) return false;
  tcp_rtt_estimator(tp, seq_rtt_us);
  tcp_set_rto(tp);
  tp.icsk_backoff = 0;
  return true;
}

/** tcp_may_update_window: RFC 9293's SND.WL1/SND.WL2 test for taking the segment's window. */
function tcp_may_update_window(tp: TcpSock, ack: number, ack_seq: number, nwin: number): boolean {
  return after(ack, tp.snd_una) || after(ack_seq, tp.snd_wl1) || (ack_seq === tp.snd_wl1 && (nwin > tp.snd_wnd || nwin === 0));
}

/** tcp_snd_una_update. */
function tcp_snd_una_update(tp: TcpSock, ack: number): void {
  const delta = (ack - tp.snd_una) >>> 0;
  tp.bytes_acked += delta;
  tp.snd_una = ack;
}

/** tcp_ack_update_window: the peer's window (scaled unless in a SYN). */
function tcp_ack_update_window(tp: TcpSock, skb: SkBuff, ack: number, ack_seq: number): number {
  let flag = 0;
  const th = skb.transport_header;
  let nwin = skb.view.getUint16(th + 14);
  if (!(skb.cb.tcp_flags & TCPHDR_SYN)) nwin = nwin * (1 << tp.rx_opt.snd_wscale);
  if (tcp_may_update_window(tp, ack, ack_seq, nwin)) {
    flag |= FLAG.FLAG_WIN_UPDATE;
    tp.snd_wl1 = ack_seq;
    if (tp.snd_wnd !== nwin) {
      tp.snd_wnd = nwin;
      tcp_fast_path_check(tp);
      if (nwin > tp.max_window) {
        tp.max_window = nwin;
        tcp_sync_mss(tp, tp.icsk_pmtu_cookie);
      }
    }
  }
  tcp_snd_una_update(tp, ack);
  return flag;
}

/**
 * tcp_sacktag_write_queue: marks the segments the SACK blocks cover. A first block below the ACK
 * (or inside the second) is a D-SACK (RFC 2883): counted, not a hole.
 */
function tcp_sacktag_write_queue(tp: TcpSock, skb: SkBuff, sack: ParsedSack, prior_snd_una: number): { flag: number; newly: number } {
  let flag = 0;
  let newly = 0;
  const v = skb.view;
  const mib = tp.skc_net.mib.net;
  for (let i = 0; i < sack.n; i++) {
    const start = v.getUint32(sack.off + 8 * i);
    const end = v.getUint32(sack.off + 8 * i + 4);
    if (i === 0) {
      let dup = before(start, skb.cb.ack_seq);
      if (!dup && sack.n > 1) {
        const s1 = v.getUint32(sack.off + 8);
        const e1 = v.getUint32(sack.off + 12);
        dup = !after(end, e1) && !before(start, s1);
      }
      if (dup) {
        flag |= FLAG.FLAG_DSACKING_ACK;
        mib.TCPDSACKRecv++;
        continue;
      }
    }
    // tcp_is_sackblock_valid: inside what we sent, above what is acknowledged.
    if (after(end, tp.snd_nxt) || !before(start, end)) {
      mib.TCPSACKDiscard++;
      continue;
    }
    if (!after(end, prior_snd_una)) continue;
    for (let s = tp.tcp_rtx_queue.first; s !== null; s = s.next) {
      const cb = s.cb;
      if (!before(cb.seq, end)) break;
      if (before(cb.seq, start) || after(cb.end_seq, end)) continue;
      if (cb.sacked & TCPCB.TCPCB_SACKED_ACKED) continue;
      if (cb.sacked & TCPCB.TCPCB_SACKED_RETRANS) {
        cb.sacked &= ~TCPCB.TCPCB_SACKED_RETRANS;
        tp.retrans_out--;
      }
      if (cb.sacked & TCPCB.TCPCB_LOST) {
        cb.sacked &= ~TCPCB.TCPCB_LOST;
        tp.lost_out--;
      }
      if (!(cb.sacked & TCPCB.TCPCB_EVER_RETRANS)) flag |= FLAG.FLAG_ORIG_SACK_ACKED;
      cb.sacked |= TCPCB.TCPCB_SACKED_ACKED;
      tp.sacked_out++;
      tp.delivered++;
      newly++;
      flag |= FLAG.FLAG_DATA_SACKED;
      if (after(cb.end_seq, tp.highest_sack_end)) tp.highest_sack_end = cb.end_seq;
    }
  }
  return { flag, newly };
}

/**
 * tcp_clean_rtx_queue: frees what snd_una now covers, takes the RTT sample, tells the CC.
 * Returns the FLAG_* bits and sets `acked` (segments acknowledged).
 */
function tcp_clean_rtx_queue(tp: TcpSock, prior_snd_una: number, out: { acked: number }): number {
  let flag = 0;
  let first_ackt = -1;
  let pkts_acked = 0;
  const q = tp.tcp_rtx_queue;
  let skb = q.first;
  while (skb !== null) {
    const cb = skb.cb;
    if (after(cb.end_seq, tp.snd_una)) {
      // Partly acknowledged: keep the rest (our segments are one MSS, this follows an MSS change).
      if (after(tp.snd_una, cb.seq)) {
        const len = (tp.snd_una - cb.seq) >>> 0;
        if (len < skb.len) {
          skb.data += len;
          skb.len -= len;
          q.bytes -= len;
          cb.seq = tp.snd_una;
          flag |= FLAG.FLAG_DATA_ACKED;
        }
      }
      break;
    }
    const sacked = cb.sacked;
    if (sacked & TCPCB.TCPCB_SACKED_RETRANS) tp.retrans_out--;
    if (sacked & TCPCB.TCPCB_EVER_RETRANS) flag |= FLAG.FLAG_RETRANS_DATA_ACKED;
    else if (!(sacked & TCPCB.TCPCB_SACKED_ACKED)) first_ackt = Math.max(first_ackt, cb.tx_tstamp_us);
    if (sacked & TCPCB.TCPCB_SACKED_ACKED) tp.sacked_out--;
    else tp.delivered++;
    if (sacked & TCPCB.TCPCB_LOST) tp.lost_out--;
    tp.packets_out--;
    pkts_acked++;
    if (cb.tcp_flags & TCPHDR_SYN) {
      flag |= FLAG.FLAG_SYN_ACKED;
      tp.retrans_stamp = 0;
    } else {
      flag |= FLAG.FLAG_DATA_ACKED;
    }
    const next = skb.next;
    __skb_unlink(skb, q);
    tp.sk_wmem_queued -= skb.truesize;
    consume_skb(skb);
    skb = next;
  }
  if (between(tp.snd_up, prior_snd_una, tp.snd_una)) tp.snd_up = tp.snd_una;
  out.acked = pkts_acked;
  if (flag & FLAG_ACKED) {
    flag |= FLAG.FLAG_SET_XMIT_TIMER;
    const seq_rtt_us = first_ackt >= 0 ? Math.max(tp.tcp_mstamp - first_ackt, 1) : -1;
    tcp_ack_update_rtt(tp, flag, seq_rtt_us);
    if (!tcp_is_sack(tp)) tcp_remove_reno_sacks(tp, pkts_acked);
    tp.icsk_ca_ops!.pkts_acked?.(tp, { pkts_acked, rtt_us: seq_rtt_us, in_flight: tcp_packets_in_flight(tp) });
    if (tp.retrans_out === 0 && tp.icsk_ca_state === TCP_CA.TCP_CA_Open) tp.retrans_stamp = 0;
  }
  return flag;
}


/** tcp_ack_probe: a window probe was answered; stop probing if the window now takes the next segment. */
function tcp_ack_probe(tp: TcpSock): void {
  const head = tcp_send_head(tp);
  if (head === null) return;
  if (!after(head.cb.end_seq, tcp_wnd_end(tp))) {
    tp.icsk_backoff = 0;
    tp.icsk_probes_out = 0;
    inet_csk_clear_xmit_timer(tp, ICSK_TIME.ICSK_TIME_PROBE0);
  } else {
    inet_csk_reset_xmit_timer(tp, ICSK_TIME.ICSK_TIME_PROBE0, tcp_probe0_when(tp, TCP_RTO_MAX), TCP_RTO_MAX);
  }
}

/** tcp_ack_is_dubious: anything but a plain forward ACK in Open. */
function tcp_ack_is_dubious(tp: TcpSock, flag: number): boolean {
  return !(flag & FLAG_NOT_DUP) || (flag & FLAG_CA_ALERT) !== 0 || tp.icsk_ca_state !== TCP_CA.TCP_CA_Open;
}

/** tcp_may_raise_cwnd. */
function tcp_may_raise_cwnd(tp: TcpSock, flag: number): boolean {
  if (tcp_in_cwnd_reduction(tp)) return false;
  if (tp.reordering > tp.skc_net.ipv4.sysctl_tcp_reordering) return (flag & FLAG_FORWARD_PROGRESS) !== 0;
  return (flag & FLAG.FLAG_DATA_ACKED) !== 0;
}

/** tcp_replace_ts_recent / tcp_store_ts_recent. */
export function tcp_store_ts_recent(tp: TcpSock): void {
  tp.rx_opt.ts_recent = tp.rx_opt.rcv_tsval;
  tp.rx_opt.ts_recent_stamp = Math.floor(tp.skc_net.boot.clock.ktime_get_ns() / 1e9);
}

export function tcp_replace_ts_recent(tp: TcpSock, seq: number): void {
  if (tp.rx_opt.saw_tstamp && !after(seq, tp.rcv_wup)) {
    if (tcp_paws_check(tp.rx_opt, 0, Math.floor(tp.skc_net.boot.clock.ktime_get_ns() / 1e9))) tcp_store_ts_recent(tp);
  }
}

/** tcp_clean_rtx_queue's count of acknowledged segments, reused (one ACK is processed at a time). */
const acked = { acked: 0 };

/**
 * tcp_ack: processes the ACK field. 1 for an ACK that was used, 0 for an old one (before snd_una),
 * a negative SKB_DROP_REASON for one that acknowledges what was never sent or is far too old.
 */
export function tcp_ack(tp: TcpSock, skb: SkBuff, flag0: number, sack: ParsedSack): number {
  let flag = flag0;
  const prior_snd_una = tp.snd_una;
  const ack_seq = skb.cb.seq;
  const ack = skb.cb.ack_seq;
  const prior_packets = tp.packets_out;
  const prior_delivered = tp.delivered;
  let rexmit: number = REXMIT.REXMIT_NONE;
  if (before(ack, prior_snd_una)) {
    // RFC 5961 5.2: an ACK older than the largest window ever offered is challenged.
    if (before(ack, (prior_snd_una - tp.max_window) >>> 0)) {
      if (!(flag & FLAG.FLAG_NO_CHALLENGE_ACK)) tcp_send_challenge_ack(tp);
      return -SKB_DROP_REASONS.SKB_DROP_REASON_TCP_TOO_OLD_ACK;
    }
    if (sack.n !== 0) {
      const r = tcp_sacktag_write_queue(tp, skb, sack, prior_snd_una);
      flag |= r.flag;
      if (r.flag & (FLAG.FLAG_DATA_SACKED | FLAG.FLAG_DSACKING_ACK)) {
        rexmit = tcp_fastretrans_alert(tp, prior_snd_una, 0, flag);
        if (rexmit !== REXMIT.REXMIT_NONE) tcp_xmit_retransmit_queue(tp);
      }
    }
    return 0;
  }
  if (after(ack, tp.snd_nxt)) return -SKB_DROP_REASONS.SKB_DROP_REASON_TCP_ACK_UNSENT_DATA;
  if (after(ack, prior_snd_una)) {
    flag |= FLAG.FLAG_SND_UNA_ADVANCED;
    tp.icsk_retransmits = 0;
  }
  if (flag & FLAG.FLAG_UPDATE_TS_RECENT) tcp_replace_ts_recent(tp, ack_seq);
  if (!(flag & FLAG.FLAG_SLOWPATH) && after(ack, prior_snd_una)) {
    // Header prediction: the window is known unchanged.
    tp.snd_wl1 = ack_seq;
    tcp_snd_una_update(tp, ack);
    flag |= FLAG.FLAG_WIN_UPDATE;
    tp.skc_net.mib.net.TCPHPAcks++;
  } else {
    if (ack_seq !== skb.cb.end_seq) flag |= FLAG.FLAG_DATA;
    else tp.skc_net.mib.net.TCPPureAcks++;
    flag |= tcp_ack_update_window(tp, skb, ack, ack_seq);
    if (sack.n !== 0) flag |= tcp_sacktag_write_queue(tp, skb, sack, prior_snd_una).flag;
  }
  tp.sk_err_soft = 0;
  tp.icsk_probes_out = 0;
  tp.rcv_tstamp = tcp_jiffies32(tp);
  if (prior_packets === 0) {
    if (tcp_send_head(tp) !== null) tcp_ack_probe(tp);
    return 1;
  }
  flag |= tcp_clean_rtx_queue(tp, prior_snd_una, acked);
  if (tcp_ack_is_dubious(tp, flag)) {
    let num_dupack = 0;
    if (!(flag & (FLAG.FLAG_SND_UNA_ADVANCED | FLAG_NOT_DUP | FLAG.FLAG_DSACKING_ACK))) num_dupack = 1;
    rexmit = tcp_fastretrans_alert(tp, prior_snd_una, num_dupack, flag);
  }
  if (flag & FLAG.FLAG_SET_XMIT_TIMER) tcp_rearm_rto(tp);
  const acked_sacked = tp.delivered - prior_delivered;
  if (tcp_in_cwnd_reduction(tp)) {
    tcp_cwnd_reduction(tp, acked_sacked, 0, flag);
  } else if (tcp_may_raise_cwnd(tp, flag)) {
    tp.icsk_ca_ops!.cong_avoid(tp, ack, acked_sacked);
    tp.snd_cwnd_stamp = tcp_jiffies32(tp);
  }
  if (rexmit !== REXMIT.REXMIT_NONE) tcp_xmit_retransmit_queue(tp);
  if (tp.packets_out === 0 && tcp_send_head(tp) !== null) tcp_ack_probe(tp);
  return 1;
}

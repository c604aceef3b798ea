// Loss recovery (the tcp_fastretrans_alert half of tcp_input.c): the congestion states Open,
// Disorder, CWR, Recovery and Loss; entering fast recovery after three duplicate ACKs (Reno, with
// NewReno's partial-ACK retransmissions) or enough SACKed segments above a hole (RFC 6675's
// DupThresh via tcp_update_scoreboard); Proportional Rate Reduction (RFC 6937) of cwnd while in
// recovery; and the RTO's Loss state (tcp_enter_loss). RACK-TLP and the undo heuristics (Eifel,
// D-SACK undo, F-RTO) are not modelled: a spurious retransmission costs the cwnd reduction.
import { TCP_CA, TCP_INFINITE_SSTHRESH, before, tcp_packets_in_flight, type TcpSock } from './tcp-sock.ts';
import { FLAG, TCPCB } from './tcp-defs.ts';
import { tcp_is_sack, tcp_jiffies32, tcp_left_out, tcp_rtx_queue_head } from './tcp-util.ts';
import { CA_EVENT, tcp_ca_event, tcp_set_ca_state } from './tcp-cong.ts';
import type { SkBuff } from '../core/skbuff.ts';

/** tcp_in_cwnd_reduction: CWR or Recovery. */
export function tcp_in_cwnd_reduction(tp: TcpSock): boolean {
  return tp.icsk_ca_state === TCP_CA.TCP_CA_CWR || tp.icsk_ca_state === TCP_CA.TCP_CA_Recovery;
}

/** tcp_current_ssthresh: ssthresh, or 3/4 of cwnd when that is more (the memory of a larger window). */
function tcp_current_ssthresh(tp: TcpSock): number {
  if (tcp_in_cwnd_reduction(tp)) return tp.snd_ssthresh;
  return Math.max(tp.snd_ssthresh, (tp.snd_cwnd >> 1) + (tp.snd_cwnd >> 2));
}

function tcp_init_undo(tp: TcpSock): void {
  tp.undo_marker = tp.snd_una;
  tp.undo_retrans = tp.retrans_out !== 0 ? tp.retrans_out : -1;
}

/** tcp_mark_skb_lost: a segment is lost (its retransmission, if any, too). */
export function tcp_mark_skb_lost(tp: TcpSock, skb: SkBuff): void {
  const cb = skb.cb;
  if (cb.sacked & TCPCB.TCPCB_SACKED_ACKED) return;
  if (cb.sacked & TCPCB.TCPCB_SACKED_RETRANS) {
    cb.sacked &= ~TCPCB.TCPCB_SACKED_RETRANS;
    tp.retrans_out--;
    tp.skc_net.mib.net.TCPLostRetransmit++;
  }
  if (!(cb.sacked & TCPCB.TCPCB_LOST)) {
    tp.lost_out++;
    cb.sacked |= TCPCB.TCPCB_LOST;
  }
}

/** tcp_timeout_mark_lost: after an RTO every unSACKed segment in flight is presumed lost. */
function tcp_timeout_mark_lost(tp: TcpSock): void {
  const head = tcp_rtx_queue_head(tp);
  const is_reneg = head !== null && (head.cb.sacked & TCPCB.TCPCB_SACKED_ACKED) !== 0;
  if (is_reneg) {
    tp.skc_net.mib.net.TCPSACKReneging++;
    tp.sacked_out = 0;
  } else if (!tcp_is_sack(tp)) {
    tp.sacked_out = 0;
  }
  for (let skb = head; skb !== null; skb = skb.next) {
    if (is_reneg) skb.cb.sacked &= ~TCPCB.TCPCB_SACKED_ACKED;
    tcp_mark_skb_lost(tp, skb);
  }
}

/** tcp_enter_loss: the RTO fired. ssthresh from the CC (once per window), cwnd 1, everything lost. */
export function tcp_enter_loss(tp: TcpSock): void {
  tcp_timeout_mark_lost(tp);
  const st = tp.icsk_ca_state;
  if (st <= TCP_CA.TCP_CA_Disorder || !before(tp.snd_una, tp.high_seq) || (st === TCP_CA.TCP_CA_Loss && tp.icsk_retransmits === 0)) {
    tp.prior_ssthresh = tcp_current_ssthresh(tp);
    tp.prior_cwnd = tp.snd_cwnd;
    tp.snd_ssthresh = tp.icsk_ca_ops!.ssthresh(tp);
    tcp_ca_event(tp, CA_EVENT.CA_EVENT_LOSS);
    tcp_init_undo(tp);
  }
  tp.snd_cwnd = tcp_packets_in_flight(tp) + 1;
  tp.snd_cwnd_cnt = 0;
  tp.snd_cwnd_stamp = tcp_jiffies32(tp);
  const reordering = tp.skc_net.ipv4.sysctl_tcp_reordering;
  if (st <= TCP_CA.TCP_CA_Disorder && tp.sacked_out >= reordering) tp.reordering = Math.min(tp.reordering, reordering);
  tcp_set_ca_state(tp, TCP_CA.TCP_CA_Loss);
  tp.high_seq = tp.snd_nxt;
}

/** tcp_init_cwnd_reduction: the start of a PRR episode. */
function tcp_init_cwnd_reduction(tp: TcpSock): void {
  tp.high_seq = tp.snd_nxt;
  tp.snd_cwnd_cnt = 0;
  tp.prior_cwnd = tp.snd_cwnd;
  tp.prr_delivered = 0;
  tp.prr_out = 0;
  tp.snd_ssthresh = tp.icsk_ca_ops!.ssthresh(tp);
}

/** tcp_cwnd_reduction: PRR. cwnd follows what the ACKs deliver, converging on ssthresh. */
export function tcp_cwnd_reduction(tp: TcpSock, newly_acked_sacked: number, newly_lost: number, flag: number): void {
  if (newly_acked_sacked <= 0 || tp.prior_cwnd === 0) return;
  const delta = tp.snd_ssthresh - tcp_packets_in_flight(tp);
  tp.prr_delivered += newly_acked_sacked;
  let sndcnt: number;
  if (delta < 0) {
    const dividend = tp.snd_ssthresh * tp.prr_delivered + tp.prior_cwnd - 1;
    sndcnt = Math.floor(dividend / tp.prior_cwnd) - tp.prr_out;
  } else {
    sndcnt = Math.max(tp.prr_delivered - tp.prr_out, newly_acked_sacked);
    if (flag & FLAG.FLAG_SND_UNA_ADVANCED && newly_lost === 0) sndcnt++;
    sndcnt = Math.min(delta, sndcnt);
  }
  sndcnt = Math.max(sndcnt, tp.prr_out !== 0 ? 0 : 1);
  tp.snd_cwnd = tcp_packets_in_flight(tp) + sndcnt;
}

/** tcp_end_cwnd_reduction: recovery is over; cwnd settles at ssthresh. */
function tcp_end_cwnd_reduction(tp: TcpSock): void {
  if (tp.snd_ssthresh < TCP_INFINITE_SSTHRESH) {
    tp.snd_cwnd = tp.snd_ssthresh;
    tp.snd_cwnd_stamp = tcp_jiffies32(tp);
  }
  tcp_ca_event(tp, CA_EVENT.CA_EVENT_COMPLETE_CWR);
}

/** tcp_enter_cwr: a local congestion signal (a dropped transmit): reduce without retransmitting. */
export function tcp_enter_cwr(tp: TcpSock): void {
  tp.prior_ssthresh = 0;
  if (tp.icsk_ca_state < TCP_CA.TCP_CA_CWR) {
    tp.undo_marker = 0;
    tcp_init_cwnd_reduction(tp);
    tcp_set_ca_state(tp, TCP_CA.TCP_CA_CWR);
  }
}

/** tcp_enter_recovery: fast recovery starts. TCPRenoRecovery / TCPSackRecovery. */
function tcp_enter_recovery(tp: TcpSock): void {
  const mib = tp.skc_net.mib.net;
  if (tcp_is_sack(tp)) mib.TCPSackRecovery++;
  else mib.TCPRenoRecovery++;
  tp.prior_ssthresh = 0;
  tcp_init_undo(tp);
  if (!tcp_in_cwnd_reduction(tp)) {
    tp.prior_ssthresh = tcp_current_ssthresh(tp);
    tcp_init_cwnd_reduction(tp);
  }
  tcp_set_ca_state(tp, TCP_CA.TCP_CA_Recovery);
}

// --- Reno's SACK emulation: without SACK, sacked_out counts duplicate ACKs ---

function tcp_limit_reno_sacked(tp: TcpSock): void {
  const holes = Math.min(Math.max(tp.lost_out, 1), tp.packets_out);
  if (tp.sacked_out + holes > tp.packets_out) tp.sacked_out = tp.packets_out - holes;
}

function tcp_add_reno_sack(tp: TcpSock, num_dupack: number): void {
  if (num_dupack === 0) return;
  const prior = tp.sacked_out;
  tp.sacked_out += num_dupack;
  tcp_limit_reno_sacked(tp);
  if (tp.sacked_out > prior) tp.delivered += tp.sacked_out - prior;
}

/** tcp_remove_reno_sacks: `acked` segments were cumulatively acknowledged; the dupacks they explain go. */
export function tcp_remove_reno_sacks(tp: TcpSock, acked: number): void {
  if (acked > 0) {
    tp.delivered += Math.max(acked - tp.sacked_out, 1);
    if (acked - 1 >= tp.sacked_out) tp.sacked_out = 0;
    else tp.sacked_out -= acked - 1;
  }
  tcp_limit_reno_sacked(tp);
}

/** tcp_time_to_recover: a segment is known lost, or more than `reordering` duplicates came. */
function tcp_time_to_recover(tp: TcpSock): boolean {
  if (tp.lost_out !== 0) return true;
  return tp.sacked_out + 1 > tp.reordering;
}

/**
 * tcp_mark_head_lost: walking from the oldest segment, mark unSACKed ones lost until `packets`
 * SACKed (or, for Reno, any) segments have been passed; only the head with mark_head.
 */
function tcp_mark_head_lost(tp: TcpSock, packets: number, mark_head: boolean): void {
  let cnt = 0;
  const sack = tcp_is_sack(tp);
  for (let skb = tcp_rtx_queue_head(tp); skb !== null; skb = skb.next) {
    if (!before(skb.cb.seq, tp.high_seq)) break;
    if (!sack || skb.cb.sacked & TCPCB.TCPCB_SACKED_ACKED) cnt++;
    if (cnt > packets) break;
    if (!(skb.cb.sacked & TCPCB.TCPCB_LOST)) tcp_mark_skb_lost(tp, skb);
    if (mark_head) break;
  }
}

/** tcp_update_scoreboard: mark what the SACK scoreboard shows lost (RFC 6675 IsLost, by segments). */
function tcp_update_scoreboard(tp: TcpSock, fast_rexmit: boolean): void {
  if (!tcp_is_sack(tp)) {
    tcp_mark_head_lost(tp, 1, true);
    return;
  }
  const sacked_upto = tp.sacked_out - tp.reordering;
  if (sacked_upto >= 0) tcp_mark_head_lost(tp, sacked_upto, false);
  else if (fast_rexmit) tcp_mark_head_lost(tp, 1, true);
}

/** tcp_newreno_mark_lost: NewReno: a partial ACK in recovery means the new head is lost too. */
function tcp_newreno_mark_lost(tp: TcpSock, snd_una_advanced: boolean): void {
  const state = tp.icsk_ca_state;
  if ((state < TCP_CA.TCP_CA_Recovery && tp.sacked_out >= tp.reordering) || (state === TCP_CA.TCP_CA_Recovery && snd_una_advanced)) {
    const skb = tcp_rtx_queue_head(tp);
    if (skb === null || skb.cb.sacked & TCPCB.TCPCB_LOST) return;
    tcp_mark_skb_lost(tp, skb);
  }
}

/** tcp_try_keep_open / tcp_try_to_open: Disorder while anything is SACKed, lost or retransmitted, else Open. */
function tcp_try_to_open(tp: TcpSock): void {
  if (tp.retrans_out === 0) tp.retrans_stamp = 0;
  if (tp.icsk_ca_state !== TCP_CA.TCP_CA_CWR) {
    const state = tcp_left_out(tp) !== 0 || tp.retrans_out !== 0 ? TCP_CA.TCP_CA_Disorder : TCP_CA.TCP_CA_Open;
    if (tp.icsk_ca_state !== state) {
      tcp_set_ca_state(tp, state);
      tp.high_seq = tp.snd_nxt;
    }
  }
}

/** The end of Recovery or Loss (no undo): back to Open. */
function tcp_try_undo_recovery(tp: TcpSock): boolean {
  if (tp.snd_una === tp.high_seq && !tcp_is_sack(tp)) {
    // Reno: hold the state until something above high_seq is acknowledged, so the
    // duplicates of the retransmitted segment do not start another recovery.
    return true;
  }
  tcp_set_ca_state(tp, TCP_CA.TCP_CA_Open);
  return false;
}

/** REXMIT_*: what tcp_xmit_recovery should send. */
export const REXMIT = { REXMIT_NONE: 0, REXMIT_LOST: 1, REXMIT_NEW: 2 } as const;

/**
 * tcp_fastretrans_alert: the state machine on a dubious ACK (a duplicate, a SACK, or any ACK
 * outside Open). Returns what to retransmit (REXMIT_*).
 */
export function tcp_fastretrans_alert(tp: TcpSock, prior_snd_una: number, num_dupack: number, flag: number): number {
  let fast_rexmit = false;
  const do_lost = num_dupack !== 0 || ((flag & FLAG.FLAG_DATA_SACKED) !== 0 && tp.sacked_out + 1 > tp.reordering);
  if (tp.packets_out === 0 && tp.sacked_out !== 0) tp.sacked_out = 0;
  const sack = tcp_is_sack(tp);
  // D. Exit conditions: high_seq acknowledged.
  if (tp.icsk_ca_state !== TCP_CA.TCP_CA_Open && !before(tp.snd_una, tp.high_seq)) {
    switch (tp.icsk_ca_state) {
      case TCP_CA.TCP_CA_CWR:
        if (tp.snd_una !== tp.high_seq) {
          tcp_end_cwnd_reduction(tp);
          tcp_set_ca_state(tp, TCP_CA.TCP_CA_Open);
        }
        break;
      case TCP_CA.TCP_CA_Recovery:
        if (!sack) tp.sacked_out = 0;
        if (tcp_try_undo_recovery(tp)) return REXMIT.REXMIT_NONE;
        tcp_end_cwnd_reduction(tp);
        break;
      default:
        break;
    }
  }
  // E. Process the state.
  switch (tp.icsk_ca_state) {
    case TCP_CA.TCP_CA_Recovery:
      if (!(flag & FLAG.FLAG_SND_UNA_ADVANCED)) {
        if (!sack) tcp_add_reno_sack(tp, num_dupack);
      }
      if (!sack) tcp_newreno_mark_lost(tp, (flag & FLAG.FLAG_SND_UNA_ADVANCED) !== 0);
      break;
    case TCP_CA.TCP_CA_Loss: {
      const recovered = !before(tp.snd_una, tp.high_seq);
      if (recovered) {
        tcp_try_undo_recovery(tp);
        return REXMIT.REXMIT_NONE;
      }
      if (!sack) {
        if (before(prior_snd_una, tp.snd_una)) tp.sacked_out = 0;
        tcp_add_reno_sack(tp, num_dupack);
      }
      return REXMIT.REXMIT_LOST;
    }
    default:
      if (!sack) {
        if (flag & FLAG.FLAG_SND_UNA_ADVANCED) tp.sacked_out = 0;
        tcp_add_reno_sack(tp, num_dupack);
      }
      if (!sack) tcp_newreno_mark_lost(tp, (flag & FLAG.FLAG_SND_UNA_ADVANCED) !== 0);
      if (!tcp_time_to_recover(tp)) {
        tcp_try_to_open(tp);
        return REXMIT.REXMIT_NONE;
      }
      tcp_enter_recovery(tp);
      fast_rexmit = true;
  }
  if (do_lost) tcp_update_scoreboard(tp, fast_rexmit);
  return REXMIT.REXMIT_LOST;
}

/**
 * tcp_simple_retransmit: the path MTU dropped (ICMP fragmentation needed): what no longer fits is
 * lost and goes again at once in the new size, in the Loss state but without a cwnd reduction.
 */
export function tcp_simple_retransmit(tp: TcpSock, mss: number, xmit: (tp: TcpSock) => void): void {
  for (let skb = tcp_rtx_queue_head(tp); skb !== null; skb = skb.next) {
    if (skb.len > mss) tcp_mark_skb_lost(tp, skb);
  }
  if (tp.lost_out === 0) return;
  if (!tcp_is_sack(tp)) tcp_limit_reno_sacked(tp);
  if (tp.icsk_ca_state !== TCP_CA.TCP_CA_Loss) {
    tp.high_seq = tp.snd_nxt;
    tp.snd_ssthresh = tcp_current_ssthresh(tp);
    tp.prior_ssthresh = 0;
    tp.undo_marker = 0;
    tcp_set_ca_state(tp, TCP_CA.TCP_CA_Loss);
  }
  xmit(tp);
}

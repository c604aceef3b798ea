// Receiving (net/ipv4/tcp_input.c): the ESTABLISHED fast path with header prediction and the slow
// path (tcp_rcv_established), RFC 9293's checks in Linux's order (tcp_validate_incoming: PAWS, the
// sequence check, RST and SYN validation with RFC 5961 challenge ACKs), delivering data
// (tcp_data_queue), FIN, and when to ACK (quick ACKs, the delayed-ACK estimator ato, every second
// full segment). The other states are in tcp-rcv-state.ts.
import {
  kfree_skb_reason, consume_skb, skb_pull, skb_queue_purge_reason, SKB_DROP_REASONS, type SkBuff,
} from '../core/skbuff.ts';
import { TCP_STATES, TCPF_STATES } from '../core/tcp-states.ts';
import { sock_flag, sock_set_flag, SOCK_FLAGS } from '../core/sock.ts';
import { RCV_SHUTDOWN } from '../core/socket-options.ts';
import { after, before, type TcpSock } from './tcp-sock.ts';
import {
  FLAG, ICSK_ACK, TCPHDR_ACK, TCPHDR_FIN, TCPHDR_RST, TCPHDR_SYN, TCP_ATO_MIN, TCP_HDR_LEN, TCP_MAX_QUICKACKS, TCP_SIZES,
  TCP_TIMES, TCPOLEN,
} from './tcp-defs.ts';
import { tcp_fast_parse_options, tcp_paws_check, tcp_tsecr_unoffset, type ParsedSack } from './tcp-options.ts';
import {
  tcp_is_sack, tcp_jiffies32, tcp_mstamp_refresh, tcp_receive_window, tcp_space, tcp_win_from_space, tcp_fast_path_check,
} from './tcp-util.ts';
import { tcp_ack, tcp_store_ts_recent } from './tcp-ack.ts';
import { __tcp_select_window, tcp_push_pending_frames, tcp_send_ack, tcp_send_delayed_ack } from './tcp-output.ts';
import { tcp_data_queue_ofo, tcp_dsack_set, tcp_ofo_queue, tcp_queue_rcv, tcp_rmem_fits, tcp_sack_rebuild, tcp_try_rmem_schedule } from './tcp-ofo.ts';
import { tcp_reset, tcp_set_state } from './tcp-done.ts';
import { tcp_send_challenge_ack, tcp_oow_rate_limited } from './tcp-challenge.ts';
import { tcp_time_wait } from './tcp-minisocks.ts';

/** The SACK blocks of the segment being processed (one machine processes one segment at a time). */
export const sack: ParsedSack = { off: 0, n: 0 };

// --- ACK scheduling ---

/** inet_csk_schedule_ack. */
export function inet_csk_schedule_ack(tp: TcpSock): void {
  tp.icsk_ack_pending |= ICSK_ACK.ICSK_ACK_SCHED;
}

/** tcp_incr_quickack: up to max_quickacks immediate ACKs (half a window's worth of segments). */
function tcp_incr_quickack(tp: TcpSock, max_quickacks: number): void {
  let quickacks = Math.floor(tp.rcv_wnd / (2 * tp.icsk_ack_rcv_mss));
  if (quickacks === 0) quickacks = 2;
  quickacks = Math.min(quickacks, max_quickacks);
  if (quickacks > tp.icsk_ack_quick) tp.icsk_ack_quick = quickacks;
}

/** tcp_enter_quickack_mode: ACK every segment for a while (start, reordering, loss). */
export function tcp_enter_quickack_mode(tp: TcpSock, max_quickacks: number): void {
  tcp_incr_quickack(tp, max_quickacks);
  tp.icsk_ack_pingpong = 0;
  tp.icsk_ack_ato = TCP_ATO_MIN;
}

function tcp_in_quickack_mode(tp: TcpSock): boolean {
  return tp.icsk_ack_quick !== 0 && tp.icsk_ack_pingpong === 0;
}

/** tcp_measure_rcv_mss: the peer's segment size, learnt from what arrives. */
function tcp_measure_rcv_mss(tp: TcpSock, skb: SkBuff): void {
  const lss = tp.icsk_ack_last_seg_size;
  tp.icsk_ack_last_seg_size = 0;
  let len = skb.len;
  if (len >= tp.icsk_ack_rcv_mss) {
    tp.icsk_ack_rcv_mss = Math.min(len, tp.advmss);
  } else {
    len += skb.cb.doff;
    if (len >= TCP_SIZES.TCP_MSS_DEFAULT + TCP_HDR_LEN || len >= TCP_SIZES.TCP_MIN_MSS + TCP_HDR_LEN) {
      len -= tp.tcp_header_len;
      tp.icsk_ack_last_seg_size = len;
      if (len === lss) {
        tp.icsk_ack_rcv_mss = len;
        return;
      }
    }
    if (tp.icsk_ack_pending & ICSK_ACK.ICSK_ACK_PUSHED) tp.icsk_ack_pending |= ICSK_ACK.ICSK_ACK_PUSHED2;
    tp.icsk_ack_pending |= ICSK_ACK.ICSK_ACK_PUSHED;
  }
}

/** tcp_grow_window: open rcv_ssthresh towards window_clamp as data arrives. */
function tcp_grow_window(tp: TcpSock, skb: SkBuff): void {
  if (tp.rcv_ssthresh < tp.window_clamp && tp.rcv_ssthresh < tcp_space(tp)) {
    let incr = 0;
    if (tcp_win_from_space(tp, skb.truesize) <= skb.len) incr = 2 * tp.advmss;
    else if (skb.len >= 128) incr = 2 * tp.icsk_ack_rcv_mss;
    if (incr !== 0) {
      incr = Math.max(incr, 2 * skb.len);
      tp.rcv_ssthresh = Math.min(tp.rcv_ssthresh + incr, tp.window_clamp);
      tp.icsk_ack_quick |= 1;
    }
  }
}

/** tcp_event_data_recv: data arrived in order: an ACK is owed, and ato learns the arrival rhythm. */
function tcp_event_data_recv(tp: TcpSock, skb: SkBuff): void {
  inet_csk_schedule_ack(tp);
  tcp_measure_rcv_mss(tp, skb);
  const now = tcp_jiffies32(tp);
  if (tp.icsk_ack_ato === 0) {
    // The first data: quick ACKs so the peer's slow start is not held back.
    tcp_incr_quickack(tp, TCP_MAX_QUICKACKS);
    tp.icsk_ack_ato = TCP_ATO_MIN;
  } else {
    const m = now - tp.icsk_ack_lrcvtime;
    if (m <= TCP_ATO_MIN / 2) {
      tp.icsk_ack_ato = (tp.icsk_ack_ato >> 1) + TCP_ATO_MIN / 2;
    } else if (m < tp.icsk_ack_ato) {
      tp.icsk_ack_ato = (tp.icsk_ack_ato >> 1) + m;
      if (tp.icsk_ack_ato > tp.icsk_rto) tp.icsk_ack_ato = tp.icsk_rto;
    } else if (m > tp.icsk_rto) {
      tcp_incr_quickack(tp, TCP_MAX_QUICKACKS);
    }
  }
  tp.icsk_ack_lrcvtime = now;
  if (skb.len >= 128) tcp_grow_window(tp, skb);
}

/**
 * __tcp_ack_snd_check: ACK now (more than one full segment unacknowledged and the window can move,
 * quick-ACK mode, an ACK the state demands, out-of-order data) or delay it.
 */
function __tcp_ack_snd_check(tp: TcpSock, ofo_possible: boolean): void {
  if (
    (((tp.rcv_nxt - tp.rcv_wup) >>> 0) > tp.icsk_ack_rcv_mss && __tcp_select_window(tp) >= tp.rcv_wnd) ||
    tcp_in_quickack_mode(tp) ||
    tp.icsk_ack_pending & ICSK_ACK.ICSK_ACK_NOW
  ) {
    tcp_send_ack(tp);
    return;
  }
  if (!ofo_possible || tp.out_of_order_queue.qlen === 0) {
    tcp_send_delayed_ack(tp);
    return;
  }
  // Out-of-order data: SACK at once (Linux may compress SACKs with a short timer; not modelled).
  tcp_send_ack(tp);
}

export function tcp_ack_snd_check(tp: TcpSock): void {
  if (!(tp.icsk_ack_pending & ICSK_ACK.ICSK_ACK_SCHED)) return;
  __tcp_ack_snd_check(tp, true);
}

/** tcp_sndbuf_expand: the send buffer grows to twice what cwnd segments need (tcp_wmem[2] at most). */
export function tcp_sndbuf_expand(tp: TcpSock): void {
  const per_mss = 2048 + 256;
  const nr_segs = Math.max(TCP_SIZES.TCP_INIT_CWND, tp.snd_cwnd, tp.reordering + 1);
  const sndmem = 2 * nr_segs * per_mss;
  if (tp.sk_sndbuf < sndmem && !(tp.sk_userlocks & 1)) tp.sk_sndbuf = Math.min(sndmem, tp.skc_net.ipv4.sysctl_tcp_wmem[2]);
}

/** tcp_check_space / tcp_new_space: ACKed data freed send buffer; grow it if cwnd grew, wake a writer. */
function tcp_check_space(tp: TcpSock): void {
  if (tp.sk_nospace && tp.sk_wmem_queued < tp.sk_sndbuf) {
    tcp_sndbuf_expand(tp);
    // sk_stream_write_space: wake once a third of the buffer is free.
    if (tp.sk_sndbuf - tp.sk_wmem_queued >= tp.sk_wmem_queued >> 1) {
      tp.sk_nospace = false;
      tp.sk_write_space(tp);
    }
  }
}

/** tcp_data_snd_check: send what the ACK made room for. */
export function tcp_data_snd_check(tp: TcpSock): void {
  tcp_push_pending_frames(tp);
  tcp_check_space(tp);
}

/** tcp_fast_path_on: the header-prediction word: our expected doff, ACK, and the peer's window. */
export function tcp_fast_path_on(tp: TcpSock): void {
  tp.pred_flags = (((tp.tcp_header_len >> 2) << 28) | 0x00100000 | (tp.snd_wnd >>> tp.rx_opt.snd_wscale)) >>> 0;
}


function tcp_data_ready(tp: TcpSock): void {
  tp.sk_data_ready(tp);
}

// --- FIN and data ---

/** tcp_fin: the peer's FIN in sequence: half-close, and the state change it causes. */
function tcp_fin(tp: TcpSock): void {
  inet_csk_schedule_ack(tp);
  tp.sk_shutdown |= RCV_SHUTDOWN;
  sock_set_flag(tp, SOCK_FLAGS.SOCK_DONE);
  switch (tp.skc_state) {
    case TCP_STATES.TCP_SYN_RECV:
    case TCP_STATES.TCP_ESTABLISHED:
      tcp_set_state(tp, TCP_STATES.TCP_CLOSE_WAIT);
      tp.icsk_ack_pingpong = 1;
      break;
    case TCP_STATES.TCP_FIN_WAIT1:
      // Simultaneous close: ACK the FIN, wait for ours to be ACKed.
      tcp_send_ack(tp);
      tcp_set_state(tp, TCP_STATES.TCP_CLOSING);
      break;
    case TCP_STATES.TCP_FIN_WAIT2:
      tcp_send_ack(tp);
      tcp_time_wait(tp, TCP_STATES.TCP_TIME_WAIT, 0);
      break;
    default:
      break;
  }
  skb_queue_purge_reason(tp.out_of_order_queue, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_CLOSE);
  tp.selective_acks.length = 0;
  tp.rx_opt.num_sacks = 0;
  if (!sock_flag(tp, SOCK_FLAGS.SOCK_DEAD)) tp.sk_state_change(tp);
}

/** tcp_send_dupack: ACK a duplicate (with a D-SACK for data already received). */
function tcp_send_dupack(tp: TcpSock, skb: SkBuff): void {
  const cb = skb.cb;
  if (cb.end_seq !== cb.seq && before(cb.seq, tp.rcv_nxt)) {
    tp.skc_net.mib.net.DelayedACKLost++;
    tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
    let end_seq = cb.end_seq;
    if (after(end_seq, tp.rcv_nxt)) end_seq = tp.rcv_nxt;
    tcp_dsack_set(tp, cb.seq, end_seq);
  }
  tcp_send_ack(tp);
}

/** The in-order delivery shared by tcp_data_queue and the out-of-order queue's drain. */
function queue_rcv(tp: TcpSock): (skb: SkBuff) => void {
  return (skb) => tcp_queue_rcv(tp, skb);
}

/**
 * tcp_data_queue: the segment's text (skb still has its header; it is consumed): in order to the
 * receive queue (then the out-of-order queue drains behind it), past a hole to the out-of-order
 * queue, a duplicate or out-of-window segment dropped with an immediate ACK.
 */
export function tcp_data_queue(tp: TcpSock, skb: SkBuff): void {
  const cb = skb.cb;
  const mib = tp.skc_net.mib.net;
  if (cb.seq === cb.end_seq) {
    consume_skb(skb);
    return;
  }
  skb_pull(skb, cb.doff);
  tp.dsack = false;
  let reason: number = SKB_DROP_REASONS.SKB_DROP_REASON_NOT_SPECIFIED;
  let queue = false;
  if (cb.seq === tp.rcv_nxt) {
    if (tcp_receive_window(tp) === 0) {
      mib.TCPZeroWindowDrop++;
      reason = SKB_DROP_REASONS.SKB_DROP_REASON_TCP_ZEROWINDOW;
    } else {
      queue = true;
    }
  } else if (!after(cb.end_seq, tp.rcv_nxt)) {
    // A retransmission of what we have: the ACK for it was lost.
    mib.DelayedACKLost++;
    tcp_dsack_set(tp, cb.seq, cb.end_seq);
    reason = SKB_DROP_REASONS.SKB_DROP_REASON_TCP_OLD_DATA;
  } else if (!before(cb.seq, (tp.rcv_nxt + tcp_receive_window(tp)) >>> 0)) {
    // Beyond the window (a window probe into a zero window, say).
    reason = SKB_DROP_REASONS.SKB_DROP_REASON_TCP_OVERWINDOW;
  } else if (before(cb.seq, tp.rcv_nxt)) {
    // Partly new: the old head is a D-SACK, the rest goes in (recvmsg skips the old bytes).
    tcp_dsack_set(tp, cb.seq, tp.rcv_nxt);
    if (tcp_receive_window(tp) === 0) {
      mib.TCPZeroWindowDrop++;
      reason = SKB_DROP_REASONS.SKB_DROP_REASON_TCP_ZEROWINDOW;
    } else {
      queue = true;
    }
  } else {
    tcp_data_queue_ofo(tp, skb);
    return;
  }
  if (!queue) {
    tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
    inet_csk_schedule_ack(tp);
    kfree_skb_reason(skb, reason);
    return;
  }
  if (!tcp_try_rmem_schedule(tp, skb)) {
    tp.icsk_ack_pending |= ICSK_ACK.ICSK_ACK_NOMEM | ICSK_ACK.ICSK_ACK_NOW;
    inet_csk_schedule_ack(tp);
    tp.sk_data_ready(tp);
    // With nothing queued to read, the segment is taken anyway (sk_forced_mem_schedule), so a
    // buffer full of out-of-order data cannot stall the connection.
    if (tp.sk_receive_queue.qlen !== 0 && skb.len !== 0) {
      mib.TCPRcvQDrop++;
      tp.sk_drops++;
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_PROTO_MEM);
      return;
    }
  }
  const fin = (cb.tcp_flags & TCPHDR_FIN) !== 0;
  const len = skb.len;
  tcp_queue_rcv(tp, skb);
  if (len !== 0) tcp_event_data_recv(tp, skb);
  tp.data_segs_in++;
  if (fin) tcp_fin(tp);
  if (tp.out_of_order_queue.qlen !== 0) {
    const ofo_fin = tcp_ofo_queue(tp, queue_rcv(tp));
    // RFC 5681 4.2: ACK at once when a hole fills.
    if (tp.out_of_order_queue.qlen === 0) tp.icsk_ack_pending |= ICSK_ACK.ICSK_ACK_NOW;
    if (ofo_fin) tcp_fin(tp);
  }
  // Blocks the in-order data now covers go (tcp_sack_remove).
  if (tp.selective_acks.length !== 0) tcp_sack_rebuild(tp, 0, 0, false);
  tcp_fast_path_check(tp);
  if (!sock_flag(tp, SOCK_FLAGS.SOCK_DEAD)) tcp_data_ready(tp);
}

// --- validation ---

/** tcp_sequence: is any of [seq, end_seq) in the receive window (RFC 9293 3.10.7.4's test)? 0 or a drop reason. */
function tcp_sequence(tp: TcpSock, seq: number, end_seq: number): number {
  if (before(end_seq, tp.rcv_wup)) return SKB_DROP_REASONS.SKB_DROP_REASON_TCP_OLD_DATA;
  if (after(seq, (tp.rcv_nxt + tcp_receive_window(tp)) >>> 0)) return SKB_DROP_REASONS.SKB_DROP_REASON_TCP_INVALID_SEQUENCE;
  return 0;
}

/** tcp_reset_check: a RST at rcv_nxt - 1 after the peer's FIN is accepted too. */
function tcp_reset_check(tp: TcpSock, skb: SkBuff): boolean {
  return (
    skb.cb.seq === ((tp.rcv_nxt - 1) >>> 0) &&
    ((1 << tp.skc_state) & (TCPF_STATES.TCPF_CLOSE_WAIT | TCPF_STATES.TCPF_LAST_ACK | TCPF_STATES.TCPF_CLOSING)) !== 0
  );
}

/** tcp_disordered_ack: a pure duplicate ACK with an old timestamp is not a PAWS failure (RFC 7323 5.7 note). */
function tcp_disordered_ack(tp: TcpSock, skb: SkBuff): boolean {
  const cb = skb.cb;
  const v = skb.view;
  const th = skb.transport_header;
  const nwin = v.getUint16(th + 14) * (1 << tp.rx_opt.snd_wscale);
  return (
    (cb.tcp_flags & TCPHDR_ACK) !== 0 &&
    cb.seq === cb.end_seq &&
    cb.seq === tp.rcv_nxt &&
    cb.ack_seq === tp.snd_una &&
    !(after(cb.ack_seq, tp.snd_una) || after(cb.seq, tp.snd_wl1) || (cb.seq === tp.snd_wl1 && (nwin > tp.snd_wnd || nwin === 0))) &&
    ((tp.rx_opt.ts_recent - tp.rx_opt.rcv_tsval) | 0) <= Math.floor((tp.icsk_rto * 1024) / 1000)
  );
}

function now_sec(tp: TcpSock): number {
  return Math.floor(tp.skc_net.boot.clock.ktime_get_ns() / 1e9);
}

/** tcp_paws_discard. */
function tcp_paws_discard(tp: TcpSock, skb: SkBuff): boolean {
  return !tcp_paws_check(tp.rx_opt, TCP_TIMES.TCP_PAWS_WINDOW, now_sec(tp)) && !tcp_disordered_ack(tp, skb);
}

/**
 * tcp_validate_incoming: PAWS, the sequence number, RST (exact rcv_nxt resets; anything else in
 * the window gets a challenge ACK, RFC 5961 3), SYN (always a challenge ACK, RFC 5961 4). false
 * when the segment was consumed.
 */
export function tcp_validate_incoming(tp: TcpSock, skb: SkBuff, syn_inerr: boolean): boolean {
  const cb = skb.cb;
  const flags = cb.tcp_flags;
  const net = tp.skc_net;
  let reason: number;
  tcp_fast_parse_options(tp, skb.view, skb.transport_header, cb.doff >> 2, sack);
  if (tp.rx_opt.saw_tstamp && tcp_paws_discard(tp, skb)) {
    if (!(flags & TCPHDR_RST)) {
      if (flags & TCPHDR_SYN) return syn_challenge(tp, skb, syn_inerr);
      net.mib.net.PAWSEstab++;
      if (!tcp_oow_rate_limited(net, tp, 'TCPACKSkippedPAWS', skb)) tcp_send_dupack(tp, skb);
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_RFC7323_PAWS);
      return false;
    }
    // A RST is accepted even if it fails PAWS.
  }
  reason = tcp_sequence(tp, cb.seq, cb.end_seq);
  if (reason !== 0) {
    if (!(flags & TCPHDR_RST)) {
      if (flags & TCPHDR_SYN) return syn_challenge(tp, skb, syn_inerr);
      if (!tcp_oow_rate_limited(net, tp, 'TCPACKSkippedSeq', skb)) tcp_send_dupack(tp, skb);
    } else if (tcp_reset_check(tp, skb)) {
      tcp_reset(tp);
      consume_skb(skb);
      return false;
    }
    kfree_skb_reason(skb, reason);
    return false;
  }
  if (flags & TCPHDR_RST) {
    let ok = cb.seq === tp.rcv_nxt || tcp_reset_check(tp, skb);
    if (!ok && tcp_is_sack(tp) && tp.selective_acks.length !== 0) {
      let max_sack = tp.selective_acks[0]!.end_seq;
      for (const b of tp.selective_acks) if (after(b.end_seq, max_sack)) max_sack = b.end_seq;
      ok = cb.seq === max_sack;
    }
    if (ok) {
      tcp_reset(tp);
      consume_skb(skb);
      return false;
    }
    tcp_send_challenge_ack(tp);
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_RESET);
    return false;
  }
  if (flags & TCPHDR_SYN) {
    // The peer's SYN-ACK retransmitted into a crossed-SYN handshake is fine.
    if (
      tp.skc_state === TCP_STATES.TCP_SYN_RECV &&
      tp.sk_socket !== null &&
      flags & TCPHDR_ACK &&
      ((cb.seq + 1) >>> 0) === cb.end_seq &&
      ((cb.seq + 1) >>> 0) === tp.rcv_nxt &&
      cb.ack_seq === tp.snd_nxt
    ) {
      return true;
    }
    return syn_challenge(tp, skb, syn_inerr);
  }
  return true;
}

function syn_challenge(tp: TcpSock, skb: SkBuff, syn_inerr: boolean): boolean {
  if (syn_inerr) tp.skc_net.mib.tcp.InErrs++;
  tp.skc_net.mib.net.TCPSYNChallenge++;
  tcp_send_challenge_ack(tp);
  kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_INVALID_SYN);
  return false;
}

// --- ESTABLISHED ---

/** TCP_HP_BITS: the header word without PSH and the reserved bits. */
const TCP_HP_BITS = ~(0x0f000000 | 0x00080000);

/**
 * tcp_rcv_established: header prediction first (the next in-order segment, an ACK with the known
 * window: a pure ACK for a sender, in-order data for a receiver), else the full slow path.
 * Consumes the skb.
 */
export function tcp_rcv_established(tp: TcpSock, skb: SkBuff): void {
  const v = skb.view;
  const th = skb.transport_header;
  const cb = skb.cb;
  const len = skb.len;
  tcp_mstamp_refresh(tp);
  tp.rx_opt.saw_tstamp = false;
  if ((v.getUint32(th + 12) & TCP_HP_BITS) >>> 0 === tp.pred_flags && cb.seq === tp.rcv_nxt && !after(cb.ack_seq, tp.snd_nxt)) {
    const tcp_header_len = tp.tcp_header_len;
    let ok = true;
    if (tcp_header_len === TCP_HDR_LEN + TCPOLEN.TCPOLEN_TSTAMP_ALIGNED) {
      if (v.getUint32(th + 20) !== 0x0101080a) ok = false;
      else {
        tp.rx_opt.saw_tstamp = true;
        tp.rx_opt.rcv_tsval = v.getUint32(th + 24);
        tp.rx_opt.rcv_tsecr = v.getUint32(th + 28);
        tcp_tsecr_unoffset(tp);
        if (((tp.rx_opt.rcv_tsval - tp.rx_opt.ts_recent) | 0) < 0) ok = false;
      }
    }
    if (ok) {
      sack.n = 0;
      if (len === tcp_header_len) {
        // A pure ACK for a sender.
        if (tcp_header_len === 32 && tp.rcv_nxt === tp.rcv_wup) tcp_store_ts_recent(tp);
        tcp_ack(tp, skb, 0, sack);
        consume_skb(skb);
        tcp_data_snd_check(tp);
        return;
      }
      if (len > tcp_header_len && tcp_rmem_fits(tp, skb)) {
        if (tcp_header_len === 32 && tp.rcv_nxt === tp.rcv_wup) tcp_store_ts_recent(tp);
        tp.skc_net.mib.net.TCPHPHits++;
        skb_pull(skb, tcp_header_len);
        tcp_queue_rcv(tp, skb);
        tcp_event_data_recv(tp, skb);
        tp.data_segs_in++;
        let ack_sched = true;
        if (cb.ack_seq !== tp.snd_una) {
          tcp_ack(tp, skb, FLAG.FLAG_DATA, sack);
          tcp_data_snd_check(tp);
          ack_sched = (tp.icsk_ack_pending & ICSK_ACK.ICSK_ACK_SCHED) !== 0;
        } else {
          tp.snd_wl1 = cb.seq;
        }
        if (ack_sched) __tcp_ack_snd_check(tp, false);
        tcp_data_ready(tp);
        return;
      }
    }
  }
  // The slow path.
  if (!(cb.tcp_flags & (TCPHDR_ACK | TCPHDR_RST | TCPHDR_SYN))) {
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_FLAGS);
    return;
  }
  if (!tcp_validate_incoming(tp, skb, true)) return;
  const r = tcp_ack(tp, skb, FLAG.FLAG_SLOWPATH | FLAG.FLAG_UPDATE_TS_RECENT, sack);
  if (r < 0) {
    kfree_skb_reason(skb, -r);
    return;
  }
  tcp_data_queue(tp, skb);
  tcp_data_snd_check(tp);
  tcp_ack_snd_check(tp);
}

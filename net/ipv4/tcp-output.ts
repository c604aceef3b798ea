// Sending (net/ipv4/tcp_output.c): building segments (tcp_transmit_skb), pushing the write queue
// under cwnd, receive window and Nagle (tcp_write_xmit), pure ACKs, FIN, RST, the SYN, SYN-ACKs,
// retransmissions, window probes, and the MSS/window arithmetic those need.
//
// Queues: sk_write_queue holds what is not yet sent, tcp_rtx_queue what is sent and not yet
// acknowledged (the kernel's rtx rbtree), both in sequence order, one segment per skb (no TSO, so
// every skb is at most one MSS and tcp_skb_pcount is 1). An skb holds its payload after
// MAX_HEADER of headroom; a transmission clones it and pushes the headers into the clone.
import {
  alloc_skb, skb_reserve, skb_push, skb_reset_transport_header, skb_clone, skb_copy, skb_cloned, skb_put, skb_trim, skb_pull,
  __skb_queue_tail, __skb_unlink, __skb_queue_after, MAX_HEADER, type SkBuff, type SkBuffHead,
} from '../core/skbuff.ts';
import { E as ERRNO } from '../core/sock-opts.ts';
import { TCP_STATES } from '../core/tcp-states.ts';
import { sock_flag, SOCK_FLAGS } from '../core/sock.ts';
import type { RequestSock } from '../core/request-sock.ts';
import { after, before, tcp_packets_in_flight, TcpSock } from './tcp-sock.ts';
import {
  TCPHDR_ACK, TCPHDR_FIN, TCPHDR_PSH, TCPHDR_RST, TCPHDR_SYN, TCP_NAGLE, TCPCB, ICSK_ACK, ICSK_TIME, TCP_RTO_MAX, TCP_RTO_MIN,
  TCP_HDR_LEN, TCP_MAX_WSCALE, TCP_ATO_MIN, TCP_DELACK_MAX, TCP_SIZES, TCP_TIMES,
} from './tcp-defs.ts';
import { OPTION, TcpOutOptions, tcp_options_size, tcp_options_write, tcp_syn_options } from './tcp-options.ts';
import {
  tcp_full_space, tcp_jiffies32, tcp_mstamp_refresh, tcp_receive_window, tcp_send_head, tcp_space, tcp_tsval, tcp_time_stamp_ts,
  tcp_wnd_end, tcp_rtx_queue_head,
} from './tcp-util.ts';
import { inet_csk_reset_xmit_timer, tcp_rearm_rto } from './tcp-timer.ts';
import { CA_EVENT, tcp_ca_event } from './tcp-cong.ts';
import { tcp_enter_cwr } from './tcp-recovery.ts';

const opts = new TcpOutOptions();
/** The SACK blocks written into one segment (D-SACK first), reused. */
const sack_out: { start_seq: number; end_seq: number }[] = [];

/** tcp_established_options: timestamps and SACK blocks for a non-SYN segment; their size. */
function tcp_established_options(tp: TcpSock, o: TcpOutOptions): number {
  o.reset();
  let size = 0;
  if (tp.rx_opt.tstamp_ok) {
    o.options |= OPTION.OPTION_TS;
    o.tsval = tcp_tsval(tp);
    o.tsecr = tp.rx_opt.ts_recent;
    size += 12;
  }
  const eff_sacks = tp.selective_acks.length + (tp.dsack ? 1 : 0);
  if (eff_sacks !== 0) {
    const remaining = TCP_SIZES.MAX_TCP_OPTION_SPACE - size;
    const n = Math.min(eff_sacks, Math.floor((remaining - 4) / 8));
    sack_out.length = 0;
    if (tp.dsack) sack_out.push(tp.duplicate_sack);
    for (let i = 0; sack_out.length < n; i++) sack_out.push(tp.selective_acks[i]!);
    o.num_sack_blocks = n;
    o.sacks = sack_out;
    size += 4 + 8 * n;
  }
  return size;
}

/** tcp_init_nondata_skb: a control segment (SYN, FIN, RST, ACK) occupying `flags`' sequence space. */
export function tcp_init_nondata_skb(skb: SkBuff, seq: number, flags: number): void {
  skb.cb.tcp_flags = flags;
  skb.cb.sacked = 0;
  skb.cb.seq = seq >>> 0;
  skb.cb.end_seq = (seq + (flags & (TCPHDR_SYN | TCPHDR_FIN) ? 1 : 0)) >>> 0;
}

/** A new skb for the write queue or a control segment: MAX_HEADER headroom, room for `size` bytes. */
export function tcp_stream_alloc_skb(size: number): SkBuff {
  const skb = alloc_skb(MAX_HEADER + size);
  skb_reserve(skb, MAX_HEADER);
  return skb;
}

/**
 * __tcp_transmit_skb: sends `oskb` (a clone when clone_it, so the original stays queued for
 * retransmission), with the header, options and window for now, acknowledging rcv_nxt. 0, or a
 * negative errno when the IP layer did not send it (the segment then counts as not sent).
 */
export function __tcp_transmit_skb(tp: TcpSock, oskb: SkBuff, clone_it: boolean, rcv_nxt: number): number {
  const af = tp.icsk_af_ops!;
  tcp_mstamp_refresh(tp);
  const skb = clone_it ? (skb_cloned(oskb) ? skb_copy(oskb) : skb_clone(oskb)) : oskb;
  const tcb = skb.cb;
  const syn = (tcb.tcp_flags & TCPHDR_SYN) !== 0;
  const optsize = syn ? tcp_syn_options(tp, opts, tcp_tsval(tp)) : tcp_established_options(tp, opts);
  const hlen = TCP_HDR_LEN + optsize;
  const data_len = skb.len;
  skb_push(skb, hlen);
  skb_reset_transport_header(skb);
  const v = skb.view;
  const th = skb.data;
  v.setUint16(th, tp.inet_sport);
  v.setUint16(th + 2, tp.skc_dport);
  v.setUint32(th + 4, tcb.seq >>> 0);
  v.setUint32(th + 8, rcv_nxt >>> 0);
  v.setUint8(th + 12, (hlen >> 2) << 4);
  v.setUint8(th + 13, tcb.tcp_flags);
  // RFC 7323 2.2: the window in a SYN is never scaled.
  v.setUint16(th + 14, syn ? Math.min(tp.rcv_wnd, 65535) : tcp_select_window(tp));
  v.setUint16(th + 16, 0);
  v.setUint16(th + 18, 0);
  tcp_options_write(v, th + 20, opts);
  if (tp.dsack && !syn) tp.dsack = false; // a D-SACK is reported once
  af.send_check(tp, skb);
  if (tcb.tcp_flags & TCPHDR_ACK) tcp_event_ack_sent(tp, rcv_nxt);
  if (data_len !== 0) {
    tcp_event_data_sent(tp);
    tp.data_segs_out++;
  }
  // Retransmissions are not OutSegs (they are RetransSegs), as in Linux since 4.x.
  if (after(tcb.end_seq, tp.snd_nxt) || tcb.seq === tcb.end_seq) tp.skc_net.mib.tcp.OutSegs++;
  tp.segs_out++;
  const err = af.queue_xmit(tp, skb);
  // A local drop (a full device queue: the kernel's NET_XMIT_DROP) is congestion: CWR.
  if (err === -ERRNO.ENOBUFS) tcp_enter_cwr(tp);
  if (err === 0 && clone_it) oskb.cb.tx_tstamp_us = tp.tcp_mstamp;
  return err;
}

export function tcp_transmit_skb(tp: TcpSock, skb: SkBuff, clone_it: boolean): number {
  return __tcp_transmit_skb(tp, skb, clone_it, tp.rcv_nxt);
}

/** tcp_event_ack_sent: an ACK went out, so no delayed ACK is owed. */
function tcp_event_ack_sent(tp: TcpSock, rcv_nxt: number): void {
  if (rcv_nxt !== tp.rcv_nxt) return;
  // tcp_dec_quickack_mode: one quick ACK used up, if an ACK was owed.
  if (tp.icsk_ack_quick !== 0) {
    const pkts = tp.icsk_ack_pending & ICSK_ACK.ICSK_ACK_SCHED ? 1 : 0;
    if (pkts >= tp.icsk_ack_quick) {
      tp.icsk_ack_quick = 0;
      tp.icsk_ack_ato = TCP_ATO_MIN;
    } else {
      tp.icsk_ack_quick -= pkts;
    }
  }
  inet_csk_clear_delack(tp);
}

/** inet_csk_clear_xmit_timer(sk, ICSK_TIME_DACK). */
export function inet_csk_clear_delack(tp: TcpSock): void {
  tp.icsk_ack_pending = 0;
  tp.icsk_ack_timeout = 0;
  tp.skc_net.boot.clock.del_timer(tp.icsk_delack_timer);
}

/** tcp_event_data_sent: the idle-restart check and the pingpong (interactive) detection. */
function tcp_event_data_sent(tp: TcpSock): void {
  const now = tcp_jiffies32(tp);
  if (tp.packets_out === 0 && now - tp.lsndtime > tp.icsk_rto) tcp_ca_event(tp, CA_EVENT.CA_EVENT_CWND_RESTART);
  tp.lsndtime = now;
  // Data sent within ato of the last received segment: a request/response exchange.
  if (now - tp.icsk_ack_lrcvtime < tp.icsk_ack_ato) tp.icsk_ack_pingpong = Math.min(tp.icsk_ack_pingpong + 1, 255);
}

/** __tcp_select_window: the window our free buffer allows now (RFC 1122 SWS avoidance). */
export function __tcp_select_window(tp: TcpSock): number {
  let mss = tp.icsk_ack_rcv_mss;
  let free_space = tcp_space(tp);
  const full_space = Math.min(tp.window_clamp, tcp_full_space(tp));
  if (mss > full_space) mss = full_space;
  if (free_space < full_space >> 1) {
    tp.icsk_ack_quick = 0;
    if (free_space < mss) return 0;
  }
  if (free_space > tp.rcv_ssthresh) free_space = tp.rcv_ssthresh;
  let window = tp.rcv_wnd;
  const ws = tp.rx_opt.rcv_wscale;
  if (ws !== 0) {
    // Keep the window a multiple of the scale's unit, rounding up, as Linux does.
    window = Math.ceil(free_space / (1 << ws)) * (1 << ws);
  } else if (window <= free_space - mss || window > free_space) {
    window = Math.floor(free_space / mss) * mss;
  } else if (mss === full_space && free_space > window + (full_space >> 1)) {
    window = free_space;
  }
  return window;
}

/** tcp_select_window: the window field of a segment; never shrinks what was offered (RFC 9293 3.8.6). */
export function tcp_select_window(tp: TcpSock): number {
  const old_win = tp.rcv_wnd;
  const cur_win = tcp_receive_window(tp);
  let new_win = __tcp_select_window(tp);
  const ws = tp.rx_opt.rcv_wscale;
  if (new_win < cur_win) {
    if (new_win === 0) tp.skc_net.mib.net.TCPWantZeroWindowAdv++;
    new_win = Math.ceil(cur_win / (1 << ws)) * (1 << ws);
  }
  tp.rcv_wnd = new_win;
  tp.rcv_wup = tp.rcv_nxt;
  new_win = ws === 0 ? Math.min(new_win, 65535) : Math.min(new_win, 65535 * (1 << ws));
  new_win = Math.floor(new_win / (1 << ws));
  if (new_win === 0) {
    tp.pred_flags = 0;
    if (old_win !== 0) tp.skc_net.mib.net.TCPToZeroWindowAdv++;
  } else if (old_win === 0) {
    tp.skc_net.mib.net.TCPFromZeroWindowAdv++;
  }
  return new_win;
}

/**
 * tcp_select_initial_window: the SYN's window, the scale to offer and the clamp, from the
 * receive buffer (`space`) and the largest buffer it could grow to (tcp_rmem[2]).
 */
export function tcp_select_initial_window(
  tp: TcpSock, space0: number, mss: number, wscale_ok: boolean, window_clamp0: number,
): { rcv_wnd: number; window_clamp: number; rcv_wscale: number } {
  let window_clamp = window_clamp0 === 0 ? 65535 * (1 << TCP_MAX_WSCALE) : window_clamp0;
  let space = Math.min(window_clamp, space0);
  if (space > mss) space = Math.floor(space / mss) * mss;
  const rcv_wnd = Math.min(space, 65535);
  let rcv_wscale = 0;
  if (wscale_ok) {
    space = Math.max(space, tp.skc_net.ipv4.sysctl_tcp_rmem[2], tp.skc_net.core.sysctl_rmem_max);
    space = Math.min(space, window_clamp);
    rcv_wscale = Math.min(Math.max(Math.floor(Math.log2(space)) - 15, 0), TCP_MAX_WSCALE);
  }
  window_clamp = Math.min(65535 * (1 << rcv_wscale), window_clamp);
  return { rcv_wnd, window_clamp, rcv_wscale };
}

/** tcp_mtu_to_mss: the MSS for a path MTU, less our fixed options. */
export function tcp_mtu_to_mss(tp: TcpSock, pmtu: number): number {
  let mss_now = pmtu - tp.icsk_af_ops!.net_header_len - TCP_HDR_LEN;
  if (mss_now > tp.rx_opt.mss_clamp) mss_now = tp.rx_opt.mss_clamp;
  mss_now -= tp.tcp_header_len - TCP_HDR_LEN;
  return Math.max(mss_now, tp.skc_net.ipv4.sysctl_tcp_min_snd_mss);
}

/** tcp_bound_to_half_wnd: never more than half the largest window the peer offered (when that is big enough to matter). */
function tcp_bound_to_half_wnd(tp: TcpSock, pktsize: number): number {
  const cutoff = tp.max_window > TCP_SIZES.TCP_MSS_DEFAULT ? tp.max_window >> 1 : tp.max_window;
  if (cutoff !== 0 && pktsize > cutoff) return Math.max(cutoff, 68 - tp.tcp_header_len);
  return pktsize;
}

/** tcp_sync_mss: recompute mss_cache for a path MTU. */
export function tcp_sync_mss(tp: TcpSock, pmtu: number): number {
  let mss_now = tcp_mtu_to_mss(tp, pmtu);
  mss_now = tcp_bound_to_half_wnd(tp, mss_now);
  tp.icsk_pmtu_cookie = pmtu;
  tp.mss_cache = mss_now;
  return mss_now;
}

/** tcp_current_mss: the MSS for the next segment, less options beyond the usual (SACK blocks). */
export function tcp_current_mss(tp: TcpSock): number {
  let mss_now = tp.mss_cache;
  const mtu = tp.icsk_af_ops!.route_mtu(tp);
  if (mtu !== 0 && mtu !== tp.icsk_pmtu_cookie) mss_now = tcp_sync_mss(tp, mtu);
  const header_len = tcp_established_options(tp, opts) + TCP_HDR_LEN;
  if (header_len !== tp.tcp_header_len) mss_now -= header_len - tp.tcp_header_len;
  return mss_now;
}

/** tcp_initialize_rcv_mss: the first guess at the peer's segment size, for delayed ACK and the window. */
export function tcp_initialize_rcv_mss(tp: TcpSock): void {
  let hint = Math.min(tp.advmss, tp.mss_cache);
  hint = Math.min(hint, tp.rcv_wnd >> 1);
  hint = Math.min(hint, TCP_SIZES.TCP_MIN_RCVMSS);
  hint = Math.max(hint, TCP_SIZES.TCP_MIN_MSS);
  tp.icsk_ack_rcv_mss = hint;
}

/** tcp_acceptable_seq: the sequence of a segment without data (snd_nxt unless the window shrank under it). */
export function tcp_acceptable_seq(tp: TcpSock): number {
  const wnd_end = tcp_wnd_end(tp);
  if (!before(wnd_end, tp.snd_nxt) || (tp.rx_opt.wscale_ok && ((tp.snd_nxt - wnd_end) >>> 0) < 1 << tp.rx_opt.rcv_wscale)) {
    return tp.snd_nxt;
  }
  return wnd_end;
}

/** __tcp_send_ack / tcp_send_ack: a pure ACK now. */
export function __tcp_send_ack(tp: TcpSock, rcv_nxt: number): void {
  if (tp.skc_state === TCP_STATES.TCP_CLOSE) return;
  const buff = tcp_stream_alloc_skb(0);
  tcp_init_nondata_skb(buff, tcp_acceptable_seq(tp), TCPHDR_ACK);
  __tcp_transmit_skb(tp, buff, false, rcv_nxt);
}

export function tcp_send_ack(tp: TcpSock): void {
  __tcp_send_ack(tp, tp.rcv_nxt);
}

/**
 * tcp_send_delayed_ack: arm the delayed-ACK timer for ato (bounded by the RTT estimate and by
 * 500 ms, or 200 ms when interactive or pushed), unless one is already due sooner.
 */
export function tcp_send_delayed_ack(tp: TcpSock): void {
  let ato = tp.icsk_ack_ato;
  if (ato > TCP_TIMES.TCP_DELACK_MIN) {
    // Half a second at most; 200 ms for an interactive connection or after a pushed segment.
    let max_ato = 500;
    if (tp.icsk_ack_pingpong || tp.icsk_ack_pending & ICSK_ACK.ICSK_ACK_PUSHED) max_ato = TCP_DELACK_MAX;
    // Not longer than an RTT estimate (srtt) when there is one.
    if (tp.srtt_us !== 0) {
      const rtt = Math.max(Math.floor((tp.srtt_us >> 3) / 1000), TCP_TIMES.TCP_DELACK_MIN);
      if (rtt < max_ato) max_ato = rtt;
    }
    ato = Math.min(ato, max_ato);
  }
  const now = tcp_jiffies32(tp);
  let timeout = now + ato;
  if (tp.icsk_ack_pending & ICSK_ACK.ICSK_ACK_TIMER) {
    // An ACK due within a quarter of ato, or one that blocked before: send it now.
    if (tp.icsk_ack_timeout - now <= ato >> 2) {
      tcp_send_ack(tp);
      return;
    }
    if (tp.icsk_ack_timeout < timeout) timeout = tp.icsk_ack_timeout;
  }
  tp.icsk_ack_pending |= ICSK_ACK.ICSK_ACK_SCHED | ICSK_ACK.ICSK_ACK_TIMER;
  tp.icsk_ack_timeout = timeout;
  tp.skc_net.boot.clock.mod_timer(tp.icsk_delack_timer, timeout);
}

/** tcp_send_fin: FIN on the last unsent segment, or a FIN segment of its own; then push. */
export function tcp_send_fin(tp: TcpSock): void {
  const tskb = tp.sk_write_queue.last;
  if (tskb !== null) {
    tskb.cb.tcp_flags |= TCPHDR_FIN;
    tskb.cb.end_seq = (tskb.cb.end_seq + 1) >>> 0;
    tp.write_seq = (tp.write_seq + 1) >>> 0;
  } else {
    const skb = tcp_stream_alloc_skb(0);
    tcp_init_nondata_skb(skb, tp.write_seq, TCPHDR_FIN | TCPHDR_ACK);
    tcp_queue_skb(tp, skb);
  }
  tp.fin_queued = true;
  __tcp_push_pending_frames(tp, tcp_current_mss(tp), TCP_NAGLE.TCP_NAGLE_OFF);
}

/** tcp_queue_skb: onto the write queue, charged to the send buffer. */
export function tcp_queue_skb(tp: TcpSock, skb: SkBuff): void {
  tp.write_seq = skb.cb.end_seq;
  __skb_queue_tail(tp.sk_write_queue, skb);
  tp.sk_wmem_queued += skb.truesize;
}

/** tcp_send_active_reset: RST now (close with unread data, abort, linger 0). OutRsts. */
export function tcp_send_active_reset(tp: TcpSock): void {
  tp.skc_net.mib.tcp.OutRsts++;
  const skb = tcp_stream_alloc_skb(0);
  tcp_init_nondata_skb(skb, tcp_acceptable_seq(tp), TCPHDR_ACK | TCPHDR_RST);
  tcp_transmit_skb(tp, skb, false);
}

/**
 * tcp_connect: the SYN. It goes on the retransmit queue like data (one sequence number), the
 * RTO starts at TCP_TIMEOUT_INIT and ActiveOpens counts the attempt.
 */
export function tcp_connect(tp: TcpSock): number {
  const buff = tcp_stream_alloc_skb(0);
  tcp_init_nondata_skb(buff, tp.write_seq, TCPHDR_SYN);
  tp.write_seq = (tp.write_seq + 1) >>> 0;
  tcp_mstamp_refresh(tp);
  tp.retrans_stamp = tcp_time_stamp_ts(tp) || 1;
  tcp_connect_queue_skb(tp, buff);
  tcp_ca_event(tp, CA_EVENT.CA_EVENT_TX_START);
  const err = tcp_transmit_skb(tp, buff, true);
  if (err === -ERRNO.ECONNREFUSED) return err;
  tp.snd_nxt = tp.write_seq;
  tp.skc_net.mib.tcp.ActiveOpens++;
  inet_csk_reset_xmit_timer(tp, ICSK_TIME.ICSK_TIME_RETRANS, tp.icsk_rto, TCP_RTO_MAX);
  return 0;
}

function tcp_connect_queue_skb(tp: TcpSock, skb: SkBuff): void {
  tp.sk_wmem_queued += skb.truesize;
  __skb_queue_tail(tp.tcp_rtx_queue, skb);
  tp.packets_out += 1;
}

/** tcp_event_new_data_sent: the skb moves to the retransmit queue; the RTO runs while anything is in flight. */
function tcp_event_new_data_sent(tp: TcpSock, skb: SkBuff): void {
  const prior_packets = tp.packets_out;
  tp.snd_nxt = skb.cb.end_seq;
  __skb_unlink(skb, tp.sk_write_queue);
  __skb_queue_tail(tp.tcp_rtx_queue, skb);
  tp.packets_out += 1;
  if (prior_packets === 0 || tp.icsk_pending === ICSK_TIME.ICSK_TIME_PROBE0) tcp_rearm_rto(tp);
  tp.skc_net.mib.net.TCPOrigDataSent++;
  tp.bytes_sent += skb.len;
}

/** tcp_minshall_update: remember the end of a small segment (Minshall's Nagle). */
function tcp_minshall_update(tp: TcpSock, mss_now: number, skb: SkBuff): void {
  if (skb.len < mss_now) tp.snd_sml = skb.cb.end_seq;
}

/** tcp_nagle_check: true when a partial segment must wait. */
function tcp_nagle_check(partial: boolean, tp: TcpSock, nonagle: number): boolean {
  return (
    partial &&
    ((nonagle & TCP_NAGLE.TCP_NAGLE_CORK) !== 0 ||
      (nonagle === 0 && tp.packets_out !== 0 && after(tp.snd_sml, tp.snd_una) && !after(tp.snd_sml, tp.snd_nxt)))
  );
}

/** tcp_nagle_test: may this skb go now as far as Nagle is concerned? */
export function tcp_nagle_test(tp: TcpSock, skb: SkBuff, cur_mss: number, nonagle: number): boolean {
  if (nonagle & TCP_NAGLE.TCP_NAGLE_PUSH) return true;
  if (skb.cb.tcp_flags & TCPHDR_FIN) return true;
  return !tcp_nagle_check(skb.len < cur_mss, tp, nonagle);
}

/** tcp_cwnd_test: segments the congestion window still allows (0: none). */
function tcp_cwnd_test(tp: TcpSock): number {
  const in_flight = tcp_packets_in_flight(tp);
  const cwnd = tp.snd_cwnd;
  return in_flight < cwnd ? cwnd - in_flight : 0;
}

/** tcp_snd_wnd_test: does the first segment of skb fit the peer's window? */
function tcp_snd_wnd_test(tp: TcpSock, skb: SkBuff, cur_mss: number): boolean {
  let end_seq = skb.cb.end_seq;
  if (skb.len > cur_mss) end_seq = (skb.cb.seq + cur_mss) >>> 0;
  return !after(end_seq, tcp_wnd_end(tp));
}

/**
 * tcp_fragment: split skb after `len` payload bytes into two skbs of the same queue; flags that
 * belong to the end (FIN, PSH) go with the second part, the SACK state with both.
 */
export function tcp_fragment(tp: TcpSock, q: SkBuffHead, skb: SkBuff, len: number): number {
  const nsize = skb.len - len;
  if (nsize <= 0) return 0;
  const buff = tcp_stream_alloc_skb(nsize);
  buff.head.set(skb.head.subarray(skb.data + len, skb.data + skb.len), skb_put(buff, nsize));
  const flags = skb.cb.tcp_flags;
  buff.cb.seq = (skb.cb.seq + len) >>> 0;
  buff.cb.end_seq = skb.cb.end_seq;
  buff.cb.tcp_flags = flags & ~TCPHDR_SYN;
  buff.cb.sacked = skb.cb.sacked;
  buff.cb.tx_tstamp_us = skb.cb.tx_tstamp_us;
  skb.cb.tcp_flags = flags & ~(TCPHDR_FIN | TCPHDR_PSH);
  skb.cb.end_seq = buff.cb.seq;
  const qbytes = q.bytes;
  skb_trim(skb, len);
  q.bytes = qbytes - nsize;
  tp.sk_wmem_queued += buff.truesize;
  __skb_queue_after(q, skb, buff);
  if (q === tp.tcp_rtx_queue) {
    tp.packets_out++;
    const s = buff.cb.sacked;
    if (s & TCPCB.TCPCB_SACKED_ACKED) tp.sacked_out++;
    if (s & TCPCB.TCPCB_LOST) tp.lost_out++;
    if (s & TCPCB.TCPCB_SACKED_RETRANS) tp.retrans_out++;
  }
  return 0;
}

/** tcp_trim_head: drop the first len payload bytes (already acknowledged) of a partly acknowledged skb. */
export function tcp_trim_head(q: SkBuffHead, skb: SkBuff, len: number): void {
  skb_pull(skb, len);
  q.bytes -= len;
  skb.cb.seq = (skb.cb.seq + len) >>> 0;
}

/**
 * tcp_write_xmit: send what the write queue, cwnd, the peer's window and Nagle allow. True when
 * nothing is in flight yet something waits (the caller arms the zero-window probe).
 */
export function tcp_write_xmit(tp: TcpSock, mss_now: number, nonagle: number): boolean {
  let sent_pkts = 0;
  tp.is_cwnd_limited = false;
  let skb: SkBuff | null;
  while ((skb = tcp_send_head(tp)) !== null) {
    const cwnd_quota = tcp_cwnd_test(tp);
    if (cwnd_quota === 0) {
      tp.is_cwnd_limited = true;
      break;
    }
    if (!tcp_snd_wnd_test(tp, skb, mss_now)) break;
    if (skb.len > mss_now) tcp_fragment(tp, tp.sk_write_queue, skb, mss_now);
    else if (!tcp_nagle_test(tp, skb, mss_now, skb.next === null ? nonagle : TCP_NAGLE.TCP_NAGLE_PUSH)) break;
    if (tcp_transmit_skb(tp, skb, true) !== 0) break;
    tcp_event_new_data_sent(tp, skb);
    tcp_minshall_update(tp, mss_now, skb);
    sent_pkts++;
  }
  if (tp.packets_out > tp.max_packets_out) tp.max_packets_out = tp.packets_out;
  if (sent_pkts !== 0) return false;
  return tp.packets_out === 0 && tcp_send_head(tp) !== null;
}

/** __tcp_push_pending_frames: push, and arm the zero-window probe if the window blocks everything. */
export function __tcp_push_pending_frames(tp: TcpSock, cur_mss: number, nonagle: number): void {
  if (tp.skc_state === TCP_STATES.TCP_CLOSE) return;
  if (tcp_write_xmit(tp, cur_mss, nonagle)) tcp_check_probe_timer(tp);
}

export function tcp_push_pending_frames(tp: TcpSock): void {
  if (tcp_send_head(tp) !== null) __tcp_push_pending_frames(tp, tcp_current_mss(tp), tp.nonagle);
}

/** tcp_check_probe_timer: nothing in flight and nothing sendable: probe the window. */
export function tcp_check_probe_timer(tp: TcpSock): void {
  if (tp.packets_out === 0 && tp.icsk_pending === 0) {
    inet_csk_reset_xmit_timer(tp, ICSK_TIME.ICSK_TIME_PROBE0, tcp_probe0_base(tp), TCP_RTO_MAX);
  }
}

/** tcp_probe0_base: the first probe interval (the RTO, at least TCP_RTO_MIN). */
export function tcp_probe0_base(tp: TcpSock): number {
  return Math.max(tp.icsk_rto, TCP_RTO_MIN);
}

/** tcp_probe0_when: the probe interval after `icsk_backoff` unanswered probes, at most max_when. */
export function tcp_probe0_when(tp: TcpSock, max_when: number): number {
  const when = tcp_probe0_base(tp) * 2 ** Math.min(tp.icsk_backoff, 30);
  return Math.min(when, max_when);
}

/** __tcp_retransmit_skb: send skb again (trimmed to what is unacknowledged and to the MSS). */
function __tcp_retransmit_skb(tp: TcpSock, skb: SkBuff): number {
  if (before(skb.cb.seq, tp.snd_una)) {
    if (!before(tp.snd_una, skb.cb.end_seq)) return -ERRNO.EINVAL;
    tcp_trim_head(tp.tcp_rtx_queue, skb, (tp.snd_una - skb.cb.seq) >>> 0);
  }
  const cur_mss = tcp_current_mss(tp);
  // The window shrank under it: not now (the probe timer takes over).
  if (!before(skb.cb.seq, tcp_wnd_end(tp)) && skb.cb.seq !== tp.snd_una) return -ERRNO.EAGAIN;
  if (skb.len > cur_mss) tcp_fragment(tp, tp.tcp_rtx_queue, skb, cur_mss);
  if (skb.cb.tcp_flags & TCPHDR_SYN) tp.skc_net.mib.net.TCPSynRetrans++;
  return tcp_transmit_skb(tp, skb, true);
}

/** tcp_retransmit_skb: retransmit and account (RetransSegs, retrans_out, retrans_stamp). */
export function tcp_retransmit_skb(tp: TcpSock, skb: SkBuff): number {
  const err = __tcp_retransmit_skb(tp, skb);
  if (err === 0) {
    tp.skc_net.mib.tcp.RetransSegs++;
    tp.total_retrans++;
    tp.bytes_retrans += skb.len;
    if (!(skb.cb.sacked & TCPCB.TCPCB_SACKED_RETRANS)) tp.retrans_out++;
    skb.cb.sacked |= TCPCB.TCPCB_SACKED_RETRANS | TCPCB.TCPCB_EVER_RETRANS;
    if (tp.retrans_stamp === 0) tp.retrans_stamp = tcp_time_stamp_ts(tp) || 1;
    if (tp.undo_retrans < 0) tp.undo_retrans = 0;
    tp.undo_retrans += 1;
  } else {
    tp.skc_net.mib.net.TCPRetransFail++;
  }
  return err;
}

/**
 * tcp_xmit_retransmit_queue: retransmit the segments marked lost, in order, while cwnd allows;
 * used in recovery and after an RTO.
 */
export function tcp_xmit_retransmit_queue(tp: TcpSock): void {
  if (tp.packets_out === 0) return;
  const rtx_head = tcp_rtx_queue_head(tp);
  for (let skb = rtx_head; skb !== null; skb = skb.next) {
    if (tcp_packets_in_flight(tp) >= tp.snd_cwnd) break;
    const sacked = skb.cb.sacked;
    if (sacked & (TCPCB.TCPCB_SACKED_ACKED | TCPCB.TCPCB_SACKED_RETRANS)) continue;
    if (!(sacked & TCPCB.TCPCB_LOST)) continue;
    if (tcp_retransmit_skb(tp, skb) !== 0) break;
    if (tp.icsk_ca_state !== 4 /* TCP_CA_Loss */) tp.skc_net.mib.net.TCPFastRetrans++;
    else tp.skc_net.mib.net.TCPSlowStartRetrans++;
    if (skb === tcp_rtx_queue_head(tp)) inet_csk_reset_xmit_timer(tp, ICSK_TIME.ICSK_TIME_RETRANS, tp.icsk_rto, TCP_RTO_MAX);
    tp.prr_out++;
  }
}

/** tcp_xmit_probe_skb: a bare ACK with an old sequence number, which the peer must answer. */
function tcp_xmit_probe_skb(tp: TcpSock): number {
  const skb = tcp_stream_alloc_skb(0);
  tcp_init_nondata_skb(skb, (tp.snd_una - 1) >>> 0, TCPHDR_ACK);
  return tcp_transmit_skb(tp, skb, false);
}

/**
 * tcp_write_wakeup: a window probe. Data if the window has room for some of the next segment
 * (split to fit), else the old-sequence ACK (TCPWinProbe counts both).
 */
export function tcp_write_wakeup(tp: TcpSock, keepalive = false): number {
  if (tp.skc_state === TCP_STATES.TCP_CLOSE) return -1;
  const skb = tcp_send_head(tp);
  if (skb !== null && before(skb.cb.seq, tcp_wnd_end(tp))) {
    const mss = tcp_current_mss(tp);
    let seg_size = (tcp_wnd_end(tp) - skb.cb.seq) >>> 0;
    if (seg_size > mss) seg_size = mss;
    if (skb.len > seg_size) tcp_fragment(tp, tp.sk_write_queue, skb, seg_size);
    skb.cb.tcp_flags |= TCPHDR_PSH;
    const err = tcp_transmit_skb(tp, skb, true);
    if (err === 0) tcp_event_new_data_sent(tp, skb);
    return err;
  }
  if (keepalive) tp.skc_net.mib.net.TCPKeepAlive++;
  else tp.skc_net.mib.net.TCPWinProbe++;
  return tcp_xmit_probe_skb(tp);
}

/** tcp_send_probe0: the zero-window probe timer fired. */
export function tcp_send_probe0(tp: TcpSock): void {
  const err = tcp_write_wakeup(tp);
  if (tp.packets_out !== 0 || tcp_send_head(tp) === null) {
    // The window opened (data went out) or nothing waits: no more probing.
    tp.icsk_probes_out = 0;
    tp.icsk_backoff = 0;
    return;
  }
  tp.icsk_probes_out++;
  let timeout: number;
  if (err <= 0) {
    if (tp.icsk_backoff < tp.skc_net.ipv4.sysctl_tcp_retries2) tp.icsk_backoff++;
    timeout = tcp_probe0_when(tp, TCP_RTO_MAX);
  } else {
    timeout = TCP_TIMES.TCP_RESOURCE_PROBE_INTERVAL;
  }
  inet_csk_reset_xmit_timer(tp, ICSK_TIME.ICSK_TIME_PROBE0, timeout, TCP_RTO_MAX);
}

/**
 * tcp_make_synack: the SYN-ACK for `req` (its options per what the SYN negotiated, MSS `advmss`,
 * TSval `tsval`), data at the TCP header, checksum left to the family. The window is not scaled.
 */
export function tcp_make_synack(req: RequestSock, tsval: number, advmss: number): SkBuff {
  const o = opts.reset();
  o.mss = advmss;
  if (req.wscale_ok) {
    o.ws = req.rcv_wscale;
    o.options |= OPTION.OPTION_WSCALE;
  }
  if (req.tstamp_ok) {
    o.options |= OPTION.OPTION_TS;
    o.tsval = tsval;
    o.tsecr = req.ts_recent;
  }
  if (req.sack_ok) o.options |= OPTION.OPTION_SACK_ADVERTISE;
  const hlen = TCP_HDR_LEN + tcp_options_size(o);
  const skb = tcp_stream_alloc_skb(0);
  skb_push(skb, hlen);
  skb_reset_transport_header(skb);
  const v = skb.view;
  const th = skb.data;
  v.setUint16(th, req.skc_num);
  v.setUint16(th + 2, req.skc_dport);
  v.setUint32(th + 4, req.snt_isn >>> 0);
  v.setUint32(th + 8, req.rcv_nxt >>> 0);
  v.setUint8(th + 12, (hlen >> 2) << 4);
  v.setUint8(th + 13, TCPHDR_SYN | TCPHDR_ACK);
  v.setUint16(th + 14, Math.min(req.rsk_rcv_wnd, 65535));
  v.setUint32(th + 16, 0);
  tcp_options_write(v, th + 20, o);
  return skb;
}

/** Whether the socket may still send (not dead with a reset). */
export function tcp_may_send_now(tp: TcpSock): boolean {
  const skb = tcp_send_head(tp);
  return skb !== null && tcp_snd_wnd_test(tp, skb, tcp_current_mss(tp)) && tcp_cwnd_test(tp) !== 0 && !sock_flag(tp, SOCK_FLAGS.SOCK_DEAD);
}


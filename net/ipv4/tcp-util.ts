// The small inline helpers of include/net/tcp.h that every TCP file uses: clocks, windows,
// buffer space, the skb queues' heads and the state change (tcp_set_state).
import type { SkBuff } from '../core/skbuff.ts';
import { TCP_STATES, type TcpState } from '../core/tcp-states.ts';
import { before, type TcpSock } from './tcp-sock.ts';
import { tcp_clock_ms, tcp_clock_us } from './tcp-defs.ts';

/** tcp_jiffies32 / jiffies. */
export function tcp_jiffies32(tp: TcpSock): number {
  return tp.skc_net.boot.clock.get_jiffies_64();
}

/** tcp_time_stamp_ms: ms since boot, the TS clock (without tsoffset). */
export function tcp_time_stamp_ms(tp: TcpSock): number {
  return tcp_clock_ms(tp.skc_net.boot.clock.ktime_get_ns());
}

/** tcp_mstamp_refresh. */
export function tcp_mstamp_refresh(tp: TcpSock): void {
  tp.tcp_mstamp = tcp_clock_us(tp.skc_net.boot.clock.ktime_get_ns());
}

/**
 * tcp_time_stamp_ts: the connection's TS clock at the current event (u32): tcp_mstamp in
 * microseconds when its TSvals count them (tcp_usec_ts), else milliseconds. retrans_stamp
 * and the echoed TSecr are in this unit.
 */
export function tcp_time_stamp_ts(tp: TcpSock): number {
  return tp.tcp_usec_ts ? tp.tcp_mstamp >>> 0 : tcp_time_stamp_ms(tp);
}

/** TSval for an outgoing segment (tcp_skb_timestamp_ts + tsoffset; tcp_mstamp is the send time). */
export function tcp_tsval(tp: TcpSock): number {
  return (tcp_time_stamp_ts(tp) + tp.tsoffset) >>> 0;
}

/** tcp_wnd_end: the right edge of the send window. */
export function tcp_wnd_end(tp: TcpSock): number {
  return (tp.snd_una + tp.snd_wnd) >>> 0;
}

/** tcp_receive_window: what is left of the window we advertised. */
export function tcp_receive_window(tp: TcpSock): number {
  const win = (tp.rcv_wup + tp.rcv_wnd - tp.rcv_nxt) | 0;
  return win < 0 ? 0 : win;
}

/** tcp_win_from_space with net.ipv4.tcp_adv_win_scale (the pre-6.6 rule; no scaling_ratio). */
export function tcp_win_from_space(tp: TcpSock, space: number): number {
  const s = tp.skc_net.ipv4.sysctl_tcp_adv_win_scale;
  if (space <= 0) return 0;
  return s <= 0 ? space >> -s : space - (space >> s);
}

/** tcp_space: window from the free receive buffer. */
export function tcp_space(tp: TcpSock): number {
  return tcp_win_from_space(tp, tp.sk_rcvbuf - tp.sk_rmem_alloc);
}

/** tcp_full_space: window from the whole receive buffer. */
export function tcp_full_space(tp: TcpSock): number {
  return tcp_win_from_space(tp, tp.sk_rcvbuf);
}

/** tcp_send_head: the first unsent skb. */
export function tcp_send_head(tp: TcpSock): SkBuff | null {
  return tp.sk_write_queue.first;
}

export function tcp_rtx_queue_head(tp: TcpSock): SkBuff | null {
  return tp.tcp_rtx_queue.first;
}

export function tcp_write_queue_empty(tp: TcpSock): boolean {
  return tp.sk_write_queue.qlen === 0;
}

export function tcp_rtx_and_write_queues_empty(tp: TcpSock): boolean {
  return tp.tcp_rtx_queue.qlen === 0 && tp.sk_write_queue.qlen === 0;
}

/** tcp_is_sack / tcp_is_reno. */
export function tcp_is_sack(tp: TcpSock): boolean {
  return tp.rx_opt.sack_ok;
}

/** tcp_left_out. */
export function tcp_left_out(tp: TcpSock): number {
  return tp.sacked_out + tp.lost_out;
}

/** tcp_init_wl. */
export function tcp_init_wl(tp: TcpSock, seq: number): void {
  tp.snd_wl1 = seq >>> 0;
}

/** tcp_skb_timestamp in ms (when the skb last went out). */
export function tcp_skb_timestamp_ms(skb: SkBuff): number {
  return Math.floor(skb.cb.tx_tstamp_us / 1000) >>> 0;
}

/** !before(a, b) */
export function not_before(a: number, b: number): boolean {
  return !before(a, b);
}

/** The states a full socket passes through, and the gauge and counters tcp_set_state keeps. */
export function tcp_set_state_mib(tp: TcpSock, state: TcpState): void {
  const old = tp.skc_state;
  const mib = tp.skc_net.mib.tcp;
  if (state === TCP_STATES.TCP_ESTABLISHED) {
    if (old !== TCP_STATES.TCP_ESTABLISHED) mib.CurrEstab++;
  } else if (old === TCP_STATES.TCP_ESTABLISHED) {
    mib.CurrEstab--;
  }
  if (state === TCP_STATES.TCP_CLOSE && (old === TCP_STATES.TCP_CLOSE_WAIT || old === TCP_STATES.TCP_ESTABLISHED)) {
    mib.EstabResets++;
  }
}

/** tcp_fast_path_check: header prediction on again once nothing unusual is pending. */
export function tcp_fast_path_check(tp: TcpSock): void {
  if (tp.out_of_order_queue.qlen === 0 && tp.rcv_wnd !== 0 && tp.sk_rmem_alloc < tp.sk_rcvbuf) {
    tp.pred_flags = (((tp.tcp_header_len >> 2) << 28) | 0x00100000 | (tp.snd_wnd >>> tp.rx_opt.snd_wscale)) >>> 0;
  }
}

// Closing (tcp.c's tcp_close_state, tcp_shutdown, tcp_close, tcp_disconnect): the FIN in the
// state RFC 9293 says; close() with unread data or SO_LINGER 0 resets instead (TCPAbortOnClose,
// TCPAbortOnLinger); an orphaned socket finishes its FIN exchange alone (an orphaned FIN_WAIT2
// becomes a mini socket, tcp_fin_timeout at most).
import { E as ERRNO } from '../core/sock-opts.ts';
import { consume_skb, skb_queue_purge_reason, __skb_dequeue, SKB_DROP_REASONS } from '../core/skbuff.ts';
import { TCP_STATES, TCPF_STATES, type TcpState } from '../core/tcp-states.ts';
import { SEND_SHUTDOWN, SHUTDOWN_MASK } from '../core/socket-options.ts';
import { sock_flag, sock_reset_flag, SOCK_FLAGS } from '../core/sock.ts';
import { TCP_INFINITE_SSTHRESH, TCP_CA, type TcpSock } from './tcp-sock.ts';
import { TCP_TIMEOUT_INIT } from './tcp-defs.ts';
import { TCP_TIMEWAIT_LEN } from './inet-timewait-sock.ts';
import { tcp_send_active_reset, tcp_send_fin } from './tcp-output.ts';
import { inet_csk_clear_xmit_timers, inet_csk_reset_keepalive_timer } from './tcp-timer.ts';
import { inet_csk_destroy_sock, sock_orphan, tcp_set_state, tcp_write_queue_purge } from './tcp-done.ts';
import { tcp_fin_time, tcp_time_wait } from './tcp-minisocks.ts';
import { inet_csk_reqsk_queue_drop } from './tcp-conn-request.ts';
import { inet_reqsk } from '../core/request-sock.ts';
import { inet_unhash } from './inet-hash.ts';

const TCP_ACTION_FIN = 1 << TCP_STATES.TCP_CLOSE;

/** new_state[]: the state after close in each state, | TCP_ACTION_FIN when a FIN must be sent. */
const new_state: number[] = [];
new_state[0] = TCP_STATES.TCP_CLOSE;
new_state[TCP_STATES.TCP_ESTABLISHED] = TCP_STATES.TCP_FIN_WAIT1 | TCP_ACTION_FIN;
new_state[TCP_STATES.TCP_SYN_SENT] = TCP_STATES.TCP_CLOSE;
new_state[TCP_STATES.TCP_SYN_RECV] = TCP_STATES.TCP_FIN_WAIT1 | TCP_ACTION_FIN;
new_state[TCP_STATES.TCP_FIN_WAIT1] = TCP_STATES.TCP_FIN_WAIT1;
new_state[TCP_STATES.TCP_FIN_WAIT2] = TCP_STATES.TCP_FIN_WAIT2;
new_state[TCP_STATES.TCP_TIME_WAIT] = TCP_STATES.TCP_CLOSE;
new_state[TCP_STATES.TCP_CLOSE] = TCP_STATES.TCP_CLOSE;
new_state[TCP_STATES.TCP_CLOSE_WAIT] = TCP_STATES.TCP_LAST_ACK | TCP_ACTION_FIN;
new_state[TCP_STATES.TCP_LAST_ACK] = TCP_STATES.TCP_LAST_ACK;
new_state[TCP_STATES.TCP_LISTEN] = TCP_STATES.TCP_CLOSE;
new_state[TCP_STATES.TCP_CLOSING] = TCP_STATES.TCP_CLOSING;
new_state[TCP_STATES.TCP_NEW_SYN_RECV] = TCP_STATES.TCP_CLOSE;

/** tcp_close_state: move to the closing state; true if a FIN is to be sent. */
export function tcp_close_state(tp: TcpSock): boolean {
  const next = new_state[tp.skc_state] ?? TCP_STATES.TCP_CLOSE;
  const ns = (next & 0xf) as TcpState;
  tcp_set_state(tp, ns);
  return (next & TCP_ACTION_FIN) !== 0;
}

/** tcp_shutdown(SEND_SHUTDOWN): the FIN, in the states that have a connection to close. */
export function tcp_shutdown_send(tp: TcpSock): void {
  if (
    (1 << tp.skc_state) &
    (TCPF_STATES.TCPF_ESTABLISHED | TCPF_STATES.TCPF_SYN_SENT | TCPF_STATES.TCPF_SYN_RECV | TCPF_STATES.TCPF_CLOSE_WAIT)
  ) {
    if (tcp_close_state(tp)) tcp_send_fin(tp);
  }
}

/** tcp_shutdown: struct proto's shutdown (inet_shutdown has set sk_shutdown). */
export function tcp_shutdown(tp: TcpSock, how: number): void {
  if (!(how & SEND_SHUTDOWN)) return;
  tcp_shutdown_send(tp);
}

/** inet_csk_listen_stop: a closing listener resets its unaccepted children and forgets its requests. */
function inet_csk_listen_stop(tp: TcpSock): void {
  for (let child = tp.icsk_accept_queue.shift(); child !== undefined; child = tp.icsk_accept_queue.shift()) {
    tp.sk_ack_backlog--;
    child.parent_listener = null;
    tcp_disconnect(child, 0);
    sock_orphan(child);
    inet_csk_destroy_sock(child);
  }
  // Requests still in ehash: dropped now (the kernel lets their timers or packets find the listener gone).
  const h = tp.skc_net.ipv4.tcp_hashinfo;
  for (const chain of h.ehash) {
    if (chain === undefined) continue;
    for (const s of chain.slice()) if (inet_reqsk(s) && s.rsk_listener === tp) inet_csk_reqsk_queue_drop(tp, s);
  }
}

/** tcp_need_reset: the states in which an abort tells the peer. */
function tcp_need_reset(state: number): boolean {
  return (
    ((1 << state) &
      (TCPF_STATES.TCPF_ESTABLISHED | TCPF_STATES.TCPF_CLOSE_WAIT | TCPF_STATES.TCPF_FIN_WAIT1 | TCPF_STATES.TCPF_FIN_WAIT2 | TCPF_STATES.TCPF_SYN_RECV)) !==
    0
  );
}

/** tcp_disconnect: connect(AF_UNSPEC) or an abort: RST if needed, everything reset to CLOSE. */
export function tcp_disconnect(tp: TcpSock, _flags: number): number {
  const old_state = tp.skc_state;
  if (old_state !== TCP_STATES.TCP_CLOSE) tcp_set_state(tp, TCP_STATES.TCP_CLOSE);
  if (old_state === TCP_STATES.TCP_LISTEN) {
    inet_csk_listen_stop(tp);
  } else if (tcp_need_reset(old_state) || (tp.snd_nxt !== tp.write_seq && (1 << old_state) & (TCPF_STATES.TCPF_CLOSING | TCPF_STATES.TCPF_LAST_ACK))) {
    tcp_send_active_reset_closed(tp);
    tp.sk_err = ERRNO.ECONNRESET;
  } else if (old_state === TCP_STATES.TCP_SYN_SENT) {
    tp.sk_err = ERRNO.ECONNRESET;
  }
  tcp_write_queue_purge(tp);
  skb_queue_purge_reason(tp.sk_receive_queue, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_CLOSE);
  skb_queue_purge_reason(tp.out_of_order_queue, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_CLOSE);
  tp.sk_rmem_alloc = 0;
  inet_csk_clear_xmit_timers(tp);
  inet_unhash(tp.skc_net.ipv4.tcp_hashinfo, tp);
  tp.skc_dport = 0;
  tp.sk_shutdown = 0;
  sock_reset_flag(tp, SOCK_FLAGS.SOCK_DONE);
  tp.srtt_us = 0;
  tp.mdev_us = 1000 * TCP_TIMEOUT_INIT;
  tp.write_seq = 0;
  tp.icsk_backoff = 0;
  tp.icsk_probes_out = 0;
  tp.icsk_rto = TCP_TIMEOUT_INIT;
  tp.snd_ssthresh = TCP_INFINITE_SSTHRESH;
  tp.snd_cwnd = 2;
  tp.snd_cwnd_cnt = 0;
  tp.window_clamp = 0;
  tp.icsk_ca_state = TCP_CA.TCP_CA_Open;
  tp.rx_opt.tstamp_ok = tp.rx_opt.sack_ok = tp.rx_opt.wscale_ok = false;
  tp.rx_opt.snd_wscale = tp.rx_opt.rcv_wscale = 0;
  tp.rx_opt.ts_recent = tp.rx_opt.ts_recent_stamp = 0;
  tp.selective_acks.length = 0;
  tp.dsack = false;
  tp.fin_queued = false;
  tp.icsk_ack_pending = tp.icsk_ack_quick = tp.icsk_ack_pingpong = 0;
  tp.icsk_ack_ato = 0;
  tp.sk_dst_cache = null;
  tp.sk_error_report(tp);
  return 0;
}

/** The RST of an abort, sent with the state the connection had. */
function tcp_send_active_reset_closed(tp: TcpSock): void {
  tcp_send_active_reset(tp);
}

/**
 * tcp_close: close(2). Unread data: RST (TCPAbortOnClose); SO_LINGER with 0: RST
 * (TCPAbortOnLinger); else a FIN. The socket is orphaned and finishes on its own.
 */
export function tcp_close(tp: TcpSock, _timeout: number): void {
  tp.sk_shutdown = SHUTDOWN_MASK;
  if (tp.skc_state === TCP_STATES.TCP_LISTEN) {
    tcp_set_state(tp, TCP_STATES.TCP_CLOSE);
    inet_csk_listen_stop(tp);
    sock_orphan(tp);
    inet_csk_destroy_sock(tp);
    return;
  }
  // Unread data (beyond a FIN) is lost: the peer must learn it.
  let data_was_unread = 0;
  for (let skb = __skb_dequeue(tp.sk_receive_queue); skb !== null; skb = __skb_dequeue(tp.sk_receive_queue)) {
    let len = (skb.cb.end_seq - skb.cb.seq) >>> 0;
    if (skb.cb.tcp_flags & 0x01) len--;
    const off = (tp.copied_seq - skb.cb.seq) | 0;
    if (off > 0) len -= Math.min(off, len);
    data_was_unread += len;
    tp.sk_rmem_alloc -= skb.truesize;
    consume_skb(skb);
  }
  const mib = tp.skc_net.mib.net;
  if (tp.skc_state === TCP_STATES.TCP_CLOSE) {
    // Nothing to tell the peer.
  } else if (data_was_unread !== 0) {
    tcp_set_state(tp, TCP_STATES.TCP_CLOSE);
    tcp_send_active_reset(tp);
    mib.TCPAbortOnClose++;
  } else if (sock_flag(tp, SOCK_FLAGS.SOCK_LINGER) && tp.sk_lingertime === 0) {
    tcp_disconnect(tp, 0);
    mib.TCPAbortOnLinger++;
  } else if (tcp_close_state(tp)) {
    tcp_send_fin(tp);
  }
  const state = tp.skc_state;
  sock_orphan(tp);
  if (state === TCP_STATES.TCP_CLOSE) {
    tcp_done_closed(tp);
    return;
  }
  if (tp.skc_state === TCP_STATES.TCP_FIN_WAIT2) {
    if (tp.linger2 < 0) {
      tcp_set_state(tp, TCP_STATES.TCP_CLOSE);
      tcp_send_active_reset(tp);
      mib.TCPAbortOnLinger++;
    } else {
      const tmo = tcp_fin_time(tp);
      if (tmo > TCP_TIMEWAIT_LEN) inet_csk_reset_keepalive_timer(tp, tmo - TCP_TIMEWAIT_LEN);
      else {
        tcp_time_wait(tp, TCP_STATES.TCP_FIN_WAIT2, tmo);
        return;
      }
    }
  }
  if (tp.skc_state === TCP_STATES.TCP_CLOSE) tcp_done_closed(tp);
}

/** An orphan already in CLOSE: destroy it now (inet_csk_destroy_sock). */
function tcp_done_closed(tp: TcpSock): void {
  inet_csk_clear_xmit_timers(tp);
  inet_csk_destroy_sock(tp);
}


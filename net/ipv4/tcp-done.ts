// The end of a connection (tcp_set_state, tcp_done, tcp_reset, tcp_write_queue_purge in tcp.c
// and tcp_input.c) and the socket's destruction: out of the tables, the port given back (unless
// bind() fixed it and the socket lives on), timers stopped, queues freed.
import { E as ERRNO } from '../core/sock-opts.ts';
import { consume_skb, skb_queue_purge_reason, __skb_dequeue, SKB_DROP_REASONS } from '../core/skbuff.ts';
import { TCP_STATES, type TcpState } from '../core/tcp-states.ts';
import { SHUTDOWN_MASK } from '../core/socket-options.ts';
import { sock_flag, sock_set_flag, SOCK_FLAGS } from '../core/sock.ts';
import { SOCK_BINDPORT_LOCK } from '../core/socket-constants.ts';
import { inet_unhash } from './inet-hash.ts';
import { inet_put_port } from './inet-bind-bucket.ts';
import { TCP_CA, type TcpSock } from './tcp-sock.ts';
import { tcp_set_state_mib } from './tcp-util.ts';
import { inet_csk_clear_xmit_timers } from './tcp-timer.ts';
import { tcp_cleanup_congestion_control } from './tcp-cong.ts';
import { sock_map_destroy } from '../core/sock-map.ts';

/** tcp_set_state: the state, the CurrEstab gauge, EstabResets, and on CLOSE out of the tables. */
export function tcp_set_state(tp: TcpSock, state: TcpState): void {
  tcp_set_state_mib(tp, state);
  const h = tp.skc_net.ipv4.tcp_hashinfo;
  if (state === TCP_STATES.TCP_CLOSE) {
    inet_unhash(h, tp);
    if (tp.icsk_bind_hash !== null && !(tp.sk_userlocks & SOCK_BINDPORT_LOCK)) inet_put_port(h, tp);
  }
  tp.skc_state = state;
}

/** tcp_write_queue_purge: drop everything unsent and unacknowledged. */
export function tcp_write_queue_purge(tp: TcpSock): void {
  for (let skb = __skb_dequeue(tp.sk_write_queue); skb !== null; skb = __skb_dequeue(tp.sk_write_queue)) consume_skb(skb);
  for (let skb = __skb_dequeue(tp.tcp_rtx_queue); skb !== null; skb = __skb_dequeue(tp.tcp_rtx_queue)) consume_skb(skb);
  tp.sk_wmem_queued = 0;
  tp.packets_out = tp.retrans_out = tp.sacked_out = tp.lost_out = 0;
  tp.icsk_ca_state = TCP_CA.TCP_CA_Open;
}

/** inet_csk_destroy_sock: the last of an orphaned socket. */
export function inet_csk_destroy_sock(tp: TcpSock): void {
  sock_map_destroy(tp);
  tcp_write_queue_purge(tp);
  skb_queue_purge_reason(tp.sk_receive_queue, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_CLOSE);
  skb_queue_purge_reason(tp.out_of_order_queue, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_CLOSE);
  tp.sk_rmem_alloc = 0;
  tcp_cleanup_congestion_control(tp);
  const h = tp.skc_net.ipv4.tcp_hashinfo;
  if (tp.icsk_bind_hash !== null) inet_put_port(h, tp);
}

/** tcp_done: CLOSE, timers off, both directions shut; an orphan is destroyed, an owned socket woken. */
export function tcp_done(tp: TcpSock): void {
  if (tp.skc_state === TCP_STATES.TCP_SYN_SENT || tp.skc_state === TCP_STATES.TCP_SYN_RECV) tp.skc_net.mib.tcp.AttemptFails++;
  tcp_set_state(tp, TCP_STATES.TCP_CLOSE);
  inet_csk_clear_xmit_timers(tp);
  tp.sk_shutdown = SHUTDOWN_MASK;
  if (!sock_flag(tp, SOCK_FLAGS.SOCK_DEAD)) tp.sk_state_change(tp);
  else inet_csk_destroy_sock(tp);
}

/** tcp_reset: a valid RST: the error the application sees (ECONNREFUSED, EPIPE, ECONNRESET), then tcp_done. */
export function tcp_reset(tp: TcpSock): void {
  switch (tp.skc_state) {
    case TCP_STATES.TCP_SYN_SENT:
      tp.sk_err = ERRNO.ECONNREFUSED;
      break;
    case TCP_STATES.TCP_CLOSE_WAIT:
      tp.sk_err = ERRNO.EPIPE;
      break;
    case TCP_STATES.TCP_CLOSE:
      return;
    default:
      tp.sk_err = ERRNO.ECONNRESET;
  }
  tcp_write_queue_purge(tp);
  const dead = sock_flag(tp, SOCK_FLAGS.SOCK_DEAD);
  tcp_done(tp);
  if (!dead) tp.sk_error_report(tp);
}

/** sock_orphan: the application is gone (close). */
export function sock_orphan(tp: TcpSock): void {
  sock_set_flag(tp, SOCK_FLAGS.SOCK_DEAD);
  tp.sk_socket = null;
}

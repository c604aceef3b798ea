// TCP's timers (net/ipv4/tcp_timer.c, inet_connection_sock.c): the retransmission timer, which
// also serves the zero-window probe (icsk_pending says which), the delayed-ACK timer, and
// sk_timer for keepalive and the orphaned FIN_WAIT2 timeout. All run on the machine's clock in
// jiffies (HZ 1000). RFC 6298's RTO is srtt + 4 * rttvar, at least TCP_RTO_MIN (200 ms), at most
// TCP_RTO_MAX (120 s), doubled on each timeout (exponential backoff).
import { E as ERRNO } from '../core/sock-opts.ts';
import { HZ } from '../core/clock.ts';
import { TCP_STATES, TCPF_STATES } from '../core/tcp-states.ts';
import { sock_flag, SOCK_FLAGS } from '../core/sock.ts';
import { TCP_TIMEWAIT_LEN } from './inet-timewait-sock.ts';
import { tcp_timer_dispatch, TCP_CA, type TcpSock } from './tcp-sock.ts';
import { ICSK_ACK, ICSK_TIME, TCP_ATO_MIN, TCP_RTO_MAX, TCP_RTO_MIN, TCP_TIMEOUT_INIT, TCP_TIMES } from './tcp-defs.ts';
import { tcp_jiffies32, tcp_mstamp_refresh, tcp_rtx_queue_head, tcp_send_head, tcp_time_stamp_ts, tcp_is_sack } from './tcp-util.ts';
import { tcp_retransmit_skb, tcp_send_ack, tcp_send_active_reset, tcp_send_probe0, tcp_write_wakeup } from './tcp-output.ts';
import { tcp_enter_loss } from './tcp-recovery.ts';
import { tcp_done, tcp_write_queue_purge } from './tcp-done.ts';
import { tcp_time_wait, tcp_fin_time } from './tcp-minisocks.ts';

/** inet_csk_reset_xmit_timer: arm the retransmit timer for `what` in `when` jiffies (at most max_when). */
export function inet_csk_reset_xmit_timer(tp: TcpSock, what: number, when: number, max_when: number): void {
  const w = Math.min(when, max_when);
  const clock = tp.skc_net.boot.clock;
  if (what === ICSK_TIME.ICSK_TIME_DACK) {
    tp.icsk_ack_pending |= ICSK_ACK.ICSK_ACK_TIMER;
    tp.icsk_ack_timeout = clock.get_jiffies_64() + w;
    clock.mod_timer(tp.icsk_delack_timer, tp.icsk_ack_timeout);
    return;
  }
  tp.icsk_pending = what;
  tp.icsk_timeout = clock.get_jiffies_64() + w;
  clock.mod_timer(tp.icsk_retransmit_timer, tp.icsk_timeout);
}

/** inet_csk_clear_xmit_timer. */
export function inet_csk_clear_xmit_timer(tp: TcpSock, what: number): void {
  const clock = tp.skc_net.boot.clock;
  if (what === ICSK_TIME.ICSK_TIME_DACK) {
    tp.icsk_ack_pending = 0;
    clock.del_timer(tp.icsk_delack_timer);
    return;
  }
  tp.icsk_pending = 0;
  clock.del_timer(tp.icsk_retransmit_timer);
}

/** inet_csk_clear_xmit_timers: all of them (tcp_done, disconnect). */
export function inet_csk_clear_xmit_timers(tp: TcpSock): void {
  const clock = tp.skc_net.boot.clock;
  tp.icsk_pending = 0;
  tp.icsk_ack_pending = 0;
  clock.del_timer(tp.icsk_retransmit_timer);
  clock.del_timer(tp.icsk_delack_timer);
  clock.del_timer(tp.sk_timer);
}

/** tcp_rearm_rto: the RTO restarts from now while data is in flight, stops when none is. */
export function tcp_rearm_rto(tp: TcpSock): void {
  if (tp.packets_out === 0) {
    inet_csk_clear_xmit_timer(tp, ICSK_TIME.ICSK_TIME_RETRANS);
    return;
  }
  inet_csk_reset_xmit_timer(tp, ICSK_TIME.ICSK_TIME_RETRANS, tcp_clamp_rto_to_user_timeout(tp), TCP_RTO_MAX);
}

/** tcp_set_rto: srtt/8 + rttvar (rttvar already at least rto_min), bounded by TCP_RTO_MAX. */
export function tcp_set_rto(tp: TcpSock): void {
  const us = (tp.srtt_us >> 3) + tp.rttvar_us;
  tp.icsk_rto = Math.min(Math.ceil(us / 1000), TCP_RTO_MAX);
}

/** tcp_clamp_rto_to_user_timeout: with TCP_USER_TIMEOUT, the timer never outlives it. */
function tcp_clamp_rto_to_user_timeout(tp: TcpSock): number {
  const user_timeout = tp.icsk_user_timeout;
  if (user_timeout === 0 || tp.retrans_stamp === 0) return tp.icsk_rto;
  let elapsed = (tcp_time_stamp_ts(tp) - tp.retrans_stamp) >>> 0;
  if (tp.tcp_usec_ts) elapsed = Math.floor(elapsed / 1000);
  const remaining = user_timeout - elapsed;
  if (remaining <= 0) return 1;
  return Math.min(tp.icsk_rto, remaining);
}

/** tcp_model_timeout: the time `boundary` exponential-backoff retransmissions from rto_base take. */
function tcp_model_timeout(boundary: number, rto_base: number): number {
  const linear_backoff_thresh = Math.floor(Math.log2(TCP_RTO_MAX / rto_base));
  if (boundary <= linear_backoff_thresh) return ((2 << boundary) - 1) * rto_base;
  return ((2 << linear_backoff_thresh) - 1) * rto_base + (boundary - linear_backoff_thresh) * TCP_RTO_MAX;
}

/** retransmits_timed_out: has the first unacknowledged retransmission been going on longer than the model allows? */
function retransmits_timed_out(tp: TcpSock, boundary: number, timeout0: number): boolean {
  if (tp.icsk_retransmits === 0) return false;
  let timeout = timeout0;
  if (timeout === 0) {
    const rto_base = (1 << tp.skc_state) & (TCPF_STATES.TCPF_SYN_SENT | TCPF_STATES.TCPF_SYN_RECV) ? TCP_TIMEOUT_INIT : TCP_RTO_MIN;
    timeout = tcp_model_timeout(boundary, rto_base);
  }
  if (tp.tcp_usec_ts) {
    // retrans_stamp is in us; the delta may be off by up to a jiffy (timer granularity).
    const delta = (tp.tcp_mstamp - tp.retrans_stamp + 1e6 / HZ) >>> 0;
    return ((delta - timeout * 1000) | 0) >= 0;
  }
  return ((tcp_time_stamp_ts(tp) - tp.retrans_stamp - timeout) | 0) >= 0;
}

/** tcp_orphan_retries: how long an orphan keeps retrying (sysctl tcp_orphan_retries, 8 when 0). */
function tcp_orphan_retries(tp: TcpSock, alive: boolean): number {
  let retries = tp.skc_net.ipv4.sysctl_tcp_orphan_retries;
  if (tp.sk_err_soft !== 0 && !alive) retries = 0;
  if (retries === 0 && alive) retries = 8;
  return retries;
}

/** tcp_write_err: give up (ETIMEDOUT unless an ICMP error said why). TCPAbortOnTimeout. */
export function tcp_write_err(tp: TcpSock): void {
  tp.sk_err = tp.sk_err_soft !== 0 ? tp.sk_err_soft : ERRNO.ETIMEDOUT;
  tp.sk_error_report(tp);
  tcp_write_queue_purge(tp);
  tcp_done(tp);
  tp.skc_net.mib.net.TCPAbortOnTimeout++;
}

/** tcp_write_timeout: true (and the connection aborted) when retrying is over. */
function tcp_write_timeout(tp: TcpSock): boolean {
  const net = tp.skc_net.ipv4;
  let expired: boolean;
  if ((1 << tp.skc_state) & (TCPF_STATES.TCPF_SYN_SENT | TCPF_STATES.TCPF_SYN_RECV)) {
    const retry_until = tp.icsk_syn_retries || net.sysctl_tcp_syn_retries;
    expired = tp.icsk_retransmits >= retry_until;
  } else {
    let retry_until = net.sysctl_tcp_retries2;
    if (sock_flag(tp, SOCK_FLAGS.SOCK_DEAD)) {
      const alive = tp.icsk_rto < TCP_RTO_MAX;
      retry_until = tcp_orphan_retries(tp, alive);
    }
    expired = retransmits_timed_out(tp, retry_until, tp.icsk_user_timeout);
  }
  if (expired) {
    tcp_write_err(tp);
    return true;
  }
  return false;
}

/** tcp_retransmit_timer: the RTO fired with data in flight. */
export function tcp_retransmit_timer(tp: TcpSock): void {
  const net = tp.skc_net;
  if (tp.packets_out === 0) return;
  const skb = tcp_rtx_queue_head(tp);
  if (skb === null) return;
  tcp_mstamp_refresh(tp);
  if (tp.snd_wnd === 0 && !sock_flag(tp, SOCK_FLAGS.SOCK_DEAD) && !((1 << tp.skc_state) & (TCPF_STATES.TCPF_SYN_SENT | TCPF_STATES.TCPF_SYN_RECV))) {
    // The peer shrank its window to zero under our data: the retransmissions are window probes,
    // given up only after twice TCP_RTO_MAX of silence.
    if (tcp_jiffies32(tp) - tp.rcv_tstamp > 2 * TCP_RTO_MAX) {
      tcp_write_err(tp);
      return;
    }
    tcp_enter_loss(tp);
    tcp_retransmit_skb(tp, skb);
    backoff_and_rearm(tp);
    return;
  }
  net.mib.net.TCPTimeouts++;
  if (tcp_write_timeout(tp)) return;
  if (tp.icsk_retransmits === 0) {
    const st = tp.icsk_ca_state;
    if (st === TCP_CA.TCP_CA_Recovery) {
      if (tcp_is_sack(tp)) net.mib.net.TCPSackRecoveryFail++;
      else net.mib.net.TCPRenoRecoveryFail++;
    } else if (st === TCP_CA.TCP_CA_Loss) {
      net.mib.net.TCPLossFailures++;
    } else if (st === TCP_CA.TCP_CA_Disorder || tp.sacked_out !== 0) {
      if (tcp_is_sack(tp)) net.mib.net.TCPSackFailures++;
      else net.mib.net.TCPRenoFailures++;
    }
  }
  tcp_enter_loss(tp);
  tp.icsk_retransmits++;
  if (tcp_retransmit_skb(tp, tcp_rtx_queue_head(tp)!) !== 0) {
    // Dropped locally (a full device queue): retry soon, without backing off.
    inet_csk_reset_xmit_timer(tp, ICSK_TIME.ICSK_TIME_RETRANS, Math.min(tp.icsk_rto, TCP_TIMES.TCP_RESOURCE_PROBE_INTERVAL), TCP_RTO_MAX);
    return;
  }
  backoff_and_rearm(tp);
}

function backoff_and_rearm(tp: TcpSock): void {
  tp.icsk_backoff++;
  tp.icsk_rto = Math.min(tp.icsk_rto * 2, TCP_RTO_MAX);
  inet_csk_reset_xmit_timer(tp, ICSK_TIME.ICSK_TIME_RETRANS, tcp_clamp_rto_to_user_timeout(tp), TCP_RTO_MAX);
}

/** tcp_probe_timer: the zero-window probe timer. */
function tcp_probe_timer(tp: TcpSock): void {
  if (tp.packets_out !== 0 || tcp_send_head(tp) === null) {
    tp.icsk_probes_out = 0;
    return;
  }
  let max_probes = tp.skc_net.ipv4.sysctl_tcp_retries2;
  if (sock_flag(tp, SOCK_FLAGS.SOCK_DEAD)) {
    const alive = Math.min(tp.icsk_rto * 2 ** tp.icsk_backoff, TCP_RTO_MAX) < TCP_RTO_MAX;
    max_probes = tcp_orphan_retries(tp, alive);
    if (!alive && tp.icsk_backoff >= max_probes) {
      tcp_write_err(tp);
      return;
    }
  }
  if (tp.icsk_probes_out >= max_probes) tcp_write_err(tp);
  else tcp_send_probe0(tp);
}

/** tcp_write_timer_handler: the retransmit timer's event. */
function tcp_write_timer(tp: TcpSock): void {
  if ((1 << tp.skc_state) & (TCPF_STATES.TCPF_CLOSE | TCPF_STATES.TCPF_LISTEN) || tp.icsk_pending === 0) return;
  const event = tp.icsk_pending;
  tp.icsk_pending = 0;
  if (event === ICSK_TIME.ICSK_TIME_RETRANS) tcp_retransmit_timer(tp);
  else if (event === ICSK_TIME.ICSK_TIME_PROBE0) tcp_probe_timer(tp);
}

/** tcp_delack_timer_handler: the delayed ACK is due. DelayedACKs. */
function tcp_delack_timer(tp: TcpSock): void {
  if ((1 << tp.skc_state) & (TCPF_STATES.TCPF_CLOSE | TCPF_STATES.TCPF_LISTEN)) return;
  if (!(tp.icsk_ack_pending & ICSK_ACK.ICSK_ACK_TIMER)) return;
  tp.icsk_ack_pending &= ~ICSK_ACK.ICSK_ACK_TIMER;
  if (tp.icsk_ack_pending & ICSK_ACK.ICSK_ACK_SCHED) {
    if (!tp.icsk_ack_pingpong) {
      // The peer is not interactive: wait longer next time (ato doubles, up to the RTO).
      tp.icsk_ack_ato = Math.min(tp.icsk_ack_ato * 2, tp.icsk_rto);
    } else {
      tp.icsk_ack_pingpong = 0;
      tp.icsk_ack_ato = TCP_ATO_MIN;
    }
    tcp_mstamp_refresh(tp);
    tcp_send_ack(tp);
    tp.skc_net.mib.net.DelayedACKs++;
  }
}

/** keepalive_time_when / intvl / probes: the socket's settings or the sysctls, in jiffies. */
export function keepalive_time_when(tp: TcpSock): number {
  return (tp.keepalive_time || tp.skc_net.ipv4.sysctl_tcp_keepalive_time) * 1000;
}
function keepalive_intvl_when(tp: TcpSock): number {
  return (tp.keepalive_intvl || tp.skc_net.ipv4.sysctl_tcp_keepalive_intvl) * 1000;
}
function keepalive_probes(tp: TcpSock): number {
  return tp.keepalive_probes || tp.skc_net.ipv4.sysctl_tcp_keepalive_probes;
}

/** inet_csk_reset_keepalive_timer. */
export function inet_csk_reset_keepalive_timer(tp: TcpSock, len: number): void {
  const clock = tp.skc_net.boot.clock;
  clock.mod_timer(tp.sk_timer, clock.get_jiffies_64() + len);
}

export function inet_csk_delete_keepalive_timer(tp: TcpSock): void {
  tp.skc_net.boot.clock.del_timer(tp.sk_timer);
}

/** tcp_keepalive_timer: the orphaned FIN_WAIT2 timeout, and keepalive probes on an idle connection. */
function tcp_keepalive_timer(tp: TcpSock): void {
  if (tp.skc_state === TCP_STATES.TCP_LISTEN) return;
  tcp_mstamp_refresh(tp);
  if (tp.skc_state === TCP_STATES.TCP_FIN_WAIT2 && sock_flag(tp, SOCK_FLAGS.SOCK_DEAD)) {
    if (tp.linger2 >= 0) {
      const tmo = tcp_fin_time(tp) - TCP_TIMEWAIT_LEN;
      if (tmo > 0) {
        tcp_time_wait(tp, TCP_STATES.TCP_FIN_WAIT2, tmo);
        return;
      }
    }
    tcp_send_active_reset(tp);
    tcp_done(tp);
    return;
  }
  if (!sock_flag(tp, SOCK_FLAGS.SOCK_KEEPOPEN) || (1 << tp.skc_state) & (TCPF_STATES.TCPF_CLOSE | TCPF_STATES.TCPF_SYN_SENT)) return;
  let elapsed = keepalive_time_when(tp);
  if (tp.packets_out === 0 && tcp_send_head(tp) === null) {
    const now = tcp_jiffies32(tp);
    const idle = now - Math.max(tp.rcv_tstamp, tp.icsk_ack_lrcvtime);
    if (idle >= keepalive_time_when(tp)) {
      const ut = tp.icsk_user_timeout;
      if ((ut !== 0 && idle >= ut && tp.icsk_probes_out > 0) || (ut === 0 && tp.icsk_probes_out >= keepalive_probes(tp))) {
        tcp_send_active_reset(tp);
        tcp_write_err(tp);
        return;
      }
      if (tcp_write_wakeup(tp, true) <= 0) {
        tp.icsk_probes_out++;
        elapsed = keepalive_intvl_when(tp);
      } else {
        elapsed = TCP_TIMES.TCP_RESOURCE_PROBE_INTERVAL;
      }
    } else {
      elapsed = keepalive_time_when(tp) - idle;
    }
  }
  inet_csk_reset_keepalive_timer(tp, elapsed);
}

tcp_timer_dispatch.retransmit = tcp_write_timer;
tcp_timer_dispatch.delack = tcp_delack_timer;
tcp_timer_dispatch.keepalive = tcp_keepalive_timer;


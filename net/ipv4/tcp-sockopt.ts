// TCP's socket options (tcp.c's do_tcp_setsockopt / do_tcp_getsockopt) and TCP_INFO
// (tcp_get_info), by the uapi numbers of linux/tcp.h. What is not modelled is -ENOPROTOOPT.
import { E as ERRNO } from '../core/sock-opts.ts';
import { SOCK_MIN_RCVBUF, sockopt_int } from '../core/sock-opts.ts';
import { TCP_STATES, TCPF_STATES } from '../core/tcp-states.ts';
import { SOL_TCP, TCP_OPTS } from '../core/socket-options.ts';
import { sock_flag, SOCK_FLAGS, type Sock } from '../core/sock.ts';
import type { SockoptValue } from '../core/proto.ts';
import { HZ } from '../core/clock.ts';
import type { TcpSock } from './tcp-sock.ts';
import { ICSK_ACK, TCP_NAGLE, TCP_RTO_MAX, TCP_SIZES, TCP_TIMEOUT_INIT, tcp_clock_ts } from './tcp-defs.ts';
import { tcp_set_congestion_control } from './tcp-cong.ts';
import { __tcp_push_pending_frames, tcp_current_mss, tcp_push_pending_frames } from './tcp-output.ts';
import { tcp_jiffies32, tcp_send_head } from './tcp-util.ts';
import { inet_csk_reset_keepalive_timer, keepalive_time_when } from './tcp-timer.ts';
import { tcp_cleanup_rbuf } from './tcp.ts';

/** linux/tcp.h's TCP_TIMESTAMP (not in net/core's TCP_OPTS: only this file answers it). */
export const TCP_TIMESTAMP = 24;

/** secs_to_retrans: TCP_DEFER_ACCEPT's seconds as SYN-ACK retransmissions (1 s doubling, up to TCP_RTO_MAX). */
function secs_to_retrans(seconds: number, timeout: number, rto_max: number): number {
  let res = 0;
  if (seconds > 0) {
    let period = timeout;
    res = 1;
    while (seconds > period && res < 255) {
      res++;
      timeout <<= 1;
      if (timeout > rto_max) timeout = rto_max;
      period += timeout;
    }
  }
  return res;
}

function retrans_to_secs(retrans: number, timeout: number, rto_max: number): number {
  let period = 0;
  if (retrans > 0) {
    period = timeout;
    while (--retrans) {
      timeout <<= 1;
      if (timeout > rto_max) timeout = rto_max;
      period += timeout;
    }
  }
  return period;
}

/** tcp_setsockopt (SOL_TCP). -ENOPROTOOPT for what is not modelled. */
export function tcp_setsockopt(sk: Sock, level: number, optname: number, value: SockoptValue): number {
  const tp = sk as TcpSock;
  if (level !== SOL_TCP) return -ERRNO.ENOPROTOOPT;
  if (optname === TCP_OPTS.TCP_CONGESTION) {
    const name = typeof value === 'string' ? value : value instanceof Uint8Array ? new TextDecoder().decode(value).replace(/\0.*$/, '') : '';
    return tcp_set_congestion_control(tp, name, tp.sk_uid === 0);
  }
  const val = sockopt_int(value);
  if (val === undefined) return -ERRNO.EINVAL;
  // Setting the TS clock (and the usec bit) is for TCP_REPAIR, which vxo does not have.
  if (optname === TCP_TIMESTAMP) return -ERRNO.EPERM;
  switch (optname) {
    case TCP_OPTS.TCP_NODELAY:
      if (val) {
        tp.nonagle |= TCP_NAGLE.TCP_NAGLE_OFF | TCP_NAGLE.TCP_NAGLE_PUSH;
        tcp_push_pending_frames(tp);
      } else {
        tp.nonagle &= ~TCP_NAGLE.TCP_NAGLE_OFF;
      }
      return 0;
    case TCP_OPTS.TCP_CORK:
      if (val) {
        tp.nonagle |= TCP_NAGLE.TCP_NAGLE_CORK;
      } else {
        tp.nonagle &= ~TCP_NAGLE.TCP_NAGLE_CORK;
        if (tp.nonagle & TCP_NAGLE.TCP_NAGLE_OFF) tp.nonagle |= TCP_NAGLE.TCP_NAGLE_PUSH;
        if (tcp_send_head(tp) !== null) __tcp_push_pending_frames(tp, tcp_current_mss(tp), tp.nonagle | TCP_NAGLE.TCP_NAGLE_PUSH);
      }
      return 0;
    case TCP_OPTS.TCP_MAXSEG:
      if (val !== 0 && (val < TCP_SIZES.TCP_MIN_MSS || val > 65535)) return -ERRNO.EINVAL;
      tp.rx_opt.user_mss = val;
      return 0;
    case TCP_OPTS.TCP_QUICKACK:
      if (!val) {
        tp.icsk_ack_pingpong = 1;
        return 0;
      }
      tp.icsk_ack_pingpong = 0;
      if ((1 << tp.skc_state) & (TCPF_STATES.TCPF_ESTABLISHED | TCPF_STATES.TCPF_CLOSE_WAIT) && tp.icsk_ack_pending & ICSK_ACK.ICSK_ACK_SCHED) {
        tp.icsk_ack_pending |= ICSK_ACK.ICSK_ACK_PUSHED;
        tcp_cleanup_rbuf(tp, 1);
        if (!(val & 1)) tp.icsk_ack_pingpong = 1;
      }
      return 0;
    case TCP_OPTS.TCP_DEFER_ACCEPT:
      tp.rskq_defer_accept = secs_to_retrans(val, TCP_TIMEOUT_INIT / HZ, TCP_RTO_MAX / HZ);
      return 0;
    case TCP_OPTS.TCP_USER_TIMEOUT:
      if (val < 0) return -ERRNO.EINVAL;
      tp.icsk_user_timeout = val;
      return 0;
    case TCP_OPTS.TCP_KEEPIDLE:
      if (val < 1 || val > 32767) return -ERRNO.EINVAL;
      tp.keepalive_time = val;
      if (sock_flag(tp, SOCK_FLAGS.SOCK_KEEPOPEN) && !((1 << tp.skc_state) & (TCPF_STATES.TCPF_CLOSE | TCPF_STATES.TCPF_LISTEN))) {
        const elapsed = tcp_jiffies32(tp) - Math.max(tp.rcv_tstamp, tp.icsk_ack_lrcvtime);
        inet_csk_reset_keepalive_timer(tp, Math.max(keepalive_time_when(tp) - elapsed, 0));
      }
      return 0;
    case TCP_OPTS.TCP_KEEPINTVL:
      if (val < 1 || val > 32767) return -ERRNO.EINVAL;
      tp.keepalive_intvl = val;
      return 0;
    case TCP_OPTS.TCP_KEEPCNT:
      if (val < 1 || val > 127) return -ERRNO.EINVAL;
      tp.keepalive_probes = val;
      return 0;
    case TCP_OPTS.TCP_SYNCNT:
      if (val < 1 || val > 255) return -ERRNO.EINVAL;
      tp.icsk_syn_retries = val;
      return 0;
    case TCP_OPTS.TCP_LINGER2:
      if (val < 0) tp.linger2 = -1;
      else if (val > 120) tp.linger2 = 120 * HZ;
      else tp.linger2 = val * HZ;
      return 0;
    case TCP_OPTS.TCP_WINDOW_CLAMP: {
      // tcp_set_window_clamp.
      if (val === 0) {
        if (tp.skc_state !== TCP_STATES.TCP_CLOSE) return -ERRNO.EINVAL;
        tp.window_clamp = tp.user_window_clamp = 0;
        return 0;
      }
      const old = tp.window_clamp;
      const clamp = val < SOCK_MIN_RCVBUF / 2 ? SOCK_MIN_RCVBUF / 2 : val;
      tp.user_window_clamp = clamp;
      if (clamp === old) return 0;
      tp.window_clamp = clamp;
      if (clamp < old) tp.rcv_ssthresh = Math.min(tp.rcv_ssthresh, clamp);
      else tp.rcv_ssthresh = Math.max(Math.min(tp.rcv_wnd, clamp), tp.rcv_ssthresh);
      return 0;
    }
    default:
      return -ERRNO.ENOPROTOOPT;
  }
}

/** struct tcp_info's fields (a subset, by the kernel's names). */
export interface TcpInfo {
  tcpi_state: number;
  tcpi_ca_state: number;
  tcpi_retransmits: number;
  tcpi_probes: number;
  tcpi_backoff: number;
  tcpi_options: number;
  tcpi_snd_wscale: number;
  tcpi_rcv_wscale: number;
  tcpi_rto: number;
  tcpi_ato: number;
  tcpi_snd_mss: number;
  tcpi_rcv_mss: number;
  tcpi_unacked: number;
  tcpi_sacked: number;
  tcpi_lost: number;
  tcpi_retrans: number;
  tcpi_pmtu: number;
  tcpi_rcv_ssthresh: number;
  tcpi_rtt: number;
  tcpi_rttvar: number;
  tcpi_snd_ssthresh: number;
  tcpi_snd_cwnd: number;
  tcpi_advmss: number;
  tcpi_reordering: number;
  tcpi_total_retrans: number;
  tcpi_bytes_acked: number;
  tcpi_bytes_received: number;
  tcpi_segs_out: number;
  tcpi_segs_in: number;
  tcpi_data_segs_in: number;
  tcpi_data_segs_out: number;
  tcpi_delivered: number;
  tcpi_bytes_sent: number;
  tcpi_bytes_retrans: number;
  tcpi_snd_wnd: number;
  tcpi_rcv_wnd: number;
}

/** TCPI_OPT_* */
export const TCPI_OPT = { TCPI_OPT_TIMESTAMPS: 1, TCPI_OPT_SACK: 2, TCPI_OPT_WSCALE: 4, TCPI_OPT_ECN: 8, TCPI_OPT_USEC_TS: 64 } as const;

/** tcp_get_info. */
export function tcp_get_info(tp: TcpSock): TcpInfo {
  let options = 0;
  if (tp.rx_opt.tstamp_ok) options |= TCPI_OPT.TCPI_OPT_TIMESTAMPS;
  if (tp.rx_opt.sack_ok) options |= TCPI_OPT.TCPI_OPT_SACK;
  if (tp.rx_opt.wscale_ok) options |= TCPI_OPT.TCPI_OPT_WSCALE;
  if (tp.tcp_usec_ts) options |= TCPI_OPT.TCPI_OPT_USEC_TS;
  return {
    tcpi_state: tp.skc_state,
    tcpi_ca_state: tp.icsk_ca_state,
    tcpi_retransmits: tp.icsk_retransmits,
    tcpi_probes: tp.icsk_probes_out,
    tcpi_backoff: tp.icsk_backoff,
    tcpi_options: options,
    tcpi_snd_wscale: tp.rx_opt.wscale_ok ? tp.rx_opt.snd_wscale : 0,
    tcpi_rcv_wscale: tp.rx_opt.wscale_ok ? tp.rx_opt.rcv_wscale : 0,
    tcpi_rto: tp.icsk_rto * 1000,
    tcpi_ato: tp.icsk_ack_ato * 1000,
    tcpi_snd_mss: tp.mss_cache,
    tcpi_rcv_mss: tp.icsk_ack_rcv_mss,
    tcpi_unacked: tp.packets_out,
    tcpi_sacked: tp.sacked_out,
    tcpi_lost: tp.lost_out,
    tcpi_retrans: tp.retrans_out,
    tcpi_pmtu: tp.icsk_pmtu_cookie,
    tcpi_rcv_ssthresh: tp.rcv_ssthresh,
    tcpi_rtt: tp.srtt_us >> 3,
    tcpi_rttvar: tp.mdev_us >> 2,
    tcpi_snd_ssthresh: tp.snd_ssthresh,
    tcpi_snd_cwnd: tp.snd_cwnd,
    tcpi_advmss: tp.advmss,
    tcpi_reordering: tp.reordering,
    tcpi_total_retrans: tp.total_retrans,
    tcpi_bytes_acked: tp.bytes_acked,
    tcpi_bytes_received: tp.bytes_received,
    tcpi_segs_out: tp.segs_out,
    tcpi_segs_in: tp.segs_in,
    tcpi_data_segs_in: tp.data_segs_in,
    tcpi_data_segs_out: tp.data_segs_out,
    tcpi_delivered: tp.delivered,
    tcpi_bytes_sent: tp.bytes_sent,
    tcpi_bytes_retrans: tp.bytes_retrans,
    tcpi_snd_wnd: tp.snd_wnd,
    tcpi_rcv_wnd: tp.rcv_wnd,
  };
}

/** struct tcp_info as the bytes getsockopt(TCP_INFO) returns on x86-64 (232 bytes, up to tcpi_rcv_wnd). */
export function tcp_info_bytes(i: TcpInfo): Uint8Array {
  const b = new Uint8Array(236);
  const v = new DataView(b.buffer);
  v.setUint8(0, i.tcpi_state);
  v.setUint8(1, i.tcpi_ca_state);
  v.setUint8(2, i.tcpi_retransmits);
  v.setUint8(3, i.tcpi_probes);
  v.setUint8(4, i.tcpi_backoff);
  v.setUint8(5, i.tcpi_options);
  v.setUint8(6, (i.tcpi_snd_wscale & 0xf) | ((i.tcpi_rcv_wscale & 0xf) << 4));
  const u32 = (off: number, x: number): void => v.setUint32(off, x >>> 0, true);
  const u64 = (off: number, x: number): void => v.setBigUint64(off, BigInt(Math.max(0, Math.floor(x))), true);
  u32(8, i.tcpi_rto);
  u32(12, i.tcpi_ato);
  u32(16, i.tcpi_snd_mss);
  u32(20, i.tcpi_rcv_mss);
  u32(24, i.tcpi_unacked);
  u32(28, i.tcpi_sacked);
  u32(32, i.tcpi_lost);
  u32(36, i.tcpi_retrans);
  u32(60, i.tcpi_pmtu);
  u32(64, i.tcpi_rcv_ssthresh);
  u32(68, i.tcpi_rtt);
  u32(72, i.tcpi_rttvar);
  u32(76, i.tcpi_snd_ssthresh);
  u32(80, i.tcpi_snd_cwnd);
  u32(84, i.tcpi_advmss);
  u32(88, i.tcpi_reordering);
  u32(100, i.tcpi_total_retrans);
  u64(120, i.tcpi_bytes_acked);
  u64(128, i.tcpi_bytes_received);
  u32(136, i.tcpi_segs_out);
  u32(140, i.tcpi_segs_in);
  u32(152, i.tcpi_data_segs_in);
  u32(156, i.tcpi_data_segs_out);
  u32(192, i.tcpi_delivered);
  u64(200, i.tcpi_bytes_sent);
  u64(208, i.tcpi_bytes_retrans);
  u32(228, i.tcpi_snd_wnd);
  u32(232, i.tcpi_rcv_wnd);
  return b;
}

/** tcp_getsockopt (SOL_TCP). */
export function tcp_getsockopt(sk: Sock, level: number, optname: number): SockoptValue {
  const tp = sk as TcpSock;
  if (level !== SOL_TCP) return -ERRNO.ENOPROTOOPT;
  switch (optname) {
    case TCP_OPTS.TCP_NODELAY:
      return tp.nonagle & TCP_NAGLE.TCP_NAGLE_OFF ? 1 : 0;
    case TCP_OPTS.TCP_CORK:
      return tp.nonagle & TCP_NAGLE.TCP_NAGLE_CORK ? 1 : 0;
    case TCP_OPTS.TCP_MAXSEG:
      if (tp.rx_opt.user_mss !== 0 && (1 << tp.skc_state) & (TCPF_STATES.TCPF_CLOSE | TCPF_STATES.TCPF_LISTEN)) return tp.rx_opt.user_mss;
      return tp.mss_cache;
    case TCP_OPTS.TCP_CONGESTION:
      return tp.icsk_ca_ops?.name ?? '';
    case TCP_OPTS.TCP_QUICKACK:
      return tp.icsk_ack_pingpong ? 0 : 1;
    case TCP_OPTS.TCP_DEFER_ACCEPT:
      return retrans_to_secs(tp.rskq_defer_accept, TCP_TIMEOUT_INIT / HZ, TCP_RTO_MAX / HZ);
    case TCP_OPTS.TCP_USER_TIMEOUT:
      return tp.icsk_user_timeout;
    case TCP_OPTS.TCP_KEEPIDLE:
      return tp.keepalive_time || tp.skc_net.ipv4.sysctl_tcp_keepalive_time;
    case TCP_OPTS.TCP_KEEPINTVL:
      return tp.keepalive_intvl || tp.skc_net.ipv4.sysctl_tcp_keepalive_intvl;
    case TCP_OPTS.TCP_KEEPCNT:
      return tp.keepalive_probes || tp.skc_net.ipv4.sysctl_tcp_keepalive_probes;
    case TCP_OPTS.TCP_SYNCNT:
      return tp.icsk_syn_retries || tp.skc_net.ipv4.sysctl_tcp_syn_retries;
    case TCP_OPTS.TCP_LINGER2:
      return tp.linger2 < 0 ? -1 : Math.floor((tp.linger2 || tp.skc_net.ipv4.sysctl_tcp_fin_timeout * HZ) / HZ);
    case TCP_OPTS.TCP_WINDOW_CLAMP:
      return tp.window_clamp;
    case TCP_OPTS.TCP_INFO:
      return tcp_info_bytes(tcp_get_info(tp));
    case TCP_TIMESTAMP: {
      // The TSval the socket would send now; the low bit says whether it counts microseconds.
      // The kernel's int may be negative; a negative number here would read as an errno, so the
      // same 32 bits are returned unsigned.
      const val = tcp_clock_ts(tp.tcp_usec_ts, tp.skc_net.boot.clock.ktime_get_ns()) + tp.tsoffset;
      return (tp.tcp_usec_ts ? val | 1 : val & ~1) >>> 0;
    }
    default:
      return -ERRNO.ENOPROTOOPT;
  }
}


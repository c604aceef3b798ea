// tcp_connect_init (tcp_output.c): the connecting socket's MSS, window and scale, before the SYN.
import { TCP_HDR_LEN, TCPOLEN, TCP_TIMEOUT_INIT } from './tcp-defs.ts';
import type { TcpSock } from './tcp-sock.ts';
import { tcp_full_space, tcp_init_wl } from './tcp-util.ts';
import { tcp_initialize_rcv_mss, tcp_select_initial_window, tcp_sync_mss } from './tcp-output.ts';
import { sock_reset_flag, SOCK_FLAGS } from '../core/sock.ts';

/** tcp_connect_init: everything the SYN and the handshake need, from the route's MTU. */
export function tcp_connect_init(tp: TcpSock, mtu: number): void {
  const net = tp.skc_net.ipv4;
  tp.tcp_header_len = TCP_HDR_LEN + (net.sysctl_tcp_timestamps ? TCPOLEN.TCPOLEN_TSTAMP_ALIGNED : 0);
  if (tp.rx_opt.user_mss !== 0) tp.rx_opt.mss_clamp = tp.rx_opt.user_mss;
  tp.max_window = 0;
  tcp_sync_mss(tp, mtu);
  // dst_metric_advmss: the route MTU less the headers, clamped by TCP_MAXSEG.
  let advmss = mtu - tp.icsk_af_ops!.net_header_len - TCP_HDR_LEN;
  if (tp.rx_opt.user_mss !== 0 && tp.rx_opt.user_mss < advmss) advmss = tp.rx_opt.user_mss;
  tp.advmss = advmss;
  tcp_initialize_rcv_mss(tp);
  // As Linux: the timestamp option is subtracted only when a previous connection left ts_recent.
  const r = tcp_select_initial_window(
    tp, tcp_full_space(tp), tp.advmss - (tp.rx_opt.ts_recent_stamp !== 0 ? tp.tcp_header_len - TCP_HDR_LEN : 0),
    net.sysctl_tcp_window_scaling !== 0, tp.user_window_clamp,
  );
  tp.rcv_wnd = r.rcv_wnd;
  tp.window_clamp = r.window_clamp;
  tp.rx_opt.rcv_wscale = r.rcv_wscale;
  tp.rcv_ssthresh = tp.rcv_wnd;
  tp.sk_err = 0;
  sock_reset_flag(tp, SOCK_FLAGS.SOCK_DONE);
  tp.snd_wnd = 0;
  tcp_init_wl(tp, 0);
  tp.snd_una = tp.write_seq;
  tp.snd_sml = tp.write_seq;
  tp.snd_up = tp.write_seq;
  tp.snd_nxt = tp.write_seq;
  tp.snd_isn = tp.write_seq;
  tp.rcv_nxt = 0;
  tp.rcv_wup = 0;
  tp.copied_seq = 0;
  tp.icsk_rto = TCP_TIMEOUT_INIT;
  tp.icsk_retransmits = 0;
  tp.retrans_out = tp.lost_out = tp.sacked_out = 0;
}

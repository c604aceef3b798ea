// struct tcp_sock (include/linux/tcp.h) with struct inet_connection_sock's fields: the sequence
// space, windows, RTT estimator, congestion state and timers of one TCP connection. Sequence
// numbers are u32 in JavaScript numbers (>>> 0) and compared with before()/after(), as the kernel's.
import { Sock } from '../core/sock.ts';
import type { Net } from '../core/net-namespace.ts';
import type { InetFamily } from '../core/socket-constants.ts';
import type { TcpCongestionOps } from './tcp-cong.ts';

/** enum tcp_ca_state (include/uapi/linux/tcp.h). */
export const TCP_CA = { TCP_CA_Open: 0, TCP_CA_Disorder: 1, TCP_CA_CWR: 2, TCP_CA_Recovery: 3, TCP_CA_Loss: 4 } as const;

/** TCP_INFINITE_SSTHRESH */
export const TCP_INFINITE_SSTHRESH = 0x7fffffff;

export class TcpSock extends Sock {
  // --- sequence space (RFC 9293 names in the comments) ---
  /** RCV.NXT */
  rcv_nxt = 0;
  /** Head of yet unread data. */
  copied_seq = 0;
  /** rcv_nxt on last window update sent. */
  rcv_wup = 0;
  /** SND.NXT */
  snd_nxt = 0;
  /** SND.UNA */
  snd_una = 0;
  /** Last byte queued for sending (write_seq). */
  write_seq = 0;
  /** Sequence of the last window update (SND.WL1). */
  snd_wl1 = 0;
  /** SND.WND, the peer's window, already scaled. */
  snd_wnd = 0;
  /** Largest window the peer has offered. */
  max_window = 0;
  /** RCV.WND announced last (already scaled down when sent). */
  rcv_wnd = 0;
  /** Current window clamp. */
  window_clamp = 0;
  rcv_ssthresh = 0;
  /** The peer's and our ISNs. */
  snd_isn = 0;
  rcv_isn = 0;

  // --- MSS and options ---
  /** Cached effective MSS, not including SACK blocks (mss_cache). */
  mss_cache = 536;
  /** Advertised MSS (tp->advmss). */
  advmss = 536;
  /** rx_opt: what the peer's SYN negotiated. */
  readonly rx_opt = new TcpOptionsReceived();
  /** TCP_NODELAY (nonagle bits: TCP_NAGLE_OFF 1, TCP_NAGLE_CORK 2, TCP_NAGLE_PUSH 4). */
  nonagle = 0;
  /** Bytes of TCP header a full segment carries (sizeof(tcphdr) + options), tcp_header_len. */
  tcp_header_len = 20;

  // --- RTT (RFC 6298; microseconds as the kernel keeps srtt_us << 3) ---
  /** Smoothed RTT << 3, in us. */
  srtt_us = 0;
  /** Medium deviation, mdev_us << 2. */
  mdev_us = 0;
  mdev_max_us = 0;
  /** Smoothed mdev_max, rttvar_us << 2. */
  rttvar_us = 0;
  rtt_seq = 0;

  // --- congestion control ---
  snd_cwnd = 10;
  snd_ssthresh: number = TCP_INFINITE_SSTHRESH;
  /** Linear increase counter. */
  snd_cwnd_cnt = 0;
  snd_cwnd_clamp = 0xffffffff;
  /** Jiffies of the last cwnd change (snd_cwnd_stamp). */
  snd_cwnd_stamp = 0;
  /** prior_cwnd: cwnd before the loss-recovery episode. */
  prior_cwnd = 0;
  /** Segments in flight accounting (tcp_packets_in_flight = packets_out - (sacked_out + lost_out) + retrans_out). */
  packets_out = 0;
  retrans_out = 0;
  sacked_out = 0;
  lost_out = 0;
  /** Segments delivered (tp->delivered), for the CC hooks' rate sample. */
  delivered = 0;
  /** Whether cwnd limited the last send (is_cwnd_limited), what cubic and reno check before growing. */
  is_cwnd_limited = false;
  /** max_packets_out in the last window, for tcp_is_cwnd_limited. */
  max_packets_out = 0;
  /** snd_una at the start of recovery (high_seq). */
  high_seq = 0;
  undo_marker = 0;
  undo_retrans = -1;
  /** The TCP_CA_* state (icsk_ca_state). */
  icsk_ca_state: number = TCP_CA.TCP_CA_Open;
  /** The congestion control in use and its private state (icsk_ca_ops, icsk_ca_priv). */
  icsk_ca_ops: TcpCongestionOps | null = null;
  icsk_ca_priv: unknown = null;
  /** tcp_mstamp: the time of the current event, us (tcp_clock_us()). */
  tcp_mstamp = 0;

  // --- timers (inet_connection_sock) ---
  /** Current RTO, jiffies. */
  icsk_rto = 200;
  /** Retransmits since the last ACK that advanced snd_una. */
  icsk_retransmits = 0;
  /** Probes (zero-window, keepalive) sent unanswered. */
  icsk_probes_out = 0;
  icsk_backoff = 0;
  /** ICSK_TIME_RETRANS / PROBE0 / ..., which event the retransmit timer serves. */
  icsk_pending = 0;
  /** Delayed ACK state (icsk_ack: pending bits, quick count, ato, pingpong). */
  icsk_ack_pending = 0;
  icsk_ack_quick = 0;
  icsk_ack_ato = 40;
  icsk_ack_pingpong = 0;
  icsk_ack_lrcvtime = 0;
  icsk_ack_rcv_mss = 536;

  // --- listener state ---
  /** The accept queue (icsk_accept_queue): established children waiting for accept(). */
  readonly icsk_accept_queue: TcpSock[] = [];
  /** Request sockets in NEW_SYN_RECV (the SYN queue length, reqsk_queue_len). */
  syn_queue_len = 0;

  constructor(net: Net, family: InetFamily, type: number, protocol: number, uid: number) {
    super(net, family, type, protocol, uid);
  }
}

/** struct tcp_options_received. */
export class TcpOptionsReceived {
  /** TSval/TSecr of the last segment; ts_recent (what we echo) and when it was set (seconds). */
  rcv_tsval = 0;
  rcv_tsecr = 0;
  ts_recent = 0;
  ts_recent_stamp = 0;
  saw_tstamp = false;
  tstamp_ok = false;
  sack_ok = false;
  wscale_ok = false;
  /** Window scale shifts: what the peer sends with, what we send with. */
  snd_wscale = 0;
  rcv_wscale = 0;
  /** MSS the peer announced, and the clamp (user_mss / the peer's). */
  mss_clamp = 536;
  user_mss = 0;
  /** SACK blocks in the current segment. */
  num_sacks = 0;
}

/** before(seq1, seq2): seq1 precedes seq2 in sequence space (mod 2^32). */
export function before(seq1: number, seq2: number): boolean {
  return ((seq1 - seq2) | 0) < 0;
}

export function after(seq2: number, seq1: number): boolean {
  return before(seq1, seq2);
}

/** between(seq1, seq2, seq3): seq2 <= seq1 <= seq3. */
export function between(seq1: number, seq2: number, seq3: number): boolean {
  return ((seq3 - seq2) >>> 0) >= ((seq1 - seq2) >>> 0);
}

export function tcp_sk(sk: Sock): TcpSock {
  return sk as TcpSock;
}

/** tcp_snd_cwnd / tcp_snd_cwnd_set, as CC modules call them. */
export function tcp_snd_cwnd(tp: TcpSock): number {
  return tp.snd_cwnd;
}
export function tcp_snd_cwnd_set(tp: TcpSock, val: number): void {
  tp.snd_cwnd = val >>> 0;
}

/** tcp_packets_in_flight. */
export function tcp_packets_in_flight(tp: TcpSock): number {
  return tp.packets_out - (tp.sacked_out + tp.lost_out) + tp.retrans_out;
}

/** tcp_in_slow_start. */
export function tcp_in_slow_start(tp: TcpSock): boolean {
  return tp.snd_cwnd < tp.snd_ssthresh;
}

/** tcp_is_cwnd_limited. */
export function tcp_is_cwnd_limited(tp: TcpSock): boolean {
  if (tcp_in_slow_start(tp)) return tp.snd_cwnd < 2 * tp.max_packets_out;
  return tp.is_cwnd_limited;
}

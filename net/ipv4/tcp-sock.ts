// struct tcp_sock (include/linux/tcp.h) with struct inet_connection_sock's fields: the sequence
// space, windows, RTT estimator, congestion state and timers of one TCP connection. Sequence
// numbers are u32 in JavaScript numbers (>>> 0) and compared with before()/after(), as the kernel's.
import { Sock } from '../core/sock.ts';
import type { Net } from '../core/net-namespace.ts';
import type { InetFamily } from '../core/socket-constants.ts';
import type { TcpCongestionOps } from './tcp-cong.ts';
import { SkBuffHead, type SkBuff } from '../core/skbuff.ts';
import { TimerList } from '../core/clock.ts';
import type { RequestSock } from '../core/request-sock.ts';
import type { SockCommon } from '../core/sock-common.ts';

/**
 * The per-family half of a TCP socket (struct inet_connection_sock_af_ops plus the
 * tcp_request_sock_ops the listener uses): IPv4's in tcp-ipv4.ts, IPv6's in tcp-ipv6.ts, and the
 * v4-mapped one an AF_INET6 socket switches to when it connects to an IPv4 peer.
 */
export interface TcpAfOps {
  /** IP header length: 20 or 40 (net_header_len). */
  readonly net_header_len: number;
  /** ip_queue_xmit / inet6_csk_xmit: the segment (data at the TCP header) to the IP layer. Consumes it. */
  queue_xmit(sk: TcpSock, skb: SkBuff): number;
  /** tcp_v4_send_check: the checksum over the pseudo-header of sk's addresses. */
  send_check(sk: TcpSock, skb: SkBuff): void;
  /** conn_request: a SYN for a listener (tcp_v4_conn_request). Consumes nothing. */
  conn_request(sk: TcpSock, skb: SkBuff): number;
  /** syn_recv_sock: the child for a completed handshake, hashed and with its port, or null. */
  syn_recv_sock(sk: TcpSock, skb: SkBuff, req: RequestSock, own_req: { value: boolean }): TcpSock | null;
  /** send_synack: builds and sends the SYN-ACK for req. */
  send_synack(sk: TcpSock, req: RequestSock, synack_type: number): number;
  /** send_reset / send_ack for a segment (no full socket: tcp_v4_send_reset, the TIME_WAIT and request ACKs). */
  send_reset(sk: SockCommon | null, skb: SkBuff): void;
  /** reqsk_send_ack: an ACK for a request socket (a retransmitted or out-of-window segment). */
  reqsk_send_ack(sk: TcpSock, skb: SkBuff, req: RequestSock): void;
  /** The path MTU of the route, 0 if unknown. */
  route_mtu(sk: TcpSock): number;
  /** init_req + route_req: the request's addresses from the SYN; 0, or a negative errno (no route back). */
  init_req(req: RequestSock, sk: TcpSock, skb: SkBuff): number;
  /** The MTU of the route to the request's peer (for the MSS the SYN-ACK announces). */
  req_mtu(req: RequestSock): number;
  /** cookie_init_seq: the SYN cookie ISN for this SYN; lowers mssp.mss to what the cookie encodes. */
  cookie_init_seq(skb: SkBuff, mssp: { mss: number }): number;
  /** init_seq / init_ts_off for this family's addresses (secure_tcp_seq, secure_tcp_ts_off). */
  init_seq(skb: SkBuff): number;
  init_ts_off(skb: SkBuff): number;
}

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
  /** tcp_usec_ts: our TSvals count microseconds (the route's RTAX_FEATURE_TCP_USEC_TS, or the request's req_usec_ts). */
  tcp_usec_ts = false;

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
  /** Request sockets not yet retransmitted (qlen_young), which the SYN-ACK timer's pruning keeps. */
  syn_queue_young = 0;
  /** When the SYN queue last overflowed (rx_opt.ts_recent_stamp in the kernel, jiffies): cookies are accepted only shortly after. */
  synq_overflow_ts = 0;
  synq_overflow_valid = false;
  /** TCP_DEFER_ACCEPT, seconds converted to retransmits (rskq_defer_accept). */
  rskq_defer_accept = 0;
  /** The listener the child came from, until it is accepted (for accept-queue bookkeeping). */
  parent_listener: TcpSock | null = null;

  // --- queues beyond struct sock's ---
  /** Sent, not yet acknowledged segments (tcp_rtx_queue; the kernel's is an rbtree), in sequence order. */
  readonly tcp_rtx_queue = new SkBuffHead();
  /** Received out of order (out_of_order_queue), sorted by sequence, no overlaps. */
  readonly out_of_order_queue = new SkBuffHead();

  // --- the family's operations ---
  icsk_af_ops: TcpAfOps | null = null;

  // --- timers (inet_csk_init_xmit_timers) ---
  readonly icsk_retransmit_timer: TimerList;
  readonly icsk_delack_timer: TimerList;
  /** sk->sk_timer: keepalive and the orphaned FIN_WAIT2 timer (request sockets have their own). */
  readonly sk_timer: TimerList;
  /** Jiffies the retransmit timer is set for (icsk_timeout). */
  icsk_timeout = 0;
  /** Jiffies the delayed-ACK timer is set for (icsk_ack.timeout). */
  icsk_ack_timeout = 0;
  /** The user's SYN retries (TCP_SYNCNT, 0: the sysctl). */
  icsk_syn_retries = 0;
  /** TCP_USER_TIMEOUT, ms (0: off). */
  icsk_user_timeout = 0;
  /** The path MTU the MSS was computed from (icsk_pmtu_cookie). */
  icsk_pmtu_cookie = 0;
  /** icsk_ack.rcv_mss estimates the peer's MSS; this remembers the last segment length (last_seg_size). */
  icsk_ack_last_seg_size = 0;

  // --- more of struct tcp_sock ---
  /** Segment counts (segs_in / segs_out / data_segs_in / data_segs_out) and byte counts for TCP_INFO. */
  segs_in = 0;
  segs_out = 0;
  data_segs_in = 0;
  data_segs_out = 0;
  bytes_received = 0;
  bytes_acked = 0;
  bytes_sent = 0;
  bytes_retrans = 0;
  total_retrans = 0;
  /** The end of the last small segment sent (snd_sml), for Minshall's Nagle. */
  snd_sml = 0;
  /** Urgent pointer state is not modelled; snd_up follows snd_una. */
  snd_up = 0;
  /** Header prediction flags (pred_flags), 0 when the fast path is off. */
  pred_flags = 0;
  /** Time of the last received ACK (rcv_tstamp) and last sent data (lsndtime), jiffies. */
  rcv_tstamp = 0;
  lsndtime = 0;
  /** When the first unacknowledged retransmission went out (retrans_stamp), in tcp_time_stamp_ts units (us with tcp_usec_ts); 0 when none. */
  retrans_stamp = 0;
  /** tsoffset: added to our TSval (secure_tcp_ts_off). */
  tsoffset = 0;
  /** The reordering degree (tp->reordering), in segments. */
  reordering = 3;
  /** PRR (RFC 6937): delivered and sent since recovery started. */
  prr_delivered = 0;
  prr_out = 0;
  /** prior_ssthresh: restored by an undo. */
  prior_ssthresh = 0;
  /** The highest sequence SACKed (highest_sack's end), for loss marking. */
  highest_sack_end = 0;
  /** The SACK blocks our ACKs carry (selective_acks, most recent first), and a D-SACK (duplicate_sack). */
  readonly selective_acks: { start_seq: number; end_seq: number }[] = [];
  readonly duplicate_sack: { start_seq: number; end_seq: number } = { start_seq: 0, end_seq: 0 };
  dsack = false;
  /** The keepalive settings (keepalive_time/intvl/probes; 0: the sysctl). Seconds. */
  keepalive_time = 0;
  keepalive_intvl = 0;
  keepalive_probes = 0;
  /** TCP_LINGER2 (linger2): the orphaned FIN_WAIT2 time in jiffies; 0: the sysctl; negative: none. */
  linger2 = 0;
  /** TCP_WINDOW_CLAMP by the user. */
  user_window_clamp = 0;
  /** FIN queued in the write queue (or sent). */
  fin_queued = false;
  /** The last time an out-of-window duplicate ACK was sent (last_oow_ack_time, jiffies). */
  last_oow_ack_time = 0;
  /** A sendmsg found the send buffer full (SOCK_NOSPACE): wake the writer when ACKs free it. */
  sk_nospace = false;
  /** Set when the socket entered ESTABLISHED through a SYN cookie. */
  syncookie = false;

  constructor(net: Net, family: InetFamily, type: number, protocol: number, uid: number) {
    super(net, family, type, protocol, uid);
    this.icsk_retransmit_timer = new TimerList(() => tcp_timer_dispatch.retransmit(this));
    this.icsk_delack_timer = new TimerList(() => tcp_timer_dispatch.delack(this));
    this.sk_timer = new TimerList(() => tcp_timer_dispatch.keepalive(this));
  }
}

/**
 * The timer callbacks (tcp-timer.ts installs them at tcp_init time): the socket structure is
 * declared here without importing the timers, which import it.
 */
export const tcp_timer_dispatch: { retransmit: (sk: TcpSock) => void; delack: (sk: TcpSock) => void; keepalive: (sk: TcpSock) => void } = {
  retransmit: () => {},
  delack: () => {},
  keepalive: () => {},
};

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

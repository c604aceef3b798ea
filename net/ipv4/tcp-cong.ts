// struct tcp_congestion_ops (include/net/tcp.h): the hooks TCP calls on ACKs, losses and state
// changes. The registry, Reno (tcp_reno_*) and CUBIC (tcp_cubic.c) implement it.
import type { TcpSock } from './tcp-sock.ts';

/** enum tcp_ca_event */
export const CA_EVENT = {
  CA_EVENT_TX_START: 0,
  CA_EVENT_CWND_RESTART: 1,
  CA_EVENT_COMPLETE_CWR: 2,
  CA_EVENT_LOSS: 3,
  CA_EVENT_ECN_NO_CE: 4,
  CA_EVENT_ECN_IS_CE: 5,
} as const;

/** struct ack_sample: what pkts_acked receives. */
export interface AckSample {
  pkts_acked: number;
  /** RTT of this ACK in us, or -1 when none could be taken (retransmitted data). */
  rtt_us: number;
  in_flight: number;
}

export interface TcpCongestionOps {
  readonly name: string;
  /** Sets up icsk_ca_priv. */
  init?(sk: TcpSock): void;
  release?(sk: TcpSock): void;
  /** The slow start threshold after a loss (required). */
  ssthresh(sk: TcpSock): number;
  /** Grows cwnd for `acked` newly acknowledged segments. */
  cong_avoid(sk: TcpSock, ack: number, acked: number): void;
  set_state?(sk: TcpSock, new_state: number): void;
  cwnd_event?(sk: TcpSock, ev: number): void;
  pkts_acked?(sk: TcpSock, sample: AckSample): void;
  /** The cwnd to restore when a loss was spurious (required). */
  undo_cwnd(sk: TcpSock): number;
}

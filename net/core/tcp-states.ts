// include/net/tcp_states.h: the TCP state numbers, which every inet socket's skc_state uses (a UDP
// socket is TCP_CLOSE, or TCP_ESTABLISHED once connected), and the TCPF_ bit for each.
export const TCP_STATES = {
  TCP_ESTABLISHED: 1,
  TCP_SYN_SENT: 2,
  TCP_SYN_RECV: 3,
  TCP_FIN_WAIT1: 4,
  TCP_FIN_WAIT2: 5,
  TCP_TIME_WAIT: 6,
  TCP_CLOSE: 7,
  TCP_CLOSE_WAIT: 8,
  TCP_LAST_ACK: 9,
  TCP_LISTEN: 10,
  TCP_CLOSING: 11, // Now a valid state
  TCP_NEW_SYN_RECV: 12,
  TCP_BOUND_INACTIVE: 13, // Pseudo-state for inet_diag
} as const;

export type TcpState = (typeof TCP_STATES)[keyof typeof TCP_STATES];

export const {
  TCP_ESTABLISHED,
  TCP_SYN_SENT,
  TCP_SYN_RECV,
  TCP_FIN_WAIT1,
  TCP_FIN_WAIT2,
  TCP_TIME_WAIT,
  TCP_CLOSE,
  TCP_CLOSE_WAIT,
  TCP_LAST_ACK,
  TCP_LISTEN,
  TCP_CLOSING,
  TCP_NEW_SYN_RECV,
  TCP_BOUND_INACTIVE,
} = TCP_STATES;

export const TCP_MAX_STATES = 14;

/** TCPF_<state> = 1 << TCP_<state>, for tests of a state against a set. */
export const TCPF_STATES = {
  TCPF_ESTABLISHED: 1 << TCP_ESTABLISHED,
  TCPF_SYN_SENT: 1 << TCP_SYN_SENT,
  TCPF_SYN_RECV: 1 << TCP_SYN_RECV,
  TCPF_FIN_WAIT1: 1 << TCP_FIN_WAIT1,
  TCPF_FIN_WAIT2: 1 << TCP_FIN_WAIT2,
  TCPF_TIME_WAIT: 1 << TCP_TIME_WAIT,
  TCPF_CLOSE: 1 << TCP_CLOSE,
  TCPF_CLOSE_WAIT: 1 << TCP_CLOSE_WAIT,
  TCPF_LAST_ACK: 1 << TCP_LAST_ACK,
  TCPF_LISTEN: 1 << TCP_LISTEN,
  TCPF_CLOSING: 1 << TCP_CLOSING,
  TCPF_NEW_SYN_RECV: 1 << TCP_NEW_SYN_RECV,
  TCPF_BOUND_INACTIVE: 1 << TCP_BOUND_INACTIVE,
} as const;

const NAMES = new Map<number, string>(Object.entries(TCP_STATES).map(([k, v]) => [v, k]));

/** "TCP_LISTEN" for 10, for messages and socket listings. */
export function tcp_state_name(state: number): string {
  return NAMES.get(state) ?? `TCP_STATE_${state}`;
}

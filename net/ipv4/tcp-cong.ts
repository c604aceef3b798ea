// Pluggable congestion control (net/ipv4/tcp_cong.c): struct tcp_congestion_ops, the registry of
// algorithms by name, how a socket gets one (the netns default, net.ipv4.tcp_congestion_control,
// or TCP_CONGESTION), and Reno, which every other algorithm falls back to and borrows from
// (tcp_slow_start, tcp_cong_avoid_ai, tcp_reno_undo_cwnd). CUBIC is in tcp-cubic.ts.
//
// Windows and counters are u32 in the kernel; here they are non-negative numbers that never come
// near 2^32 (a cwnd is a count of segments), so the arithmetic is plain.
import type { Net } from '../core/net-namespace.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { TCP_CLOSE, TCP_LISTEN } from '../core/tcp-states.ts';
import { type TcpSock, TCP_CA, tcp_in_slow_start, tcp_is_cwnd_limited } from './tcp-sock.ts';
import { cubictcp } from './tcp-cubic.ts';

/** enum tcp_ca_event */
export const CA_EVENT = {
  CA_EVENT_TX_START: 0,
  CA_EVENT_CWND_RESTART: 1,
  CA_EVENT_COMPLETE_CWR: 2,
  CA_EVENT_LOSS: 3,
  CA_EVENT_ECN_NO_CE: 4,
  CA_EVENT_ECN_IS_CE: 5,
} as const;

/** tcp_congestion_ops.flags */
export const TCP_CONG = {
  /** Unprivileged sockets may select it (net.ipv4.tcp_allowed_congestion_control). */
  TCP_CONG_NON_RESTRICTED: 0x1,
  /** Requires ECN (DCTCP). */
  TCP_CONG_NEEDS_ECN: 0x2,
} as const;

/** TCP_CA_NAME_MAX: names are at most 15 characters. */
export const TCP_CA_NAME_MAX = 16;

/** struct ack_sample: what pkts_acked receives. */
export interface AckSample {
  pkts_acked: number;
  /** RTT of this ACK in us, or -1 when none could be taken (retransmitted data). */
  rtt_us: number;
  in_flight: number;
}

export interface TcpCongestionOps {
  readonly name: string;
  /** TCP_CONG_* flags. Mutable: becoming a netns default makes an algorithm unrestricted. */
  flags?: number;
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

// --- Reno (and the helpers every algorithm uses) ---

/**
 * tcp_slow_start: RFC 5681 slow start, cwnd += acked (one segment per segment ACKed) but not past
 * ssthresh. Returns what is left of `acked` once ssthresh is reached, for congestion avoidance.
 */
export function tcp_slow_start(tp: TcpSock, acked: number): number {
  const cwnd = Math.min(tp.snd_cwnd + acked, tp.snd_ssthresh);
  const left = acked - (cwnd - tp.snd_cwnd);
  tp.snd_cwnd = Math.min(cwnd, tp.snd_cwnd_clamp) >>> 0;
  return left;
}

/**
 * tcp_cong_avoid_ai: additive increase, cwnd += 1 per `w` segments ACKed (w = cwnd: one segment a
 * round trip). Credit piled up while w was larger is applied first, one segment's worth.
 */
export function tcp_cong_avoid_ai(tp: TcpSock, w: number, acked: number): void {
  if (tp.snd_cwnd_cnt >= w) {
    tp.snd_cwnd_cnt = 0;
    tp.snd_cwnd++;
  }
  tp.snd_cwnd_cnt += acked;
  if (tp.snd_cwnd_cnt >= w && w > 0) {
    const delta = Math.floor(tp.snd_cwnd_cnt / w);
    tp.snd_cwnd_cnt -= delta * w;
    tp.snd_cwnd += delta;
  }
  if (tp.snd_cwnd > tp.snd_cwnd_clamp) tp.snd_cwnd = tp.snd_cwnd_clamp;
}

/** tcp_reno_cong_avoid: slow start below ssthresh, then one segment per round trip; only when cwnd is what limits sending. */
export function tcp_reno_cong_avoid(sk: TcpSock, _ack: number, acked: number): void {
  const tp = sk;
  if (!tcp_is_cwnd_limited(tp)) return;
  let left = acked;
  if (tcp_in_slow_start(tp)) {
    left = tcp_slow_start(tp, left);
    if (!left) return;
  }
  tcp_cong_avoid_ai(tp, tp.snd_cwnd, left);
}

/** tcp_reno_ssthresh: half the window, at least 2. */
export function tcp_reno_ssthresh(sk: TcpSock): number {
  return Math.max(sk.snd_cwnd >>> 1, 2);
}

/** tcp_reno_undo_cwnd: back to the window before the (spurious) reduction. */
export function tcp_reno_undo_cwnd(sk: TcpSock): number {
  return Math.max(sk.snd_cwnd, sk.prior_cwnd);
}

export const tcp_reno: TcpCongestionOps = {
  name: 'reno',
  flags: TCP_CONG.TCP_CONG_NON_RESTRICTED,
  ssthresh: tcp_reno_ssthresh,
  cong_avoid: tcp_reno_cong_avoid,
  undo_cwnd: tcp_reno_undo_cwnd,
};

// --- the registry (tcp_cong_list) ---

// Built on first use rather than at load so tcp-cubic.ts (which imports this file for Reno's
// helpers) can be imported first or second: reno and cubic are registered as at boot.
let tcp_cong_list: TcpCongestionOps[] | null = null;

function cong_list(): TcpCongestionOps[] {
  if (tcp_cong_list === null) {
    tcp_cong_list = [tcp_reno];
    // CONFIG_DEFAULT_TCP_CONG: cubic is the boot default, which makes it unrestricted.
    cubictcp.flags = (cubictcp.flags ?? 0) | TCP_CONG.TCP_CONG_NON_RESTRICTED;
    tcp_cong_list.push(cubictcp);
  }
  return tcp_cong_list;
}

/** tcp_ca_find: the registered algorithm called `name`. */
export function tcp_ca_find(name: string): TcpCongestionOps | undefined {
  for (const ca of cong_list()) if (ca.name === name) return ca;
  return undefined;
}

/** tcp_register_congestion_control: 0, -EINVAL (a required op missing, or a bad name), -EEXIST. */
export function tcp_register_congestion_control(ca: TcpCongestionOps): number {
  if (typeof ca.ssthresh !== 'function' || typeof ca.undo_cwnd !== 'function' || typeof ca.cong_avoid !== 'function') {
    return -ERRNO.EINVAL;
  }
  if (ca.name.length === 0 || ca.name.length >= TCP_CA_NAME_MAX) return -ERRNO.EINVAL;
  if (tcp_ca_find(ca.name) !== undefined) return -ERRNO.EEXIST;
  cong_list().push(ca);
  return 0;
}

/** tcp_unregister_congestion_control. Sockets using it keep it (the kernel's module refcount would forbid this). */
export function tcp_unregister_congestion_control(ca: TcpCongestionOps): void {
  const list = cong_list();
  const i = list.indexOf(ca);
  if (i >= 0) list.splice(i, 1);
}

/** /proc/sys/net/ipv4/tcp_available_congestion_control: "reno cubic". */
export function tcp_get_available_congestion_control(): string {
  return cong_list().map((ca) => ca.name).join(' ');
}

/** /proc/sys/net/ipv4/tcp_allowed_congestion_control: what unprivileged sockets may choose. */
export function tcp_get_allowed_congestion_control(): string {
  return cong_list().filter((ca) => ((ca.flags ?? 0) & TCP_CONG.TCP_CONG_NON_RESTRICTED) !== 0).map((ca) => ca.name).join(' ');
}

/** tcp_set_default_congestion_control: writing net.ipv4.tcp_congestion_control. 0 or -ENOENT. */
export function tcp_set_default_congestion_control(net: Net, name: string): number {
  const ca = tcp_ca_find(name);
  if (ca === undefined) return -ERRNO.ENOENT;
  net.ipv4.sysctl_tcp_congestion_control = ca.name;
  ca.flags = (ca.flags ?? 0) | TCP_CONG.TCP_CONG_NON_RESTRICTED;
  return 0;
}

/** The private state an algorithm keeps (icsk_ca_priv), zeroed as the kernel's memset does. */
function ca_priv_clear(sk: TcpSock): void {
  sk.icsk_ca_priv = null;
}

/**
 * tcp_assign_congestion_control: at socket creation (tcp_init_sock), the netns default, Reno if
 * that is gone.
 */
export function tcp_assign_congestion_control(sk: TcpSock): void {
  const ca = tcp_ca_find(sk.skc_net.ipv4.sysctl_tcp_congestion_control) ?? tcp_reno;
  sk.icsk_ca_ops = ca;
  ca_priv_clear(sk);
}

/**
 * tcp_init_congestion_control: when the connection is established (tcp_init_transfer), the
 * algorithm's init. A socket that was never assigned one gets the netns default first.
 */
export function tcp_init_congestion_control(sk: TcpSock): void {
  if (sk.icsk_ca_ops === null) tcp_assign_congestion_control(sk);
  sk.prior_ssthresh = 0;
  sk.icsk_ca_ops!.init?.(sk);
}

/** tcp_cleanup_congestion_control: the algorithm's release, at close or before a switch. */
export function tcp_cleanup_congestion_control(sk: TcpSock): void {
  sk.icsk_ca_ops?.release?.(sk);
}

function tcp_reinit_congestion_control(sk: TcpSock, ca: TcpCongestionOps): void {
  tcp_cleanup_congestion_control(sk);
  sk.icsk_ca_ops = ca;
  ca_priv_clear(sk);
  if (sk.skc_state !== TCP_CLOSE && sk.skc_state !== TCP_LISTEN) tcp_init_congestion_control(sk);
}

// icsk_ca_setsockopt: the algorithm was chosen with TCP_CONGESTION, so a listener's children
// keep it instead of taking the netns default (a bit of inet_connection_sock, kept beside it).
const ca_setsockopt = new WeakSet<TcpSock>();

/** icsk->icsk_ca_setsockopt. */
export function icsk_ca_setsockopt(sk: TcpSock): boolean {
  return ca_setsockopt.has(sk);
}

/**
 * tcp_set_congestion_control (setsockopt TCP_CONGESTION): 0, -ENOENT for an unknown name,
 * -EPERM for a restricted one without CAP_NET_ADMIN. An established socket starts the new
 * algorithm at once (its init runs); a closed or listening one when it connects.
 */
export function tcp_set_congestion_control(sk: TcpSock, name: string, cap_net_admin = true): number {
  const ca = tcp_ca_find(name);
  if (ca !== undefined && ca === sk.icsk_ca_ops) {
    ca_setsockopt.add(sk);
    return 0;
  }
  if (ca === undefined) return -ERRNO.ENOENT;
  if (((ca.flags ?? 0) & TCP_CONG.TCP_CONG_NON_RESTRICTED) === 0 && !cap_net_admin) return -ERRNO.EPERM;
  tcp_reinit_congestion_control(sk, ca);
  ca_setsockopt.add(sk);
  return 0;
}

/**
 * tcp_ca_openreq_child (tcp_minisocks.c): a passive child's algorithm: the listener's if it was
 * set with TCP_CONGESTION, else the netns default now (which may have changed since listen()),
 * and the CA state Open. The kernel's child is a copy of the listener and inherits the flag; here
 * the listener is passed. No per-route algorithm (RTAX_CC_ALGO) is modelled.
 */
export function tcp_ca_openreq_child(newsk: TcpSock, listener: TcpSock): void {
  if (ca_setsockopt.has(listener) && listener.icsk_ca_ops !== null) {
    newsk.icsk_ca_ops = listener.icsk_ca_ops;
    ca_priv_clear(newsk);
    ca_setsockopt.add(newsk);
  } else {
    tcp_assign_congestion_control(newsk);
  }
  tcp_set_ca_state(newsk, TCP_CA.TCP_CA_Open);
}

/** tcp_ca_event: tells the algorithm about a CA_EVENT_*. */
export function tcp_ca_event(sk: TcpSock, event: number): void {
  sk.icsk_ca_ops?.cwnd_event?.(sk, event);
}

/** tcp_set_ca_state: the algorithm's set_state hook, then icsk_ca_state. */
export function tcp_set_ca_state(sk: TcpSock, ca_state: number): void {
  sk.icsk_ca_ops?.set_state?.(sk, ca_state);
  sk.icsk_ca_state = ca_state;
}

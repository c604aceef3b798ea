// struct request_sock / inet_request_sock / tcp_request_sock: what a SYN leaves in ehash
// (TCP_NEW_SYN_RECV) until the handshake completes. Its sock_common is the connection's:
// ir_loc_addr is skc_rcv_saddr, ir_rmt_addr skc_daddr, ir_num skc_num, ir_rmt_port skc_dport.
// tcp_conn_request (net/ipv4/tcp-conn-request.ts) fills in the rest: the ISNs, the options the
// SYN negotiated, and the SYN-ACK retransmit timer (rsk_timer).
import { SockCommon } from './sock-common.ts';
import { TCP_NEW_SYN_RECV } from './tcp-states.ts';
import { TimerList } from './clock.ts';
import type { Sock } from './sock.ts';
import type { Net } from './net-namespace.ts';

export class RequestSock extends SockCommon {
  /**
   * The listener the SYN arrived on. A request bpf_sk_assign_tcp_reqsk made holds no reference
   * on it, and skb_steal_sock takes it (clears it) on the way to that listener's receive path.
   */
  rsk_listener: Sock | null;
  /** SYN-ACK retransmissions so far (num_retrans) and timeouts (num_timeout). */
  num_retrans = 0;
  num_timeout = 0;
  /**
   * The SYN-ACK retransmit timer (reqsk_timer_handler; its callback is set by TCP), made on first
   * use: a cookie SYN's request is freed without ever arming it, and a flood makes one per SYN.
   */
  get rsk_timer(): TimerList {
    return (this._rsk_timer ??= new TimerList(() => reqsk_timer_dispatch.handler(this)));
  }
  /** The timer if it was ever made (nothing to delete otherwise). */
  _rsk_timer: TimerList | null = null;
  /** Jiffies the timer fires (for tests and ss). */
  rsk_timer_expires = 0;
  /** The peer's ISN and ours (tcp_rsk(req)->rcv_isn / snt_isn), u32. */
  rcv_isn = 0;
  snt_isn = 0;
  /** rcv_nxt for the child: rcv_isn + 1. */
  rcv_nxt = 0;
  /** The MSS the peer announced (mss clamp), and the options negotiated (inet_request_sock bits). */
  mss = 536;
  wscale_ok = false;
  snd_wscale = 0;
  rcv_wscale = 0;
  sack_ok = false;
  tstamp_ok = false;
  ecn_ok = false;
  /** The peer's TSval to echo (ts_recent) and our offset (ts_off, u32: what the child adds to its TS clock). */
  ts_recent = 0;
  ts_off = 0;
  /** tcp_rsk(req)->req_usec_ts: the connection's TSvals count microseconds (the kfunc's usec_ts_ok). */
  req_usec_ts = false;
  /** The window we offered in the SYN-ACK (rsk_rcv_wnd) and the clamp (rsk_window_clamp). */
  rsk_rcv_wnd = 0;
  rsk_window_clamp = 0;
  /** Made from a SYN cookie (no SYN queue entry). */
  cookie_ts = false;
  /** Made from a SYN cookie, the stack's or a BPF program's (the child's TcpSock.syncookie). */
  syncookie = false;
  /**
   * The kernel's req->syncookie bit: made by bpf_sk_assign_tcp_reqsk (net/core/bpf-tcp-reqsk.ts)
   * and carried on an skb to the listener. vxo's `syncookie` also marks the classic path's
   * requests, so this is the bit skb_steal_sock, sock_pfree and cookie_v{4,6}_check test.
   */
  syncookie_bpf = false;
  /**
   * The server's window scale the program chose (attrs.rcv_wscale). cookie_v4_check keeps it
   * over tcp_select_initial_window's (`if (!req->syncookie) ireq->rcv_wscale = rcv_wscale`);
   * vxo computes the window in a step the classic path shares, and tcp_get_cookie_sock puts
   * this back before the child is made.
   */
  bpf_rcv_wscale = 0;
  /** A kfunc's request still on its skb, counted in reqsk_bpf_live. */
  bpf_on_skb = false;
  /** The interface the SYN came in on (ir_iif). */
  ir_iif = 0;
  /** When the SYN-ACK was first sent (snt_synack, us), for the first RTT sample. */
  snt_synack = 0;
  /** The peer's window from the SYN (unscaled), the child's first snd_wnd. */
  snd_wnd = 0;
  /** Set once the request is on its way out of the SYN queue (the child took over or it was dropped). */
  rsk_dead = false;
  /** Counted in its listener's SYN queue (reqsk_queue_len). */
  rsk_queued = false;
  /** TCP_DEFER_ACCEPT: a bare ACK was seen and dropped (inet_rsk(req)->acked). */
  acked = false;
  /** The last out-of-window ACK (tcp_rsk(req)->last_oow_ack_time, jiffies). */
  last_oow_ack_time = 0;

  constructor(listener: Sock) {
    super(listener.skc_net, listener.skc_family, TCP_NEW_SYN_RECV);
    this.rsk_listener = listener;
    this.skc_num = listener.skc_num;
    this.skc_bound_dev_if = listener.skc_bound_dev_if;
  }
}

/** The SYN-ACK timer callback, installed by TCP (reqsk_timer_handler) so this file needs no TCP import. */
export const reqsk_timer_dispatch: { handler: (req: RequestSock) => void } = { handler: () => {} };

/** inet_reqsk_alloc: a request socket for `listener`; the caller sets the addresses and remote port. */
export function inet_reqsk_alloc(listener: Sock): RequestSock {
  return new RequestSock(listener);
}

export function inet_reqsk(sk: SockCommon): sk is RequestSock {
  return sk.skc_state === TCP_NEW_SYN_RECV;
}

/**
 * Requests bpf_sk_assign_tcp_reqsk made that are still on an skb, per netns: allocated by the
 * kfunc, gone when the skb is freed first (sock_pfree -> reqsk_free) or when cookie_bpf_check
 * takes the request to make the child (reqsk_bpf_taken). The kfunc refuses past its bound
 * (-ENOMEM), which is how a program that assigns and never lets packets go is stopped.
 */
const bpf_live = new WeakMap<Net, { n: number }>();

function bpf_live_of(net: Net): { n: number } {
  let c = bpf_live.get(net);
  if (c === undefined) {
    c = { n: 0 };
    bpf_live.set(net, c);
  }
  return c;
}

/** Requests of the kfunc alive in this netns (0 once every skb that carried one was processed or freed). */
export function reqsk_bpf_live(net: Net): number {
  return bpf_live.get(net)?.n ?? 0;
}

/**
 * inet_reqsk_alloc(ops, sk, false) as bpf_sk_assign_tcp_reqsk calls it: a request for `listener`
 * (rsk_listener set without a reference), or null when `max` such requests are already alive.
 */
export function reqsk_bpf_alloc(listener: Sock, max: number): RequestSock | null {
  const c = bpf_live_of(listener.skc_net);
  if (c.n >= max) return null;
  c.n++;
  const req = new RequestSock(listener);
  req.syncookie = true;
  req.syncookie_bpf = true;
  req.bpf_on_skb = true;
  return req;
}

/** The kfunc's request leaves the skb for the stack (cookie_bpf_check): no longer counted as waiting. */
export function reqsk_bpf_taken(req: RequestSock): void {
  if (!req.bpf_on_skb) return;
  req.bpf_on_skb = false;
  bpf_live_of(req.skc_net).n--;
}

/** reqsk_free of a request nothing else holds (sock_pfree's path): it is dead; a kfunc's request stops counting. */
export function reqsk_free(req: RequestSock): void {
  reqsk_bpf_taken(req);
  req.rsk_listener = null;
  req.rsk_dead = true;
}

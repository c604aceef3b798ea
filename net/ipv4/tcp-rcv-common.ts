// What tcp_v4_rcv and tcp_v6_rcv (and their replies without a socket) do the same way for both
// families: the header checks before the checksum, the request and TIME_WAIT sockets found by the
// lookup, the slow (not ESTABLISHED) part of *_do_rcv, the RST/ACK header, and the tails of
// *_syn_recv_sock and cookie_v*_check; and the family-independent ends of tcp_v{4,6}_err and
// tcp_v{4,6}_connect. The lookups, checksums and addresses stay per family; the
// ESTABLISHED fast path never goes through the TcpRcvOps below (they are called only on
// handshake, TIME_WAIT and error paths).
import {
  kfree_skb_reason, consume_skb, pskb_may_pull, skb_push, skb_reset_transport_header, PACKET_HOST, SKB_DROP_REASONS, type SkBuff,
} from '../core/skbuff.ts';
import type { SockCommon } from '../core/sock-common.ts';
import type { Net } from '../core/net-namespace.ts';
import type { RequestSock } from '../core/request-sock.ts';
import { TCP_STATES } from '../core/tcp-states.ts';
import { inet_twsk_deschedule_put, type InetTimewaitSock } from './inet-timewait-sock.ts';
import { __inet_inherit_port } from './inet-bind-bucket.ts';
import { inet_ehash_nolisten } from './inet-hash.ts';
import type { TcpSock } from './tcp-sock.ts';
import { TCPHDR_ACK, TCPHDR_FIN, TCPHDR_SYN, TCP_HDR_LEN, TCP_TW, TCP_SYNACK, TCPOLEN, tcp_clock_ms, tcp_clock_ts } from './tcp-defs.ts';
import { OPTION, TcpOutOptions, tcp_options_size, tcp_options_write } from './tcp-options.ts';
import { tcp_mstamp_refresh } from './tcp-util.ts';
import { tcp_connect, tcp_stream_alloc_skb } from './tcp-output.ts';
import { tcp_connect_init } from './tcp-connect.ts';
import { inet_hash_connect } from './tcp-hash-connect.ts';
import { between } from './tcp-sock.ts';
import { tcp_rcv_state_process } from './tcp-rcv-state.ts';
import { tcp_check_req, tcp_child_process } from './tcp-minisocks.ts';
import { inet_csk_reqsk_queue_drop, tcp_listendrop, tcp_openreq_init_rwin, tcp_req_advmss } from './tcp-conn-request.ts';
import { sk_acceptq_is_full } from './tcp-accept.ts';
import { tcp_done, tcp_set_state } from './tcp-done.ts';
import { cookie_init_timestamp } from './syncookies.ts';
import { tcp_get_cookie_sock } from './tcp-cookie.ts';

/** A TCP timestamp pair for a reply without a socket. */
export interface TcpReplyTs {
  tsval: number;
  tsecr: number;
}

/** The per-family pieces the shared receive steps call (the kernel's tcp_request_sock_ops/af_ops). */
export interface TcpRcvOps {
  /** tcp_v{4,6}_send_reset. */
  send_reset(sk: SockCommon | null, skb: SkBuff, net?: Net): void;
  /** tcp_v{4,6}_send_ack: seq, ack, window (already scaled), optional timestamps. */
  send_ack(net: Net, skb: SkBuff, seq: number, ack: number, win: number, ts: TcpReplyTs | null): void;
  /** cookie_v{4,6}_check: the listener, a new child, or null (dropped). */
  cookie_check(sk: TcpSock, skb: SkBuff): TcpSock | null;
}

/**
 * The checks of tcp_v{4,6}_rcv before the checksum: a segment for this host (OTHERHOST), InSegs,
 * a full header, doff at least 5 (InErrs). The header length in bytes, or 0 when the skb was
 * dropped.
 */
export function tcp_rcv_pull_header(skb: SkBuff, net: Net): number {
  const mib = net.mib.tcp;
  if (skb.pkt_type !== PACKET_HOST) {
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_OTHERHOST);
    return 0;
  }
  mib.InSegs++;
  if (!pskb_may_pull(skb, TCP_HDR_LEN)) {
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_PKT_TOO_SMALL);
    return 0;
  }
  skb_reset_transport_header(skb);
  const doff = skb.view.getUint8(skb.transport_header + 12) >>> 4;
  if (doff < 5) {
    mib.InErrs++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_PKT_TOO_SMALL);
    return 0;
  }
  if (!pskb_may_pull(skb, doff * 4)) {
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_PKT_TOO_SMALL);
    return 0;
  }
  return doff * 4;
}

/** A bad checksum: InCsumErrors, InErrs, dropped. */
export function tcp_rcv_csum_error(skb: SkBuff, net: Net): void {
  net.mib.tcp.InCsumErrors++;
  net.mib.tcp.InErrs++;
  kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_CSUM);
}

/** No socket wants the segment: a RST, then the drop. */
export function tcp_rcv_no_socket(ops: TcpRcvOps, skb: SkBuff, net: Net): void {
  ops.send_reset(null, skb, net);
  kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NO_SOCKET);
}

/**
 * The request socket found by the lookup: its listener checks the segment (tcp_check_req). The
 * socket to hand the segment to (the listener, for *_do_rcv), null when it has been dealt with,
 * or undefined when the listener has closed and the lookup must run again.
 */
export function tcp_rcv_reqsk(ops: TcpRcvOps, req: RequestSock, skb: SkBuff): TcpSock | null | undefined {
  const listener = req.rsk_listener as TcpSock;
  if (listener.skc_state !== TCP_STATES.TCP_LISTEN) {
    inet_csk_reqsk_queue_drop(listener, req);
    return undefined;
  }
  tcp_mstamp_refresh(listener);
  const nsk = tcp_check_req(listener, skb, req);
  if (nsk === null) {
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NOT_SPECIFIED);
    return null;
  }
  if (nsk === listener) return listener;
  tcp_rcv_child(ops, listener, nsk, skb);
  return null;
}

/** A new child takes the segment; a RST when it refuses it. */
function tcp_rcv_child(ops: TcpRcvOps, parent: TcpSock, child: TcpSock, skb: SkBuff): void {
  if (tcp_child_process(parent, child, skb) !== 0) {
    ops.send_reset(child, skb);
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NOT_SPECIFIED);
  }
}

/** tcp_v{4,6}_timewait_ack: the TIME_WAIT socket's ACK (a retransmitted FIN, an out-of-window segment). */
export function tcp_timewait_ack(ops: TcpRcvOps, tw: InetTimewaitSock, skb: SkBuff): void {
  // tcp_tw_tsval: the TIME_WAIT socket keeps the connection's TS unit.
  const ts = tw.tw_ts_recent_stamp !== 0 ? { tsval: (tcp_clock_ts(tw.tw_usec_ts, tw.skc_net.boot.clock.ktime_get_ns()) + tw.tw_ts_offset) >>> 0, tsecr: tw.tw_ts_recent } : null;
  ops.send_ack(tw.skc_net, skb, tw.tw_snd_nxt, tw.tw_rcv_nxt, Math.floor(tw.tw_rcv_wnd / (1 << tw.tw_rcv_wscale)), ts);
}

/**
 * What a TIME_WAIT socket answers when tcp_timewait_state_process kept the segment for itself
 * (a SYN no listener took, an ACK, a RST); the skb is consumed.
 */
export function tcp_rcv_timewait_reply(ops: TcpRcvOps, tw: InetTimewaitSock, skb: SkBuff, st: number): void {
  if (st === TCP_TW.TCP_TW_SYN || st === TCP_TW.TCP_TW_ACK || st === TCP_TW.TCP_TW_ACK_OOW) {
    tcp_timewait_ack(ops, tw, skb);
  } else if (st === TCP_TW.TCP_TW_RST) {
    ops.send_reset(tw, skb);
    inet_twsk_deschedule_put(tw);
  }
  consume_skb(skb);
}

/** tcp_v{4,6}_reqsk_send_ack: a request socket's ACK for an out-of-window segment. */
export function tcp_reqsk_send_ack(ops: TcpRcvOps, sk: TcpSock, skb: SkBuff, req: RequestSock): void {
  // tcp_rsk_tsval: the request's TS unit (req_usec_ts).
  const ts = req.tstamp_ok ? { tsval: (tcp_clock_ts(req.req_usec_ts, sk.skc_net.boot.clock.ktime_get_ns()) + req.ts_off) >>> 0, tsecr: req.ts_recent } : null;
  ops.send_ack(sk.skc_net, skb, (req.snt_isn + 1) >>> 0, req.rcv_nxt, Math.floor(req.rsk_rcv_wnd / (1 << req.rcv_wscale)), ts);
}

/**
 * The part of tcp_v{4,6}_do_rcv after the ESTABLISHED fast path: a listener first checks for a
 * SYN cookie ACK; everything else is tcp_rcv_state_process, whose nonzero result means a RST.
 */
export function tcp_do_rcv_slow(ops: TcpRcvOps, sk: TcpSock, skb: SkBuff): number {
  if (sk.skc_state === TCP_STATES.TCP_LISTEN) {
    const nsk = !(skb.cb.tcp_flags & TCPHDR_SYN) ? ops.cookie_check(sk, skb) : sk;
    if (nsk === null) {
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NOT_SPECIFIED);
      return 0;
    }
    if (nsk !== sk) {
      tcp_rcv_child(ops, sk, nsk, skb);
      return 0;
    }
  }
  const reason = tcp_rcv_state_process(sk, skb);
  if (reason !== 0) {
    ops.send_reset(sk, skb);
    kfree_skb_reason(skb, reason);
  }
  return 0;
}

const outopts = new TcpOutOptions();

/**
 * The TCP header of a reply without a socket (a RST or an ACK to `skb`): ports swapped, seq, ack
 * (0 without TCPHDR_ACK), window and timestamps. The checksum is the family's to fill in.
 */
export function tcp_build_reply(skb: SkBuff, seq: number, ack: number, win: number, ts: TcpReplyTs | null, flags: number): SkBuff {
  const v = skb.view;
  const th = skb.transport_header;
  const o = outopts.reset();
  if (ts !== null) {
    o.options = OPTION.OPTION_TS;
    o.tsval = ts.tsval;
    o.tsecr = ts.tsecr;
  }
  const hlen = TCP_HDR_LEN + tcp_options_size(o);
  const rep = tcp_stream_alloc_skb(0);
  skb_push(rep, hlen);
  skb_reset_transport_header(rep);
  const rv = rep.view;
  const r = rep.data;
  rv.setUint16(r, v.getUint16(th + 2));
  rv.setUint16(r + 2, v.getUint16(th));
  rv.setUint32(r + 4, seq >>> 0);
  rv.setUint32(r + 8, flags & TCPHDR_ACK ? ack >>> 0 : 0);
  rv.setUint8(r + 12, (hlen / 4) << 4);
  rv.setUint8(r + 13, flags);
  rv.setUint16(r + 14, Math.min(win, 65535));
  rv.setUint32(r + 16, 0);
  tcp_options_write(rv, r + 20, o);
  return rep;
}

/**
 * The RST for `skb` (not itself a RST): its sequence is the segment's ACK, or it ACKs the
 * segment when that had none.
 */
export function tcp_build_reset(skb: SkBuff, rst: number): SkBuff {
  const v = skb.view;
  const th = skb.transport_header;
  const flags = v.getUint8(th + 13);
  if (flags & TCPHDR_ACK) return tcp_build_reply(skb, v.getUint32(th + 8), 0, 0, null, rst);
  const doff = (v.getUint8(th + 12) >>> 4) * 4;
  const end_seq = v.getUint32(th + 4) + (flags & TCPHDR_SYN ? 1 : 0) + (flags & TCPHDR_FIN ? 1 : 0) + skb.len - doff;
  return tcp_build_reply(skb, 0, end_seq, 0, null, rst | TCPHDR_ACK);
}

/**
 * The SYN-ACK's TSval before the offset, in the request's TS unit (us with req_usec_ts, as
 * tcp_synack_options' tcp_skb_timestamp_ts). A cookie SYN-ACK's carries the SYN's options and
 * counts milliseconds whatever req_usec_ts says: cookie_init_timestamp reads the ms clock
 * (tcp_ns_to_ts(false, now)) and returns it scaled by the request's unit, which the SYN-ACK's
 * TSval scales back (Linux 6.18 sends ms there, measured); the classic cookie's child is ms too.
 */
export function tcp_synack_tsval(sk: TcpSock, req: RequestSock, synack_type: number): number {
  const ns = sk.skc_net.boot.clock.ktime_get_ns();
  if (synack_type === TCP_SYNACK.TCP_SYNACK_COOKIE && req.tstamp_ok) {
    return cookie_init_timestamp(sk.skc_net, req, tcp_clock_ms(ns));
  }
  return tcp_clock_ts(req.req_usec_ts, ns);
}

/** The start of tcp_v{4,6}_syn_recv_sock: a full accept queue refuses the child (ListenOverflows, ListenDrops). */
export function tcp_syn_recv_acceptq_full(sk: TcpSock): boolean {
  if (!sk_acceptq_is_full(sk)) return false;
  sk.skc_net.mib.net.ListenOverflows++;
  tcp_listendrop(sk);
  return true;
}

/** The end of tcp_v{4,6}_syn_recv_sock: the listener's port, then ehash in place of the request. */
export function tcp_syn_recv_hash(sk: TcpSock, newtp: TcpSock, req: RequestSock, own_req: { value: boolean }): TcpSock | null {
  const h = sk.skc_net.ipv4.tcp_hashinfo;
  if (__inet_inherit_port(h, sk, newtp) < 0) {
    tcp_listendrop(sk);
    return null;
  }
  own_req.value = inet_ehash_nolisten(h, newtp, req.skc_hashed ? req : null);
  if (!own_req.value) {
    tcp_done(newtp);
    return null;
  }
  return newtp;
}

/** The end of cookie_v{4,6}_check, once the request has its addresses: window, then the child. */
export function tcp_cookie_req_finish(sk: TcpSock, skb: SkBuff, req: RequestSock): TcpSock | null {
  req.ir_iif = skb.skb_iif;
  const advmss = tcp_req_advmss(sk, req);
  tcp_openreq_init_rwin(req, sk, Math.min(req.mss, advmss) + (req.tstamp_ok ? TCPOLEN.TCPOLEN_TSTAMP_ALIGNED : 0));
  return tcp_get_cookie_sock(sk, skb, req);
}

/**
 * The start of tcp_v{4,6}_err for a full socket: nothing for a closed one, and an error about a
 * sequence we have not sent, or that is already acknowledged, is out of window (OutOfWindowIcmps).
 */
export function tcp_err_in_window(tp: TcpSock, seq: number): boolean {
  if (tp.skc_state === TCP_STATES.TCP_CLOSE) return false;
  if (tp.skc_state !== TCP_STATES.TCP_LISTEN && !between(seq, tp.snd_una, tp.snd_nxt)) {
    tp.skc_net.mib.net.OutOfWindowIcmps++;
    return false;
  }
  return true;
}

/**
 * The end of tcp_v{4,6}_err: an error ends a handshake; on a connection it is reported at once
 * with IP_RECVERR/IPV6_RECVERR, otherwise kept soft (reported on timeout).
 */
export function tcp_err_report(tp: TcpSock, err: number): number {
  if (tp.skc_state === TCP_STATES.TCP_SYN_SENT || tp.skc_state === TCP_STATES.TCP_SYN_RECV) {
    tp.sk_err = err;
    tp.sk_error_report(tp);
    tcp_done(tp);
    return 0;
  }
  if (tp.recverr) {
    tp.sk_err = err;
    tp.sk_error_report(tp);
  } else {
    tp.sk_err_soft = err;
  }
  return 0;
}

/** tcp_v{4,6}_connect after the route: SYN_SENT and an ephemeral port unique for the 4-tuple; undone on failure. */
export function tcp_connect_hash(sk: TcpSock): number {
  tcp_set_state(sk, TCP_STATES.TCP_SYN_SENT);
  const err = inet_hash_connect(sk.skc_net.ipv4.tcp_hashinfo, sk);
  if (err !== 0) {
    tcp_set_state(sk, TCP_STATES.TCP_CLOSE);
    sk.skc_dport = 0;
  }
  return err;
}

/** The end of tcp_v{4,6}_connect, once the ISN is chosen: the MSS from the route's MTU, then the SYN. */
export function tcp_connect_finish(sk: TcpSock, mtu: number): number {
  tcp_connect_init(sk, mtu);
  const err = tcp_connect(sk);
  if (err !== 0) {
    tcp_set_state(sk, TCP_STATES.TCP_CLOSE);
    sk.skc_dport = 0;
  }
  return err;
}

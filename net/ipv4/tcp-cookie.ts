// The socket side of SYN cookies (net/ipv4/syncookies.c's cookie_tcp_check, cookie_tcp_reqsk_alloc
// and tcp_get_cookie_sock, shared by IPv4 and IPv6): an ACK to a listener that has no request
// socket for it is checked as a cookie (only if the listener overflowed recently); a valid one
// rebuilds the request from the cookie (MSS) and the echoed timestamp (window scale, SACK) and
// the child is created at once. The cookie arithmetic itself is in syncookies.ts.
//
// An ACK that carries a request from bpf_sk_assign_tcp_reqsk (a tc program checked its own
// cookie; core/bpf-tcp-reqsk.ts) takes cookie_bpf_check instead: the request comes from skb->sk
// with the program's attributes, no recent SYN queue overflow is needed and no SyncookiesRecv /
// SyncookiesFailed is counted; the window and the child are made as on the classic path, except
// that the program's rcv_wscale is kept and ECN needs tcp_ecn (cookie_ecn_ok).
import type { SkBuff } from '../core/skbuff.ts';
import { inet_reqsk_alloc, reqsk_bpf_taken, type RequestSock } from '../core/request-sock.ts';
import { skb_bpf_reqsk, skb_sk_is_prefetched } from '../core/skb-steal-sock.ts';
import { TcpOptionsReceived, type TcpSock } from './tcp-sock.ts';
import { tcp_parse_options } from './tcp-options.ts';
import { cookie_timestamp_decode, tcp_synq_no_recent_overflow } from './syncookies.ts';
import { inet_csk_reqsk_queue_add, sk_acceptq_is_full } from './tcp-accept.ts';

const tcp_opt = new TcpOptionsReceived();

/**
 * cookie_tcp_check + cookie_tcp_reqsk_alloc: the request a valid cookie ACK stands for (addresses
 * left to the family), or null when it is not one. SyncookiesRecv / SyncookiesFailed. An skb
 * carrying bpf_sk_assign_tcp_reqsk's request gives that request (cookie_bpf_check), never null.
 * `check(seq, cookie)` is the family's __cookie_check (the MSS, 0 if invalid); `ts_off()` its
 * secure_tcp_ts_off for the pair.
 */
export function cookie_tcp_check_opts(sk: TcpSock, skb: SkBuff, check: (seq: number, cookie: number) => number, ts_off: () => number): RequestSock | null {
  // cookie_v{4,6}_check: `if (cookie_bpf_ok(skb)) req = cookie_bpf_check(sk, skb); else ...`,
  // after its sysctl / ACK / RST test (the caller's).
  if (cookie_bpf_ok(skb)) return cookie_bpf_check(sk, skb);
  const net = sk.skc_net;
  if (tcp_synq_no_recent_overflow(sk)) return null;
  const cb = skb.cb;
  const mss = check((cb.seq - 1) >>> 0, (cb.ack_seq - 1) >>> 0);
  if (mss === 0) {
    net.mib.net.SyncookiesFailed++;
    return null;
  }
  net.mib.net.SyncookiesRecv++;
  tcp_opt.saw_tstamp = tcp_opt.sack_ok = tcp_opt.wscale_ok = false;
  tcp_opt.tstamp_ok = true;
  tcp_opt.snd_wscale = 0;
  tcp_opt.rcv_tsecr = tcp_opt.rcv_tsval = 0;
  tcp_parse_options(skb.view, skb.transport_header, cb.doff >> 2, false, tcp_opt, null, {
    tcp_timestamps: net.ipv4.sysctl_tcp_timestamps,
    tcp_sack: net.ipv4.sysctl_tcp_sack,
    tcp_window_scaling: net.ipv4.sysctl_tcp_window_scaling,
  });
  let tsoff = 0;
  if (tcp_opt.saw_tstamp && tcp_opt.rcv_tsecr !== 0) {
    tsoff = ts_off();
    tcp_opt.rcv_tsecr = (tcp_opt.rcv_tsecr - tsoff) >>> 0;
  }
  if (!cookie_timestamp_decode(net, tcp_opt)) return null;
  const req = inet_reqsk_alloc(sk);
  req.skc_num = skb.view.getUint16(skb.transport_header + 2);
  req.skc_dport = skb.view.getUint16(skb.transport_header);
  req.snt_isn = (cb.ack_seq - 1) >>> 0;
  req.rcv_isn = (cb.seq - 1) >>> 0;
  req.rcv_nxt = cb.seq;
  req.ts_off = tsoff;
  req.mss = mss;
  req.syncookie = true;
  req.snd_wscale = tcp_opt.snd_wscale;
  req.wscale_ok = tcp_opt.wscale_ok;
  req.sack_ok = tcp_opt.sack_ok;
  req.tstamp_ok = tcp_opt.saw_tstamp;
  req.ts_recent = tcp_opt.saw_tstamp ? tcp_opt.rcv_tsval : 0;
  req.snd_wnd = skb.view.getUint16(skb.transport_header + 14);
  return req;
}

/**
 * cookie_bpf_ok: the skb carries a request from bpf_sk_assign_tcp_reqsk. (The kernel tests
 * skb->sk, which nothing else leaves set this far; vxo checks it is that request.)
 */
export function cookie_bpf_ok(skb: SkBuff): boolean {
  return skb_sk_is_prefetched(skb) && skb_bpf_reqsk(skb.sk) !== null;
}

/**
 * cookie_bpf_check: the request the program made, taken off the skb (skb->sk and the destructor
 * cleared: the stack owns it now) and finished from the ACK (cookie_tcp_reqsk_init). The
 * kernel's returns NULL (a drop) only for an MPTCP request vxo does not have.
 */
export function cookie_bpf_check(sk: TcpSock, skb: SkBuff): RequestSock {
  const req = skb.sk as RequestSock;
  skb.sk = null;
  skb.destructor = null;
  reqsk_bpf_taken(req);
  cookie_tcp_reqsk_init(sk, skb, req);
  return req;
}

/**
 * cookie_tcp_reqsk_init: what the ACK tells a cookie request: the ports, both ISNs (seq - 1,
 * ack_seq - 1), the peer's window. The kernel leaves rsk_listener NULL here (skb_steal_sock
 * cleared it); vxo points it at the listener completing the handshake, as the classic path's
 * requests do, since its request code (routes, MTU) reads it.
 */
export function cookie_tcp_reqsk_init(sk: TcpSock, skb: SkBuff, req: RequestSock): void {
  const cb = skb.cb;
  const v = skb.view;
  const th = skb.transport_header;
  req.rsk_listener = sk;
  req.num_retrans = 0;
  req.skc_num = v.getUint16(th + 2);
  req.skc_dport = v.getUint16(th);
  req.snt_synack = 0;
  req.rcv_isn = (cb.seq - 1) >>> 0;
  req.snt_isn = (cb.ack_seq - 1) >>> 0;
  req.rcv_nxt = cb.seq;
  req.snd_wnd = v.getUint16(th + 14);
}

/**
 * cookie_ecn_ok(net, dst) as cookie_v{4,6}_check applies it to a request the program made: ECN
 * stays only with tcp_ecn on (vxo's routes carry no RTAX_FEATURE_ECN).
 */
function cookie_ecn_ok_dst(sk: TcpSock): boolean {
  return sk.skc_net.ipv4.sysctl_tcp_ecn !== 0;
}

/**
 * tcp_get_cookie_sock: the child for a cookie request, straight into the accept queue. null:
 * SyncookiesFailed (the classic path's; a BPF request counts nothing). For a BPF request, first
 * the rest of cookie_v{4,6}_check after tcp_select_initial_window: the program's rcv_wscale
 * (`if (!req->syncookie) ireq->rcv_wscale = rcv_wscale`) and `ecn_ok &= cookie_ecn_ok`.
 */
export function tcp_get_cookie_sock(sk: TcpSock, skb: SkBuff, req: RequestSock): TcpSock | null {
  if (req.syncookie_bpf) {
    req.rcv_wscale = req.bpf_rcv_wscale;
    req.ecn_ok = req.ecn_ok && cookie_ecn_ok_dst(sk);
  }
  const own_req = { value: false };
  const child = sk.icsk_af_ops!.syn_recv_sock(sk, skb, req, own_req);
  if (child !== null && inet_csk_reqsk_queue_add(sk, req, child)) return child;
  if (!req.syncookie_bpf) sk.skc_net.mib.net.SyncookiesFailed++;
  return null;
}

/** TCPOPT_* the MSS parse needs. */
const TCPOPT_EOL = 0;
const TCPOPT_NOP = 1;
const TCPOPT_MSS = 2;
const TCPOLEN_MSS = 4;

/**
 * tcp_parse_mss_option: the MSS option of a SYN whose header (options included, doff * 4 bytes)
 * is th[0..], capped by TCP_MAXSEG (user_mss); 0 if there is none.
 */
export function tcp_parse_mss_option(th: Uint8Array, user_mss: number): number {
  let length = (th[12]! >>> 4) * 4 - 20;
  let p = 20;
  let mss = 0;
  while (length > 0) {
    const opcode = th[p++]!;
    if (opcode === TCPOPT_EOL) return mss;
    if (opcode === TCPOPT_NOP) {
      length--;
      continue;
    }
    if (length < 2) return mss;
    const opsize = th[p++]!;
    if (opsize < 2 || opsize > length) return mss;
    if (opcode === TCPOPT_MSS && opsize === TCPOLEN_MSS) {
      let in_mss = (th[p]! << 8) | th[p + 1]!;
      if (in_mss !== 0) {
        if (user_mss !== 0 && user_mss < in_mss) in_mss = user_mss;
        mss = in_mss;
      }
    }
    p += opsize - 2;
    length -= opsize;
  }
  return mss;
}

/**
 * tcp_get_syncookie_mss (for bpf_tcp_gen_syncookie): the MSS a cookie SYN-ACK would encode, or 0
 * when the listener would not answer with a cookie now: cookies are sent only when always on
 * (tcp_syncookies = 2) or the SYN queue is full, and never while the accept queue is full. The
 * SYN queue test and the flood counters are tcp_conn_request's (TCPReqQFullDoCookies,
 * ListenOverflows). `mss_clamp` is the family's default MSS (536, or 1220 for IPv6) for a SYN
 * without the option.
 */
export function tcp_get_syncookie_mss(sk: TcpSock, th: Uint8Array, mss_clamp: number): number {
  const net = sk.skc_net;
  if (net.ipv4.sysctl_tcp_syncookies !== 2 && sk.syn_queue_len < sk.sk_max_ack_backlog) return 0;
  // tcp_syn_flood_action
  if (!net.ipv4.sysctl_tcp_syncookies) {
    net.mib.net.TCPReqQFullDrop++;
    return 0;
  }
  net.mib.net.TCPReqQFullDoCookies++;
  if (sk_acceptq_is_full(sk)) {
    net.mib.net.ListenOverflows++;
    return 0;
  }
  const mss = tcp_parse_mss_option(th, sk.rx_opt.user_mss);
  return mss !== 0 ? mss : mss_clamp;
}

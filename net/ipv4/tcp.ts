// struct proto tcp_prot (net/ipv4/tcp.c): the socket calls on a TCP socket: tcp_init_sock,
// sendmsg (the write queue in MSS-sized segments, the send buffer limit), recvmsg (in-order data,
// MSG_PEEK, 0 at the peer's FIN, the error after a RST; a window update when reading opened the
// window), poll, listen/accept, connect, shutdown and close (the SOL_TCP options are in
// tcp-sockopt.ts). tcp_init() registers TCP with IPv4 and IPv6 and with socket(2).
import { E as ERRNO } from '../core/sock-opts.ts';
import { __skb_unlink, consume_skb, skb_put, type SkBuff } from '../core/skbuff.ts';
import { TCP_STATES, TCPF_STATES } from '../core/tcp-states.ts';
import { EPOLL, MSG, RCV_SHUTDOWN, SEND_SHUTDOWN, SHUTDOWN_MASK } from '../core/socket-options.ts';
import { sock_error, sock_flag, SOCK_FLAGS, type Sock } from '../core/sock.ts';
import type { Proto } from '../core/proto.ts';
import type { MsgHdr, Sockaddr } from '../core/msghdr.ts';
import { AF_INET, AF_INET6, IPPROTO_TCP, SOCK_STREAM } from '../core/socket-constants.ts';
import { inet_register_protosw } from './af-inet.ts';
import { inet_csk_get_port, inet_csk_listen_start } from './inet-connection-sock.ts';
import { inet_hash, inet_unhash } from './inet-hash.ts';
import { TCP_INFINITE_SSTHRESH, type TcpSock } from './tcp-sock.ts';
import { ICSK_ACK, TCP_MSS_DEFAULT, TCP_NAGLE, TCP_INIT_CWND, TCP_TIMEOUT_INIT, TCPHDR_ACK, TCPHDR_FIN, TCPHDR_PSH } from './tcp-defs.ts';
import { tcp_assign_congestion_control } from './tcp-cong.ts';
import {
  __tcp_push_pending_frames, __tcp_select_window, tcp_current_mss, tcp_queue_skb, tcp_send_ack, tcp_stream_alloc_skb,
} from './tcp-output.ts';
import { tcp_receive_window, tcp_send_head } from './tcp-util.ts';
import { inet_csk_accept } from './tcp-accept.ts';
import { tcp_close, tcp_disconnect, tcp_shutdown } from './tcp-close.ts';
import { tcp_getsockopt, tcp_setsockopt } from './tcp-sockopt.ts';
export { tcp_get_info, tcp_info_bytes, TCPI_OPT, type TcpInfo } from './tcp-sockopt.ts';
import { inet_csk_delete_keepalive_timer, inet_csk_reset_keepalive_timer, keepalive_time_when } from './tcp-timer.ts';
import { ipv4_specific, tcp_sk_alloc, tcp_v4_connect, tcp_v4_init } from './tcp-ipv4.ts';
import { tcpv6_init, tcpv6_prot } from '../ipv6/tcp-ipv6.ts';

/** tcp_init_sock: a new TCP socket's defaults (RFC 6298's 1 s RTO, cwnd 10, MSS 536, buffers from tcp_rmem/tcp_wmem). */
export function tcp_init_sock(tp: TcpSock): number {
  const net = tp.skc_net.ipv4;
  tp.icsk_rto = TCP_TIMEOUT_INIT;
  tp.mdev_us = TCP_TIMEOUT_INIT * 1000;
  tp.snd_cwnd = TCP_INIT_CWND;
  tp.snd_ssthresh = TCP_INFINITE_SSTHRESH;
  tp.snd_cwnd_clamp = 0xffffffff;
  tp.mss_cache = TCP_MSS_DEFAULT;
  tp.reordering = net.sysctl_tcp_reordering;
  tp.icsk_ack_ato = 0;
  tcp_assign_congestion_control(tp);
  tp.tsoffset = 0;
  tp.skc_state = TCP_STATES.TCP_CLOSE;
  tp.sk_sndbuf = net.sysctl_tcp_wmem[1];
  tp.sk_rcvbuf = net.sysctl_tcp_rmem[1];
  return 0;
}

function tcp_v4_init_sock(sk: Sock): number {
  const tp = sk as TcpSock;
  tcp_init_sock(tp);
  tp.icsk_af_ops = ipv4_specific;
  return 0;
}

/** sk_stream_memory_free: room in the send buffer. */
function sk_stream_memory_free(tp: TcpSock): boolean {
  return tp.sk_wmem_queued < tp.sk_sndbuf;
}

/** tcp_skb_entail: a new, empty segment at the tail of the write queue. */
function tcp_skb_entail(tp: TcpSock, skb: SkBuff): void {
  skb.cb.seq = skb.cb.end_seq = tp.write_seq;
  skb.cb.tcp_flags = TCPHDR_ACK;
  skb.cb.sacked = 0;
  tcp_queue_skb(tp, skb);
  // A push asked for by TCP_NODELAY / uncorking covers what was queued, not what comes next.
  if (tp.nonagle & TCP_NAGLE.TCP_NAGLE_PUSH) tp.nonagle &= ~TCP_NAGLE.TCP_NAGLE_PUSH;
}

/** tcp_push: PSH on the last segment unless MSG_MORE (which corks), then push. */
function tcp_push(tp: TcpSock, flags: number, mss_now: number, nonagle0: number): void {
  const skb = tp.sk_write_queue.last;
  if (skb === null) return;
  if (!(flags & MSG.MSG_MORE)) skb.cb.tcp_flags |= TCPHDR_PSH;
  const nonagle = flags & MSG.MSG_MORE ? TCP_NAGLE.TCP_NAGLE_CORK : nonagle0;
  __tcp_push_pending_frames(tp, mss_now, nonagle);
}

/**
 * tcp_sendmsg: copies into the write queue (appending to the unsent tail segment, new segments of
 * one MSS) and pushes. Bytes taken, -EAGAIN when the send buffer is full (nothing taken), -EPIPE
 * after shutdown or on a closed socket, the pending error after a reset, -ENOTCONN before connect.
 */
export function tcp_sendmsg(sk: Sock, _msg: MsgHdr, data: Uint8Array, flags: number): number {
  const tp = sk as TcpSock;
  if ((1 << tp.skc_state) & ~(TCPF_STATES.TCPF_ESTABLISHED | TCPF_STATES.TCPF_CLOSE_WAIT)) {
    // sk_stream_wait_connect.
    if (tp.sk_err !== 0) return sock_error(tp);
    // Not connected (Linux says EPIPE, with SIGPIPE), or the handshake still running.
    if (!((1 << tp.skc_state) & (TCPF_STATES.TCPF_SYN_SENT | TCPF_STATES.TCPF_SYN_RECV))) return -ERRNO.EPIPE;
    return -ERRNO.EAGAIN;
  }
  if (tp.sk_err !== 0 || tp.sk_shutdown & SEND_SHUTDOWN) {
    if (tp.sk_err !== 0) return sock_error(tp);
    return -ERRNO.EPIPE;
  }
  let mss_now = tcp_current_mss(tp);
  const size_goal = mss_now;
  let copied = 0;
  let off = 0;
  while (off < data.length) {
    let skb = tp.sk_write_queue.last;
    let copy = skb !== null && !(skb.cb.tcp_flags & TCPHDR_FIN) ? size_goal - skb.len : 0;
    if (skb === null || copy <= 0) {
      if (!sk_stream_memory_free(tp)) {
        tp.sk_nospace = true;
        if (copied !== 0) tcp_push(tp, flags & ~MSG.MSG_MORE, mss_now, TCP_NAGLE.TCP_NAGLE_PUSH);
        return copied !== 0 ? copied : -ERRNO.EAGAIN;
      }
      skb = tcp_stream_alloc_skb(size_goal);
      tcp_skb_entail(tp, skb);
      copy = size_goal;
    }
    if (copy > data.length - off) copy = data.length - off;
    skb.head.set(data.subarray(off, off + copy), skb_put(skb, copy));
    tp.sk_write_queue.bytes += copy;
    if (copied === 0) skb.cb.tcp_flags &= ~TCPHDR_PSH;
    tp.write_seq = (tp.write_seq + copy) >>> 0;
    skb.cb.end_seq = (skb.cb.end_seq + copy) >>> 0;
    copied += copy;
    off += copy;
    if (off >= data.length) break;
    if (skb.len < size_goal) continue;
    if (skb === tcp_send_head(tp)) {
      __tcp_push_pending_frames(tp, mss_now, TCP_NAGLE.TCP_NAGLE_PUSH);
      mss_now = tcp_current_mss(tp);
    }
  }
  if (copied !== 0) tcp_push(tp, flags, mss_now, tp.nonagle);
  return copied;
}

/** tcp_cleanup_rbuf: after a read, ACK what is owed, or announce a window that doubled. */
export function tcp_cleanup_rbuf(tp: TcpSock, copied: number): void {
  let time_to_ack = false;
  if (tp.icsk_ack_pending & ICSK_ACK.ICSK_ACK_SCHED) {
    if (
      ((tp.rcv_nxt - tp.rcv_wup) >>> 0) > tp.icsk_ack_rcv_mss ||
      (copied > 0 &&
        (tp.icsk_ack_pending & ICSK_ACK.ICSK_ACK_PUSHED2 || (tp.icsk_ack_pending & ICSK_ACK.ICSK_ACK_PUSHED && !tp.icsk_ack_pingpong)) &&
        tp.sk_rmem_alloc === 0)
    ) {
      time_to_ack = true;
    }
  }
  if (copied > 0 && !time_to_ack && !(tp.sk_shutdown & RCV_SHUTDOWN)) {
    const rcv_window_now = tcp_receive_window(tp);
    if (2 * rcv_window_now <= tp.window_clamp) {
      const new_window = __tcp_select_window(tp);
      if (new_window !== 0 && new_window >= 2 * rcv_window_now) time_to_ack = true;
    }
  }
  if (time_to_ack) tcp_send_ack(tp);
}

/** tcp_eat_recv_skb: a fully read skb leaves the queue and the buffer. */
function tcp_eat_recv_skb(tp: TcpSock, skb: SkBuff): void {
  __skb_unlink(skb, tp.sk_receive_queue);
  tp.sk_rmem_alloc -= skb.truesize;
  consume_skb(skb);
}

/**
 * tcp_recvmsg: in-order bytes into buf; MSG_PEEK leaves them. 0 at the peer's FIN, -EAGAIN when
 * nothing is there yet, the error of a reset connection (-ECONNRESET), -ENOTCONN on a listener or
 * a never-connected socket.
 */
export function tcp_recvmsg(sk: Sock, _msg: MsgHdr, buf: Uint8Array, flags: number): number {
  const tp = sk as TcpSock;
  if (tp.skc_state === TCP_STATES.TCP_LISTEN) return -ERRNO.ENOTCONN;
  const peek = (flags & MSG.MSG_PEEK) !== 0;
  let seq = tp.copied_seq;
  let copied = 0;
  let len = buf.length;
  let skb = tp.sk_receive_queue.first;
  while (len > 0) {
    if (skb === null) {
      if (copied !== 0) break;
      if (sock_flag(tp, SOCK_FLAGS.SOCK_DONE)) break;
      if (tp.sk_err !== 0) {
        copied = sock_error(tp);
        break;
      }
      if (tp.sk_shutdown & RCV_SHUTDOWN) break;
      if (tp.skc_state === TCP_STATES.TCP_CLOSE) {
        copied = -ERRNO.ENOTCONN;
        break;
      }
      copied = -ERRNO.EAGAIN;
      break;
    }
    const offset = (seq - skb.cb.seq) | 0;
    if (offset < skb.len) {
      let used = skb.len - offset;
      if (len < used) used = len;
      buf.set(skb.head.subarray(skb.data + offset, skb.data + offset + used), copied);
      seq = (seq + used) >>> 0;
      copied += used;
      len -= used;
      if (used + offset < skb.len) break;
    }
    const next = skb.next;
    if (skb.cb.tcp_flags & TCPHDR_FIN) {
      seq = (seq + 1) >>> 0;
      if (!peek) tcp_eat_recv_skb(tp, skb);
      break;
    }
    if (!peek) tcp_eat_recv_skb(tp, skb);
    skb = next;
  }
  if (!peek) {
    tp.copied_seq = seq;
    tcp_cleanup_rbuf(tp, copied);
  }
  return copied;
}

/** __sk_stream_is_writeable: free space at least half of what is queued. */
function sk_stream_is_writeable(tp: TcpSock): boolean {
  return tp.sk_sndbuf - tp.sk_wmem_queued >= tp.sk_wmem_queued >> 1 && tp.sk_wmem_queued < tp.sk_sndbuf;
}

/** tcp_poll. */
export function tcp_poll(sk: Sock): number {
  const tp = sk as TcpSock;
  const state = tp.skc_state;
  if (state === TCP_STATES.TCP_LISTEN) return tp.icsk_accept_queue.length !== 0 ? EPOLL.EPOLLIN | EPOLL.EPOLLRDNORM : 0;
  let mask = 0;
  const shutdown = tp.sk_shutdown;
  if (shutdown === SHUTDOWN_MASK || state === TCP_STATES.TCP_CLOSE) mask |= EPOLL.EPOLLHUP;
  if (shutdown & RCV_SHUTDOWN) mask |= EPOLL.EPOLLIN | EPOLL.EPOLLRDNORM | EPOLL.EPOLLRDHUP;
  if (state !== TCP_STATES.TCP_SYN_SENT && state !== TCP_STATES.TCP_SYN_RECV) {
    if (((tp.rcv_nxt - tp.copied_seq) | 0) >= tp.sk_rcvlowat) mask |= EPOLL.EPOLLIN | EPOLL.EPOLLRDNORM;
    if (!(shutdown & SEND_SHUTDOWN)) {
      if (sk_stream_is_writeable(tp)) mask |= EPOLL.EPOLLOUT | EPOLL.EPOLLWRNORM;
      else tp.sk_nospace = true;
    } else {
      mask |= EPOLL.EPOLLOUT | EPOLL.EPOLLWRNORM;
    }
  }
  if (tp.sk_err !== 0 || tp.sk_error_queue.qlen !== 0) mask |= EPOLL.EPOLLERR;
  return mask;
}

/** tcp_set_keepalive: SO_KEEPALIVE arms or stops the keepalive timer. */
function tcp_set_keepalive(sk: Sock, val: boolean): void {
  const tp = sk as TcpSock;
  if ((1 << tp.skc_state) & (TCPF_STATES.TCPF_CLOSE | TCPF_STATES.TCPF_LISTEN)) return;
  if (val && !sock_flag(tp, SOCK_FLAGS.SOCK_KEEPOPEN)) inet_csk_reset_keepalive_timer(tp, keepalive_time_when(tp));
  else if (!val) inet_csk_delete_keepalive_timer(tp);
}

/** inet_csk_listen_start for TCP: the port re-checked, into lhash2. */
function tcp_listen(sk: Sock, _backlog: number): number {
  const tp = sk as TcpSock;
  tp.sk_ack_backlog = 0;
  const err = inet_csk_listen_start(tp.skc_net.ipv4.tcp_hashinfo, tp);
  if (err === 0) tp.inet_sport = tp.skc_num;
  return err;
}

function tcp_accept(sk: Sock, _flags: number): Sock | number {
  return inet_csk_accept(sk as TcpSock);
}

/** The struct proto functions IPv4 and IPv6 share. */
export const tcp_prot_common = {
  close: (sk: Sock, timeout: number): void => tcp_close(sk as TcpSock, timeout),
  disconnect: (sk: Sock, flags: number): number => tcp_disconnect(sk as TcpSock, flags),
  accept: tcp_accept,
  listen: tcp_listen,
  shutdown: (sk: Sock, how: number): void => tcp_shutdown(sk as TcpSock, how),
  setsockopt: tcp_setsockopt,
  getsockopt: tcp_getsockopt,
  sendmsg: tcp_sendmsg,
  recvmsg: tcp_recvmsg,
  poll: tcp_poll,
  hash: (sk: Sock): number => inet_hash(sk.skc_net.ipv4.tcp_hashinfo, sk),
  unhash: (sk: Sock): void => inet_unhash(sk.skc_net.ipv4.tcp_hashinfo, sk),
  get_port: (sk: Sock, snum: number): number => inet_csk_get_port(sk.skc_net.ipv4.tcp_hashinfo, sk, snum),
  keepalive: tcp_set_keepalive,
};

/** tcp_prot. */
export const tcp_prot: Proto = {
  name: 'TCP',
  init: tcp_v4_init_sock,
  connect: (sk: Sock, addr: Sockaddr): number => tcp_v4_connect(sk as TcpSock, addr),
  ...tcp_prot_common,
};

let inited = false;

/**
 * tcp_init: TCP in inet_protos / inet6_protos and in socket(2) for AF_INET and AF_INET6. Takes
 * the netns for the topology's per-net init hook; the registrations are per boot (idempotent).
 */
export function tcp_init(_net?: unknown): void {
  if (inited) return;
  inited = true;
  tcp_v4_init();
  tcpv6_init();
  inet_register_protosw(SOCK_STREAM, IPPROTO_TCP, AF_INET, tcp_prot, tcp_sk_alloc);
  inet_register_protosw(SOCK_STREAM, IPPROTO_TCP, AF_INET6, tcpv6_prot, tcp_sk_alloc);
}


// The accept queue (inet_connection_sock.c's reqsk_queue_add / inet_csk_accept): children whose
// handshake completed wait on the listener until accept() takes them, at most sk_max_ack_backlog
// of them (listen()'s backlog, capped by net.core.somaxconn).
import { E as ERRNO } from '../core/sock-opts.ts';
import { TCP_STATES } from '../core/tcp-states.ts';
import type { RequestSock } from '../core/request-sock.ts';
import type { TcpSock } from './tcp-sock.ts';

/** sk_acceptq_is_full: the kernel's test is strictly greater, so backlog + 1 children fit. */
export function sk_acceptq_is_full(sk: TcpSock): boolean {
  return sk.sk_ack_backlog > sk.sk_max_ack_backlog;
}

/** inet_csk_reqsk_queue_add: the child waits for accept(); false if the listener closed meanwhile. */
export function inet_csk_reqsk_queue_add(sk: TcpSock, _req: RequestSock, child: TcpSock): boolean {
  if (sk.skc_state !== TCP_STATES.TCP_LISTEN) return false;
  sk.icsk_accept_queue.push(child);
  child.parent_listener = sk;
  sk.sk_ack_backlog++;
  return true;
}

/**
 * inet_csk_accept: the oldest child (ESTABLISHED, or already closed by the peer: accept returns it
 * all the same), or -EAGAIN, -EINVAL when not listening.
 */
export function inet_csk_accept(sk: TcpSock): TcpSock | number {
  if (sk.skc_state !== TCP_STATES.TCP_LISTEN) return -ERRNO.EINVAL;
  const child = sk.icsk_accept_queue.shift();
  if (child === undefined) return -ERRNO.EAGAIN;
  sk.sk_ack_backlog--;
  child.parent_listener = null;
  return child;
}

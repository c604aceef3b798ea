// struct request_sock / inet_request_sock: what a SYN leaves in ehash (TCP_NEW_SYN_RECV) until the
// handshake completes. Its sock_common is the connection's: ir_loc_addr is skc_rcv_saddr,
// ir_rmt_addr skc_daddr, ir_num skc_num, ir_rmt_port skc_dport. TCP (tcp_conn_request) fills in the
// rest in a later issue.
import { SockCommon } from './sock-common.ts';
import { TCP_NEW_SYN_RECV } from './tcp-states.ts';
import type { Sock } from './sock.ts';

export class RequestSock extends SockCommon {
  /** The listener the SYN arrived on. */
  rsk_listener: Sock | null;

  constructor(listener: Sock) {
    super(listener.skc_net, listener.skc_family, TCP_NEW_SYN_RECV);
    this.rsk_listener = listener;
    this.skc_num = listener.skc_num;
    this.skc_bound_dev_if = listener.skc_bound_dev_if;
  }
}

/** inet_reqsk_alloc: a request socket for `listener`; the caller sets the addresses and remote port. */
export function inet_reqsk_alloc(listener: Sock): RequestSock {
  return new RequestSock(listener);
}

export function inet_reqsk(sk: SockCommon): sk is RequestSock {
  return sk.skc_state === TCP_NEW_SYN_RECV;
}

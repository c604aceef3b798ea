// net/ipv4/inet_diag.c and udp_diag.c, as `ss -tuan -e` uses them: every TCP and UDP socket of a
// netns (listeners from lhash2, connections, request and TIME_WAIT mini sockets from ehash, UDP
// sockets from the port hash) with its state, addresses, queues and cookie. The queues are what
// ss prints: for a listener, Recv-Q is the accept queue's length and Send-Q its limit; for a
// connection, unread and unacknowledged bytes; for UDP, the memory charged to each direction.
import type { Net } from '../core/net-namespace.ts';
import type { SockCommon } from '../core/sock-common.ts';
import { sk_fullsock, type Sock } from '../core/sock.ts';
import { AF_INET, IPPROTO_TCP, IPPROTO_UDP } from '../core/socket-constants.ts';
import { TCP_STATES, TCP_LISTEN, TCP_NEW_SYN_RECV, TCP_TIME_WAIT } from '../core/tcp-states.ts';
import { sock_gen_cookie } from '../core/sock-diag.ts';
import { inet_ntop4, inet_ntop6 } from '../core/inet-addr.ts';
import { ipv6_addr_v4mapped } from '../core/in6-addr.ts';
import type { TcpSock } from './tcp-sock.ts';

/** One socket as `ss` shows it (inet_diag_msg plus the queue sizes). */
export interface InetDiagEntry {
  netid: 'tcp' | 'udp';
  /** ss's names: ESTAB, LISTEN, SYN-RECV, TIME-WAIT, UNCONN, ... */
  state: string;
  family: 'inet' | 'inet6';
  local: string;
  peer: string;
  recv_q: number;
  send_q: number;
  cookie: number;
  /** The socket's ifindex binding (SO_BINDTODEVICE), 0 for none. */
  bound_dev_if: number;
  uid: number;
}

/** ss's state names (sstate_name in iproute2's ss.c), by TCP state number. */
const SS_NAMES: Record<number, string> = {
  [TCP_STATES.TCP_ESTABLISHED]: 'ESTAB',
  [TCP_STATES.TCP_SYN_SENT]: 'SYN-SENT',
  [TCP_STATES.TCP_SYN_RECV]: 'SYN-RECV',
  [TCP_STATES.TCP_FIN_WAIT1]: 'FIN-WAIT-1',
  [TCP_STATES.TCP_FIN_WAIT2]: 'FIN-WAIT-2',
  [TCP_STATES.TCP_TIME_WAIT]: 'TIME-WAIT',
  [TCP_STATES.TCP_CLOSE]: 'UNCONN',
  [TCP_STATES.TCP_CLOSE_WAIT]: 'CLOSE-WAIT',
  [TCP_STATES.TCP_LAST_ACK]: 'LAST-ACK',
  [TCP_STATES.TCP_LISTEN]: 'LISTEN',
  [TCP_STATES.TCP_CLOSING]: 'CLOSING',
  [TCP_STATES.TCP_NEW_SYN_RECV]: 'SYN-RECV',
};

function endpoint(sk: SockCommon, local: boolean): string {
  const port = local ? sk.skc_num : sk.skc_dport;
  const portText = port === 0 ? '*' : String(port);
  if (sk.skc_family === AF_INET) {
    const a = local ? sk.skc_rcv_saddr : sk.skc_daddr;
    return `${a === 0 ? '0.0.0.0' : inet_ntop4(a)}:${portText}`;
  }
  const a = local ? sk.skc_v6_rcv_saddr : sk.skc_v6_daddr;
  const text = ipv6_addr_v4mapped(a) ? `::ffff:${inet_ntop4(a.w3)}` : inet_ntop6(a);
  return `[${text}]:${portText}`;
}

function entry(sk: SockCommon, netid: 'tcp' | 'udp', recv_q: number, send_q: number, uid: number): InetDiagEntry {
  return {
    netid,
    state: SS_NAMES[sk.skc_state] ?? `STATE-${sk.skc_state}`,
    family: sk.skc_family === AF_INET ? 'inet' : 'inet6',
    local: endpoint(sk, true),
    peer: endpoint(sk, false),
    recv_q,
    send_q,
    cookie: sock_gen_cookie(sk),
    bound_dev_if: sk.skc_bound_dev_if,
    uid,
  };
}

/** inet_sk_diag_fill's queue sizes for a full TCP socket (tcp_diag_get_info). */
function tcp_queues(sk: Sock): [number, number] {
  if (sk.skc_state === TCP_LISTEN) return [sk.sk_ack_backlog, sk.sk_max_ack_backlog];
  const tp = sk as TcpSock;
  if (typeof tp.rcv_nxt !== 'number') return [0, 0];
  return [Math.max(0, (tp.rcv_nxt - tp.copied_seq) | 0), Math.max(0, (tp.write_seq - tp.snd_una) | 0)];
}

/** inet_diag_dump_icsk: the TCP sockets of net, listeners first, then ehash in bucket order. */
export function inet_diag_dump_tcp(net: Net): InetDiagEntry[] {
  const out: InetDiagEntry[] = [];
  const h = net.ipv4.tcp_hashinfo;
  for (const chain of h.lhash2) {
    if (chain === undefined) continue;
    for (const sk of chain) if (sk.skc_net === net && sk.sk_protocol === IPPROTO_TCP) out.push(entry(sk, 'tcp', ...tcp_queues(sk), sk.sk_uid));
  }
  for (const chain of h.ehash) {
    if (chain === undefined) continue;
    for (const sk of chain) {
      if (sk.skc_net !== net) continue;
      if (sk.skc_state === TCP_TIME_WAIT || sk.skc_state === TCP_NEW_SYN_RECV || !sk_fullsock(sk)) out.push(entry(sk, 'tcp', 0, 0, 0));
      else out.push(entry(sk, 'tcp', ...tcp_queues(sk), sk.sk_uid));
    }
  }
  return out;
}

/** udp_dump: the UDP sockets of net, by port slot. */
export function inet_diag_dump_udp(net: Net): InetDiagEntry[] {
  const out: InetDiagEntry[] = [];
  for (const chain of net.ipv4.udp_table.hash) {
    for (const sk of chain) {
      if (sk.skc_net === net && sk.sk_protocol === IPPROTO_UDP) out.push(entry(sk, 'udp', sk.sk_rmem_alloc, sk.sk_wmem_alloc, sk.sk_uid));
    }
  }
  return out;
}

/** `ss -tuan`: TCP then UDP. */
export function inet_diag_dump(net: Net): InetDiagEntry[] {
  return [...inet_diag_dump_tcp(net), ...inet_diag_dump_udp(net)];
}

/** The listing as ss prints it (Netid State Recv-Q Send-Q Local Peer cookie). */
export function ss_format(entries: readonly InetDiagEntry[]): string {
  const rows = [['Netid', 'State', 'Recv-Q', 'Send-Q', 'Local Address:Port', 'Peer Address:Port', 'Cookie']];
  for (const e of entries) rows.push([e.netid, e.state, String(e.recv_q), String(e.send_q), e.local, e.peer, String(e.cookie)]);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ')).join('\n');
}

// UDP over IPv6 (net/ipv6/udp.c): struct proto udpv6_prot and udpv6_init. AF_INET6 UDP sockets
// share the UDP table with AF_INET ones (dual-stack sockets take IPv4 datagrams through
// __udp4_lib_rcv); reading is udp_recvmsg's (../ipv4/udp-recvmsg.ts), which reports v4-mapped
// sources and both families' control messages.
import type { Sock } from '../core/sock.ts';
import type { Proto } from '../core/proto.ts';
import type { MsgHdr, Sockaddr } from '../core/msghdr.ts';
import { AF_INET6, IPPROTO_UDP, SOCK_DGRAM } from '../core/socket-constants.ts';
import { inet6_add_protocol } from '../ipv4/protocol.ts';
import { inet_register_protosw } from '../ipv4/af-inet.ts';
import { udp_lib_unhash, udp_v6_get_port } from '../ipv4/udp-table.ts';
import { udp_disconnect, udp_getsockopt, udp_init_sock, udp_lib_close, udp_poll, udp_setsockopt } from '../ipv4/udp.ts';
import { udp_recvmsg } from '../ipv4/udp-recvmsg.ts';
import { __ip6_datagram_connect } from './datagram.ts';
import { udpv6_err, udpv6_rcv } from './udp-rcv.ts';
import { udpv6_sendmsg } from './udp-sendmsg.ts';
import type { Net } from '../core/net-namespace.ts';

export const udpv6_prot: Proto = {
  name: 'UDPv6',
  init: udp_init_sock,
  close: udp_lib_close,
  connect: (sk: Sock, addr: Sockaddr) => __ip6_datagram_connect(sk, addr),
  disconnect: udp_disconnect,
  shutdown: () => {},
  setsockopt: udp_setsockopt,
  getsockopt: udp_getsockopt,
  sendmsg: (sk: Sock, msg: MsgHdr, data: Uint8Array, flags: number) => udpv6_sendmsg(sk, msg, data, flags),
  recvmsg: (sk: Sock, msg: MsgHdr, buf: Uint8Array, flags: number) => udp_recvmsg(sk, msg, buf, flags),
  poll: udp_poll,
  hash: () => 0,
  unhash: (sk: Sock) => udp_lib_unhash(sk.skc_net.ipv4.udp_table, sk),
  get_port: (sk: Sock, snum: number) => udp_v6_get_port(sk.skc_net.ipv4.udp_table, sk, snum),
};

inet_register_protosw(SOCK_DGRAM, IPPROTO_UDP, AF_INET6, udpv6_prot);

/** udpv6_init: UDP's handlers in inet6_protos. */
export function udpv6_init(_net?: Net): void {
  inet6_add_protocol({ handler: udpv6_rcv, err_handler: udpv6_err }, IPPROTO_UDP);
}

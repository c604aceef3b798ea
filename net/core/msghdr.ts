// struct sockaddr_in / sockaddr_in6 and struct msghdr as the socket API passes them: plain
// objects, addresses in net/'s host-order form. Control messages (IP_PKTINFO,
// IP_ORIGDSTADDR, their IPv6 twins) are typed records rather than cmsg bytes.
import type { In6Addr, ReadonlyIn6Addr } from './in6-addr.ts';
import type { AF_INET, AF_INET6 } from './socket-constants.ts';

export interface SockaddrIn {
  family: typeof AF_INET;
  /** Host order. */
  addr: number;
  port: number;
}

export interface SockaddrIn6 {
  family: typeof AF_INET6;
  addr: ReadonlyIn6Addr;
  port: number;
  flowinfo?: number;
  scope_id?: number;
}

export type Sockaddr = SockaddrIn | SockaddrIn6;

/** struct in_pktinfo / in6_pktinfo: the interface a datagram came in on and its destination. */
export interface InPktinfo {
  kind: 'IP_PKTINFO';
  ifindex: number;
  /** ipi_spec_dst: the local address a reply should come from. */
  spec_dst: number;
  /** ipi_addr: the header's destination. */
  addr: number;
}
export interface In6Pktinfo {
  kind: 'IPV6_PKTINFO';
  ifindex: number;
  addr: In6Addr;
}
/** IP_ORIGDSTADDR / IPV6_ORIGDSTADDR: the original destination (address and port) of a datagram. */
export interface OrigDstAddr {
  kind: 'IP_ORIGDSTADDR' | 'IPV6_ORIGDSTADDR';
  addr: Sockaddr;
}
export type Cmsg = InPktinfo | In6Pktinfo | OrigDstAddr;

/** struct msghdr. */
export interface MsgHdr {
  /** sendto's destination; recvfrom fills in the source. */
  msg_name?: Sockaddr;
  /** recvmsg: control messages the socket's options ask for; sendmsg: IP_PKTINFO picks the source. */
  msg_control?: Cmsg[];
  /** recvmsg sets MSG_TRUNC, MSG_CTRUNC. */
  msg_flags: number;
}

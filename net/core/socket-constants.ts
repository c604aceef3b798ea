// The constants of include/linux/socket.h, include/linux/net.h, include/uapi/linux/in.h and
// include/net/sock.h that the socket tables test.

/** Address families (include/linux/socket.h). PF_* equal AF_*. */
export const ADDRESS_FAMILIES = { AF_UNSPEC: 0, AF_INET: 2, AF_INET6: 10 } as const;
export const { AF_UNSPEC, AF_INET, AF_INET6 } = ADDRESS_FAMILIES;
export const PF_INET = AF_INET;
export const PF_INET6 = AF_INET6;
export type InetFamily = typeof AF_INET | typeof AF_INET6;

/** enum sock_type (include/linux/net.h). */
export const SOCK_TYPES = { SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_RAW: 3 } as const;
export const { SOCK_STREAM, SOCK_DGRAM, SOCK_RAW } = SOCK_TYPES;

/** IP protocols (include/uapi/linux/in.h). */
export const IPPROTOS = { IPPROTO_IP: 0, IPPROTO_ICMP: 1, IPPROTO_TCP: 6, IPPROTO_UDP: 17, IPPROTO_ICMPV6: 58 } as const;
export const { IPPROTO_IP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6 } = IPPROTOS;

/** sk_reuse values (include/net/sock.h): SO_REUSEADDR sets SK_CAN_REUSE. */
export const SK_REUSE = { SK_NO_REUSE: 0, SK_CAN_REUSE: 1, SK_FORCE_REUSE: 2 } as const;
export const { SK_NO_REUSE, SK_CAN_REUSE, SK_FORCE_REUSE } = SK_REUSE;

/** sk_userlocks bits (include/net/sock.h): what bind() fixed, so connect() and rehash leave it. */
export const SOCK_USERLOCKS = {
  SOCK_SNDBUF_LOCK: 1,
  SOCK_RCVBUF_LOCK: 2,
  SOCK_BINDADDR_LOCK: 4,
  SOCK_BINDPORT_LOCK: 8,
} as const;
export const { SOCK_BINDADDR_LOCK, SOCK_BINDPORT_LOCK } = SOCK_USERLOCKS;

/** INADDR_ANY, in host order like every IPv4 address in net/. */
export const INADDR_ANY = 0;

/**
 * LOOPBACK4_IPV6 (127.0.0.6): the IPv4 view (sk_rcv_saddr, sk_daddr) of an IPv6 socket whose
 * address is neither :: nor v4-mapped, so an IPv4 lookup never matches it.
 */
export const LOOPBACK4_IPV6 = 0x7f000006;

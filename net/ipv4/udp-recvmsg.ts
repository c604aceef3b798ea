// udp_recvmsg / udpv6_recvmsg (net/ipv4/udp.c, net/ipv6/udp.c): one datagram per call, its
// checksum verified now (a bad one is dropped as InCsumErrors + InErrors and the next is tried),
// MSG_PEEK leaving it queued, MSG_TRUNC, the source in msg_name (v4-mapped on an AF_INET6
// socket), the control messages the socket asked for. InDatagrams is counted here, when a
// datagram is read, as Linux counts it. A pending error (an ICMP port unreachable on a connected
// socket) is returned first, once.
import { sock_error, type Sock } from '../core/sock.ts';
import type { MsgHdr } from '../core/msghdr.ts';
import { In6Addr, IPV6_ADDR_TYPES, ipv6_addr_set_v4mapped, ipv6_addr_type } from '../core/in6-addr.ts';
import { AF_INET, AF_INET6 } from '../core/socket-constants.ts';
import { MSG, RCV_SHUTDOWN } from '../core/socket-options.ts';
import { SKB_DROP_REASONS, __skb_unlink, consume_skb, kfree_skb_reason, skb_peek, type SkBuff } from '../core/skbuff.ts';
import { E } from '../core/sock-opts.ts';
import { ip_cmsg_recv_offset } from './ip-sockglue.ts';
import { UDP_HDR_LEN, udp4_csum_bad } from './udp-rcv.ts';
import { udp6_csum_bad } from '../ipv6/udp-csum.ts';
import { ip6_datagram_recv_common_ctl, ip6_datagram_recv_specific_ctl } from '../ipv6/datagram.ts';
import { ipv6_hdr_addr } from '../ipv6/ipv6-hdr-addr.ts';

/** Was this datagram carried by IPv4 (the version nibble of its network header)? */
export function udp_skb_is_v4(skb: SkBuff): boolean {
  return skb.head[skb.network_header]! >>> 4 === 4;
}

/** Copies n bytes from src at off into dst: small datagrams by hand (a subarray per read would be an allocation). */
function udp_copy(dst: Uint8Array, src: Uint8Array, off: number, n: number): void {
  if (n <= 64) {
    for (let i = 0; i < n; i++) dst[i] = src[off + i]!;
  } else {
    dst.set(src.subarray(off, off + n));
  }
}

/** Takes a read datagram off the queue, giving its truesize back to the receive buffer. */
function udp_skb_unlink(sk: Sock, skb: SkBuff): void {
  __skb_unlink(skb, sk.sk_receive_queue);
  sk.sk_rmem_alloc -= skb.truesize;
}

/** msg_name: the datagram's source, in place when the caller passed a sockaddr of the right family. */
function udp_fill_name(msg: MsgHdr, sk: Sock, skb: SkBuff, is_v4: boolean): void {
  const v = skb.view;
  const nh = skb.network_header;
  const sport = v.getUint16(skb.transport_header);
  const n = msg.msg_name;
  if (sk.skc_family === AF_INET) {
    const saddr = v.getUint32(nh + 12);
    if (n !== undefined && n.family === AF_INET) {
      n.addr = saddr;
      n.port = sport;
    } else {
      msg.msg_name = { family: AF_INET, addr: saddr, port: sport };
    }
    return;
  }
  let a: In6Addr;
  if (n !== undefined && n.family === AF_INET6 && n.addr instanceof In6Addr) {
    a = n.addr;
    n.port = sport;
  } else {
    a = new In6Addr();
    msg.msg_name = { family: AF_INET6, addr: a, port: sport, flowinfo: 0, scope_id: 0 };
  }
  const name = msg.msg_name as { scope_id?: number; flowinfo?: number };
  if (is_v4) {
    ipv6_addr_set_v4mapped(v.getUint32(nh + 12), a);
    name.scope_id = 0;
  } else {
    ipv6_hdr_addr(skb.head, nh + 8, a);
    name.scope_id = ipv6_addr_type(a) & IPV6_ADDR_TYPES.IPV6_ADDR_LINKLOCAL ? skb.skb_iif : 0;
  }
  name.flowinfo = 0;
}

/** udp_recvmsg for both families: bytes copied (the datagram's length with MSG_TRUNC), 0 after SHUT_RD, -EAGAIN, or sk_err. */
export function udp_recvmsg(sk: Sock, msg: MsgHdr, buf: Uint8Array, flags: number): number {
  if ((flags & MSG.MSG_ERRQUEUE) !== 0) return -E.EAGAIN;
  const peeking = (flags & MSG.MSG_PEEK) !== 0;
  const net = sk.skc_net;
  for (;;) {
    const err = sock_error(sk);
    if (err !== 0) return err;
    const skb = skb_peek(sk.sk_receive_queue);
    if (skb === null) return (sk.sk_shutdown & RCV_SHUTDOWN) !== 0 ? 0 : -E.EAGAIN;
    const ulen = skb.len;
    const is_v4 = udp_skb_is_v4(skb);
    if (is_v4 ? udp4_csum_bad(skb, ulen + UDP_HDR_LEN) : udp6_csum_bad(skb, ulen + UDP_HDR_LEN)) {
      udp_skb_unlink(sk, skb);
      sk.sk_drops++;
      if (is_v4) {
        net.mib.udp.InCsumErrors++;
        net.mib.udp.InErrors++;
      } else {
        net.mib.ipv6.Udp6InCsumErrors++;
        net.mib.ipv6.Udp6InErrors++;
      }
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_UDP_CSUM);
      continue;
    }
    let copied = buf.length;
    if (copied > ulen) copied = ulen;
    else if (copied < ulen) msg.msg_flags |= MSG.MSG_TRUNC;
    udp_copy(buf, skb.head, skb.data, copied);
    if (!peeking) {
      if (is_v4) net.mib.udp.InDatagrams++;
      else net.mib.ipv6.Udp6InDatagrams++;
    }
    udp_fill_name(msg, sk, skb, is_v4);
    if (sk.skc_family === AF_INET) {
      if (sk.cmsg_flags !== 0) ip_cmsg_recv_offset(msg, sk, skb);
    } else if (is_v4) {
      if (sk.cmsg_flags !== 0) ip_cmsg_recv_offset(msg, sk, skb);
      if (sk.rxopt !== 0) ip6_datagram_recv_common_ctl(sk, msg, skb);
    } else if (sk.rxopt !== 0) {
      ip6_datagram_recv_common_ctl(sk, msg, skb);
      ip6_datagram_recv_specific_ctl(sk, msg, skb);
    }
    if (!peeking) {
      udp_skb_unlink(sk, skb);
      consume_skb(skb);
    }
    return (flags & MSG.MSG_TRUNC) !== 0 ? ulen : copied;
  }
}

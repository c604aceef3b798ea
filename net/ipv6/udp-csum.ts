// The UDP checksum over IPv6 (udp6_csum_init / udp_lib_checksum_complete): mandatory, over the
// IPv6 pseudo-header (RFC 8200 §8.1). A zero checksum is an error over IPv6.
import { In6Addr } from '../core/in6-addr.ts';
import { CHECKSUM_UNNECESSARY, type SkBuff } from '../core/skbuff.ts';
import { csum_ipv6_magic, csum_partial } from '../core/checksum.ts';
import { IPPROTO_UDP } from '../core/socket-constants.ts';

const saddr = new In6Addr();
const daddr = new In6Addr();

/** True when the datagram at skb.transport_header, `ulen` bytes, has a wrong (or zero) checksum. */
export function udp6_csum_bad(skb: SkBuff, ulen: number): boolean {
  if (skb.ip_summed === CHECKSUM_UNNECESSARY) return false;
  const th = skb.transport_header;
  if (skb.view.getUint16(th + 6) === 0) return true;
  const nh = skb.network_header;
  saddr.read(skb.head, nh + 8);
  daddr.read(skb.head, nh + 24);
  const sum = csum_partial(skb.head, th, ulen, 0);
  if (csum_ipv6_magic(saddr, daddr, ulen, IPPROTO_UDP, sum) !== 0) return true;
  skb.ip_summed = CHECKSUM_UNNECESSARY;
  return false;
}

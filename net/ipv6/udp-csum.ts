// The UDP checksum over IPv6 (udp6_csum_init / udp_lib_checksum_complete): mandatory, over the
// IPv6 pseudo-header (RFC 8200 §8.1). A zero checksum is an error over IPv6.
//
// The pseudo-header's addresses are summed straight from the header's bytes (csum_partial over
// the 32 bytes of source and destination): the same 16-bit words csum_ipv6_magic adds from an
// In6Addr, so the same sum, without parsing the addresses per datagram read.
import { CHECKSUM_UNNECESSARY, type SkBuff } from '../core/skbuff.ts';
import { csum_fold, csum_partial } from '../core/checksum.ts';
import { IPPROTO_UDP } from '../core/socket-constants.ts';

/** True when the datagram at skb.transport_header, `ulen` bytes, has a wrong (or zero) checksum. */
export function udp6_csum_bad(skb: SkBuff, ulen: number): boolean {
  if (skb.ip_summed === CHECKSUM_UNNECESSARY) return false;
  const th = skb.transport_header;
  if (skb.view.getUint16(th + 6) === 0) return true;
  const b = skb.head;
  const sum = csum_partial(b, skb.network_header + 8, 32, csum_partial(b, th, ulen, 0));
  if (csum_fold(sum + (ulen >>> 16) + (ulen & 0xffff) + IPPROTO_UDP) !== 0) return true;
  skb.ip_summed = CHECKSUM_UNNECESSARY;
  return false;
}

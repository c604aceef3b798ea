// eth_type_trans (net/ethernet/eth.c), on an skb the NIC just built: note where the MAC header is,
// pull it, classify the frame by its destination (PACKET_HOST, _BROADCAST, _MULTICAST, or
// _OTHERHOST when it is for someone else, as every frame a bridge port forwards is), and take the
// protocol from the EtherType (ETH_P_802_3 / ETH_P_802_2 for the old length field).
import { ETH_HLEN, META_STRIDE, PACKET_TYPE, SKB, SKB_HEAD_WORDS, skb_pull, type FramePool } from '../../tun/index.ts';

/** EtherType values below this are 802.3 lengths. */
const ETH_P_802_3_MIN = 0x0600;
const ETH_P_802_3 = 0x0001;
const ETH_P_802_2 = 0x0004;

/** A MAC address as two halves (16 + 32 bits) that stay small integers. */
export interface MacHalves {
  hi: number;
  lo: number;
}

export function macHalves(mac: Uint8Array): MacHalves {
  return { hi: (mac[0]! << 8) | mac[1]!, lo: (mac[2]! << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]! };
}

/** Frame h (an skb of at least ETH_HLEN bytes) arriving on device `ifindex`, whose address is `dev`. */
export function eth_type_trans(pool: FramePool, h: number, ifindex: number, dev: MacHalves): void {
  const meta = pool.meta, skb = pool.skb, u8 = pool.u8;
  const b = h * SKB_HEAD_WORDS, headroom = meta[META_STRIDE * h]!;
  const off = h * pool.frameSize + headroom;
  skb[b + SKB.DEV] = ifindex;
  skb[b + SKB.MAC_HEADER] = headroom;
  skb[b + SKB.MAC_LEN] = ETH_HLEN;
  skb_pull(meta, h, ETH_HLEN);
  skb[b + SKB.NETWORK_HEADER] = headroom + ETH_HLEN;
  const dHi = (u8[off]! << 8) | u8[off + 1]!;
  const dLo = (u8[off + 2]! << 24) | (u8[off + 3]! << 16) | (u8[off + 4]! << 8) | u8[off + 5]!;
  if ((dHi & 0x100) !== 0) {
    skb[b + SKB.PKT_TYPE] = dHi === 0xffff && dLo === -1 ? PACKET_TYPE.PACKET_BROADCAST : PACKET_TYPE.PACKET_MULTICAST;
  } else if (dHi !== dev.hi || dLo !== dev.lo) {
    skb[b + SKB.PKT_TYPE] = PACKET_TYPE.PACKET_OTHERHOST;
  }
  const proto = (u8[off + 12]! << 8) | u8[off + 13]!;
  if (proto >= ETH_P_802_3_MIN) skb[b + SKB.PROTOCOL] = proto;
  // Novell's raw 802.3 starts its payload with 0xFFFF; anything else is 802.2 LLC.
  else skb[b + SKB.PROTOCOL] = u8[off + 14] === 0xff && u8[off + 15] === 0xff ? ETH_P_802_3 : ETH_P_802_2;
}

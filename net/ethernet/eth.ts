// net/ethernet/eth.c: the Ethernet header on receive (eth_type_trans: who the frame is for, its
// protocol, the data moved past the header) and on transmit (eth_header).
import { ETH_ALEN, ETH_HLEN, PACKET_BROADCAST, PACKET_HOST, PACKET_MULTICAST, PACKET_OTHERHOST, skb_pull, skb_push, type SkBuff } from '../core/skbuff.ts';
import { IFF, type NetDevice } from '../core/netdevice.ts';

/**
 * eth_type_trans: sets mac_header and pkt_type, pulls the 14-byte header and returns the
 * protocol (host order) for skb->protocol. A frame shorter than a header returns 0 and is left
 * unpulled (netif_receive_skb finds no handler for 0 and counts it).
 */
export function eth_type_trans(skb: SkBuff, dev: NetDevice): number {
  if (skb.len < ETH_HLEN) return 0;
  const b = skb.head, h = skb.data;
  skb.mac_header = h;
  skb.dev = dev;
  if ((b[h]! & 1) !== 0) {
    let bcast = true;
    for (let i = 0; i < ETH_ALEN; i++) if (b[h + i] !== 0xff) { bcast = false; break; }
    skb.pkt_type = bcast ? PACKET_BROADCAST : PACKET_MULTICAST;
  } else {
    const a = dev.dev_addr;
    let mine = true;
    for (let i = 0; i < ETH_ALEN; i++) if (b[h + i] !== a[i]) { mine = false; break; }
    skb.pkt_type = mine || (dev.flags & IFF.IFF_LOOPBACK) !== 0 ? PACKET_HOST : PACKET_OTHERHOST;
  }
  const proto = (b[h + 12]! << 8) | b[h + 13]!;
  skb_pull(skb, ETH_HLEN);
  skb.network_header = skb.data;
  skb.mac_len = ETH_HLEN;
  return proto;
}

/** eth_header: pushes a header with the given destination (null: broadcast) and the device's source. */
export function eth_header(skb: SkBuff, dev: NetDevice, type: number, daddr: Uint8Array | null): number {
  const h = skb_push(skb, ETH_HLEN);
  const b = skb.head;
  if (daddr === null) b.fill(0xff, h, h + 6);
  // A loop, not set(subarray()): no typed-array view allocated per frame for six bytes.
  else for (let i = 0; i < ETH_ALEN; i++) b[h + i] = daddr[i]!;
  b.set(dev.dev_addr, h + 6);
  b[h + 12] = type >>> 8;
  b[h + 13] = type & 0xff;
  skb.mac_header = h;
  return ETH_HLEN;
}

/** The text form aa:bb:cc:dd:ee:ff. */
export function eth_ntop(a: Uint8Array, off = 0): string {
  const p: string[] = [];
  for (let i = 0; i < 6; i++) p.push(a[off + i]!.toString(16).padStart(2, '0'));
  return p.join(':');
}

// virtio_net as the guest stack's network device (eth0): the NetDevice whose ndo_start_xmit is
// the driver's start_xmit, and the receive hand-off of XDP_PASS frames as skbs
// (receive_buf's skb half: netdev_alloc_skb, the header's checksum flags, eth_type_trans,
// netif_receive_skb). The stack above (net/) cannot tell it from any other device.
//
// start_xmit: reclaim what the device sent, queue the frame (xmit_skb), stop the queue when a
// worst-case packet might not fit (check_sq_full_and_disable), then kick, with event-idx
// suppression, unless the NAPI poll is running (its flush kicks once for everything it sent,
// XDP_TX included, as xmit_more would).
import {
  CHECKSUM_PARTIAL, CHECKSUM_UNNECESSARY, consume_skb, netdev_alloc_skb, skb_put, type SkBuff,
} from '../../net/core/skbuff.ts';
import { NETDEV_TX_BUSY, NETDEV_TX_OK, NetDevice, type NetdevTx } from '../../net/core/netdevice.ts';
import { netif_receive_skb } from '../../net/core/dev.ts';
import { eth_type_trans } from '../../net/ethernet/eth.ts';
import { VIRTIO_NET_HDR_F } from '../../virtio/index.ts';
import type { VirtnetDriver } from './virtnet.ts';

const DATA_VALID = VIRTIO_NET_HDR_F.VIRTIO_NET_HDR_F_DATA_VALID;
const NEEDS_CSUM = VIRTIO_NET_HDR_F.VIRTIO_NET_HDR_F_NEEDS_CSUM;

/** The guest's eth0: a NetDevice over one virtio_net queue pair. */
export class VirtnetNetDevice extends NetDevice {
  constructor(readonly driver: VirtnetDriver, name = 'eth0') {
    super({ name, dev_addr: driver.mac.slice(), mtu: driver.mtu, ops: { ndo_start_xmit: start_xmit } });
  }
}

/**
 * Makes the driver a stack's device: XDP_PASS frames (and every frame without a program) go up
 * through netif_receive_skb, and the stack transmits through start_xmit. Register the device in
 * a Net (register_netdevice) before frames arrive.
 */
export function virtnet_netdev(driver: VirtnetDriver, name = 'eth0'): VirtnetNetDevice {
  const dev = new VirtnetNetDevice(driver, name);
  driver.rq.netdev = dev;
  driver.sq.netdev = dev;
  return dev;
}

/** ndo_start_xmit. The frame is copied to guest memory, so the skb is freed here, not at completion. */
export function start_xmit(skb: SkBuff, dev: NetDevice): NetdevTx {
  const driver = (dev as VirtnetNetDevice).driver;
  const sq = driver.sq;
  const s = driver.stats;
  sq.__free_old_xmit();
  const len = skb.len;
  const err = sq.xmit_skb(skb.head, skb.data, len);
  if (err !== 0) {
    if (err === -2) s.tx_skb_too_big++;
    else {
      s.tx_skb_busy++;
      // "TX queue is full": a driver that stops its queue in time never gets here; stop it now.
      sq.check_sq_full_and_disable(dev);
    }
    return NETDEV_TX_BUSY;
  }
  s.tx_skb++;
  s.tx_skb_bytes += len;
  consume_skb(skb);
  sq.check_sq_full_and_disable(dev);
  if (!sq.deferKick) sq.flush();
  return NETDEV_TX_OK;
}

/**
 * The skb half of receive_buf: the frame [gpa, gpa+len) of guest memory `u8` is copied into an
 * skb (the buffer goes back to the ring right after), the header's flags set ip_summed
 * (DATA_VALID: the device checked it; NEEDS_CSUM: a partial checksum from a local sender, which
 * the stack trusts as the kernel does CHECKSUM_PARTIAL), eth_type_trans, netif_receive_skb.
 */
export function virtnet_receive_skb(dev: NetDevice, u8: Uint8Array, gpa: number, len: number, hdrFlags: number): number {
  const skb = netdev_alloc_skb(dev, len);
  const at = skb_put(skb, len);
  const b = skb.head;
  if (len <= 128) for (let i = 0; i < len; i++) b[at + i] = u8[gpa + i]!;
  else b.set(u8.subarray(gpa, gpa + len), at);
  if ((hdrFlags & NEEDS_CSUM) !== 0) skb.ip_summed = CHECKSUM_PARTIAL;
  else if ((hdrFlags & DATA_VALID) !== 0) skb.ip_summed = CHECKSUM_UNNECESSARY;
  skb.protocol = eth_type_trans(skb, dev);
  dev.stats.rx_packets++;
  dev.stats.rx_bytes += len;
  return netif_receive_skb(skb);
}

// The host stack on the bridge: br0, the bridge's own device, as the host's Net sees it. Frames
// the bridge forwards to it (its MAC, broadcasts, floods) go up the host stack
// (br_pass_frame_up -> netif_receive_skb), and what the stack sends through br0 enters the
// bridge as if it had arrived on a port (br_dev_xmit -> br_forward), so host -> guest takes the
// same bridge -> tap -> vhost path as Case 2's frames.
//
// The bridge works on frame-pool skbs (handles shared with vhost); the stack on net/'s SkBuffs.
// Each crossing is one copy: the pool frame's bytes into a new skb going up, the skb's bytes into
// a new pool frame going down. A pool with no free frame drops the packet (counted): the stack's
// transmit gets NETDEV_TX_BUSY and dev_queue_xmit counts it as tx_dropped.
import { build_skb, META_STRIDE, NET_SKB_PAD, SKB, SKB_HEAD_WORDS, type PagePool } from '../../tun/index.ts';
import { netif_receive_skb } from '../../net/core/dev.ts';
import { NETDEV_TX_BUSY, NETDEV_TX_OK, NetDevice, type NetdevTx } from '../../net/core/netdevice.ts';
import { consume_skb, netdev_alloc_skb, skb_put, type SkBuff } from '../../net/core/skbuff.ts';
import { eth_type_trans as net_eth_type_trans } from '../../net/ethernet/eth.ts';
import type { Bridge } from './bridge.ts';
import { eth_type_trans, macHalves, type MacHalves } from './eth.ts';
import type { NetDevice as HostNetDevice } from './netdev.ts';
import type { TcSkbState } from './tc-skb.ts';
import { parseMac } from './pktgen.ts';

/** br0's address unless told otherwise (locally administered). */
export const BR0_DEFAULT_MAC = '02:00:00:00:01:fe';

export interface HostStackPortStats {
  /** Frames the bridge passed up to the host stack, and their bytes. */
  rx_packets: number;
  rx_bytes: number;
  /** Frames the host stack sent into the bridge, and their bytes. */
  tx_packets: number;
  tx_bytes: number;
  /** Stack transmits refused for want of a pool frame, or over the MTU. */
  tx_no_buffer: number;
  tx_too_big: number;
}

/** br0 as the host's Net sees it: ndo_start_xmit is br_dev_xmit. */
export class BridgeDevice extends NetDevice {
  constructor(readonly port: HostStackPort, name: string, mac: Uint8Array, mtu: number) {
    super({ name, dev_addr: mac, mtu, ops: { ndo_start_xmit: br_dev_xmit } });
  }
}

function br_dev_xmit(skb: SkBuff, dev: NetDevice): NetdevTx {
  return (dev as BridgeDevice).port.xmit(skb);
}

/**
 * The bridge's port towards the host stack. As a bridge port (host/net's NetDevice) it takes
 * skbs the bridge forwards; as `dev` (net/'s NetDevice, br0) it is what the host stack transmits
 * on. Add it with Bridge.addPort, then call attach(bridge, port).
 */
export class HostStackPort implements HostNetDevice {
  readonly name: string;
  readonly ifindex: number;
  readonly mtu: number;
  readonly bridgeLocal = true;
  readonly dev: BridgeDevice;
  private readonly mac: MacHalves;
  private bridge: Bridge | undefined;
  private port = -1;
  /** tc's per-skb fields, cleared for each skb built here (HostNet.enableTc). */
  tcState: TcSkbState | undefined = undefined;

  rx_packets = 0;
  rx_bytes = 0;
  tx_packets = 0;
  tx_bytes = 0;
  tx_no_buffer = 0;
  tx_too_big = 0;

  constructor(readonly pool: PagePool, o: { name?: string; ifindex: number; mac?: string; mtu?: number }) {
    this.name = o.name ?? 'br0';
    this.ifindex = o.ifindex;
    this.mtu = o.mtu ?? 1500;
    const mac = parseMac(o.mac ?? BR0_DEFAULT_MAC);
    this.mac = macHalves(mac);
    this.dev = new BridgeDevice(this, this.name, mac, this.mtu);
  }

  /**
   * Binds the port number the bridge gave this device, and makes br0's own address known on it
   * (the bridge's local FDB entry), so frames for the host are forwarded here, not flooded.
   */
  attach(bridge: Bridge, port: number): void {
    this.bridge = bridge;
    this.port = port;
    // A local (permanent) entry, not one learned from a frame: bridge.learned does not count it.
    bridge.fdb.learn(this.mac.hi, this.mac.lo, port);
  }

  /** Bridge -> host stack (br_pass_frame_up): the frame's bytes into an skb on br0, up the stack. */
  ndo_start_xmit(h: number): void {
    const fp = this.pool.pool;
    const len = fp.meta[META_STRIDE * h + 1]!;
    const off = fp.dataOffset(h);
    const dev = this.dev;
    const skb = netdev_alloc_skb(dev, len);
    const at = skb_put(skb, len);
    const b = skb.head, u8 = fp.u8;
    if (len <= 128) for (let i = 0; i < len; i++) b[at + i] = u8[off + i]!;
    else b.set(u8.subarray(off, off + len), at);
    this.pool.free(h);
    this.rx_packets++;
    this.rx_bytes += len;
    dev.stats.rx_packets++;
    dev.stats.rx_bytes += len;
    skb.protocol = net_eth_type_trans(skb, dev);
    netif_receive_skb(skb);
  }

  /** Host stack -> bridge (br_dev_xmit): the skb's bytes into a pool frame, which enters the bridge on this port. */
  xmit(skb: SkBuff): NetdevTx {
    const bridge = this.bridge;
    const pool = this.pool, fp = pool.pool;
    const len = skb.len;
    if (bridge === undefined) return NETDEV_TX_BUSY;
    if (len > fp.maxData || len < 14) {
      this.tx_too_big++;
      return NETDEV_TX_BUSY;
    }
    const h = pool.alloc();
    if (h < 0) {
      this.tx_no_buffer++;
      return NETDEV_TX_BUSY;
    }
    const start = fp.frameStart(h) + NET_SKB_PAD;
    const u8 = fp.u8, b = skb.head, from = skb.data;
    if (len <= 128) for (let i = 0; i < len; i++) u8[start + i] = b[from + i]!;
    else u8.set(b.subarray(from, from + len), start);
    consume_skb(skb);
    this.tx_packets++;
    this.tx_bytes += len;
    build_skb(fp, h, NET_SKB_PAD, len);
    this.tcState?.reset(h);
    this.xmitFrame(h);
    return NETDEV_TX_OK;
  }

  /**
   * br_dev_xmit for a pool skb (data at its MAC header): into the bridge on this port. What the
   * stack sends, and what a host device's tc program redirects to br0's transmit path.
   * False (the skb freed) when br0 is not on a bridge yet.
   */
  xmitFrame(h: number): boolean {
    const bridge = this.bridge;
    const fp = this.pool.pool;
    if (bridge === undefined) {
      this.pool.free(h);
      return false;
    }
    eth_type_trans(fp, h, this.ifindex, this.mac);
    fp.skb[h * SKB_HEAD_WORDS + SKB.SKB_IIF] = this.ifindex;
    bridge.br_handle_frame(this.port, h);
    return true;
  }

  stats(): HostStackPortStats {
    return {
      rx_packets: this.rx_packets, rx_bytes: this.rx_bytes, tx_packets: this.tx_packets, tx_bytes: this.tx_bytes,
      tx_no_buffer: this.tx_no_buffer, tx_too_big: this.tx_too_big,
    };
  }
}

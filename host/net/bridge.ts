// A learning bridge (net/bridge): frames entering a port teach the forwarding database where
// their source MAC lives; a known unicast destination goes out of its one port, an unknown or
// group (broadcast/multicast) destination is flooded to every port but the one it came in on.
// In Case 2 the ports are the NIC and the tap, whose transmit is tun_net_xmit: one packet, one
// wake-up of vhost.
//
// What enters is an skb the NIC passed up (eth_type_trans done: the data starts at the network
// header, the MAC header is behind it). Forwarding moves it to the egress port (skb->dev), pushes
// the MAC header back (br_dev_queue_push_xmit), drops it if it is longer than the port's MTU
// allows (is_skb_forwardable), and hands it to the port's dev_queue_xmit. Flooding to k ports
// sends clones to k - 1 of them (a copy into a new frame: skb_clone shares the data, but a shared
// frame would need reference counts across workers) and the original to the last.
import { copyFrameWords, ETH_HLEN, META_STRIDE, SKB, SKB_HEAD_FIELDS, SKB_HEAD_WORDS, skb_push, type PagePool } from '../../tun/index.ts';
import { devQueueXmit } from './dev-queue-xmit.ts';
import { HostNetError } from './errors.ts';
import { Fdb, FDB_LEARN } from './fdb.ts';
import type { NetDevice } from './netdev.ts';
import type { TcSkbState } from './tc-skb.ts';

export interface BridgeStats {
  rx_packets: number;
  forwarded: number;
  flooded: number;
  flood_copies: number;
  learned: number;
  moved: number;
  learn_refused: number;
  filtered: number;
  dropped: number;
  drop_invalid_src: number;
  drop_no_buffer: number;
  drop_no_port: number;
  drop_too_big: number;
  fdb_entries: number;
}

interface BridgePort {
  name: string;
  ifindex: number;
  /** The bridge's own device (br0): flooded to only for group addresses. */
  local: boolean;
  /** Longest skb the port forwards: its MTU plus the Ethernet header. */
  maxLen: number;
  xmit: (h: number) => void;
}

/** ETH_DATA_LEN: a port's MTU when its device does not say. */
export const ETH_DATA_LEN = 1500;

/** Largest FDB (the kernel's br->fdb_max_learned is unlimited by default, memory is not). */
export const BR_FDB_MAX = 4096;

export class Bridge {
  readonly pool: PagePool;
  private readonly ports: BridgePort[] = [];
  readonly fdb: Fdb;
  /** tc's per-skb fields (mark, priority, tc_index), which a clone copies (HostNet.enableTc). */
  tcState: TcSkbState | undefined = undefined;

  /** Frames entering the bridge. */
  rx_packets = 0;
  /** Sent out of the one port the FDB names. */
  forwarded = 0;
  /** Frames flooded, and the clones flooding made (each clone is a frame more to account for). */
  flooded = 0;
  flood_copies = 0;
  /** FDB entries added, and entries that moved to another port. */
  learned = 0;
  moved = 0;
  /** Sources not learned because the FDB is at its limit (their frames are flooded back). */
  learn_refused = 0;
  /** Destination on the ingress port: not sent back (consumed, as br_forward's should_deliver). */
  filtered = 0;
  /** Frames or clones dropped, every reason, then by reason. */
  dropped = 0;
  drop_invalid_src = 0;
  drop_no_buffer = 0;
  drop_no_port = 0;
  /** Longer than the egress port's MTU (is_skb_forwardable). */
  drop_too_big = 0;

  constructor(pool: PagePool, fdbLimit = BR_FDB_MAX) {
    this.pool = pool;
    this.fdb = new Fdb(fdbLimit);
  }

  /** Enslaves a device; returns its port number. Its transmit takes ownership of the frames it gets. */
  addPort(dev: NetDevice): number {
    if (dev.ndo_start_xmit === undefined) throw new HostNetError('EINVAL', `bridge: ${dev.name} cannot transmit skbs`);
    const mtu = dev.mtu ?? ETH_DATA_LEN;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new HostNetError('EINVAL', `bridge: ${dev.name} has MTU ${String(mtu)} (68..65535)`);
    const xmit = devQueueXmit(dev, this.pool.pool);
    this.ports.push({ name: dev.name, ifindex: dev.ifindex ?? 0, local: dev.bridgeLocal === true, maxLen: mtu + ETH_HLEN, xmit });
    return this.ports.length - 1;
  }

  /** A function that feeds frames into port `port` (a device's netif_receive_skb when enslaved). */
  input(port: number): (h: number) => void {
    if (!Number.isInteger(port) || port < 0 || port >= this.ports.length) throw new HostNetError('ENOENT', `bridge: no port ${port}`);
    return (h) => this.br_handle_frame(port, h);
  }

  /** An skb entering on `port`: learn, then forward, flood or filter. Takes ownership of it. */
  br_handle_frame(port: number, h: number): void {
    this.rx_packets++;
    const fp = this.pool.pool;
    const u8 = fp.u8, off = h * fp.frameSize + fp.skb[h * SKB_HEAD_WORDS + SKB.MAC_HEADER]!;
    // MACs as two halves (16 + 32 bits): numbers that stay small integers.
    const srcHi = (u8[off + 6]! << 8) | u8[off + 7]!;
    const srcLo = (u8[off + 8]! << 24) | (u8[off + 9]! << 16) | (u8[off + 10]! << 8) | u8[off + 11]!;
    // A group address as source is invalid (is_valid_ether_addr): dropped before learning.
    if ((srcHi & 0x100) !== 0 || (srcHi | srcLo) === 0) {
      this.drop(h);
      this.drop_invalid_src++;
      return;
    }
    const learned = this.fdb.learn(srcHi, srcLo, port);
    if (learned === FDB_LEARN.LEARNED) this.learned++;
    else if (learned === FDB_LEARN.MOVED) this.moved++;
    else if (learned === FDB_LEARN.FULL) this.learn_refused++;
    const group = (u8[off]! & 1) !== 0;
    const to = group ? -1 : this.fdb.lookup((u8[off]! << 8) | u8[off + 1]!, (u8[off + 2]! << 24) | (u8[off + 3]! << 16) | (u8[off + 4]! << 8) | u8[off + 5]!);
    if (to >= 0) {
      if (to === port) {
        this.filtered++;
        this.pool.free(h);
        return;
      }
      this.forwarded++;
      this.br_forward(this.ports[to]!, h);
      return;
    }
    this.flood(port, h, group);
  }

  /** __br_forward .. br_dev_queue_push_xmit: to the egress port, MAC header back in front, MTU checked. */
  private br_forward(to: BridgePort, h: number): void {
    const fp = this.pool.pool;
    fp.skb[h * SKB_HEAD_WORDS + SKB.DEV] = to.ifindex;
    skb_push(fp.meta, h, ETH_HLEN);
    if (fp.meta[META_STRIDE * h + 1]! > to.maxLen) {
      this.drop(h);
      this.drop_too_big++;
      return;
    }
    to.xmit(h);
  }

  /** The port a MAC ("aa:bb:...") was learned on, or undefined. */
  lookup(mac: string): number | undefined {
    const b = mac.split(':').map((x) => parseInt(x, 16));
    if (b.length !== 6 || b.some((x) => !(x >= 0 && x <= 255))) throw new HostNetError('EINVAL', `bad MAC address ${JSON.stringify(mac)}`);
    const port = this.fdb.lookup((b[0]! << 8) | b[1]!, (b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!);
    return port < 0 ? undefined : port;
  }

  portName(port: number): string | undefined {
    return this.ports[port]?.name;
  }

  stats(): BridgeStats {
    return {
      rx_packets: this.rx_packets, forwarded: this.forwarded, flooded: this.flooded, flood_copies: this.flood_copies,
      learned: this.learned, moved: this.moved, learn_refused: this.learn_refused, filtered: this.filtered, dropped: this.dropped,
      drop_invalid_src: this.drop_invalid_src, drop_no_buffer: this.drop_no_buffer, drop_no_port: this.drop_no_port,
      drop_too_big: this.drop_too_big, fdb_entries: this.fdb.size,
    };
  }

  /**
   * br_flood: to every port but the ingress, clones to all but the last. The bridge's own device
   * (br0) takes only group-addressed frames: unknown unicast is not for the host (br0 is not
   * promiscuous).
   */
  private flood(ingress: number, h: number, group: boolean): void {
    const ports = this.ports;
    let last = -1;
    for (let p = ports.length - 1; p >= 0; p--) {
      if (p !== ingress && (group || !ports[p]!.local)) { last = p; break; }
    }
    if (last < 0) {
      this.drop(h);
      this.drop_no_port++;
      return;
    }
    this.flooded++;
    for (let p = 0; p < last; p++) {
      if (p === ingress || (!group && ports[p]!.local)) continue;
      const c = this.clone(h);
      if (c < 0) {
        this.dropped++;
        this.drop_no_buffer++;
        continue;
      }
      this.flood_copies++;
      this.br_forward(ports[p]!, c);
    }
    this.br_forward(ports[last]!, h);
  }

  /** A copy of skb h (head and frame from its MAC header on) in a new frame at the same offsets; -1 when the pool is empty. */
  private clone(h: number): number {
    const pool = this.pool, fp = pool.pool;
    const c = pool.alloc();
    if (c < 0) return -1;
    const headroom = fp.meta[META_STRIDE * h]!, len = fp.meta[META_STRIDE * h + 1]!;
    const mac = fp.skb[h * SKB_HEAD_WORDS + SKB.MAC_HEADER]!, n = headroom + len - mac;
    const from = fp.frameStart(h) + mac, to = fp.frameStart(c) + mac;
    if ((mac & 3) === 0) copyFrameWords(fp.i32, to >>> 2, fp.i32, from >>> 2, n);
    else fp.u8.copyWithin(to, from, from + n);
    fp.setData(c, headroom, len);
    fp.skb.copyWithin(c * SKB_HEAD_WORDS, h * SKB_HEAD_WORDS, h * SKB_HEAD_WORDS + SKB_HEAD_FIELDS);
    this.tcState?.clone(h, c);
    return c;
  }

  private drop(h: number): void {
    this.dropped++;
    this.pool.free(h);
  }
}

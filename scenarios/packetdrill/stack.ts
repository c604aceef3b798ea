// The machine a script runs against: one guest-like network stack (net/stack.ts's NetStack on a
// VirtualClock: lo, IPv4, IPv6, ICMP, UDP, TCP) and a tun-like L3 device, tun0, as packetdrill's: no link header, no ARP, the
// local address on it and a route to the remote network through it. What the stack transmits on
// tun0 is captured with its time; what the script sends is injected with netif_receive_skb.
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import type { Net } from '../../net/core/net-namespace.ts';
import { ARPHRD, IFF, NETDEV_TX_OK, NetDevice, type NetdevTx } from '../../net/core/netdevice.ts';
import { netif_receive_skb } from '../../net/core/dev.ts';
import {
  ETH_P_IP, ETH_P_IPV6, consume_skb, netdev_alloc_skb, skb_put, skb_reset_network_header, type SkBuff,
} from '../../net/core/skbuff.ts';
import { ip6_route_add } from '../../net/ipv6/route.ts';
import { In6Addr } from '../../net/core/in6-addr.ts';
import { NetStack } from '../../net/stack.ts';
import type { IpAddr } from './packet-build.ts';

export interface CapturedPacket {
  bytes: Uint8Array;
  /** Virtual time of transmission, ns. */
  time_ns: number;
}

export interface StackConfig {
  seed: number;
  mtu: number;
  local: IpAddr;
  remote: IpAddr;
  /** Prefix lengths of the local network (tun0's address) and of the remote network (the route). */
  local_prefixlen: number;
  remote_prefixlen: number;
}

/**
 * The clock reading at script time 0. A kernel's clocks are never 0 (and TCP uses 0 as "unset",
 * e.g. a request's snt_synack), so the machine has been up for a while when the script starts.
 */
export const SCRIPT_START_NS = 100e9;

export interface PdStack {
  clock: VirtualClock;
  /** The machine (inet_init has run: lo, IPv4, IPv6, ICMP, UDP, TCP). */
  stack: NetStack;
  net: Net;
  dev: NetDevice;
  /** Packets tun0 transmitted, oldest first; the runner consumes them. */
  captured: CapturedPacket[];
  inject(bytes: Uint8Array): void;
}

function tun_xmit(this: void, skb: SkBuff, dev: NetDevice): NetdevTx {
  const st = (dev as TunDevice).pd;
  const start = skb.network_header >= 0 && skb.network_header <= skb.tail ? skb.network_header : skb.data;
  st.captured.push({ bytes: skb.head.slice(start, skb.tail), time_ns: st.clock.ktime_get_ns() });
  consume_skb(skb);
  return NETDEV_TX_OK;
}

class TunDevice extends NetDevice {
  pd!: PdStack;
}

export function buildStack(cfg: StackConfig): PdStack {
  const clock = new VirtualClock(SCRIPT_START_NS);
  const stack = new NetStack({ clock, seed: cfg.seed });
  const net = stack.net;
  const dev = new TunDevice({
    name: 'tun0', type: ARPHRD.ARPHRD_NONE, mtu: cfg.mtu,
    flags: IFF.IFF_UP | IFF.IFF_POINTOPOINT | IFF.IFF_NOARP | IFF.IFF_MULTICAST,
    ops: { ndo_start_xmit: tun_xmit },
  });
  const st: PdStack = {
    clock, stack, net, dev, captured: [],
    inject(bytes: Uint8Array): void {
      const skb = netdev_alloc_skb(dev, bytes.length);
      const off = skb_put(skb, bytes.length);
      skb.head.set(bytes, off);
      skb.protocol = (bytes[0]! >> 4) === 6 ? ETH_P_IPV6 : ETH_P_IP;
      skb_reset_network_header(skb);
      skb.tstamp = clock.ktime_get_ns();
      dev.stats.rx_packets++;
      dev.stats.rx_bytes += bytes.length;
      netif_receive_skb(skb);
    },
  };
  dev.pd = st;
  if (cfg.local.family === 4 && cfg.remote.family === 4) {
    stack.addDevice(dev, { v4: [{ addr: cfg.local.v4, prefixlen: cfg.local_prefixlen }] });
    const mask = cfg.remote_prefixlen === 0 ? 0 : (~0 << (32 - cfg.remote_prefixlen)) >>> 0;
    stack.addRoute4((cfg.remote.v4 & mask) >>> 0, cfg.remote_prefixlen, dev);
  } else if (cfg.local.family === 6 && cfg.remote.family === 6) {
    stack.addDevice(dev, { v6: [{ addr: cfg.local.v6, prefixlen: cfg.local_prefixlen }] });
    const r = ip6_route_add(net, prefix6(cfg.remote.v6, cfg.remote_prefixlen), cfg.remote_prefixlen, dev);
    if (r < 0) throw new Error(`packetdrill stack setup: ip6_route_add returned ${r}`);
  }
  return st;
}

function prefix6(a: In6Addr, len: number): In6Addr {
  const w = [a.w0, a.w1, a.w2, a.w3].map((x, i) => {
    const bits = Math.max(0, Math.min(32, len - 32 * i));
    return bits === 0 ? 0 : bits === 32 ? x : (x & (~0 << (32 - bits))) >>> 0;
  });
  return new In6Addr(w[0], w[1], w[2], w[3]);
}

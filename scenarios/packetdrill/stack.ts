// The machine a script runs against: one guest-like network stack (a Net on a BootState with a
// VirtualClock) and a tun-like L3 device, tun0, as packetdrill's: no link header, no ARP, the
// local address on it and a route to the remote network through it. What the stack transmits on
// tun0 is captured with its time; what the script sends is injected with netif_receive_skb.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BootState } from '../../net/core/boot-state.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { ARPHRD, IFF, NETDEV_TX_OK, NetDevice, type NetdevTx } from '../../net/core/netdevice.ts';
import { netif_receive_skb, register_netdevice } from '../../net/core/dev.ts';
import {
  ETH_P_IP, ETH_P_IPV6, consume_skb, netdev_alloc_skb, skb_put, skb_reset_network_header, type SkBuff,
} from '../../net/core/skbuff.ts';
import { inet_addr_add } from '../../net/ipv4/devinet.ts';
import { ip_route_add } from '../../net/ipv4/route.ts';
import { ipv6_addr_add } from '../../net/ipv6/addrconf.ts';
import { ip6_route_add } from '../../net/ipv6/route.ts';
import { In6Addr } from '../../net/core/in6-addr.ts';
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
  net: Net;
  dev: NetDevice;
  /** Packets tun0 transmitted, oldest first; the runner consumes them. */
  captured: CapturedPacket[];
  /** The protocol inits that ran (ip_init, ipv6_init, udp_init, tcp_init, ...). */
  inits: string[];
  inject(bytes: Uint8Array): void;
}

type InitFn = (net: Net) => void;

/**
 * The stack's per-netns init functions, wherever in net/ they live (the stack is being written
 * as this runs: what exists is called, in the kernel's order). Found by export name.
 */
const INIT_ORDER = ['ip_init', 'ipv6_init', 'udp_init', 'udpv6_init', 'tcp_init', 'tcp_v4_init', 'tcpv6_init', 'tcp_v6_init'] as const;
let initsCache: Map<string, InitFn> | undefined;

async function findInits(): Promise<Map<string, InitFn>> {
  if (initsCache !== undefined) return initsCache;
  const found = new Map<string, InitFn>();
  const netDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'net');
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  // The protocols' own modules first, so module cycles resolve from the entry the stack expects;
  // then every other module, for inits that live elsewhere.
  for (const f of ['ipv4/ip-output', 'ipv6/ip6-output', 'ipv4/udp', 'ipv6/udp', 'ipv4/tcp', 'ipv6/tcp-ipv6']) {
    try {
      const mod = (await import(pathToFileURL(join(netDir, f + ext)).href)) as Record<string, unknown>;
      for (const name of INIT_ORDER) {
        const fn = mod[name];
        if (typeof fn === 'function' && !found.has(name)) found.set(name, fn as InitFn);
      }
    } catch {
      // Not there (yet): the scan below looks everywhere.
    }
  }
  // The scan costs a load of every module in net/: only when a protocol's init was not found.
  const scan = !['ip_init', 'ipv6_init', 'udp_init', 'tcp_init'].every((n) => found.has(n));
  for (const sub of scan ? ['ipv4', 'ipv6', 'core'] : []) {
    let names: string[];
    try {
      names = readdirSync(join(netDir, sub)).filter((n) => n.endsWith('.ts') || n.endsWith('.js'));
    } catch {
      continue;
    }
    for (const n of names.sort()) {
      if (n.endsWith('.d.ts')) continue;
      let mod: Record<string, unknown>;
      try {
        mod = (await import(pathToFileURL(join(netDir, sub, n)).href)) as Record<string, unknown>;
      } catch {
        continue;
      }
      for (const name of INIT_ORDER) {
        const f = mod[name];
        if (typeof f === 'function' && !found.has(name)) found.set(name, f as InitFn);
      }
    }
  }
  initsCache = found;
  return found;
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

export async function buildStack(cfg: StackConfig): Promise<PdStack> {
  const clock = new VirtualClock(SCRIPT_START_NS);
  const boot = new BootState({ clock, seed: cfg.seed });
  const net = new Net(boot);
  const inits = await findInits();
  const ran: string[] = [];
  for (const name of INIT_ORDER) {
    const f = inits.get(name);
    if (f !== undefined) {
      f(net);
      ran.push(name);
    }
  }
  const dev = new TunDevice({
    name: 'tun0', type: ARPHRD.ARPHRD_NONE, mtu: cfg.mtu,
    flags: IFF.IFF_UP | IFF.IFF_POINTOPOINT | IFF.IFF_NOARP | IFF.IFF_MULTICAST,
    ops: { ndo_start_xmit: tun_xmit },
  });
  const st: PdStack = {
    clock, net, dev, captured: [], inits: ran,
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
  register_netdevice(net, dev);
  const check = (what: string, r: number): void => {
    if (r < 0) throw new Error(`packetdrill stack setup: ${what} returned ${r}`);
  };
  if (cfg.local.family === 4 && cfg.remote.family === 4) {
    check('inet_addr_add(tun0)', inet_addr_add(dev, cfg.local.v4, cfg.local_prefixlen));
    const mask = cfg.remote_prefixlen === 0 ? 0 : (~0 << (32 - cfg.remote_prefixlen)) >>> 0;
    check('ip_route_add(remote)', ip_route_add(net, (cfg.remote.v4 & mask) >>> 0, cfg.remote_prefixlen, dev));
  } else if (cfg.local.family === 6 && cfg.remote.family === 6) {
    check('ipv6_addr_add(tun0)', ipv6_addr_add(dev, cfg.local.v6, cfg.local_prefixlen));
    check('ip6_route_add(remote)', ip6_route_add(net, prefix6(cfg.remote.v6, cfg.remote_prefixlen), cfg.remote_prefixlen, dev));
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

// Two machines' stacks joined by a veth pair, on one virtual clock: a (10.0.0.1, fd00::1, MAC
// 02:00:00:00:00:01) and b (10.0.0.2, fd00::2, MAC 02:00:00:00:00:02), each with a loopback. Frames
// move only when pump() polls the devices, so a test decides when the wire runs.
import { BootState } from '../../../net/core/boot-state.ts';
import { VirtualClock } from '../../../net/core/virtual-clock.ts';
import { Net } from '../../../net/core/net-namespace.ts';
import { VethDevice, veth_pair, veth_poll } from '../../../net/core/veth.ts';
import { dev_add_pack, net_tx_action, register_netdevice } from '../../../net/core/dev.ts';
import { ETH_P_ALL, PACKET_OUTGOING, drop_reason_name, set_skb_drop_hook } from '../../../net/core/skbuff.ts';
import { inet_pton4, inet_pton6 } from '../../../net/core/inet-addr.ts';
import type { In6Addr } from '../../../net/core/in6-addr.ts';
import { AF_INET, AF_INET6 } from '../../../net/core/socket-constants.ts';
import { NSEC_PER_MSEC } from '../../../net/core/clock.ts';
import { csum_fold, csum_ipv6_magic, csum_partial } from '../../../net/core/checksum.ts';
import { loopback_init, loopback_poll } from '../../../net/core/loopback.ts';
import { neigh_add_static } from '../../../net/core/neighbour.ts';
import { ip_init } from '../../../net/ipv4/ip-output.ts';
import { inet_addr_add } from '../../../net/ipv4/devinet.ts';
import { ipv6_init } from '../../../net/ipv6/ip6-output.ts';
import { ipv6_addr_add } from '../../../net/ipv6/addrconf.ts';

export interface TwoHosts {
  clock: VirtualClock;
  a: Net;
  b: Net;
  deva: VethDevice;
  devb: VethDevice;
  /** 10.0.0.1 */
  a4: number;
  /** 10.0.0.2 */
  b4: number;
  /** fd00::1 */
  a6: In6Addr;
  /** fd00::2 */
  b6: In6Addr;
  /** Polls both devices (and loopbacks) until no frame moves; returns frames moved. */
  pump(): number;
  /** Advances the virtual clock by ms, 1 ms at a time, pumping before and after each step (so timers' packets get delivered). */
  advance(ms: number): void;
}

export const MAC_A = new Uint8Array([0x02, 0, 0, 0, 0, 0x01]);
export const MAC_B = new Uint8Array([0x02, 0, 0, 0, 0, 0x02]);

export interface TwoHostsOptions {
  seed?: number;
  /** Permanent neighbour entries for the peer (v4 and v6), so no ARP/ND runs. */
  staticNeigh?: boolean;
  /** Each veth's receive queue length. */
  queue_len?: number;
  mtu?: number;
  /** Called for each Net after ip_init/ipv6_init (udp_init, tcp_init, ...). */
  init?: (net: Net) => void;
}

/** One machine: a boot on the shared clock, a netns with lo and the IP stacks. */
function host(clock: VirtualClock, seed: number): Net {
  const boot = new BootState({ clock, seed });
  const net = new Net(boot, { hash_mix: 0 });
  loopback_init(net);
  ip_init(net);
  ipv6_init(net);
  return net;
}

export function twoHosts(o: TwoHostsOptions = {}): TwoHosts {
  const clock = new VirtualClock();
  const seed = o.seed ?? 1;
  const a = host(clock, seed);
  const b = host(clock, seed + 1);
  const vo = { queue_len: o.queue_len, mtu: o.mtu };
  const deva = new VethDevice('veth0', MAC_A, vo);
  const devb = new VethDevice('veth0', MAC_B, vo);
  veth_pair(deva, devb);
  register_netdevice(a, deva);
  register_netdevice(b, devb);
  const a4 = inet_pton4('10.0.0.1');
  const b4 = inet_pton4('10.0.0.2');
  const a6 = inet_pton6('fd00::1');
  const b6 = inet_pton6('fd00::2');
  inet_addr_add(deva, a4, 24);
  inet_addr_add(devb, b4, 24);
  ipv6_addr_add(deva, a6, 64);
  ipv6_addr_add(devb, b6, 64);
  if (o.staticNeigh === true) {
    neigh_add_static(a, deva, AF_INET, b4, MAC_B);
    neigh_add_static(b, devb, AF_INET, a4, MAC_A);
    neigh_add_static(a, deva, AF_INET6, b6, MAC_B);
    neigh_add_static(b, devb, AF_INET6, a6, MAC_A);
  }
  if (o.init !== undefined) {
    o.init(a);
    o.init(b);
  }
  const pump = (): number => {
    let total = 0;
    for (;;) {
      // net_tx_action drains what tc redirected into a receive path (the per-netns backlog).
      let n = veth_poll(deva) + veth_poll(devb) + net_tx_action(a) + net_tx_action(b);
      if (a.loopback_dev !== null) n += loopback_poll(a.loopback_dev);
      if (b.loopback_dev !== null) n += loopback_poll(b.loopback_dev);
      if (n === 0) return total;
      total += n;
    }
  };
  const advance = (ms: number): void => {
    pump();
    for (let i = 0; i < ms; i++) {
      clock.advance(NSEC_PER_MSEC);
      pump();
    }
  };
  return { clock, a, b, deva, devb, a4, b4, a6, b6, pump, advance };
}

/** A frame a tap saw: its bytes from the link header on, and whether it was leaving. */
export interface Captured {
  bytes: Uint8Array;
  outgoing: boolean;
  dev: string;
}

/**
 * A packet tap (ETH_P_ALL, like tcpdump) on net: every frame received or sent on any device, from
 * its link header (the network header for lo). Returns the list it fills.
 */
export function capture(net: Net): Captured[] {
  const seen: Captured[] = [];
  dev_add_pack(net, {
    type: ETH_P_ALL,
    dev: null,
    func: (skb, dev) => {
      const from = skb.mac_header >= 0 && skb.mac_header <= skb.data ? skb.mac_header : skb.data;
      seen.push({ bytes: skb.head.slice(from, skb.tail), outgoing: skb.pkt_type === PACKET_OUTGOING, dev: dev.name });
      return 0;
    },
  });
  return seen;
}

/** Records every kfree_skb_reason by reason name while active; call stop() at the end. */
export function recordDrops(): { drops: string[]; stop(): void } {
  const drops: string[] = [];
  set_skb_drop_hook((_skb, reason) => {
    drops.push(drop_reason_name(reason));
  });
  return { drops, stop: () => set_skb_drop_hook(null) };
}

/** Sends raw bytes (an Ethernet frame) into dev as if they came off the wire. */
export function inject(dev: VethDevice, frame: Uint8Array): void {
  dev.rxq.push(frame);
}

/** The Ethernet header for a frame from `src` to `dst` of `type`, then payload. */
export function ethFrame(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = type >>> 8;
  f[13] = type & 0xff;
  f.set(payload, 14);
  return f;
}

/** Packet builders for tests: headers by hand, checksums computed (or deliberately broken). */
export interface Ip4Spec {
  src: number;
  dst: number;
  proto: number;
  payload: Uint8Array;
  ttl?: number;
  id?: number;
  /** frag_off field as on the wire (flags and offset in 8-byte units). */
  frag?: number;
  tos?: number;
  /** Option bytes (padded to a multiple of 4 by the caller). */
  options?: Uint8Array;
  /** Overrides: version nibble, ihl, tot_len, checksum. */
  version?: number;
  ihl?: number;
  tot_len?: number;
  csum?: number;
}

export function ip4Packet(s: Ip4Spec): Uint8Array {
  const opt = s.options ?? new Uint8Array(0);
  const hl = 20 + opt.length;
  const p = new Uint8Array(hl + s.payload.length);
  const v = new DataView(p.buffer);
  p[0] = ((s.version ?? 4) << 4) | (s.ihl ?? hl / 4);
  p[1] = s.tos ?? 0;
  v.setUint16(2, s.tot_len ?? p.length);
  v.setUint16(4, s.id ?? 0x1234);
  v.setUint16(6, s.frag ?? 0);
  p[8] = s.ttl ?? 64;
  p[9] = s.proto;
  v.setUint32(12, s.src >>> 0);
  v.setUint32(16, s.dst >>> 0);
  p.set(opt, 20);
  v.setUint16(10, s.csum ?? csum_fold(csum_partial(p, 0, hl, 0)));
  p.set(s.payload, hl);
  return p;
}

/** An ICMP message (echo by default) with its checksum. */
export function icmp4Msg(type: number, code: number, rest: number, data: Uint8Array): Uint8Array {
  const p = new Uint8Array(8 + data.length);
  const v = new DataView(p.buffer);
  p[0] = type;
  p[1] = code;
  v.setUint32(4, rest >>> 0);
  p.set(data, 8);
  v.setUint16(2, csum_fold(csum_partial(p, 0, p.length, 0)));
  return p;
}

export interface Ip6Spec {
  src: In6Addr;
  dst: In6Addr;
  nexthdr: number;
  payload: Uint8Array;
  hlim?: number;
  tclass?: number;
  flowlabel?: number;
  version?: number;
  plen?: number;
}

export function ip6Packet(s: Ip6Spec): Uint8Array {
  const p = new Uint8Array(40 + s.payload.length);
  const v = new DataView(p.buffer);
  v.setUint32(0, (((s.version ?? 6) << 28) | ((s.tclass ?? 0) << 20) | (s.flowlabel ?? 0)) >>> 0);
  v.setUint16(4, s.plen ?? s.payload.length);
  p[6] = s.nexthdr;
  p[7] = s.hlim ?? 64;
  const put = (a: In6Addr, o: number): void => {
    v.setUint32(o, a.w0); v.setUint32(o + 4, a.w1); v.setUint32(o + 8, a.w2); v.setUint32(o + 12, a.w3);
  };
  put(s.src, 8);
  put(s.dst, 24);
  p.set(s.payload, 40);
  return p;
}

/** An ICMPv6 message with its checksum over the pseudo-header for (src, dst). */
export function icmp6Msg(type: number, code: number, rest: number, data: Uint8Array, src: In6Addr, dst: In6Addr): Uint8Array {
  const p = new Uint8Array(8 + data.length);
  const v = new DataView(p.buffer);
  p[0] = type;
  p[1] = code;
  v.setUint32(4, rest >>> 0);
  p.set(data, 8);
  v.setUint16(2, csum_ipv6_magic(src, dst, p.length, 58, csum_partial(p, 0, p.length, 0)));
  return p;
}

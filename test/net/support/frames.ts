// Valid frames between the two hosts of topology.ts (built with test/support/packets.ts), for
// tests that then break them: offsets of the fields a malformation test aims at, a checksum fixer
// (so a mutated field reaches the layer it targets instead of dying at the IP checksum), a seeded
// PRNG, and rx(): one frame through eth_type_trans + netif_receive_skb with its fate (dropped by
// which reason, consumed, or still held by a queue).
import * as P from '../../support/packets.ts';
import { csum_fold, csum_partial, csum_tcpudp_magic, csum_ipv6_magic } from '../../../net/core/checksum.ts';
import { netdev_alloc_skb, set_skb_drop_hook, skb_put, drop_reason_name, type SkBuff } from '../../../net/core/skbuff.ts';
import { eth_type_trans } from '../../../net/ethernet/eth.ts';
import { netif_receive_skb } from '../../../net/core/dev.ts';
import type { NetDevice } from '../../../net/core/netdevice.ts';
import { In6Addr } from '../../../net/core/in6-addr.ts';
import type { ExecutionContext } from 'ava';
import { twoHosts, type TwoHosts, type TwoHostsOptions } from './topology.ts';
import { udp_init } from '../../../net/ipv4/udp.ts';
import { tcp_init } from '../../../net/ipv4/tcp.ts';
import { Socket } from '../../../net/socket.ts';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM } from '../../../net/core/socket-constants.ts';
import { SOL_IPV6 } from '../../../net/core/socket-options.ts';
import type { Sockaddr } from '../../../net/core/msghdr.ts';
import type { TcpSock } from '../../../net/ipv4/tcp-sock.ts';

export const ETH = 14;
/** Where the transport header starts in an option-less IPv4 frame / an IPv6 frame without extension headers. */
export const L4_4 = ETH + 20;
export const L4_6 = ETH + 40;

export interface End {
  mac: string;
  ip4: string;
  ip6: string;
}
export const A: End = { mac: '02:00:00:00:00:01', ip4: '10.0.0.1', ip6: 'fd00::1' };
export const B: End = { mac: '02:00:00:00:00:02', ip4: '10.0.0.2', ip6: 'fd00::2' };

export interface L4 {
  sport?: number;
  dport?: number;
  payload?: Uint8Array;
}
export interface TcpSpec extends L4 {
  seq?: number;
  ack?: number;
  flags?: number;
  win?: number;
  options?: Uint8Array;
}

const e = (from: End, to: End): P.EthernetOptions => ({ src: from.mac, dst: to.mac });
const none = new Uint8Array(0);

export function udp4(s: L4 = {}, from = A, to = B): Uint8Array {
  return P.udp4Frame({ eth: e(from, to), ip: { src: from.ip4, dst: to.ip4 }, udp: { srcPort: s.sport ?? 4000, dstPort: s.dport ?? 5000 }, payload: s.payload ?? new Uint8Array(16).fill(0x61) });
}
export function udp6(s: L4 = {}, from = A, to = B): Uint8Array {
  return P.udp6Frame({ eth: e(from, to), ip: { src: from.ip6, dst: to.ip6 }, udp: { srcPort: s.sport ?? 4000, dstPort: s.dport ?? 5000 }, payload: s.payload ?? new Uint8Array(16).fill(0x61) });
}
function tcpOpts(s: TcpSpec): P.TcpOptions {
  return { srcPort: s.sport ?? 40000, dstPort: s.dport ?? 80, seq: s.seq ?? 1000, ack: s.ack ?? 0, flags: s.flags ?? P.TCP_SYN, window: s.win ?? 65535, options: s.options };
}
export function tcp4(s: TcpSpec = {}, from = A, to = B): Uint8Array {
  return P.tcp4Frame({ eth: e(from, to), ip: { src: from.ip4, dst: to.ip4, fragOff: 0x4000 }, tcp: tcpOpts(s), payload: s.payload ?? none });
}
export function tcp6(s: TcpSpec = {}, from = A, to = B): Uint8Array {
  return P.tcp6Frame({ eth: e(from, to), ip: { src: from.ip6, dst: to.ip6 }, tcp: tcpOpts(s), payload: s.payload ?? none });
}
export function icmp4(payload: Uint8Array = new Uint8Array(32).fill(7), from = A, to = B, type = P.ICMP_ECHO): Uint8Array {
  return P.icmp4EchoFrame({ eth: e(from, to), ip: { src: from.ip4, dst: to.ip4 }, icmp: { payload, type } });
}
export function icmp6(payload: Uint8Array = new Uint8Array(32).fill(7), from = A, to = B, type = P.ICMPV6_ECHO_REQUEST): Uint8Array {
  return P.icmp6EchoFrame({ eth: e(from, to), ip: { src: from.ip6, dst: to.ip6 }, icmp: { payload, type } });
}
/** An ARP request from `from` for `targetIp` (broadcast). */
export function arpReq(from = A, targetIp = B.ip4, senderIp = from.ip4): Uint8Array {
  return P.arpFrame({ eth: { src: from.mac }, arp: { senderMac: from.mac, senderIp, targetIp } });
}
/** A neighbour solicitation from `from` for `target` with a source link-layer address option (hop limit 255). */
export function ndNs(from = A, target = B.ip6, src = from.ip6): Uint8Array {
  const body = new Uint8Array(4 + 16 + 8);
  body.set(P.parseIpv6(target), 4);
  body[20] = 1; // ND_OPT_SOURCE_LL_ADDR
  body[21] = 1; // 8 bytes
  body.set(P.parseMac(from.mac), 22);
  const msg = new Uint8Array(4 + body.length);
  msg[0] = 135;
  msg.set(body, 4);
  const t = P.parseIpv6(target);
  // Solicited-node multicast ff02::1:ffXX:XXXX.
  const snm = `ff02::1:ff${t[13]!.toString(16).padStart(2, '0')}:${((t[14]! << 8) | t[15]!).toString(16)}`;
  const dmac = `33:33:ff:${[t[13]!, t[14]!, t[15]!].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
  return P.ethernet(P.ETH_P_IPV6, P.ipv6(P.IPPROTO_ICMPV6, msg, { src, dst: snm, hopLimit: 255 }), { src: from.mac, dst: dmac });
}

/** IPv4 header's total length and ihl-derived transport offset of a frame, or -1. */
function ip4l4(f: Uint8Array): number {
  return ETH + (f[ETH]! & 0xf) * 4;
}

/**
 * Recomputes the IPv4 header checksum and the TCP/UDP/ICMP(v6) checksum of a frame whose lengths
 * still make sense (whatever does not fit is left alone), so a mutation of a field behind them
 * reaches the layer that should judge it.
 */
export function fixChecksums(f: Uint8Array): Uint8Array {
  if (f.length < ETH) return f;
  const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const type = v.getUint16(12);
  if (type === P.ETH_P_IP && f.length >= ETH + 20) {
    const ihl = f[ETH]! & 0xf;
    if (ihl >= 5 && ETH + ihl * 4 <= f.length) {
      v.setUint16(ETH + 10, 0);
      v.setUint16(ETH + 10, csum_fold(csum_partial(f, ETH, ihl * 4, 0)));
    }
    const tot = v.getUint16(ETH + 2);
    const l4 = ip4l4(f);
    const end = Math.min(ETH + tot, f.length);
    const proto = f[ETH + 9]!;
    const len = end - l4;
    const saddr = v.getUint32(ETH + 12);
    const daddr = v.getUint32(ETH + 16);
    const off = proto === 6 ? 16 : proto === 17 ? 6 : proto === 1 ? 2 : -1;
    if (off >= 0 && len >= off + 2) {
      v.setUint16(l4 + off, 0);
      const sum = csum_partial(f, l4, len, 0);
      let c = proto === 1 ? csum_fold(sum) : csum_tcpudp_magic(saddr, daddr, len, proto, sum);
      if (proto === 17 && c === 0) c = 0xffff;
      v.setUint16(l4 + off, c);
    }
  } else if (type === P.ETH_P_IPV6 && f.length >= ETH + 40) {
    const plen = v.getUint16(ETH + 4);
    const nh = f[ETH + 6]!;
    const end = Math.min(L4_6 + plen, f.length);
    const len = end - L4_6;
    const off = nh === 6 ? 16 : nh === 17 ? 6 : nh === 58 ? 2 : -1;
    if (off >= 0 && len >= off + 2) {
      const rd = (o: number): In6Addr => new In6Addr().set(v.getUint32(o), v.getUint32(o + 4), v.getUint32(o + 8), v.getUint32(o + 12));
      v.setUint16(L4_6 + off, 0);
      let c = csum_ipv6_magic(rd(ETH + 8), rd(ETH + 24), len, nh, csum_partial(f, L4_6, len, 0));
      if (nh === 17 && c === 0) c = 0xffff;
      v.setUint16(L4_6 + off, c);
    }
  }
  return f;
}

/** Copies f and applies edit, then fixes checksums unless told not to. */
export function mutate(f: Uint8Array, edit: (g: Uint8Array, v: DataView) => void, fix = true): Uint8Array {
  const g = f.slice();
  edit(g, new DataView(g.buffer));
  return fix ? fixChecksums(g) : g;
}

/** mulberry32: a small seeded PRNG, so the fuzzer's frames are the same every run. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** 0 <= n < k */
  int(k: number): number {
    return this.u32() % k;
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
}

/** What became of a received frame. */
export type Fate = { kind: 'dropped'; reason: string } | { kind: 'consumed' } | { kind: 'held' };

/** Counts every kfree_skb_reason by reason name; rx() uses it to tell its own skb's fate. */
export class DropLedger {
  readonly byReason = new Map<string, number>();
  total = 0;
  /** The skb rx() is feeding, and the reason it was dropped with (if it was). */
  cur: SkBuff | null = null;
  curReason: string | null = null;
  /** Reasons whose call sites to record (debugging: which function drops with NOT_SPECIFIED?). */
  readonly trace = new Set<string>();
  readonly where = new Map<string, number>();
  install(): this {
    set_skb_drop_hook((skb, reason) => {
      const name = drop_reason_name(reason);
      if (this.trace.has(name)) {
        const at = (new Error().stack ?? '').split('\n').slice(3, 5).map((l) => l.trim().replace(/\(.*\/net\//, '(')).join(' < ');
        const key = `${name} at ${at}`;
        this.where.set(key, (this.where.get(key) ?? 0) + 1);
      }
      if (reason === 1) {
        // SKB_CONSUMED through kfree_skb_reason is a consume (trace_consume_skb), not a drop.
        this.byReason.set(name, (this.byReason.get(name) ?? 0) + 1);
        return;
      }
      this.byReason.set(name, (this.byReason.get(name) ?? 0) + 1);
      this.total++;
      if (skb === this.cur && this.curReason === null) this.curReason = name;
    });
    return this;
  }
  stop(): void {
    set_skb_drop_hook(null);
  }
  count(reason: string): number {
    return this.byReason.get(reason) ?? 0;
  }
}

/**
 * One frame off the wire into dev, as veth_poll receives it, with its fate: dropped (the reason
 * the ledger saw for this skb), consumed (freed without a drop), or held (queued somewhere).
 */
export function rx(dev: NetDevice, frame: Uint8Array, ledger: DropLedger): Fate {
  const skb = netdev_alloc_skb(dev, frame.length);
  return rx_skb(skb, dev, frame, ledger);
}

/** rx() for an skb the caller allocated (to keep a handle on it). */
export function rx_skb(skb: SkBuff, dev: NetDevice, frame: Uint8Array, ledger: DropLedger): Fate {
  skb.head.set(frame, skb_put(skb, frame.length));
  dev.stats.rx_packets++;
  dev.stats.rx_bytes += frame.length;
  ledger.cur = skb;
  ledger.curReason = null;
  skb.protocol = eth_type_trans(skb, dev);
  netif_receive_skb(skb);
  ledger.cur = null;
  if (ledger.curReason !== null) return { kind: 'dropped', reason: ledger.curReason };
  return skb._freed ? { kind: 'consumed' } : { kind: 'held' };
}

/** got equals want: lengths and the first differing byte (a diff of a large array is slow and unreadable). */
export function sameBytes(got: ArrayLike<number>, want: ArrayLike<number>): string {
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  return i === want.length && got.length === want.length ? 'ok' : `got ${got.length} of ${want.length} bytes, first difference at ${i}`;
}

/** The frame truncated to n bytes. */
export function cut(f: Uint8Array, n: number): Uint8Array {
  return f.slice(0, n);
}

// ---------------------------------------------------------------------------------------------
// The victim: b (UDP sockets on 5000, TCP listeners on 80, IPv4 and IPv6) attacked from a's side
// of the wire, and the "still works" check every malformation test ends with.

export const MSG_DONTWAIT = 0x40;
export const IPV6_V6ONLY = 26;
export const ANY6 = new In6Addr();

export interface Victim {
  t: TwoHosts;
  L: DropLedger;
  u4: Socket;
  u6: Socket;
  l4: Socket;
  l6: Socket;
  /** Frames fed and their fates. */
  fed: number;
  fates: Record<Fate['kind'], number>;
  /** One frame into b (then the wire runs, so b's replies reach a). */
  feed(frame: Uint8Array): Fate;
  stop(): void;
}

export function sock(net: TwoHosts['a'], family: number, type: number): Socket {
  const s = Socket.create(net, family, type);
  if (typeof s === 'number') throw new Error(`socket: ${s}`);
  return s;
}

export function sa4(addr: number, port: number): Sockaddr {
  return { family: AF_INET, addr, port };
}
export function sa6(addr: In6Addr, port: number): Sockaddr {
  return { family: AF_INET6, addr, port };
}

export function victim(o: TwoHostsOptions = {}): Victim {
  const t = twoHosts({ staticNeigh: true, init: (n) => { udp_init(n); tcp_init(n); }, ...o });
  const u4 = sock(t.b, AF_INET, SOCK_DGRAM);
  const u6 = sock(t.b, AF_INET6, SOCK_DGRAM);
  u6.setsockopt(SOL_IPV6, IPV6_V6ONLY, 1);
  if (u4.bind(sa4(0, 5000)) !== 0 || u6.bind(sa6(ANY6, 5000)) !== 0) throw new Error('udp bind');
  const l4 = sock(t.b, AF_INET, SOCK_STREAM);
  const l6 = sock(t.b, AF_INET6, SOCK_STREAM);
  l6.setsockopt(SOL_IPV6, IPV6_V6ONLY, 1);
  if (l4.bind(sa4(0, 80)) !== 0 || l6.bind(sa6(ANY6, 80)) !== 0) throw new Error('tcp bind');
  if (l4.listen(128) !== 0 || l6.listen(128) !== 0) throw new Error('listen');
  const L = new DropLedger().install();
  const v: Victim = {
    t, L, u4, u6, l4, l6, fed: 0, fates: { dropped: 0, consumed: 0, held: 0 },
    feed(frame) {
      const f = rx(t.devb, frame, L);
      v.fed++;
      v.fates[f.kind]++;
      t.pump();
      return f;
    },
    stop() {
      L.stop();
    },
  };
  return v;
}

/** Reads every queued datagram/byte without blocking; returns how many reads returned data. */
export function drainAll(s: Socket): number {
  const buf = new Uint8Array(65536);
  let n = 0;
  while (s.recv(buf, MSG_DONTWAIT) > 0) n++;
  return n;
}

/**
 * The stack still works: a UDP datagram each way per family reaches the bound socket, and a TCP
 * connection per family completes and carries data.
 */
export function healthy(tc: ExecutionContext, v: Victim, label = ''): void {
  const { t } = v;
  drainAll(v.u4);
  drainAll(v.u6);
  for (const fam of [AF_INET, AF_INET6]) {
    const c = sock(t.a, fam, SOCK_DGRAM);
    const to = fam === AF_INET ? sa4(t.b4, 5000) : sa6(t.b6, 5000);
    tc.is(c.sendto(new Uint8Array([1, 2, 3]), to), 3, `${label} udp${fam} send`);
    t.pump();
    const buf = new Uint8Array(16);
    tc.is((fam === AF_INET ? v.u4 : v.u6).recv(buf, MSG_DONTWAIT), 3, `${label} udp${fam} still delivers`);
    c.close();
    const k = sock(t.a, fam, SOCK_STREAM);
    const dst = fam === AF_INET ? sa4(t.b4, 80) : sa6(t.b6, 80);
    k.connect(dst);
    t.advance(5);
    const srv = (fam === AF_INET ? v.l4 : v.l6).accept();
    tc.is(typeof srv, 'object', `${label} tcp${fam} accept`);
    if (typeof srv === 'number') continue;
    tc.is(k.send(new Uint8Array([9, 8, 7, 6])), 4, `${label} tcp${fam} send`);
    t.advance(5);
    tc.is(srv.recv(buf, MSG_DONTWAIT), 4, `${label} tcp${fam} still carries data`);
    k.close();
    srv.close();
    t.advance(5);
  }
}

/** An established connection a (client) -> b (server on 80): both ends and their tcp_sock. */
export function established(v: Victim, family: number = AF_INET): { cli: Socket; srv: Socket; ctp: TcpSock; stp: TcpSock; cport: number } {
  const { t } = v;
  const cli = sock(t.a, family, SOCK_STREAM);
  cli.connect(family === AF_INET ? sa4(t.b4, 80) : sa6(t.b6, 80));
  t.advance(2);
  const srv = (family === AF_INET ? v.l4 : v.l6).accept();
  if (typeof srv === 'number') throw new Error(`accept ${srv}`);
  const ctp = cli.sk as TcpSock;
  return { cli, srv, ctp, stp: srv.sk as TcpSock, cport: ctp.skc_num };
}

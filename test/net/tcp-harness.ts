// Shared by the tcp-*.test.ts files: two stacks with TCP on the virtual clock, a capture of
// every TCP segment each host receives (at tc ingress, so a test can also drop chosen frames),
// segment crafting for malformed or forged input, and socket helpers.
import { twoHosts, type TwoHosts, type TwoHostsOptions } from './support/topology.ts';
import { tcp_init } from '../../net/ipv4/tcp.ts';
import { Socket } from '../../net/socket.ts';
import { AF_INET, AF_INET6, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { TC_ACT_OK, TC_ACT_SHOT } from '../../net/sched/pkt-cls.ts';
import type { SkBuff } from '../../net/core/skbuff.ts';
import type { VethDevice } from '../../net/core/veth.ts';
import { csum_fold, csum_partial, csum_tcpudp_magic } from '../../net/core/checksum.ts';
import { MAC_A, MAC_B } from './support/topology.ts';
import type { TcpSock } from '../../net/ipv4/tcp-sock.ts';
import type { In6Addr } from '../../net/core/in6-addr.ts';

export interface Seg {
  /** ms of the virtual clock when it arrived. */
  t: number;
  /** The host that sent it. */
  from: 'a' | 'b';
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  win: number;
  doff: number;
  len: number;
  /** The option bytes. */
  opts: number[];
  dropped: boolean;
}

export const F = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;

export interface Rig extends TwoHosts {
  /** Segments received by a (from b) and by b (from a), in arrival order. */
  segs: Seg[];
  /** Decides whether a frame arriving at `to` is dropped (after it is recorded). */
  drop: ((s: Seg, n: number) => boolean) | null;
  now(): number;
}

function parse(skb: SkBuff, from: 'a' | 'b', t: number): Seg | null {
  const v = skb.view;
  const n = skb.data;
  const ver = v.getUint8(n) >>> 4;
  let th: number;
  let end: number;
  if (ver === 4) {
    if (v.getUint8(n + 9) !== 6) return null;
    th = n + (v.getUint8(n) & 0xf) * 4;
    end = n + v.getUint16(n + 2);
  } else if (ver === 6) {
    if (v.getUint8(n + 6) !== 6) return null;
    th = n + 40;
    end = n + 40 + v.getUint16(n + 4);
  } else {
    return null;
  }
  const doff = (v.getUint8(th + 12) >>> 4) * 4;
  const opts: number[] = [];
  for (let i = th + 20; i < th + doff && i < end; i++) opts.push(v.getUint8(i));
  return {
    t, from, sport: v.getUint16(th), dport: v.getUint16(th + 2), seq: v.getUint32(th + 4), ack: v.getUint32(th + 8),
    flags: v.getUint8(th + 13), win: v.getUint16(th + 14), doff, len: end - th - doff, opts, dropped: false,
  };
}

export function rig(o: TwoHostsOptions = {}): Rig {
  const t = twoHosts({ staticNeigh: true, ...o, init: (net) => { tcp_init(net); o.init?.(net); } });
  const r = t as Rig;
  r.segs = [];
  r.drop = null;
  r.now = () => Math.round(t.clock.ktime_get_ns() / 1e6);
  let count = 0;
  const hook = (dev: VethDevice, from: 'a' | 'b'): void => {
    dev.tc_ingress.push({
      run(skb: SkBuff): number {
        const s = parse(skb, from, r.now());
        if (s === null) return TC_ACT_OK;
        r.segs.push(s);
        if (r.drop !== null && r.drop(s, count++)) {
          s.dropped = true;
          return TC_ACT_SHOT;
        }
        return TC_ACT_OK;
      },
    });
  };
  hook(t.devb, 'a');
  hook(t.deva, 'b');
  return r;
}

export function tcpSocket(net: TwoHosts['a'], family: number = AF_INET): Socket {
  const s = Socket.create(net, family, SOCK_STREAM);
  if (typeof s === 'number') throw new Error(`socket: ${s}`);
  return s;
}

export function tp(s: Socket): TcpSock {
  return s.sk as TcpSock;
}

/** A listener on a:port and a connected pair (client on b). */
export function connectPair(r: Rig, port = 80, family: number = AF_INET): { lst: Socket; cli: Socket; srv: Socket } {
  const lst = tcpSocket(r.a, family);
  const any = family === AF_INET6 ? { family: AF_INET6 as typeof AF_INET6, addr: { w0: 0, w1: 0, w2: 0, w3: 0 }, port } : { family: AF_INET as typeof AF_INET, addr: 0, port };
  if (lst.bind(any) !== 0) throw new Error('bind');
  if (lst.listen(128) !== 0) throw new Error('listen');
  const cli = tcpSocket(r.b, family);
  const dst = family === AF_INET6 ? { family: AF_INET6 as typeof AF_INET6, addr: r.a6 as In6Addr, port } : { family: AF_INET as typeof AF_INET, addr: r.a4, port };
  const e = cli.connect(dst);
  if (e !== -115) throw new Error(`connect: ${e}`);
  r.pump();
  if (cli.connect(dst) !== 0) throw new Error('not connected');
  const srv = lst.accept();
  if (typeof srv === 'number') throw new Error(`accept: ${srv}`);
  return { lst, cli, srv };
}

/** Reads everything available. */
export function drain(s: Socket, out: number[] = []): number[] {
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = s.recv(buf);
    if (n <= 0) return out;
    for (let i = 0; i < n; i++) out.push(buf[i]!);
  }
}

export function pattern(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/**
 * Moves `data` from `from` to `to` through the wire, advancing the clock 1 ms per step; returns
 * what `to` read. Stops when all was read or after maxMs.
 */
export function transfer(r: Rig, from: Socket, to: Socket, data: Uint8Array, maxMs = 600000): number[] {
  let sent = 0;
  const got: number[] = [];
  for (let ms = 0; ms < maxMs && got.length < data.length; ms++) {
    while (sent < data.length) {
      const n = from.send(data.subarray(sent));
      if (n <= 0) break;
      sent += n;
    }
    r.advance(1);
    drain(to, got);
  }
  return got;
}

export interface Craft {
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  win?: number;
  opts?: number[];
  payload?: Uint8Array;
  /** Override the header's doff field (words). */
  doff?: number;
  badCsum?: boolean;
  /** Truncate the TCP part to this many bytes (after the checksum). */
  truncate?: number;
}

/** A frame from b (10.0.0.2) to a (10.0.0.1), delivered to a's device on the next pump. */
export function inject4(r: Rig, c: Craft, toA = true): void {
  const opts = c.opts ?? [];
  const pay = c.payload ?? new Uint8Array(0);
  const thl = 20 + opts.length;
  let tcplen = thl + pay.length;
  const tcp = new Uint8Array(tcplen);
  const tv = new DataView(tcp.buffer);
  tv.setUint16(0, c.sport);
  tv.setUint16(2, c.dport);
  tv.setUint32(4, c.seq >>> 0);
  tv.setUint32(8, (c.ack ?? 0) >>> 0);
  tv.setUint8(12, (c.doff ?? thl / 4) << 4);
  tv.setUint8(13, c.flags);
  tv.setUint16(14, c.win ?? 65535);
  tcp.set(opts, 20);
  tcp.set(pay, thl);
  const src = toA ? r.b4 : r.a4;
  const dst = toA ? r.a4 : r.b4;
  const sum = csum_tcpudp_magic(src, dst, tcplen, 6, csum_partial(tcp, 0, tcplen, 0));
  tv.setUint16(16, c.badCsum ? sum ^ 0x1234 : sum);
  if (c.truncate !== undefined) tcplen = c.truncate;
  const frame = new Uint8Array(14 + 20 + tcplen);
  frame.set(toA ? MAC_A : MAC_B, 0);
  frame.set(toA ? MAC_B : MAC_A, 6);
  frame[12] = 0x08;
  frame[13] = 0x00;
  const iv = new DataView(frame.buffer, 14);
  iv.setUint8(0, 0x45);
  iv.setUint16(2, 20 + tcplen);
  iv.setUint16(6, 0x4000);
  iv.setUint8(8, 64);
  iv.setUint8(9, 6);
  iv.setUint32(12, src);
  iv.setUint32(16, dst);
  iv.setUint16(10, csum_fold(csum_partial(frame, 14, 20, 0)));
  frame.set(tcp.subarray(0, tcplen), 34);
  (toA ? r.deva : r.devb).rxq.push(frame);
}

/** The segments sent by `from` with all of `flags` set (and, with `none`, none of those). */
export function sent(r: Rig, from: 'a' | 'b', flags = 0, none = 0): Seg[] {
  return r.segs.filter((s) => s.from === from && (s.flags & flags) === flags && (s.flags & none) === 0);
}

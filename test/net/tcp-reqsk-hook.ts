// A tc ingress hook in TypeScript playing the role of the custom SYN cookie program
// (test_tcp_custom_syncookie, sockets.md §5.1) until bpf-vm can call the kfunc: on a SYN it
// computes its own cookie and answers with a SYN-ACK it writes over the SYN, sent back out of the
// device (TC_ACT_REDIRECT to the device's egress, as bpf_redirect(skb->ifindex, 0)); the stack
// never sees the SYN. On an ACK to a listener it checks the cookie, looks the listener up
// (bpf_skc_lookup_tcp through NetBpfHost.sk_lookup), calls sk_assign_tcp_reqsk with the decoded
// attributes and lets the ACK go up (TC_ACT_OK); a bad cookie is dropped (TC_ACT_SHOT).
//
// Cookie: the selftest's layout. hash = siphash_2u64(first, second) with first = saddr:daddr (for
// IPv6, each address folded to 32 bits by XOR) and second = client_seq:sport:dport; ISN = (hash &
// ~0xff) | mssind << 6 | ECN << 5 | SACK << 4 | WScale (0xf: none); with timestamps the SYN-ACK's
// TSval is (counter & ~0xff) | (hash & 0xff), checked against the ACK's TSecr.
import type { TcHook } from '../../net/core/netdevice.ts';
import type { NetDevice } from '../../net/core/netdevice.ts';
import type { SkBuff } from '../../net/core/skbuff.ts';
import { ETH_P_IP, ETH_P_IPV6 } from '../../net/core/skbuff.ts';
import { bpf_redirect_info } from '../../net/core/dev.ts';
import { net_bpf_host, type NetBpfHost } from '../../net/core/filter.ts';
import { BPF_SK_LOOKUP_KIND } from '../../bpf-vm/prog/sock-host.ts';
import { TC_ACT_OK, TC_ACT_REDIRECT, TC_ACT_SHOT } from '../../net/sched/pkt-cls.ts';
import { SiphashKey, siphash_2u64 } from '../../net/core/siphash.ts';
import { cpu_to_be16, cpu_to_be32 } from '../../net/core/byteorder.ts';
import { AF_INET, AF_INET6 } from '../../net/core/socket-constants.ts';
import type { SockCommon } from '../../net/core/sock-common.ts';
import type { RequestSock } from '../../net/core/request-sock.ts';
import { TCP_LISTEN } from '../../net/core/tcp-states.ts';
import { BPF_TCP_REQ_ATTRS, bpf_tcp_req_attrs_write, type BpfTcpReqAttrs } from '../../net/core/bpf-tcp-reqsk.ts';
import * as P from '../support/packets.ts';
import { fixChecksums } from './support/frames.ts';

/** The selftest's MSS tables (the loopback MSS last). */
export const MSSTAB4 = [536, 1300, 1460, 65495] as const;
export const MSSTAB6 = [1220, 1420, 8940, 65476] as const;

const KEY = SiphashKey.from_u32(0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c);
const TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04, TH_ACK = 0x10, TH_ECE = 0x40, TH_CWR = 0x80;

interface ParsedOpts {
  mss: number;
  wscale: number;
  sack: boolean;
  ts: boolean;
  tsval: number;
  tsecr: number;
}

export interface CookieHookOptions {
  /** The server window scale to announce and hand the kfunc (default: the client's, echoed as the selftest does). */
  rcvWscale?: number;
  /** Always assign this listener instead of the one the lookup found (to see reuseport selection). */
  listener?: SockCommon;
  /** Claim ECN in every cookie (vxo's TCP sends no ECE/CWR), to see cookie_ecn_ok applied. */
  forceEcn?: boolean;
}

export class CookieHook implements TcHook {
  readonly host: NetBpfHost;
  syns = 0;
  acks = 0;
  assigned = 0;
  forged = 0;
  /** kfunc results other than 0. */
  errors: number[] = [];
  /** The attributes of the last successful call and the ms clock then. */
  last: BpfTcpReqAttrs | null = null;
  lastNowMs = 0;
  /** The request the last successful call put on the skb. */
  lastReq: RequestSock | null = null;
  private tsCounter = 0x12345600;
  private readonly attrs = new Uint8Array(BPF_TCP_REQ_ATTRS.SIZE);
  private readonly tuple = new Uint8Array(36);

  constructor(readonly dev: NetDevice, readonly o: CookieHookOptions = {}) {
    this.host = net_bpf_host(dev.nd_net!);
  }

  run(skb: SkBuff): number {
    const h = skb.head;
    const v = skb.view;
    const nh = skb.network_header;
    let th: number;
    let v6: boolean;
    if (skb.protocol === ETH_P_IP) {
      if ((h[nh]! & 0x0f) !== 5 || h[nh + 9] !== 6) return TC_ACT_OK;
      th = nh + 20;
      v6 = false;
    } else if (skb.protocol === ETH_P_IPV6) {
      if (h[nh + 6] !== 6) return TC_ACT_OK;
      th = nh + 40;
      v6 = true;
    } else {
      return TC_ACT_OK;
    }
    const flags = h[th + 13]!;
    if (flags & TH_RST || (flags & (TH_SYN | TH_ACK)) === (TH_SYN | TH_ACK)) return TC_ACT_OK;
    if (flags & TH_SYN) return this.syn(skb, v, nh, th, v6, flags);
    return this.ack(skb, v, nh, th, v6);
  }

  private hash(v: DataView, nh: number, v6: boolean, seq: number, sport: number, dport: number): number {
    let s: number, d: number;
    if (v6) {
      s = v.getUint32(nh + 8) ^ v.getUint32(nh + 12) ^ v.getUint32(nh + 16) ^ v.getUint32(nh + 20);
      d = v.getUint32(nh + 24) ^ v.getUint32(nh + 28) ^ v.getUint32(nh + 32) ^ v.getUint32(nh + 36);
    } else {
      s = v.getUint32(nh + 12);
      d = v.getUint32(nh + 16);
    }
    return siphash_2u64(cpu_to_be32(d), cpu_to_be32(s), (cpu_to_be16(sport) << 16) | cpu_to_be16(dport), seq, KEY) >>> 0;
  }

  private syn(skb: SkBuff, v: DataView, nh: number, th: number, v6: boolean, flags: number): number {
    this.syns++;
    const o = parseOpts(v, th);
    const tstamp_ok = o.ts && o.tsecr === 0;
    const sport = v.getUint16(th), dport = v.getUint16(th + 2), seq = v.getUint32(th + 4);
    const hash = this.hash(v, nh, v6, seq, sport, dport);
    const tab = v6 ? MSSTAB6 : MSSTAB4;
    const mss = o.mss !== 0 ? o.mss : tab[0];
    let mssind = tab.length - 1;
    while (mssind > 0 && mss < tab[mssind]!) mssind--;
    const ecn = this.o.forceEcn === true || (tstamp_ok && (flags & TH_ECE) !== 0 && (flags & TH_CWR) !== 0);
    const wscale = o.wscale >= 0 ? o.wscale : 0xf;
    const cookie = ((hash & ~0xff) | (mssind << 6) | (ecn ? 0x20 : 0) | (o.sack ? 0x10 : 0) | wscale) >>> 0;
    const opts: number[] = [2, 4, tab[mssind]! >> 8, tab[mssind]! & 0xff];
    if (wscale !== 0xf) opts.push(1, 3, 3, this.o.rcvWscale ?? wscale);
    if (tstamp_ok) {
      const tsval = ((this.tsCounter += 0x100) & ~0xff | (hash & 0xff)) >>> 0;
      opts.push(...(o.sack ? [4, 2] : [1, 1]), 8, 10, ...be32b(tsval), ...be32b(o.tsval));
    } else if (o.sack) {
      opts.push(1, 1, 4, 2);
    }
    const spec = { sport: dport, dport: sport, seq: cookie, ack: (seq + 1) >>> 0, flags: TH_SYN | TH_ACK | (ecn ? TH_ECE : 0), win: 65535, options: new Uint8Array(opts) };
    const frame = fixChecksums(v6 ? tcp6Raw(spec, v, nh) : tcp4Raw(spec, v, nh));
    // Rewrite in place: the SYN's buffer becomes the SYN-ACK (bpf_skb_change_tail, then stores),
    // MACs swapped, and out of the device it came in on.
    const mac = skb.mac_header;
    const srcMac = skb.head.slice(mac + 6, mac + 12), dstMac = skb.head.slice(mac, mac + 6);
    if (this.host.skb_change_tail(skb, frame.length - 14, 0n) !== 0) return TC_ACT_SHOT;
    frame.set(srcMac, 0);
    frame.set(dstMac, 6);
    skb.head.set(frame, mac);
    bpf_redirect_info.tgt_index = this.dev.ifindex;
    bpf_redirect_info.flags = 0;
    return TC_ACT_REDIRECT;
  }

  private ack(skb: SkBuff, v: DataView, nh: number, th: number, v6: boolean): number {
    const t = this.tuple;
    const family = v6 ? AF_INET6 : AF_INET;
    let tlen: number;
    if (v6) {
      t.set(skb.head.subarray(nh + 8, nh + 40), 0);
      t.set(skb.head.subarray(th, th + 4), 32);
      tlen = 36;
    } else {
      t.set(skb.head.subarray(nh + 12, nh + 20), 0);
      t.set(skb.head.subarray(th, th + 4), 8);
      tlen = 12;
    }
    const skc = this.host.sk_lookup({ ifindex: skb.dev!.ifindex, skb }, BPF_SK_LOOKUP_KIND.SKC_TCP, family, t.subarray(0, tlen), -1n) as SockCommon | null;
    if (skc === null) return TC_ACT_OK;
    try {
      if (skc.skc_state !== TCP_LISTEN) return TC_ACT_OK;
      this.acks++;
      const seq = (v.getUint32(th + 4) - 1) >>> 0;
      const cookie = (v.getUint32(th + 8) - 1) >>> 0;
      const sport = v.getUint16(th), dport = v.getUint16(th + 2);
      const hash = this.hash(v, nh, v6, seq, sport, dport);
      const o = parseOpts(v, th);
      const ok = (cookie & ~0xff) === (hash & ~0xff) && (!o.ts || (o.tsecr & 0xff) === (hash & 0xff));
      if (!ok || (v.getUint8(th + 13) & TH_FIN) !== 0) {
        this.forged++;
        return TC_ACT_SHOT;
      }
      const tab = v6 ? MSSTAB6 : MSSTAB4;
      const wscale = cookie & 0xf;
      const wscale_ok = wscale !== 0xf;
      const a: BpfTcpReqAttrs = {
        rcv_tsval: o.ts ? o.tsval : 0,
        rcv_tsecr: o.ts ? o.tsecr : 0,
        mss: tab[(cookie >>> 6) & 3]!,
        rcv_wscale: wscale_ok ? (this.o.rcvWscale ?? wscale) : 0,
        snd_wscale: wscale_ok ? wscale : 0,
        ecn_ok: (cookie & 0x20) !== 0,
        wscale_ok,
        sack_ok: (cookie & 0x10) !== 0,
        tstamp_ok: o.ts,
        usec_ts_ok: false,
      };
      bpf_tcp_req_attrs_write(a, this.attrs);
      const sk = this.o.listener ?? skc;
      const ret = this.host.sk_assign_tcp_reqsk(skb, sk, this.attrs, BPF_TCP_REQ_ATTRS.SIZE, true);
      if (ret !== 0) {
        this.errors.push(ret);
        return TC_ACT_SHOT;
      }
      this.assigned++;
      this.last = a;
      this.lastReq = skb.sk as RequestSock;
      this.lastNowMs = Math.floor(this.dev.nd_net!.boot.clock.ktime_get_ns() / 1e6);
      return TC_ACT_OK;
    } finally {
      this.host.sk_release(skc);
    }
  }
}

function dotted(x: number): string {
  return `${x >>> 24}.${(x >>> 16) & 0xff}.${(x >>> 8) & 0xff}.${x & 0xff}`;
}

function be32b(x: number): number[] {
  return [(x >>> 24) & 0xff, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff];
}

/** The TCP options of the segment at th: MSS (0: none), WScale (-1: none), SACK_PERM, TS. */
function parseOpts(v: DataView, th: number): ParsedOpts {
  const o: ParsedOpts = { mss: 0, wscale: -1, sack: false, ts: false, tsval: 0, tsecr: 0 };
  const end = th + (v.getUint8(th + 12) >>> 4) * 4;
  let p = th + 20;
  while (p < end) {
    const kind = v.getUint8(p);
    if (kind === 0) break;
    if (kind === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) break;
    const len = v.getUint8(p + 1);
    if (len < 2 || p + len > end) break;
    if (kind === 2 && len === 4) o.mss = v.getUint16(p + 2);
    else if (kind === 3 && len === 3) o.wscale = Math.min(v.getUint8(p + 2), 14);
    else if (kind === 4 && len === 2) o.sack = true;
    else if (kind === 8 && len === 10) {
      o.ts = true;
      o.tsval = v.getUint32(p + 2);
      o.tsecr = v.getUint32(p + 6);
    }
    p += len;
  }
  return o;
}

interface SynAckSpec {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  win: number;
  options: Uint8Array;
}

function tcpHdr(s: SynAckSpec): P.TcpOptions {
  return { srcPort: s.sport, dstPort: s.dport, seq: s.seq, ack: s.ack, flags: s.flags, window: s.win, options: s.options };
}

/** The SYN-ACK frame back to the SYN's sender (addresses swapped; MACs set by the caller). */
function tcp4Raw(s: SynAckSpec, v: DataView, nh: number): Uint8Array {
  const src = dotted(v.getUint32(nh + 16)), dst = dotted(v.getUint32(nh + 12));
  return P.tcp4Frame({ eth: {}, ip: { src, dst, fragOff: 0x4000 }, tcp: tcpHdr(s) });
}

function tcp6Raw(s: SynAckSpec, v: DataView, nh: number): Uint8Array {
  const word = (o: number): string => {
    const parts: string[] = [];
    for (let i = 0; i < 16; i += 2) parts.push(v.getUint16(o + i).toString(16));
    return parts.join(':');
  };
  return P.tcp6Frame({ eth: {}, ip: { src: word(nh + 24), dst: word(nh + 8) }, tcp: tcpHdr(s) });
}

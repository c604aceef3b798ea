// A BpfNetHost over a small table of sockets, for bpf-vm's unit tests of the socket helpers (the
// real host, net/core/filter.ts, is tested with real stacks elsewhere). It records what the helpers
// asked, counts references, and follows the kernel's rules only as far as the tests need.
import { BPF_SOCK, BPF_TCP_SOCK } from '../../bpf-vm/prog/bpf-sock.ts';
import {
  BPF_SK_LOOKUP_KIND, type BpfLookupCaller, type BpfNetHost, type BpfSkb, type BpfSkLookupKern,
  type BpfSkLookupKind, type BpfSockRef,
} from '../../bpf-vm/prog/sock-host.ts';

export const AF_INET = 2, AF_INET6 = 10, IPPROTO_TCP = 6, IPPROTO_UDP = 17;
export const TCP_LISTEN = 10, TCP_ESTABLISHED = 1, TCP_CLOSE = 7, TCP_NEW_SYN_RECV = 12, TCP_TIME_WAIT = 6;

export interface FakeSock {
  family: number;
  protocol: number;
  state: number;
  /** Host-order IPv4 addresses, ports (local = src, as struct bpf_sock's src_*). */
  srcIp4: number;
  srcPort: number;
  dstIp4: number;
  dstPort: number;
  cookie: bigint;
  /** Listeners are RCU-freed: lookups take no reference on them. */
  rcuFree: boolean;
  refcnt: number;
  /** A request socket's listener. */
  listener?: FakeSock;
  timeWait?: boolean;
}

export function fakeSock(p: Partial<FakeSock> & { protocol: number; state: number }): FakeSock {
  return {
    family: AF_INET, srcIp4: 0, srcPort: 0, dstIp4: 0, dstPort: 0, cookie: 0n,
    rcuFree: p.state === TCP_LISTEN, refcnt: 0, ...p,
  };
}

export interface LookupCall {
  ifindex: number;
  skb: BpfSkb | null;
  kind: BpfSkLookupKind;
  family: number;
  tuple: string;
  netns: bigint;
}

const asFake = (sk: BpfSockRef): FakeSock => sk as FakeSock;

export class FakeHost implements BpfNetHost {
  readonly netns_id = 7;
  readonly lookups: LookupCall[] = [];
  readonly assigned: { skb: BpfSkb; sk: FakeSock; flags: bigint }[] = [];
  releases = 0;

  constructor(readonly socks: FakeSock[]) {}

  /** Matches the tuple's destination (ipv4: daddr at 4, dport at 10) against sockets' local address and port. */
  sk_lookup(caller: BpfLookupCaller, kind: BpfSkLookupKind, family: number, tuple: Uint8Array, netns: bigint): BpfSockRef | null {
    this.lookups.push({ ifindex: caller.ifindex, skb: caller.skb, kind, family, tuple: Buffer.from(tuple).toString('hex'), netns });
    if (netns >= 0n && netns !== BigInt(this.netns_id)) return null;
    const dv = new DataView(tuple.buffer, tuple.byteOffset, tuple.byteLength);
    const daddr = family === AF_INET ? dv.getUint32(4, false) : -1;
    const dport = family === AF_INET ? dv.getUint16(10, false) : dv.getUint16(34, false);
    const proto = kind === BPF_SK_LOOKUP_KIND.SK_UDP ? IPPROTO_UDP : IPPROTO_TCP;
    let sk = this.socks.find((s) => s.family === family && s.protocol === proto && s.srcPort === dport &&
      (family !== AF_INET || s.srcIp4 === daddr || s.srcIp4 === 0));
    if (sk === undefined) return null;
    // bpf_sk_lookup_tcp gives a request socket's listener (no reference on it).
    if (kind === BPF_SK_LOOKUP_KIND.SK_TCP && sk.listener !== undefined) sk = sk.listener;
    if (kind === BPF_SK_LOOKUP_KIND.SK_TCP && sk.timeWait === true) return null;
    if (!sk.rcuFree) sk.refcnt++;
    return sk;
  }

  sk_release(sk: BpfSockRef): void {
    const s = asFake(sk);
    this.releases++;
    if (!s.rcuFree) s.refcnt--;
  }

  fill_bpf_sock(sk: BpfSockRef, dv: DataView, off: number): void {
    const s = asFake(sk);
    dv.setUint32(off + BPF_SOCK.family, s.family, true);
    dv.setUint32(off + BPF_SOCK.type, s.protocol === IPPROTO_TCP ? 1 : 2, true);
    dv.setUint32(off + BPF_SOCK.protocol, s.protocol, true);
    dv.setUint32(off + BPF_SOCK.state, s.state, true);
    dv.setUint32(off + BPF_SOCK.src_ip4, s.srcIp4, false);
    dv.setUint32(off + BPF_SOCK.dst_ip4, s.dstIp4, false);
    dv.setUint32(off + BPF_SOCK.src_port, s.srcPort, true);
    dv.setUint16(off + BPF_SOCK.dst_port, s.dstPort, false);
    dv.setUint32(off + BPF_SOCK.rx_queue_mapping, 0xffffffff, true);
  }

  fill_bpf_tcp_sock(sk: BpfSockRef, dv: DataView, off: number): boolean {
    const s = asFake(sk);
    if (s.protocol !== IPPROTO_TCP || s.listener !== undefined || s.timeWait === true) return false;
    dv.setUint32(off + BPF_TCP_SOCK.snd_cwnd, 10, true);
    dv.setUint32(off + BPF_TCP_SOCK.mss_cache, 1460, true);
    dv.setBigUint64(off + BPF_TCP_SOCK.bytes_received, 0x1_0000_0002n, true);
    return true;
  }

  sk_fullsock(sk: BpfSockRef): BpfSockRef | null {
    const s = asFake(sk);
    if (s.timeWait === true) return null;
    return s.listener ?? s;
  }

  sk_cookie(sk: BpfSockRef): bigint {
    return asFake(sk).cookie;
  }

  /** As a sockmap lookup: a reference the program's bpf_sk_release gives back (sock_map_lookup). */
  sk_by_cookie(cookie: bigint): BpfSockRef | null {
    const sk = this.socks.find((s) => s.cookie === cookie) ?? null;
    if (sk !== null && !sk.rcuFree) sk.refcnt++;
    return sk;
  }

  sk_assign_skb(skb: BpfSkb, sk: BpfSockRef, flags: bigint): number {
    this.assigned.push({ skb, sk: asFake(sk), flags });
    skb.sk = sk;
    return 0;
  }

  /** bpf_sk_lookup_assign's checks, the ones the tests reach. */
  sk_assign_lookup(ctx: BpfSkLookupKern, sk: BpfSockRef | null, flags: bigint): number {
    const s = sk === null ? null : asFake(sk);
    if (s !== null && s.protocol !== ctx.protocol) return -91; // EPROTOTYPE
    if (ctx.selected_sk !== null && (flags & 1n) === 0n) return -17; // EEXIST
    ctx.selected_sk = sk;
    ctx.no_reuseport = (flags & 2n) !== 0n;
    return 0;
  }

  syncookieChecks = 0;
  tcp_check_syncookie(_sk: BpfSockRef, _iph: Uint8Array, _th: Uint8Array): number {
    this.syncookieChecks++;
    return 0;
  }

  tcp_gen_syncookie(_sk: BpfSockRef, _iph: Uint8Array, _th: Uint8Array): bigint {
    return (1460n << 32n) | 0x1234_5678n;
  }

  fib_lookup(_params: Uint8Array, _flags: number, _ifindex: number): number {
    return -95;
  }

  skb_change_tail(_skb: BpfSkb, _len: number, _flags: bigint): number {
    return -95;
  }

  skb_ensure_writable(_skb: BpfSkb, _len: number): number {
    return 0;
  }
}

/** A minimal skb for helpers that look at skb->sk and skb->dev only. */
export function fakeSkb(ifindex: number, sk: BpfSockRef | null = null): BpfSkb {
  const head = new Uint8Array(128);
  return {
    head, view: new DataView(head.buffer), data: 0, tail: 64, end: 128, len: 64, mac_header: 0, network_header: 14,
    transport_header: 34, mac_len: 14, protocol: 0x0800, pkt_type: 0, mark: 0, priority: 0, queue_mapping: 0, hash: 0,
    tc_index: 0, tc_classid: 0, tstamp: 0, skb_iif: ifindex, meta_len: 0, bpf_cb: new Uint8Array(20), dev: { ifindex }, sk,
  };
}

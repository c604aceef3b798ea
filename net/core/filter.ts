// The stack side of socket-aware BPF (net/core/filter.c): what a program running on this machine
// reaches through bpf-vm's BpfNetHost contract — the live socket lookups (bpf_sk_lookup_tcp/udp,
// bpf_skc_lookup_tcp), struct bpf_sock / bpf_tcp_sock of a socket, socket cookies, bpf_sk_assign
// at tc and in SK_LOOKUP, the SYN cookie helpers and the kfunc bpf_sk_assign_tcp_reqsk
// (bpf-tcp-reqsk.ts), bpf_fib_lookup and the skb helpers that reallocate. One NetBpfHost per
// netns (net_bpf_host), so a program sees its own machine's sockets and never another's: a lookup
// in a netns by id finds only this one, an assign across netns fails with -ENETUNREACH.
import { ERRNO } from '../../bpf-vm/errno.ts';
import type {
  BpfLookupCaller,
  BpfNetHost,
  BpfSkb,
  BpfSkLookupKern,
  BpfSkLookupKind,
  BpfSockRef,
} from '../../bpf-vm/prog/sock-host.ts';
import { BPF_SK_LOOKUP_KIND } from '../../bpf-vm/prog/sock-host.ts';
import { BPF_SOCK, BPF_TCP_SOCK } from '../../bpf-vm/prog/bpf-sock.ts';
import type { ReadonlyIn6Addr } from './in6-addr.ts';
import { In6Addr } from './in6-addr.ts';
import type { Net } from './net-namespace.ts';
import type { NetDevice } from './netdevice.ts';
import { inet_reqsk } from './request-sock.ts';
import { SkBuff, skb_orphan } from './skbuff.ts';
import { AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, SOCK_TYPES } from './socket-constants.ts';
import { sk_fullsock, type Sock } from './sock.ts';
import { sk_unhashed, type SockCommon } from './sock-common.ts';
import { sock_diag_dead, sock_diag_lookup, sock_gen_cookie } from './sock-diag.ts';
import { sk_is_refcounted, sock_gen_put, sock_hold, sock_rcu_free } from './sock-refcnt.ts';
import { sock_pfree } from './skb-steal-sock.ts';
import { BPF_SK_LOOKUP_FLAGS, type BpfSkLookupKern as NetSkLookupKern } from './sk-lookup.ts';
import { TCP_CLOSE, TCP_LISTEN } from './tcp-states.ts';
import { bpf_fib_lookup } from './bpf-fib-lookup.ts';
import { bpf_tcp_check_syncookie, bpf_tcp_gen_syncookie } from './bpf-syncookie.ts';
import { bpf_skb_change_tail, bpf_skb_ensure_writable, BPF_SKB_MAX_LEN } from './bpf-skb-helpers.ts';
import { sock_map_update_elem } from './sock-map.ts';
import type { BpfMap } from '../../bpf-vm/maps/map.ts';
import { __inet_lookup } from '../ipv4/inet-hashtables.ts';
import { __udp4_lib_lookup } from '../ipv4/udp-lookup.ts';
import { __inet6_lookup } from '../ipv6/inet6-hashtables.ts';
import { __udp6_lib_lookup } from '../ipv6/udp6-lookup.ts';
import { TcpSock } from '../ipv4/tcp-sock.ts';
import { BPF_TCP_REQSK_MAX, bpf_sk_assign_tcp_reqsk } from './bpf-tcp-reqsk.ts';

const { SOCK_STREAM, SOCK_DGRAM } = SOCK_TYPES;
/** The SK_LOOKUP assign flags as the bigints the helper gets (compared, never computed: nothing allocates). */
const F_REPLACE = BigInt(BPF_SK_LOOKUP_FLAGS.BPF_SK_LOOKUP_F_REPLACE);
const F_NO_REUSEPORT = BigInt(BPF_SK_LOOKUP_FLAGS.BPF_SK_LOOKUP_F_NO_REUSEPORT);
const F_BOTH = F_REPLACE | F_NO_REUSEPORT;

/** rx_queue_mapping of a socket with none recorded (NO_QUEUE_MAPPING reads as -1). */
const NO_QUEUE_MAPPING = -1;
/** minmax_get of an rtt_min with no sample yet (minmax_reset(..., ~0U)); vxo keeps no windowed minimum. */
const RTT_MIN_NONE = 0xffffffff;
/** Cookies come from a counter that stays exact in a JS number. */
const MAX_COOKIE = BigInt(Number.MAX_SAFE_INTEGER);
export { BPF_SKB_MAX_LEN };

function be32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}
function be16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}
function read6(b: Uint8Array, off: number, a: In6Addr): In6Addr {
  return a.set(be32(b, off), be32(b, off + 4), be32(b, off + 8), be32(b, off + 12));
}
/** A u64 counter kept as a JS number (exact below 2^53), little-endian, without a BigInt. */
function put_u64(dv: DataView, off: number, v: number): void {
  dv.setUint32(off, v >>> 0, true);
  dv.setUint32(off + 4, Math.floor(v / 0x100000000) >>> 0, true);
}
function put6(dv: DataView, off: number, a: ReadonlyIn6Addr): void {
  dv.setUint32(off, a.w0);
  dv.setUint32(off + 4, a.w1);
  dv.setUint32(off + 8, a.w2);
  dv.setUint32(off + 12, a.w3);
}

/** sk_to_full_sk: a request socket stands for its listener; anything else for itself. */
export function sk_to_full_sk(sk: SockCommon): SockCommon | null {
  return inet_reqsk(sk) ? sk.rsk_listener : sk;
}

function sk_is_tcp(sk: Sock): boolean {
  return sk.sk_type === SOCK_STREAM && sk.sk_protocol === IPPROTO_TCP;
}
function sk_is_udp(sk: Sock): boolean {
  return sk.sk_type === SOCK_DGRAM && sk.sk_protocol === IPPROTO_UDP;
}

/**
 * bpf_sk_lookup_assign (bpf_sk_assign from SK_LOOKUP), its checks in the kernel's order: unknown
 * flags; a refcounted socket, a TCP socket not listening, a connected UDP socket
 * (-ESOCKTNOSUPPORT); another protocol (-EPROTOTYPE); another family, unless a dual-stack AF_INET6
 * socket takes an IPv4 packet (-EAFNOSUPPORT); a selection already made without F_REPLACE
 * (-EEXIST). NULL with F_REPLACE clears the selection.
 */
export function bpf_sk_lookup_assign(ctx: BpfSkLookupKern | NetSkLookupKern, sk: SockCommon | null, flags: bigint): number {
  if (flags !== 0n && flags !== F_REPLACE && flags !== F_NO_REUSEPORT && flags !== F_BOTH) return -ERRNO.EINVAL;
  if (sk !== null) {
    if (sk_is_refcounted(sk) || !sk_fullsock(sk)) return -ERRNO.ESOCKTNOSUPPORT; // only RCU-freed sockets
    if (sk_is_tcp(sk) && sk.skc_state !== TCP_LISTEN) return -ERRNO.ESOCKTNOSUPPORT;
    if (sk_is_udp(sk) && sk.skc_state !== TCP_CLOSE) return -ERRNO.ESOCKTNOSUPPORT;
    if (sk.sk_protocol !== ctx.protocol) return -ERRNO.EPROTOTYPE;
    if (sk.skc_family !== ctx.family && (sk.skc_family === AF_INET || sk.skc_ipv6only)) return -ERRNO.EAFNOSUPPORT;
  }
  const replace = flags === F_REPLACE || flags === F_BOTH;
  if (ctx.selected_sk !== null && !replace) return -ERRNO.EEXIST;
  (ctx as NetSkLookupKern).selected_sk = sk as Sock | null;
  ctx.no_reuseport = flags === F_NO_REUSEPORT || flags === F_BOTH;
  return 0;
}

/** What BPF reaches of one netns. */
export class NetBpfHost implements BpfNetHost {
  /**
   * The id this netns has among its own peer ids (peernet2id of itself): -1, none, as for a netns
   * nobody named, so only BPF_F_CURRENT_NETNS (a negative netns argument) reaches it. Set it to
   * let a program name this netns by id.
   */
  netns_id = -1;
  private readonly sa6 = new In6Addr();
  private readonly da6 = new In6Addr();
  /**
   * How many requests bpf_sk_assign_tcp_reqsk may have on skbs at once in this netns before it
   * refuses with -ENOMEM (bpf-tcp-reqsk.ts BPF_TCP_REQSK_MAX; a test may lower it).
   */
  tcp_reqsk_max: number = BPF_TCP_REQSK_MAX;

  constructor(readonly net: Net) {}

  // --- bpf_sk_lookup_tcp / bpf_sk_lookup_udp / bpf_skc_lookup_tcp ---

  sk_lookup(caller: BpfLookupCaller, kind: BpfSkLookupKind, family: number, tuple: Uint8Array, netns: bigint): BpfSockRef | null {
    // (s32)netns < 0: the caller's netns; 0..S32_MAX: a netns id; beyond: reserved, nothing.
    if (netns !== -1n) {
      const lo = BigInt.asIntN(32, netns);
      if (lo >= 0n) {
        if (BigInt.asUintN(64, netns) > 0x7fffffffn) return null;
        if (Number(lo) !== this.netns_id) return null;
      }
    }
    const skc = this.__bpf_skc_lookup(caller.ifindex, kind === BPF_SK_LOOKUP_KIND.SK_UDP ? IPPROTO_UDP : IPPROTO_TCP, family, tuple);
    if (skc === null) return null;
    if (kind === BPF_SK_LOOKUP_KIND.SKC_TCP) {
      if (sk_is_refcounted(skc)) sock_hold(skc);
      return skc;
    }
    // __bpf_sk_lookup: a full socket only. A request socket gives its listener (an RCU-freed
    // socket, so no reference), a TIME_WAIT socket nothing.
    let sk: SockCommon | null = sk_to_full_sk(skc);
    if (sk !== null && !sk_fullsock(sk)) sk = null;
    if (sk === null) return null;
    if (sk !== skc && !sock_rcu_free(sk)) return null; // "Found non-RCU, unreferenced socket!"
    if (sk_is_refcounted(sk)) sock_hold(sk);
    return sk;
  }

  /** sk_lookup (filter.c): the stack's own lookup, with no skb (reuseport picks by hash), dif from the caller. */
  private __bpf_skc_lookup(dif: number, protocol: number, family: number, tuple: Uint8Array): SockCommon | null {
    const net = this.net;
    let sk: SockCommon | undefined;
    if (family === AF_INET) {
      if (tuple.length < 12) return null;
      const saddr = be32(tuple, 0), daddr = be32(tuple, 4), sport = be16(tuple, 8), dport = be16(tuple, 10);
      sk = protocol === IPPROTO_TCP
        ? __inet_lookup(net, net.ipv4.tcp_hashinfo, null, 0, saddr, sport, daddr, dport, dif, 0)
        : __udp4_lib_lookup(net, net.ipv4.udp_table, saddr, sport, daddr, dport, dif, 0, null);
    } else if (family === AF_INET6) {
      if (tuple.length < 36) return null;
      const saddr = read6(tuple, 0, this.sa6), daddr = read6(tuple, 16, this.da6);
      const sport = be16(tuple, 32), dport = be16(tuple, 34);
      sk = protocol === IPPROTO_TCP
        ? __inet6_lookup(net, net.ipv4.tcp_hashinfo, null, 0, saddr, sport, daddr, dport, dif, 0)
        : __udp6_lib_lookup(net, net.ipv4.udp_table, saddr, sport, daddr, dport, dif, 0, null);
    }
    return sk ?? null;
  }

  sk_release(sk: BpfSockRef): void {
    const s = sk as SockCommon;
    if (sk_is_refcounted(s)) sock_gen_put(s);
  }

  // --- struct bpf_sock / struct bpf_tcp_sock ---

  /**
   * bpf_sock_convert_ctx_access's view of a socket. Mini sockets (request, TIME_WAIT) have only
   * sock_common: type, protocol, mark and priority read 0 (the verifier lets no program read them
   * through a sock_common pointer). The kernel reads skc_v6_* whatever the family: for an AF_INET
   * socket they are the v4-mapped addresses once TCP connected it (tcp_v4_connect and
   * tcp_v4_syn_recv_sock set them with sk_daddr_set / sk_rcv_saddr_set), and 0 for listeners and
   * UDP sockets (bind and UDP's connect leave them); vxo keeps a v4-mapped view for every socket,
   * so the others read 0 here.
   */
  fill_bpf_sock(sk: BpfSockRef, dv: DataView, off: number): void {
    const s = sk as SockCommon;
    const full = sk_fullsock(s);
    dv.setUint32(off + BPF_SOCK.bound_dev_if, s.skc_bound_dev_if, true);
    dv.setUint32(off + BPF_SOCK.family, s.skc_family, true);
    dv.setUint32(off + BPF_SOCK.type, full ? s.sk_type : 0, true);
    dv.setUint32(off + BPF_SOCK.protocol, full ? s.sk_protocol : 0, true);
    dv.setUint32(off + BPF_SOCK.mark, full ? s.sk_mark : 0, true);
    dv.setUint32(off + BPF_SOCK.priority, full ? s.sk_priority : 0, true);
    dv.setUint32(off + BPF_SOCK.src_ip4, s.skc_rcv_saddr);
    dv.setUint32(off + BPF_SOCK.src_port, s.skc_num, true);
    dv.setUint16(off + BPF_SOCK.dst_port, s.skc_dport);
    dv.setUint16(off + BPF_SOCK.dst_port + 2, 0);
    dv.setUint32(off + BPF_SOCK.dst_ip4, s.skc_daddr);
    if (s.skc_family === AF_INET6 || (full && s.sk_protocol === IPPROTO_TCP && s.skc_dport !== 0)) {
      put6(dv, off + BPF_SOCK.src_ip6, s.skc_v6_rcv_saddr);
      put6(dv, off + BPF_SOCK.dst_ip6, s.skc_v6_daddr);
    } else {
      for (let i = 0; i < 16; i += 4) {
        dv.setUint32(off + BPF_SOCK.src_ip6 + i, 0);
        dv.setUint32(off + BPF_SOCK.dst_ip6 + i, 0);
      }
    }
    dv.setUint32(off + BPF_SOCK.state, s.skc_state, true);
    dv.setInt32(off + BPF_SOCK.rx_queue_mapping, NO_QUEUE_MAPPING, true);
  }

  /**
   * struct bpf_tcp_sock from the TCP socket (bpf_tcp_sock_convert_ctx_access). What vxo does not
   * model reads as a socket without it would: ecn_flags, the delivery rate, D-SACK and CE
   * counts 0, rtt_min "no sample".
   */
  fill_bpf_tcp_sock(sk: BpfSockRef, dv: DataView, off: number): boolean {
    if (!(sk instanceof TcpSock) || !sk_fullsock(sk) || sk.sk_protocol !== IPPROTO_TCP) return false;
    const tp = sk;
    const o = off;
    const F = BPF_TCP_SOCK;
    dv.setUint32(o + F.snd_cwnd, tp.snd_cwnd >>> 0, true);
    dv.setUint32(o + F.srtt_us, tp.srtt_us >>> 0, true);
    dv.setUint32(o + F.rtt_min, RTT_MIN_NONE, true);
    dv.setUint32(o + F.snd_ssthresh, tp.snd_ssthresh >>> 0, true);
    dv.setUint32(o + F.rcv_nxt, tp.rcv_nxt >>> 0, true);
    dv.setUint32(o + F.snd_nxt, tp.snd_nxt >>> 0, true);
    dv.setUint32(o + F.snd_una, tp.snd_una >>> 0, true);
    dv.setUint32(o + F.mss_cache, tp.mss_cache >>> 0, true);
    dv.setUint32(o + F.ecn_flags, 0, true);
    dv.setUint32(o + F.rate_delivered, 0, true);
    dv.setUint32(o + F.rate_interval_us, 0, true);
    dv.setUint32(o + F.packets_out, tp.packets_out >>> 0, true);
    dv.setUint32(o + F.retrans_out, tp.retrans_out >>> 0, true);
    dv.setUint32(o + F.total_retrans, tp.total_retrans >>> 0, true);
    dv.setUint32(o + F.segs_in, tp.segs_in >>> 0, true);
    dv.setUint32(o + F.data_segs_in, tp.data_segs_in >>> 0, true);
    dv.setUint32(o + F.segs_out, tp.segs_out >>> 0, true);
    dv.setUint32(o + F.data_segs_out, tp.data_segs_out >>> 0, true);
    dv.setUint32(o + F.lost_out, tp.lost_out >>> 0, true);
    dv.setUint32(o + F.sacked_out, tp.sacked_out >>> 0, true);
    put_u64(dv, o + F.bytes_received, tp.bytes_received);
    put_u64(dv, o + F.bytes_acked, tp.bytes_acked);
    dv.setUint32(o + F.dsack_dups, 0, true);
    dv.setUint32(o + F.delivered, tp.delivered >>> 0, true);
    dv.setUint32(o + F.delivered_ce, 0, true);
    dv.setUint32(o + F.icsk_retransmits, tp.icsk_retransmits >>> 0, true);
    return true;
  }

  /** bpf_skc_to_tcp_sock's check: a full TCP socket itself. */
  sk_is_tcp_fullsock(sk: BpfSockRef): boolean {
    return sk instanceof TcpSock && sk_fullsock(sk) && sk.sk_protocol === IPPROTO_TCP;
  }

  /** sk_to_full_sk then sk_fullsock (the contract's; bpf_sk_fullsock itself gives NULL for a request socket). */
  sk_fullsock(sk: BpfSockRef): BpfSockRef | null {
    const full = sk_to_full_sk(sk as SockCommon);
    return full !== null && sk_fullsock(full) ? full : null;
  }

  /** sk->sk_reuseport (BPF_PROG_TEST_RUN for SK_LOOKUP refuses a selected reuseport socket). */
  sk_reuseport(sk: BpfSockRef): boolean {
    return (sk as SockCommon).skc_reuseport;
  }

  sk_cookie(sk: BpfSockRef): bigint {
    return BigInt(sock_gen_cookie(sk as SockCommon));
  }

  sk_by_cookie(cookie: bigint): BpfSockRef | null {
    if (cookie <= 0n || cookie > MAX_COOKIE) return null;
    const sk = sock_diag_lookup(this.net, Number(cookie));
    // A sockmap lookup hands the program a reference, which bpf_sk_release gives back.
    if (sk !== null && sk_is_refcounted(sk)) sock_hold(sk);
    return sk;
  }

  // --- bpf_sk_assign ---

  /**
   * bpf_sk_assign at tc ingress (the caller has checked it runs there: -EOPNOTSUPP otherwise):
   * flags must be 0 (-EINVAL); the socket must be in the skb's device's netns (-ENETUNREACH),
   * hashed (-EOPNOTSUPP) and alive (-ENOENT). The skb is orphaned and carries the socket as a
   * prefetched one (sock_pfree), with a reference if the socket is refcounted. Reuseport sockets
   * are accepted (6.6): the receive path selects within the group.
   */
  sk_assign_skb(skb: BpfSkb, sk: BpfSockRef, flags: bigint): number {
    const s = sk as SockCommon;
    if (flags !== 0n) return -ERRNO.EINVAL;
    const dev = skb.dev as NetDevice | null;
    const dev_net = dev?.nd_net ?? this.net;
    if (dev_net !== s.skc_net) return -ERRNO.ENETUNREACH;
    if (sk_unhashed(s)) return -ERRNO.EOPNOTSUPP;
    if (sk_is_refcounted(s)) {
      if (sock_diag_dead(s)) return -ERRNO.ENOENT;
      sock_hold(s);
    }
    if (skb instanceof SkBuff) {
      skb_orphan(skb);
      skb.sk = s;
      skb.destructor = sock_pfree;
    } else {
      skb.sk = s;
    }
    return 0;
  }

  /**
   * The kfunc bpf_sk_assign_tcp_reqsk(skb, sk, attrs, attrs__sz) (bpf-tcp-reqsk.ts has the checks
   * and errnos): `attrs` is struct bpf_tcp_req_attrs as the program's memory holds it (at least
   * attrsSz bytes), `atIngress` whether the program runs at tc ingress (skb_at_tc_ingress). On
   * success the skb carries a request socket for listener `sk` to the receive path.
   */
  sk_assign_tcp_reqsk(skb: BpfSkb, sk: BpfSockRef, attrs: Uint8Array, attrsSz: number, atIngress: boolean): number {
    return bpf_sk_assign_tcp_reqsk(this.net, skb, sk as SockCommon, attrs, attrsSz, atIngress, this.tcp_reqsk_max);
  }

  sk_assign_lookup(ctx: BpfSkLookupKern, sk: BpfSockRef | null, flags: bigint): number {
    return bpf_sk_lookup_assign(ctx, sk as SockCommon | null, flags);
  }

  /**
   * bpf_map_update_elem on a SOCKMAP / SOCKHASH from a program (bpf-vm's SockMapHost): the stack's
   * checks on the socket, and the entry linked to it so that closing the socket removes it.
   */
  sock_map_update_elem(map: BpfMap, key: Uint8Array, keyOff: number, sk: BpfSockRef, flags: number): number {
    return sock_map_update_elem(map, key, keyOff, sk as SockCommon, flags);
  }

  // --- SYN cookies (bpf-syncookie.ts) ---

  tcp_check_syncookie(sk: BpfSockRef, iph: Uint8Array, th: Uint8Array): number {
    return bpf_tcp_check_syncookie(sk, iph, th);
  }

  tcp_gen_syncookie(sk: BpfSockRef, iph: Uint8Array, th: Uint8Array): bigint {
    return bpf_tcp_gen_syncookie(sk, iph, th);
  }

  // --- bpf_fib_lookup ---

  /** bpf_fib_lookup on this netns's FIB and neighbours; `ifindex` (the caller's device) is not used: params->ifindex is. */
  fib_lookup(params: Uint8Array, flags: number, _ifindex: number): number {
    return bpf_fib_lookup(this.net, params, flags);
  }

  // --- skb helpers that reallocate (bpf-skb-helpers.ts) ---

  skb_change_tail(skb: BpfSkb, len: number, flags: bigint): number {
    return bpf_skb_change_tail(skb, len, flags);
  }

  skb_ensure_writable(skb: BpfSkb, len: number): number {
    return bpf_skb_ensure_writable(skb, len);
  }
}

const hosts = new WeakMap<Net, NetBpfHost>();

/** The BpfNetHost of a netns (one per Net, made on first use): what its programs' helpers reach. */
export function net_bpf_host(net: Net): NetBpfHost {
  let h = hosts.get(net);
  if (h === undefined) {
    h = new NetBpfHost(net);
    hosts.set(net, h);
  }
  return h;
}

// bpf_sk_assign_tcp_reqsk (net/core/filter.c, Linux 6.9; sockets.md §5): the kfunc with which a
// tc ingress program that validated its own SYN cookie hands the stack a request socket built
// from the cookie's attributes. The request rides on the skb as a prefetched socket (sock_pfree);
// skb_steal_sock gives the receive path its listener (no hash lookup, no SK_LOOKUP, reuseport
// honoured), and cookie_v{4,6}_check completes it with cookie_bpf_check (ipv4/tcp-cookie.ts):
// no SYN queue entry, no SyncookiesRecv/Failed, no recent-overflow requirement.
//
// This file is the stack's side: the checks in the kernel's order with its errnos and the state
// set on the request. The program side (a kfunc call from SCHED_CLS, KF_TRUSTED_ARGS on `sk`, the
// (attrs, attrs__sz) memory pair) is bpf-vm's, which reaches this through
// BpfNetHost.sk_assign_tcp_reqsk (NetBpfHost in filter.ts).
import { ERRNO } from '../../bpf-vm/errno.ts';
import { tcp_clock_ts } from '../ipv4/tcp-defs.ts';
import type { BpfSkb } from '../../bpf-vm/prog/sock-host.ts';
import type { Net } from './net-namespace.ts';
import type { NetDevice } from './netdevice.ts';
import { reqsk_bpf_alloc } from './request-sock.ts';
import { ETH_P_IP, ETH_P_IPV6, SkBuff, skb_orphan } from './skbuff.ts';
import { IPPROTO_TCP, SOCK_TYPES } from './socket-constants.ts';
import type { SockCommon } from './sock-common.ts';
import { sk_fullsock } from './sock.ts';
import { sock_pfree } from './skb-steal-sock.ts';
import { TCP_LISTEN } from './tcp-states.ts';

/**
 * struct bpf_tcp_req_attrs (include/net/tcp.h, not UAPI): 20 bytes, little-endian u32s as the
 * program's stack holds them. Byte offsets.
 */
export const BPF_TCP_REQ_ATTRS = {
  rcv_tsval: 0,
  rcv_tsecr: 4,
  mss: 8,
  rcv_wscale: 10,
  snd_wscale: 11,
  ecn_ok: 12,
  wscale_ok: 13,
  sack_ok: 14,
  tstamp_ok: 15,
  usec_ts_ok: 16,
  reserved: 17,
  /** sizeof(struct bpf_tcp_req_attrs); attrs__sz must equal it. */
  SIZE: 20,
} as const;

/** The decoded attributes (what a test or a program's C struct holds). */
export interface BpfTcpReqAttrs {
  rcv_tsval: number;
  rcv_tsecr: number;
  mss: number;
  rcv_wscale: number;
  snd_wscale: number;
  ecn_ok: boolean;
  wscale_ok: boolean;
  sack_ok: boolean;
  tstamp_ok: boolean;
  usec_ts_ok: boolean;
}

/** TCP_MAX_WSCALE (include/net/tcp.h): RFC 7323's largest shift. */
export const TCP_MAX_WSCALE = 14;
/** The smallest MSS the kfunc accepts: TCP_MSS_DEFAULT (v4) and IPV6_MIN_MTU - 60 (v6), the request ops' mss_clamp. */
export const BPF_TCP_REQSK_MIN_MSS4 = 536;
export const BPF_TCP_REQSK_MIN_MSS6 = 1280 - 60;
/**
 * vxo's bound on the kfunc's allocation: requests it made that are still on skbs, per netns.
 * The kernel's is the slab (GFP_ATOMIC failing); here a program that assigns requests to
 * packets the stack never processes (queued behind a backlog, say) is refused with -ENOMEM
 * past this many. A packet takes one at a time and gives it up when processed or freed, so
 * only a queue of this many pending ACKs could reach it.
 */
export const BPF_TCP_REQSK_MAX = 4096;

const A = BPF_TCP_REQ_ATTRS;

/** Writes `a` as struct bpf_tcp_req_attrs (reserved bytes zero) into b[off..off+20). */
export function bpf_tcp_req_attrs_write(a: BpfTcpReqAttrs, b: Uint8Array, off = 0): Uint8Array {
  const dv = new DataView(b.buffer, b.byteOffset + off, A.SIZE);
  dv.setUint32(A.rcv_tsval, a.rcv_tsval >>> 0, true);
  dv.setUint32(A.rcv_tsecr, a.rcv_tsecr >>> 0, true);
  dv.setUint16(A.mss, a.mss, true);
  dv.setUint8(A.rcv_wscale, a.rcv_wscale);
  dv.setUint8(A.snd_wscale, a.snd_wscale);
  dv.setUint8(A.ecn_ok, a.ecn_ok ? 1 : 0);
  dv.setUint8(A.wscale_ok, a.wscale_ok ? 1 : 0);
  dv.setUint8(A.sack_ok, a.sack_ok ? 1 : 0);
  dv.setUint8(A.tstamp_ok, a.tstamp_ok ? 1 : 0);
  dv.setUint8(A.usec_ts_ok, a.usec_ts_ok ? 1 : 0);
  b.fill(0, off + A.reserved, off + A.SIZE);
  return b;
}

function u16le(b: Uint8Array, off: number): number {
  return b[off]! | (b[off + 1]! << 8);
}
function u32le(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

/** tcp_ns_to_ts(usec_ts, tcp_clock_ns()): the TS clock the connection's TSvals will come from, ms or us. */
const now_ts = (net: Net, usec_ts: boolean): number => tcp_clock_ts(usec_ts, net.boot.clock.ktime_get_ns());

/**
 * bpf_sk_assign_tcp_reqsk(skb, sk, attrs, attrs__sz): 0 or a negative errno, the kernel's checks
 * in its order:
 *
 * 1. attrs__sz != 20, or a reserved byte set: -EINVAL
 * 2. not at tc ingress: -EINVAL (bpf_sk_assign's -EOPNOTSUPP is not this one's)
 * 3. the skb's device in another netns than sk: -ENETUNREACH
 * 4. skb->protocol neither ETH_P_IP nor ETH_P_IPV6: -EINVAL; picks the minimum MSS (536 / 1220)
 * 5. sk not a TCP listener (SOCK_STREAM, TCP_LISTEN, not MPTCP: here, a full TCP socket): -EINVAL
 * 6. mss below the minimum: -EINVAL
 * 7. wscale_ok with tcp_window_scaling off, or snd_wscale / rcv_wscale above 14: -EINVAL
 * 8. sack_ok with tcp_sack off: -EINVAL
 * 9. tstamp_ok with tcp_timestamps off: -EINVAL
 * 10. the request cannot be allocated (BPF_TCP_REQSK_MAX alive, or an skb that is not this
 *     stack's, where no destructor can free it): -ENOMEM
 * (11. CONFIG_SYN_COOKIES off: -EOPNOTSUPP; vxo always has SYN cookies.)
 *
 * Then a request for sk: rsk_listener = sk without a reference, syncookie set, mss, ts_recent =
 * rcv_tsval, the window scales and the ok bits, req_usec_ts, and with timestamps ts_off =
 * rcv_tsecr - now (the server's TSvals continue from the cookie's). The skb is orphaned and
 * carries the request with sock_pfree as destructor: freeing the skb frees the request.
 * `net` is the caller's netns (the device's when the skb has none).
 */
export function bpf_sk_assign_tcp_reqsk(
  net: Net, skb: BpfSkb, sk: SockCommon, attrs: Uint8Array, attrsSz: number, atIngress: boolean, max = BPF_TCP_REQSK_MAX,
): number {
  if (attrsSz !== A.SIZE || attrs.length < A.SIZE) return -ERRNO.EINVAL;
  if (attrs[A.reserved] !== 0 || attrs[A.reserved + 1] !== 0 || attrs[A.reserved + 2] !== 0) return -ERRNO.EINVAL;
  if (!atIngress) return -ERRNO.EINVAL;
  const dev = skb.dev as NetDevice | null;
  const dnet = dev?.nd_net ?? net;
  if (dnet !== sk.skc_net) return -ERRNO.ENETUNREACH;
  let min_mss: number;
  if (skb.protocol === ETH_P_IP) min_mss = BPF_TCP_REQSK_MIN_MSS4;
  else if (skb.protocol === ETH_P_IPV6) min_mss = BPF_TCP_REQSK_MIN_MSS6;
  else return -ERRNO.EINVAL;
  if (!sk_fullsock(sk) || sk.sk_type !== SOCK_TYPES.SOCK_STREAM || sk.skc_state !== TCP_LISTEN || sk.sk_protocol !== IPPROTO_TCP) {
    return -ERRNO.EINVAL;
  }
  const mss = u16le(attrs, A.mss);
  if (mss < min_mss) return -ERRNO.EINVAL;
  const rcv_wscale = attrs[A.rcv_wscale]!, snd_wscale = attrs[A.snd_wscale]!;
  const wscale_ok = attrs[A.wscale_ok] !== 0;
  const v4 = dnet.ipv4;
  if (wscale_ok) {
    if (!v4.sysctl_tcp_window_scaling) return -ERRNO.EINVAL;
    if (snd_wscale > TCP_MAX_WSCALE || rcv_wscale > TCP_MAX_WSCALE) return -ERRNO.EINVAL;
  }
  const sack_ok = attrs[A.sack_ok] !== 0;
  if (sack_ok && !v4.sysctl_tcp_sack) return -ERRNO.EINVAL;
  const tstamp_ok = attrs[A.tstamp_ok] !== 0;
  const usec_ts = attrs[A.usec_ts_ok] !== 0;
  let ts_off = 0;
  if (tstamp_ok) {
    if (!v4.sysctl_tcp_timestamps) return -ERRNO.EINVAL;
    ts_off = (u32le(attrs, A.rcv_tsecr) - now_ts(dnet, usec_ts)) >>> 0;
  }
  if (!(skb instanceof SkBuff)) return -ERRNO.ENOMEM;
  const req = reqsk_bpf_alloc(sk, max);
  if (req === null) return -ERRNO.ENOMEM;
  req.mss = mss;
  req.ts_recent = u32le(attrs, A.rcv_tsval);
  req.snd_wscale = snd_wscale;
  req.rcv_wscale = req.bpf_rcv_wscale = rcv_wscale;
  req.tstamp_ok = tstamp_ok;
  req.sack_ok = sack_ok;
  req.wscale_ok = wscale_ok;
  req.ecn_ok = attrs[A.ecn_ok] !== 0;
  req.req_usec_ts = usec_ts;
  req.ts_off = ts_off;
  skb_orphan(skb);
  skb.sk = req;
  skb.destructor = sock_pfree;
  return 0;
}

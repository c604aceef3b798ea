// The SYN cookie helpers (bpf_tcp_check_syncookie, bpf_tcp_gen_syncookie: net/core/filter.c) on
// the stack's own cookies (ipv4/syncookies.ts, ipv6/syncookies.ts): the listener, sysctl, header
// and flag checks in the kernel's order, then the cookie code. Scratch addresses are module-level:
// a machine runs its programs on one thread.
import { ERRNO } from '../../bpf-vm/errno.ts';
import type { BpfSockRef } from '../../bpf-vm/prog/sock-host.ts';
import { In6Addr } from './in6-addr.ts';
import { AF_INET6, IPPROTO_TCP } from './socket-constants.ts';
import { sk_fullsock } from './sock.ts';
import type { SockCommon } from './sock-common.ts';
import { TCP_LISTEN } from './tcp-states.ts';
import type { TcpSock } from '../ipv4/tcp-sock.ts';
import { __cookie_v4_check, __cookie_v4_init_sequence, tcp_synq_no_recent_overflow, tcp_synq_overflow } from '../ipv4/syncookies.ts';
import { __cookie_v6_check, __cookie_v6_init_sequence } from '../ipv6/syncookies.ts';
import { tcp_get_syncookie_mss } from '../ipv4/tcp-cookie.ts';

/** TCP_MSS_DEFAULT and IPV6_MIN_MTU - 60: tcp_request_sock_ipv{4,6}_ops.mss_clamp. */
const TCP_MSS_DEFAULT = 536;
const TCP_V6_MSS_CLAMP = 1280 - 60;
const TCPHDR_LEN = 20;
const IPHDR_LEN = 20;
const IPV6HDR_LEN = 40;
const TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04, TH_ACK = 0x10;

const be32 = (b: Uint8Array, off: number): number => ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
const be16 = (b: Uint8Array, off: number): number => (b[off]! << 8) | b[off + 1]!;
const read6 = (b: Uint8Array, off: number, a: In6Addr): In6Addr => a.set(be32(b, off), be32(b, off + 4), be32(b, off + 8), be32(b, off + 12));
const sa6 = new In6Addr();
const da6 = new In6Addr();
const mssp = { mss: 0 };

/** bpf_tcp_check_syncookie: 0 if th (an ACK) carries a valid cookie for listener sk. */
export function bpf_tcp_check_syncookie(sk: BpfSockRef, iph: Uint8Array, th: Uint8Array): number {
  const s = sk as SockCommon;
  if (th.length < TCPHDR_LEN) return -ERRNO.EINVAL;
  if (!sk_fullsock(s) || s.sk_protocol !== IPPROTO_TCP || s.skc_state !== TCP_LISTEN) return -ERRNO.EINVAL;
  const tp = s as TcpSock;
  if (!s.skc_net.ipv4.sysctl_tcp_syncookies) return -ERRNO.EINVAL;
  const fl = th[13]!;
  if ((fl & TH_ACK) === 0 || (fl & (TH_RST | TH_SYN)) !== 0) return -ERRNO.ENOENT;
  if (iph.length < IPHDR_LEN) return -ERRNO.EINVAL;
  if (tcp_synq_no_recent_overflow(tp)) return -ERRNO.ENOENT;
  const seq = (be32(th, 4) - 1) >>> 0;
  const cookie = (be32(th, 8) - 1) >>> 0;
  const sport = be16(th, 0), dport = be16(th, 2);
  let mss: number;
  switch (iph[0]! >>> 4) {
    case 4:
      if (s.skc_family === AF_INET6 && s.skc_ipv6only) return -ERRNO.EINVAL;
      mss = __cookie_v4_check(s.skc_net, be32(iph, 12), be32(iph, 16), sport, dport, seq, cookie);
      break;
    case 6:
      if (iph.length < IPV6HDR_LEN) return -ERRNO.EINVAL;
      if (s.skc_family !== AF_INET6) return -ERRNO.EINVAL;
      mss = __cookie_v6_check(s.skc_net, read6(iph, 8, sa6), read6(iph, 24, da6), sport, dport, seq, cookie);
      break;
    default:
      return -ERRNO.EPROTONOSUPPORT;
  }
  return mss > 0 ? 0 : -ERRNO.ENOENT;
}

/** bpf_tcp_gen_syncookie: (mss << 32) | cookie for th (a SYN) to listener sk, or a negative errno. */
export function bpf_tcp_gen_syncookie(sk: BpfSockRef, iph: Uint8Array, th: Uint8Array): bigint {
  const s = sk as SockCommon;
  if (th.length < TCPHDR_LEN || th.length !== (th[12]! >>> 4) * 4) return BigInt(-ERRNO.EINVAL);
  if (!sk_fullsock(s) || s.sk_protocol !== IPPROTO_TCP || s.skc_state !== TCP_LISTEN) return BigInt(-ERRNO.EINVAL);
  const tp = s as TcpSock;
  if (!s.skc_net.ipv4.sysctl_tcp_syncookies) return BigInt(-ERRNO.ENOENT);
  const fl = th[13]!;
  if ((fl & TH_SYN) === 0 || (fl & (TH_ACK | TH_FIN | TH_RST)) !== 0) return BigInt(-ERRNO.EINVAL);
  if (iph.length < IPHDR_LEN) return BigInt(-ERRNO.EINVAL);
  const seq = be32(th, 4);
  const sport = be16(th, 0), dport = be16(th, 2);
  
  mssp.mss = 0;
  let cookie = 0;
  switch (iph[0]! >>> 4) {
    case 4:
      if (s.skc_family === AF_INET6 && s.skc_ipv6only) return BigInt(-ERRNO.EINVAL);
      mssp.mss = tcp_get_syncookie_mss(tp, th, TCP_MSS_DEFAULT);
      if (mssp.mss !== 0) {
        cookie = __cookie_v4_init_sequence(s.skc_net, be32(iph, 12), be32(iph, 16), sport, dport, seq, mssp);
        tcp_synq_overflow(tp);
      }
      break;
    case 6:
      if (iph.length < IPV6HDR_LEN) return BigInt(-ERRNO.EINVAL);
      if (s.skc_family !== AF_INET6) return BigInt(-ERRNO.EINVAL);
      mssp.mss = tcp_get_syncookie_mss(tp, th, TCP_V6_MSS_CLAMP);
      if (mssp.mss !== 0) {
        cookie = __cookie_v6_init_sequence(s.skc_net, read6(iph, 8, sa6), read6(iph, 24, da6), sport, dport, seq, mssp);
        tcp_synq_overflow(tp);
      }
      break;
    default:
      return BigInt(-ERRNO.EPROTONOSUPPORT);
  }
  if (mssp.mss === 0) return BigInt(-ERRNO.ENOENT);
  return BigInt(cookie >>> 0) | (BigInt(mssp.mss) << 32n);
}

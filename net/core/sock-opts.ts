// The SOL_SOCKET options (sock_setsockopt / sk_getsockopt, net/core/sock.c): the generic socket
// options every protocol shares. Values are what the kernel stores and reports: SO_RCVBUF and
// SO_SNDBUF are doubled (the kernel reserves half for its own overhead) and clamped to
// net.core.rmem_max / wmem_max and to SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF.
//
// A value is a number for int options (a Uint8Array of at least 4 bytes is read as a
// little-endian int, as the kernel reads an optval of optlen >= sizeof(int)); SO_LINGER takes and
// returns struct linger (8 bytes, see `linger_bytes`); SO_BINDTODEVICE takes a device name (or an
// ifindex, as SO_BINDTOIFINDEX does) and returns the name. SO_ATTACH_BPF takes a program fd of the
// netns's fd table (sk-filter.ts).
import { ERRNO } from '../../bpf-vm/errno.ts';
import type { Sock } from './sock.ts';
import { SOCK_FLAGS, sock_error, sock_reset_flag, sock_set_flag, sock_flag } from './sock.ts';
import { SO, SOL_SOCKET } from './socket-options.ts';
import type { SockoptValue } from './proto.ts';
import { SK_CAN_REUSE, SK_NO_REUSE, SOCK_USERLOCKS, AF_INET, AF_INET6 } from './socket-constants.ts';
import { sock_gen_cookie } from './sock-diag.ts';
import { reuseport_update_incoming_cpu } from './sock-reuseport.ts';
import { dev_get_by_index, dev_get_by_name } from './dev.ts';
import { TCP_LISTEN } from './tcp-states.ts';
import { HZ } from './clock.ts';
import { SO_FILTER, sk_attach_bpf_fd, sk_detach_filter, sk_filter_locked, sk_get_filter, sk_lock_filter } from './sk-filter.ts';

/** The errnos the socket layer returns (bpf-vm's table, which names the socket layer's too). */
export const E = ERRNO;

/** TCP_SKB_MIN_TRUESIZE: 2048 bytes of data plus a cache-aligned struct sk_buff (232 -> 256). */
const TCP_SKB_MIN_TRUESIZE = 2048 + 256;
/** SOCK_MIN_SNDBUF / SOCK_MIN_RCVBUF (include/net/sock.h). */
export const SOCK_MIN_SNDBUF = TCP_SKB_MIN_TRUESIZE * 2;
export const SOCK_MIN_RCVBUF = TCP_SKB_MIN_TRUESIZE;
const INT_MAX = 0x7fffffff;
/** The highest SO_PRIORITY an unprivileged socket may set (TC_PRIO_INTERACTIVE). */
const TC_PRIO_MAX_UNPRIV = 6;
/** SO_BINDTOIFINDEX (asm-generic/socket.h), the ifindex flavour of SO_BINDTODEVICE. */
export const SO_BINDTOIFINDEX = 62;

/** SO_RCVTIMEO_OLD / SO_SNDTIMEO_OLD (x86-64's asm-generic values) and SO_ZEROCOPY. */
export const SO_RCVTIMEO = 20;
export const SO_SNDTIMEO = 21;
export const SO_ZEROCOPY = 60;
const EDOM = 33;

/**
 * sk_rcvtimeo / sk_sndtimeo in jiffies (Infinity: MAX_SCHEDULE_TIMEOUT, the default). The socket
 * layer never blocks, so nothing here waits on them; a caller with blocking semantics (the
 * packetdrill runner, an app's loop) reads them with sock_rcvtimeo / sock_sndtimeo.
 */
const rcvtimeo = new WeakMap<Sock, number>();
const sndtimeo = new WeakMap<Sock, number>();
const zerocopy = new WeakSet<Sock>();

export function sock_rcvtimeo(sk: Sock): number {
  return rcvtimeo.get(sk) ?? Infinity;
}
export function sock_sndtimeo(sk: Sock): number {
  return sndtimeo.get(sk) ?? Infinity;
}

/** struct __kernel_old_timeval (tv_sec, tv_usec: two little-endian longs) as bytes. */
export function timeval_bytes(sec: number, usec: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, BigInt(sec), true);
  v.setBigInt64(8, BigInt(usec), true);
  return b;
}

/** sock_set_timeout: a timeval to jiffies; 0,0 means no timeout; a negative time means none at all (0). */
function sock_set_timeout(map: WeakMap<Sock, number>, sk: Sock, value: SockoptValue): number {
  if (!(value instanceof Uint8Array) || value.length < 16) return -E.EINVAL;
  const v = new DataView(value.buffer, value.byteOffset, 16);
  const sec = Number(v.getBigInt64(0, true));
  const usec = Number(v.getBigInt64(8, true));
  if (usec < 0 || usec >= 1_000_000) return -EDOM;
  if (sec < 0) {
    map.set(sk, 0);
    return 0;
  }
  if (sec === 0 && usec === 0) {
    map.delete(sk);
    return 0;
  }
  map.set(sk, sec * HZ + Math.ceil(usec / (1_000_000 / HZ)));
  return 0;
}

function sock_get_timeout(map: WeakMap<Sock, number>, sk: Sock): Uint8Array {
  const t = map.get(sk);
  if (t === undefined) return timeval_bytes(0, 0);
  return timeval_bytes(Math.floor(t / HZ), ((t % HZ) * 1_000_000) / HZ);
}

/** An int option's value, or undefined when optlen < sizeof(int) (the kernel's -EINVAL). */
export function sockopt_int(value: SockoptValue): number | undefined {
  if (typeof value === 'number') return value | 0;
  if (value instanceof Uint8Array && value.length >= 4) {
    return (value[0]! | (value[1]! << 8) | (value[2]! << 16) | (value[3]! << 24)) | 0;
  }
  return undefined;
}

/** struct linger as bytes: l_onoff and l_linger (seconds), little-endian ints. */
export function linger_bytes(onoff: number, secs: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setInt32(0, onoff, true);
  v.setInt32(4, secs, true);
  return b;
}

/** Which protocol hooks the generic options poke (SO_KEEPALIVE arms TCP's keepalive timer). */
interface ProtoHooks {
  keepalive?(sk: Sock, valbool: boolean): void;
}

/** root (uid 0) holds CAP_NET_ADMIN / CAP_NET_RAW; nobody else does here. */
function capable(sk: Sock): boolean {
  return sk.sk_uid === 0;
}

/** sock_bindtoindex_locked: SO_BINDTODEVICE by ifindex (0 unbinds). */
export function sock_bindtoindex(sk: Sock, ifindex: number): number {
  if (sk.skc_bound_dev_if !== 0 && !capable(sk)) return -E.EPERM;
  if (ifindex < 0) return -E.EINVAL;
  if (ifindex !== 0 && dev_get_by_index(sk.skc_net, ifindex) === undefined) return -E.ENODEV;
  sk.skc_bound_dev_if = ifindex;
  sk.sk_dst_cache = null;
  return 0;
}

function set_rcvbuf(sk: Sock, val: number, force: boolean): void {
  // min_t(u32, val, rmem_max): a negative int is a huge u32, so it becomes rmem_max.
  if (!force && val >>> 0 > sk.skc_net.core.sysctl_rmem_max) val = sk.skc_net.core.sysctl_rmem_max;
  val = Math.max(Math.min(val, INT_MAX / 2), 0) | 0;
  sk.sk_userlocks |= SOCK_USERLOCKS.SOCK_RCVBUF_LOCK;
  sk.sk_rcvbuf = Math.max(val * 2, SOCK_MIN_RCVBUF);
}

function set_sndbuf(sk: Sock, val: number, force: boolean): void {
  if (!force && val >>> 0 > sk.skc_net.core.sysctl_wmem_max) val = sk.skc_net.core.sysctl_wmem_max;
  val = Math.max(Math.min(val, INT_MAX / 2), 0) | 0;
  sk.sk_userlocks |= SOCK_USERLOCKS.SOCK_SNDBUF_LOCK;
  sk.sk_sndbuf = Math.max(val * 2, SOCK_MIN_SNDBUF);
  sk.sk_write_space(sk);
}

function valbool_flag(sk: Sock, flag: number, on: boolean): void {
  if (on) sock_set_flag(sk, flag);
  else sock_reset_flag(sk, flag);
}

/** sock_setsockopt: 0 or -ENOPROTOOPT / -EINVAL / -EPERM / -ENODEV. */
export function sock_setsockopt(sk: Sock, optname: number, value: SockoptValue): number {
  if (optname === SO.SO_BINDTODEVICE) {
    if (typeof value === 'string') {
      if (value === '') return sock_bindtoindex(sk, 0);
      const dev = dev_get_by_name(sk.skc_net, value);
      return dev === undefined ? -E.ENODEV : sock_bindtoindex(sk, dev.ifindex);
    }
  }
  if (optname === SO_RCVTIMEO) return sock_set_timeout(rcvtimeo, sk, value);
  if (optname === SO_SNDTIMEO) return sock_set_timeout(sndtimeo, sk, value);
  if (optname === SO.SO_LINGER) {
    if (!(value instanceof Uint8Array) || value.length < 8) return -E.EINVAL;
    const v = new DataView(value.buffer, value.byteOffset, 8);
    const onoff = v.getInt32(0, true);
    const secs = v.getUint32(4, true);
    if (onoff === 0) {
      sock_reset_flag(sk, SOCK_FLAGS.SOCK_LINGER);
    } else {
      sk.sk_lingertime = secs;
      sock_set_flag(sk, SOCK_FLAGS.SOCK_LINGER);
    }
    return 0;
  }
  if (optname === SO_FILTER.SO_ATTACH_BPF) {
    // optlen must be sizeof(u32): the program's fd.
    if (value instanceof Uint8Array && value.length !== 4) return -E.EINVAL;
    const fd = sockopt_int(value);
    return fd === undefined ? -E.EINVAL : sk_attach_bpf_fd(sk, fd);
  }
  const val = sockopt_int(value);
  if (val === undefined) return -E.EINVAL;
  const valbool = val !== 0;
  switch (optname) {
    case SO_FILTER.SO_DETACH_FILTER:
      return sk_detach_filter(sk);
    case SO_FILTER.SO_LOCK_FILTER:
      return sk_lock_filter(sk, valbool);
    case SO.SO_DEBUG:
      return 0;
    case SO.SO_REUSEADDR:
      sk.skc_reuse = valbool ? SK_CAN_REUSE : SK_NO_REUSE;
      return 0;
    case SO.SO_REUSEPORT:
      if (valbool && sk.skc_family !== AF_INET && sk.skc_family !== AF_INET6) return -E.EOPNOTSUPP;
      sk.skc_reuseport = valbool;
      return 0;
    case SO.SO_TYPE:
    case SO.SO_PROTOCOL:
    case SO.SO_DOMAIN:
    case SO.SO_ERROR:
    case SO.SO_ACCEPTCONN:
    case SO.SO_COOKIE:
      return -E.ENOPROTOOPT;
    case SO.SO_DONTROUTE:
      return 0;
    case SO.SO_BROADCAST:
      valbool_flag(sk, SOCK_FLAGS.SOCK_BROADCAST, valbool);
      return 0;
    case SO.SO_SNDBUF:
      set_sndbuf(sk, val, false);
      return 0;
    case SO.SO_SNDBUFFORCE:
      if (!capable(sk)) return -E.EPERM;
      set_sndbuf(sk, val, true);
      return 0;
    case SO.SO_RCVBUF:
      set_rcvbuf(sk, val, false);
      return 0;
    case SO.SO_RCVBUFFORCE:
      if (!capable(sk)) return -E.EPERM;
      set_rcvbuf(sk, val, true);
      return 0;
    case SO.SO_KEEPALIVE:
      (sk.sk_prot as ProtoHooks | null)?.keepalive?.(sk, valbool);
      valbool_flag(sk, SOCK_FLAGS.SOCK_KEEPOPEN, valbool);
      return 0;
    case SO.SO_OOBINLINE:
      valbool_flag(sk, SOCK_FLAGS.SOCK_URGINLINE, valbool);
      return 0;
    case SO.SO_NO_CHECK:
      sk.sk_no_check_tx = valbool;
      return 0;
    case SO.SO_PRIORITY:
      if (val < 0 || (val > TC_PRIO_MAX_UNPRIV && !capable(sk))) return -E.EPERM;
      sk.sk_priority = val;
      return 0;
    case SO.SO_RCVLOWAT:
      sk.sk_rcvlowat = val < 0 ? INT_MAX : val === 0 ? 1 : val;
      return 0;
    case SO.SO_SNDLOWAT:
      return -E.ENOPROTOOPT;
    case SO.SO_TIMESTAMP:
      valbool_flag(sk, SOCK_FLAGS.SOCK_RCVTSTAMP, valbool);
      valbool_flag(sk, SOCK_FLAGS.SOCK_TIMESTAMP, valbool);
      return 0;
    case SO.SO_MARK:
      if (!capable(sk)) return -E.EPERM;
      if (sk.sk_mark !== val >>> 0) {
        sk.sk_mark = val >>> 0;
        sk.sk_dst_cache = null;
      }
      return 0;
    case SO.SO_BINDTODEVICE:
    case SO_BINDTOIFINDEX:
      return sock_bindtoindex(sk, val);
    case SO.SO_INCOMING_CPU:
      reuseport_update_incoming_cpu(sk, val);
      return 0;
    case SO_ZEROCOPY:
      // Taken by TCP and UDP sockets; MSG_ZEROCOPY sends are plain copies here.
      if (sk.skc_family !== AF_INET && sk.skc_family !== AF_INET6) return -E.EOPNOTSUPP;
      if (val < 0 || val > 1) return -E.EINVAL;
      if (valbool) zerocopy.add(sk);
      else zerocopy.delete(sk);
      return 0;
    default:
      return -E.ENOPROTOOPT;
  }
}

/** sk_getsockopt: the value, or a negative errno (-ENOPROTOOPT). SO_ERROR reads and clears. */
export function sock_getsockopt(sk: Sock, optname: number): SockoptValue {
  switch (optname) {
    case SO.SO_DEBUG:
      return 0;
    case SO.SO_DONTROUTE:
      return 0;
    case SO.SO_BROADCAST:
      return sock_flag(sk, SOCK_FLAGS.SOCK_BROADCAST) ? 1 : 0;
    case SO.SO_SNDBUF:
      return sk.sk_sndbuf;
    case SO.SO_RCVBUF:
      return sk.sk_rcvbuf;
    case SO.SO_REUSEADDR:
      return sk.skc_reuse;
    case SO.SO_REUSEPORT:
      return sk.skc_reuseport ? 1 : 0;
    case SO.SO_KEEPALIVE:
      return sock_flag(sk, SOCK_FLAGS.SOCK_KEEPOPEN) ? 1 : 0;
    case SO.SO_TYPE:
      return sk.sk_type;
    case SO.SO_PROTOCOL:
      return sk.sk_protocol;
    case SO.SO_DOMAIN:
      return sk.skc_family;
    case SO.SO_ERROR: {
      let v = -sock_error(sk);
      if (v === 0) {
        v = sk.sk_err_soft;
        sk.sk_err_soft = 0;
      }
      return v;
    }
    case SO.SO_OOBINLINE:
      return sock_flag(sk, SOCK_FLAGS.SOCK_URGINLINE) ? 1 : 0;
    case SO.SO_NO_CHECK:
      return sk.sk_no_check_tx ? 1 : 0;
    case SO.SO_PRIORITY:
      return sk.sk_priority;
    case SO.SO_LINGER:
      return linger_bytes(sock_flag(sk, SOCK_FLAGS.SOCK_LINGER) ? 1 : 0, sk.sk_lingertime);
    case SO.SO_TIMESTAMP:
      return sock_flag(sk, SOCK_FLAGS.SOCK_RCVTSTAMP) ? 1 : 0;
    case SO.SO_RCVLOWAT:
      return sk.sk_rcvlowat;
    case SO.SO_SNDLOWAT:
      return 1;
    case SO.SO_ACCEPTCONN:
      return sk.skc_state === TCP_LISTEN ? 1 : 0;
    case SO.SO_MARK:
      return sk.sk_mark;
    case SO.SO_BINDTODEVICE: {
      if (sk.skc_bound_dev_if === 0) return '';
      return dev_get_by_index(sk.skc_net, sk.skc_bound_dev_if)?.name ?? '';
    }
    case SO_BINDTOIFINDEX:
      return sk.skc_bound_dev_if;
    case SO.SO_INCOMING_CPU:
      return sk.skc_incoming_cpu;
    case SO.SO_COOKIE:
      return sock_gen_cookie(sk);
    case SO_RCVTIMEO:
      return sock_get_timeout(rcvtimeo, sk);
    case SO_SNDTIMEO:
      return sock_get_timeout(sndtimeo, sk);
    case SO_ZEROCOPY:
      return zerocopy.has(sk) ? 1 : 0;
    case SO_FILTER.SO_GET_FILTER:
      return sk_get_filter(sk);
    case SO_FILTER.SO_LOCK_FILTER:
      return sk_filter_locked(sk) ? 1 : 0;
    default:
      return -E.ENOPROTOOPT;
  }
}

/** The linger time close() passes the protocol: SO_LINGER's seconds in jiffies, 0 when off. */
export function sock_linger_jiffies(sk: Sock): number {
  return sock_flag(sk, SOCK_FLAGS.SOCK_LINGER) ? sk.sk_lingertime * HZ : 0;
}

export { SOL_SOCKET };

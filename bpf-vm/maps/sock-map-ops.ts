// What SOCKMAP (sockmap.ts) and SOCKHASH (sockhash.ts) have in common: an entry names a socket by
// its cookie (sock_gen_cookie, a u64), so the map lives in shared memory like any other and every
// worker can read it, while the sockets themselves stay in the worker whose stack owns them.
//
// The kernel's map ops split the same way here. The map keeps cookies and the kernel's
// errnos for keys, flags and full maps (sock_map_update_common / sock_hash_update_common past
// their socket checks). The stack (net/core/sock-map.ts) checks the socket itself
// (sock_map_sk_is_suitable, sock_map_sk_state_allowed), remembers which maps the socket is in
// and takes it out when it closes, then calls updateCookie. A program's bpf_map_lookup_elem
// turns the cookie back into a socket through its BpfNetHost (helpers/map-helpers.ts).
import { BPF_MAP_FLAG, BPF_MAP_TYPE, type BpfMap } from './map.ts';
import { ERRNO } from '../errno.ts';
import { BPF_F_LOCK } from './mem.ts';

/** SOCKMAP and SOCKHASH, as their cookie-level operations. */
export interface SockMapOps extends BpfMap {
  /** The cookie of the socket at `key` (key bytes at key[keyOff..]), 0n when there is none. Lock-free. */
  lookupCookie(key: Uint8Array, keyOff: number): bigint;
  /**
   * Puts the socket with this cookie at `key`: the update once the stack has checked the socket.
   * 0 or the kernel's errno: EINVAL (flags past BPF_EXIST), E2BIG (SOCKMAP index past
   * max_entries, SOCKHASH full), EEXIST (BPF_NOEXIST), ENOENT (BPF_EXIST).
   */
  updateCookie(key: Uint8Array, keyOff: number, cookie: bigint, flags: number): number;
  /**
   * sock_map_delete_from_link / sock_hash_delete_from_link: removes the entry at `key` only while
   * it still names this socket (another worker may have replaced or deleted it since). True if it did.
   */
  deleteCookie(key: Uint8Array, keyOff: number, cookie: bigint): boolean;
  /**
   * BPF_MAP_LOOKUP_ELEM from user space (map_lookup_elem_sys_only): the cookie as 8 little-endian
   * bytes, or -ENOSPC for a map with 4-byte values (no room for a cookie), -ENOENT for no socket.
   */
  lookupSys(key: Uint8Array): Uint8Array | number;
}

export function isSockMapType(type: number): boolean {
  return type === BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKMAP || type === BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKHASH;
}

/** The map as a SOCKMAP or SOCKHASH, or undefined for any other type. */
export function asSockMap(m: BpfMap): SockMapOps | undefined {
  return isSockMapType(m.spec.type) && 'updateCookie' in m ? (m as SockMapOps) : undefined;
}

/** SOCK_CREATE_FLAG_MASK: the only map_flags sock_map_alloc and sock_hash_alloc take. */
export const SOCK_CREATE_FLAG_MASK = BPF_MAP_FLAG.BPF_F_NUMA_NODE | BPF_MAP_FLAG.BPF_F_RDONLY | BPF_MAP_FLAG.BPF_F_WRONLY;

/** S32_MAX: a socket fd above it is EINVAL before any lookup. */
const S32_MAX = 0x7fffffff;

/**
 * BPF_MAP_UPDATE_ELEM with raw value bytes: the kernel reads them as a socket fd
 * (sock_map_update_elem_sys). bpf-vm has no socket fds: a socket goes in through the stack
 * (net/core/sock-map.ts, sock_map_update_elem_sys with the socket itself), so every fd here is
 * one that names no socket: EINVAL past S32_MAX, as the kernel checks first, else EBADF.
 */
export function sockMapFdUpdate(valueSize: number, value: Uint8Array, flags: number): number {
  if (sockMapLockFlag(flags)) return -ERRNO.EINVAL;
  if (value.length < valueSize) return -ERRNO.EFAULT;
  const lo = (value[0]! | (value[1]! << 8) | (value[2]! << 16) | (value[3]! << 24)) >>> 0;
  const hi = valueSize === 8 ? (value[4]! | (value[5]! << 8) | (value[6]! << 16) | (value[7]! << 24)) >>> 0 : 0;
  if (hi !== 0 || lo > S32_MAX) return -ERRNO.EINVAL;
  return -ERRNO.EBADF;
}

/**
 * BPF_F_LOCK on a map without a bpf_spin_lock: BPF_MAP_UPDATE_ELEM refuses it with EINVAL before
 * looking at the key, the value or the socket.
 */
export function sockMapLockFlag(flags: number): boolean {
  return flags !== flags >>> 0 || (flags & BPF_F_LOCK) !== 0;
}

/** flags > BPF_EXIST (and BPF_F_LOCK, which the syscall refuses first): EINVAL. */
export function sockMapBadFlags(flags: number): boolean {
  return flags !== flags >>> 0 || flags > 2;
}

/** A cookie as the 8 bytes user space reads (u64, little-endian). */
export function cookieBytes(cookie: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, cookie), true);
  return out;
}

/**
 * What a BpfNetHost may add for bpf_map_update_elem on a socket map from a program: the stack's
 * sock_map_update_elem (net/core/sock-map.ts), which checks the socket, updates the map and links
 * the socket to the entry so that closing it takes it out. Optional: helpers/map-helpers.ts
 * falls back to the same checks on the socket's struct bpf_sock, without the link.
 */
export interface SockMapHost {
  sock_map_update_elem(map: BpfMap, key: Uint8Array, keyOff: number, sk: object, flags: number): number;
}

export function hasSockMapUpdate(host: object): host is SockMapHost {
  return typeof (host as Partial<SockMapHost>).sock_map_update_elem === 'function';
}

/** TCPF_ESTABLISHED | TCPF_LISTEN: the TCP states a socket map takes (sock_map_sk_state_allowed). */
const TCPF_ESTABLISHED_LISTEN = (1 << 1) | (1 << 10);

/**
 * sock_map_sk_is_suitable and sock_map_sk_state_allowed on struct bpf_sock's type, protocol,
 * state and local port (0 or -EOPNOTSUPP): TCP ESTABLISHED or LISTEN, UDP once bound (a UDP
 * socket with a local port is in the UDP table), nothing else.
 */
export function sockMapSkAllowed(type: number, protocol: number, state: number, srcPort: number): number {
  const tcp = type === 1 && protocol === 6; // SOCK_STREAM, IPPROTO_TCP
  const udp = type === 2 && protocol === 17; // SOCK_DGRAM, IPPROTO_UDP
  if (!tcp && !udp) return -ERRNO.EOPNOTSUPP;
  if (tcp && ((1 << state) & TCPF_ESTABLISHED_LISTEN) === 0) return -ERRNO.EOPNOTSUPP;
  if (udp && srcPort === 0) return -ERRNO.EOPNOTSUPP;
  return 0;
}

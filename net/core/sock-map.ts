// The stack's side of SOCKMAP and SOCKHASH (net/core/sock_map.c): which sockets may go into a
// socket map, and the socket's memory of the maps it is in, so that closing it takes it out of
// all of them.
//
// The maps themselves (bpf-vm/maps/sockmap.ts, sockhash.ts) hold socket cookies in shared memory.
// Here, the socket's links (the kernel's psock->link list, sk_psock_link) live in a WeakMap beside
// the socket, in the worker that runs its stack. A link is a hint, not a claim: another worker may
// replace or delete the entry behind our back, so unlinking removes an entry only while it still
// holds this socket's cookie (sock_map_delete_from_link's `sk_test == sk`).
//
// The kernel removes a socket from its maps when its owner closes it (sock_map_close, which the
// psock installs as sk_prot->close) and when the socket is destroyed without a close
// (sock_map_destroy: an orphan or a child never accepted). A TCP socket that merely reaches CLOSE
// (a reset) stays until then: since 6.2 tcp_bpf has no unhash hook. UDP sockets leave on close.
import { asSockMap, sockMapLockFlag, type SockMapOps } from '../../bpf-vm/maps/sock-map-ops.ts';
import type { BpfMap } from '../../bpf-vm/maps/map.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { sk_unhashed, type SockCommon } from './sock-common.ts';
import { Sock, sk_fullsock } from './sock.ts';
import { sock_gen_cookie } from './sock-diag.ts';
import { IPPROTO_TCP, IPPROTO_UDP, SOCK_DGRAM, SOCK_STREAM } from './socket-constants.ts';
import { TCPF_STATES } from './tcp-states.ts';

/** sk_psock_link: an entry of a socket map that names this socket. */
interface SockMapLink {
  readonly map: SockMapOps;
  /** The entry's key (a copy). */
  readonly key: Uint8Array;
}

const psock_links = new WeakMap<SockCommon, SockMapLink[]>();

function sk_is_tcp(sk: Sock): boolean {
  return sk.sk_type === SOCK_STREAM && sk.sk_protocol === IPPROTO_TCP;
}

function sk_is_udp(sk: Sock): boolean {
  return sk.sk_type === SOCK_DGRAM && sk.sk_protocol === IPPROTO_UDP;
}

/**
 * sock_map_sk_is_suitable: the protocol has psock_update_sk_prot. Of the inet protocols that is
 * TCP and UDP (IPv4 and IPv6); vxo has no unix or vsock sockets, and no other inet protocol does.
 */
export function sock_map_sk_is_suitable(sk: Sock): boolean {
  return sk_is_tcp(sk) || sk_is_udp(sk);
}

/**
 * sock_map_sk_state_allowed: TCP only ESTABLISHED or LISTEN; UDP once it is in the UDP table
 * (bound, or connected, which binds): Linux 6.18 refuses an unbound UDP socket with EOPNOTSUPP
 * as sk_hashed() did in the 5.x rule (test/kernel/sockmap-kernel.test.ts checks it).
 */
export function sock_map_sk_state_allowed(sk: Sock): boolean {
  if (sk_is_tcp(sk)) return ((1 << sk.skc_state) & (TCPF_STATES.TCPF_ESTABLISHED | TCPF_STATES.TCPF_LISTEN)) !== 0;
  if (sk_is_udp(sk)) return !sk_unhashed(sk);
  return true;
}

/** The checks both update paths make: 0, -EINVAL (not a full socket), -EOPNOTSUPP (protocol or state). */
function sock_map_sk_check(sk: SockCommon | null): number {
  if (sk === null || !sk_fullsock(sk) || !(sk instanceof Sock)) return -ERRNO.EINVAL;
  if (!sock_map_sk_is_suitable(sk)) return -ERRNO.EOPNOTSUPP;
  if (!sock_map_sk_state_allowed(sk)) return -ERRNO.EOPNOTSUPP;
  return 0;
}

function sameKey(a: Uint8Array, b: Uint8Array, bOff: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[bOff + i]) return false;
  return true;
}

/** sock_map_add_link: remembered once per (map, key). */
function sock_map_add_link(sk: SockCommon, map: SockMapOps, key: Uint8Array, keyOff: number): void {
  const n = map.spec.keySize;
  let list = psock_links.get(sk);
  if (list === undefined) {
    list = [];
    psock_links.set(sk, list);
  }
  for (const l of list) if (l.map === map && sameKey(l.key, key, keyOff, n)) return;
  list.push({ map, key: key.slice(keyOff, keyOff + n) });
}

function sock_map_update_common(map: SockMapOps, key: Uint8Array, keyOff: number, sk: SockCommon, flags: number): number {
  const err = map.updateCookie(key, keyOff, BigInt(sock_gen_cookie(sk)), flags);
  if (err === 0) sock_map_add_link(sk, map, key, keyOff);
  return err;
}

/**
 * sock_map_update_elem_sys: BPF_MAP_UPDATE_ELEM from user space, with the socket the fd names.
 * -EINVAL for a map that is not a SOCKMAP/SOCKHASH, BPF_F_LOCK (refused before anything else) or
 * no socket; -EOPNOTSUPP for a socket that
 * cannot go into a socket map (not TCP or UDP) or a TCP socket neither ESTABLISHED nor LISTEN;
 * then the map's errnos (EINVAL for flags, E2BIG, EEXIST, ENOENT).
 */
export function sock_map_update_elem_sys(map: BpfMap, key: Uint8Array, sk: SockCommon | null, flags: number): number {
  const m = asSockMap(map);
  if (m === undefined || sockMapLockFlag(flags)) return -ERRNO.EINVAL;
  if (key.length < map.spec.keySize) return -ERRNO.EFAULT;
  const err = sock_map_sk_check(sk);
  if (err !== 0) return err;
  return sock_map_update_common(m, key, 0, sk!, flags);
}

/**
 * sock_map_update_elem: bpf_map_update_elem from a program, whose value is a socket pointer.
 * The same checks: -EINVAL for no socket or a request / TIME_WAIT one (!sk_fullsock), then
 * -EOPNOTSUPP for its protocol or state. The key is key[keyOff..].
 */
export function sock_map_update_elem(map: BpfMap, key: Uint8Array, keyOff: number, sk: SockCommon | null, flags: number): number {
  const m = asSockMap(map);
  if (m === undefined) return -ERRNO.EINVAL;
  if (keyOff + map.spec.keySize > key.length) return -ERRNO.EFAULT;
  const err = sock_map_sk_check(sk);
  if (err !== 0) return err;
  return sock_map_update_common(m, key, keyOff, sk!, flags);
}

/** BPF_MAP_DELETE_ELEM from user space: the map's errnos (SOCKMAP EINVAL, SOCKHASH ENOENT). */
export function sock_map_delete_elem_sys(map: BpfMap, key: Uint8Array): number {
  return map.delete(key);
}

/** sock_map_remove_links: the socket leaves every entry that still names it. */
export function sock_map_remove_links(sk: SockCommon): void {
  const list = psock_links.get(sk);
  if (list === undefined) return;
  psock_links.delete(sk);
  const cookie = BigInt(sk.skc_cookie);
  for (const l of list) l.map.deleteCookie(l.key, 0, cookie);
}

/** sock_map_close: close(2) of a socket takes it out of its socket maps first. */
export function sock_map_close(sk: SockCommon): void {
  if (psock_links.has(sk)) sock_map_remove_links(sk);
}

/** sock_map_destroy: a socket destroyed without a close (an orphan, a child never accepted). */
export function sock_map_destroy(sk: SockCommon): void {
  if (psock_links.has(sk)) sock_map_remove_links(sk);
}

/** The maps and keys this socket is linked to (for diagnostics and tests): a copy. */
export function sock_map_links(sk: SockCommon): { map: BpfMap; key: Uint8Array }[] {
  return (psock_links.get(sk) ?? []).map((l) => ({ map: l.map, key: l.key.slice() }));
}

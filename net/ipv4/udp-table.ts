// struct udp_table: UDP's two hashes (net/ipv4/udp.c). `hash` is keyed by port alone (udp_hashfn)
// and serves bind() (udp_lib_get_port); `hash2` is keyed by (local address, port)
// (ipv4_portaddr_hash / ipv6_portaddr_hash) and serves the per-packet lookup (udp-lookup.ts). A
// socket sits in both; its hash2 value is udp_portaddr_hash, kept in skc_hash as the kernel keeps
// it in sk_hash, and its port hash is skc_num.
//
// Sharing rules (udp_lib_lport_inuse): a socket that binds a port conflicts with one holding it
// when they are in the same netns, not both SO_REUSEADDR, their devices fit and their addresses
// overlap (inet_rcv_saddr_equal, wildcards matching); SO_REUSEPORT on both with the same owner
// uid then makes it no conflict. As in the kernel, the first such reuseport-compatible socket met
// (in chain order, newest first) ends the check.
//
// Not modelled: hash4 (the 6.13 exact table for connected sockets: the hash2 pass finds them, at
// a cost per socket in the slot), and the "more than 10 sockets in the slot" shortcut of the bind
// check, which consults hash2 instead of the port chain.
import { NetError } from '../core/errors.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { reciprocal_scale } from '../core/math.ts';
import { inet_get_local_port_range, inet_is_local_reserved_port, type Net } from '../core/net-namespace.ts';
import { AF_INET6 } from '../core/socket-constants.ts';
import type { Sock } from '../core/sock.ts';
import { inet_rcv_saddr_any, ipv6_only_sock } from '../core/sock-common.ts';
import { reuseport_add_sock, reuseport_alloc, reuseport_detach_sock } from '../core/sock-reuseport.ts';
import { inet_rcv_saddr_equal } from './inet-connection-sock.ts';
import { ipv4_portaddr_hash, ipv6_portaddr_hash, udp_hashfn } from './inet-hashfn.ts';

/** UDP_HTABLE_SIZE_MIN: the bind search's bitmap covers 65536 / this many ports per slot. */
export const UDP_HTABLE_SIZE_MIN = 256;
const MAX_UDP_PORTS = 65536;
const PORTS_PER_CHAIN = MAX_UDP_PORTS / UDP_HTABLE_SIZE_MIN;

export interface UdpTableOptions {
  /** Slots in each hash: a power of two from 256 to 65536. Default 1024. */
  entries?: number;
}

export class UdpTable {
  /** Primary hash: sockets by port, newest first. */
  readonly hash: Sock[][];
  /** Secondary hash: sockets by (address, port); IPv6 SO_REUSEPORT sockets at the tail, others at the head. */
  readonly hash2: Sock[][];
  readonly mask: number;
  /** log2 of the slot count. */
  readonly log: number;
  /** @internal The bind search's scratch: one flag per port of the slot being searched. */
  readonly _bitmap = new Uint8Array(PORTS_PER_CHAIN);

  constructor(options: UdpTableOptions = {}) {
    const n = options.entries ?? 1024;
    if (!Number.isInteger(n) || n < UDP_HTABLE_SIZE_MIN || n > MAX_UDP_PORTS || (n & (n - 1)) !== 0) {
      throw new NetError('EINVAL', `udp_table: ${n} slots (a power of two from ${UDP_HTABLE_SIZE_MIN} to ${MAX_UDP_PORTS})`);
    }
    this.hash = [];
    this.hash2 = [];
    for (let i = 0; i < n; i++) {
      this.hash.push([]);
      this.hash2.push([]);
    }
    this.mask = n - 1;
    this.log = Math.log2(n);
  }
}

export function udp_hashslot(t: UdpTable, net: Net, num: number): Sock[] {
  return t.hash[udp_hashfn(net, num, t.mask)]!;
}

export function udp_hashslot2(t: UdpTable, hash: number): Sock[] {
  return t.hash2[hash & t.mask]!;
}

/**
 * udp_lib_lport_inuse: does a socket in `slot` keep sk off port `num`? With a bitmap, every
 * conflicting socket's port is marked instead (the bind(0) search over one slot).
 */
function udp_lib_lport_inuse(net: Net, num: number, slot: Sock[], bitmap: Uint8Array | null, sk: Sock, log: number): boolean {
  for (let i = 0; i < slot.length; i++) {
    const sk2 = slot[i]!;
    if (
      sk2.skc_net === net &&
      sk2 !== sk &&
      (bitmap !== null || sk2.skc_num === num) &&
      (sk2.skc_reuse === 0 || sk.skc_reuse === 0) &&
      (sk2.skc_bound_dev_if === 0 || sk.skc_bound_dev_if === 0 || sk2.skc_bound_dev_if === sk.skc_bound_dev_if) &&
      inet_rcv_saddr_equal(sk, sk2, true)
    ) {
      if (sk2.skc_reuseport && sk.skc_reuseport && sk.sk_reuseport_cb === null && sk2.sk_uid === sk.sk_uid) {
        if (bitmap === null) return false;
      } else {
        if (bitmap === null) return true;
        bitmap[sk2.skc_num >>> log] = 1;
      }
    }
  }
  return false;
}

/** udp_reuseport_add_sock: join the group of a compatible socket on the port, or start one. */
function udp_reuseport_add_sock(sk: Sock, slot: Sock[]): number {
  const net = sk.skc_net;
  for (let i = 0; i < slot.length; i++) {
    const sk2 = slot[i]!;
    if (
      sk2.skc_net === net &&
      sk2 !== sk &&
      sk2.skc_family === sk.skc_family &&
      ipv6_only_sock(sk2) === ipv6_only_sock(sk) &&
      sk2.skc_num === sk.skc_num &&
      sk2.skc_bound_dev_if === sk.skc_bound_dev_if &&
      sk2.skc_reuseport &&
      sk2.sk_uid === sk.sk_uid &&
      inet_rcv_saddr_equal(sk, sk2, false)
    ) {
      return reuseport_add_sock(sk, sk2, inet_rcv_saddr_any(sk));
    }
  }
  return reuseport_alloc(sk, inet_rcv_saddr_any(sk));
}

/** An ephemeral port for sk, or 0 (udp_lib_get_port's snum == 0 search). */
function udp_find_open_port(t: UdpTable, sk: Sock): number {
  const net = sk.skc_net;
  const [low, high] = inet_get_local_port_range(net);
  const remaining = high - low + 1;
  let rand = net.boot.random.get_random_u32();
  let first = (reciprocal_scale(rand, remaining) + low) & 0xffff;
  // An odd multiple of the table size: stepping by it from `first` visits every port of first's
  // slot exactly once (mod 65536).
  rand = Math.imul(rand | 1, t.mask + 1) >>> 0;
  const last = (first + t.mask + 1) & 0xffff;
  const bitmap = t._bitmap;
  do {
    const slot = udp_hashslot(t, net, first);
    bitmap.fill(0);
    udp_lib_lport_inuse(net, 0, slot, bitmap, sk, t.log);
    let snum = first;
    do {
      if (low <= snum && snum <= high && bitmap[snum >>> t.log] === 0 && !inet_is_local_reserved_port(net, snum)) return snum;
      snum = (snum + rand) & 0xffff;
    } while (snum !== first);
    first = (first + 1) & 0xffff;
  } while (first !== last);
  return 0;
}

/**
 * udp_lib_get_port: take port `snum` (0: an ephemeral one) and hash sk into both tables. sk's
 * skc_hash must hold the partial hash2 value of its address (udp_v4_get_port / udp_v6_get_port
 * set it). 0 or -EADDRINUSE.
 */
export function udp_lib_get_port(t: UdpTable, sk: Sock, snum: number): number {
  const net = sk.skc_net;
  if (snum === 0) {
    snum = udp_find_open_port(t, sk);
    if (snum === 0) return -ERRNO.EADDRINUSE;
  } else if (udp_lib_lport_inuse(net, snum, udp_hashslot(t, net, snum), null, sk, 0)) {
    return -ERRNO.EADDRINUSE;
  }
  sk.skc_num = snum;
  sk.skc_hash ^= snum;
  if (!sk.skc_hashed) {
    const slot = udp_hashslot(t, net, snum);
    if (sk.skc_reuseport && udp_reuseport_add_sock(sk, slot) !== 0) {
      sk.skc_num = 0;
      sk.skc_hash ^= snum;
      return -ERRNO.EADDRINUSE;
    }
    slot.unshift(sk);
    const slot2 = udp_hashslot2(t, sk.skc_hash);
    if (sk.skc_reuseport && sk.skc_family === AF_INET6) slot2.push(sk);
    else slot2.unshift(sk);
    sk.skc_hashed = true;
  }
  return 0;
}

/** udp_v4_get_port. */
export function udp_v4_get_port(t: UdpTable, sk: Sock, snum: number): number {
  sk.skc_hash = ipv4_portaddr_hash(sk.skc_net, sk.skc_rcv_saddr, 0);
  return udp_lib_get_port(t, sk, snum);
}

/** udp_v6_get_port: :: and v4-mapped addresses land in the slots of their IPv4 views. */
export function udp_v6_get_port(t: UdpTable, sk: Sock, snum: number): number {
  sk.skc_hash = ipv6_portaddr_hash(sk.skc_net, sk.skc_v6_rcv_saddr, 0);
  return udp_lib_get_port(t, sk, snum);
}

function remove(slot: Sock[], sk: Sock): void {
  const i = slot.indexOf(sk);
  if (i >= 0) slot.splice(i, 1);
}

/** udp_lib_unhash: out of both tables and the reuseport group; the port is given back (inet_num = 0). */
export function udp_lib_unhash(t: UdpTable, sk: Sock): void {
  if (!sk.skc_hashed) return;
  if (sk.sk_reuseport_cb !== null) reuseport_detach_sock(sk);
  remove(udp_hashslot(t, sk.skc_net, sk.skc_num), sk);
  remove(udp_hashslot2(t, sk.skc_hash), sk);
  sk.skc_num = 0;
  sk.skc_hashed = false;
}

/**
 * udp_lib_rehash: the local address changed (connect() on a socket bound to the wildcard), so sk
 * moves to the hash2 slot of `newhash`. It also leaves its reuseport group: a connected socket is
 * chosen by its 4-tuple, not by the group.
 */
export function udp_lib_rehash(t: UdpTable, sk: Sock, newhash: number): void {
  if (!sk.skc_hashed) {
    sk.skc_hash = newhash;
    return;
  }
  const old = udp_hashslot2(t, sk.skc_hash);
  const now = udp_hashslot2(t, newhash);
  sk.skc_hash = newhash;
  if (old !== now || sk.sk_reuseport_cb !== null) {
    if (sk.sk_reuseport_cb !== null) reuseport_detach_sock(sk);
    if (old !== now) {
      remove(old, sk);
      now.unshift(sk);
    }
  }
}

export function udp_v4_rehash(t: UdpTable, sk: Sock): void {
  udp_lib_rehash(t, sk, ipv4_portaddr_hash(sk.skc_net, sk.skc_rcv_saddr, sk.skc_num));
}

export function udp_v6_rehash(t: UdpTable, sk: Sock): void {
  udp_lib_rehash(t, sk, ipv6_portaddr_hash(sk.skc_net, sk.skc_v6_rcv_saddr, sk.skc_num));
}

// net/ipv6/route.c and the FIB it consults (ip6_fib.c reduced to a list, longest prefix first):
// local /128 routes for our addresses (their output goes through lo), on-link prefixes,
// gateways, a default route. Output routes are cached on the entry, invalidated by the netns's
// genid as in IPv4.
import { IFF, type NetDevice } from '../core/netdevice.ts';
import { HZ } from '../core/clock.ts';
import { inet_ntop6 } from '../core/inet-addr.ts';
import type { Net } from '../core/net-namespace.ts';
import type { Flowi6 } from '../core/flow.ts';
import { dev_get_by_index } from '../core/dev.ts';
import { In6Addr, ipv6_addr_any, type ReadonlyIn6Addr } from '../core/in6-addr.ts';
import { __in6_dev_get, ipv6_addr_is_multicast, ipv6_addr_mc_scope, ipv6_chk_addr, ipv6_dev_get_saddr } from './addrconf.ts';
import { IP_ERRNO } from '../ipv4/ip-errno.ts';

/** RTF_* (include/uapi/linux/ipv6_route.h). */
export const RTF = { RTF_GATEWAY: 0x0002, RTF_HOST: 0x0004, RTF_LOCAL: 0x80000000, RTF_ANYCAST: 0x00100000, RTF_CACHE: 0x01000000 } as const;

/** s6_addr32[i] of an address. */
export function in6_word(a: ReadonlyIn6Addr, i: number): number {
  return i === 0 ? a.w0 : i === 1 ? a.w1 : i === 2 ? a.w2 : a.w3;
}

/** ipv6_prefix_equal over the first plen bits (no allocation: the receive path calls it per packet). */
export function ipv6_prefix_match(a: ReadonlyIn6Addr, b: ReadonlyIn6Addr, plen: number): boolean {
  let bits = plen;
  for (let i = 0; i < 4 && bits > 0; i++, bits -= 32) {
    const mask = bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    if ((((in6_word(a, i) ^ in6_word(b, i)) >>> 0) & mask) !== 0) return false;
  }
  return true;
}

/** struct rt6_info: where a datagram goes. */
export class Rt6Info {
  dst_dev: NetDevice;
  /** The gateway; :: for on link (the next hop is the destination). */
  readonly rt6i_gateway = new In6Addr();
  rt6i_flags = 0;
  /** A learnt path MTU (0: the device's), valid until rt6i_pmtu_expires (jiffies; 0: no expiry). */
  rt6i_pmtu = 0;
  rt6i_pmtu_expires = 0;
  /** The source this route prefers. */
  readonly rt6i_src = new In6Addr();
  /** rt6i_dst.plen: the prefix length of the route (ICMPv6 rate limits by it). */
  rt6i_dst_plen = 128;
  /** The device the address or prefix lives on (rt6i_idev), lo's for nothing. */
  rt6i_idev: NetDevice;
  rt6i_genid = 0;
  constructor(dev: NetDevice) {
    this.dst_dev = dev;
    this.rt6i_idev = dev;
  }
}

/** ip6_mtu (dst_mtu): a learnt path MTU while it has not expired, else the device's. */
export function rt6_mtu(rt: Rt6Info): number {
  const mtu = rt.dst_dev.mtu;
  if (rt.rt6i_pmtu === 0 || rt.rt6i_pmtu >= mtu) return mtu;
  if (rt.rt6i_pmtu_expires !== 0) {
    const net = rt.dst_dev.nd_net;
    if (net !== null && net.boot.clock.get_jiffies_64() >= rt.rt6i_pmtu_expires) return mtu;
  }
  return rt.rt6i_pmtu;
}

/** struct fib6_info, one route. */
export class Fib6Info {
  readonly dst = new In6Addr();
  readonly prefixlen: number;
  readonly dev: NetDevice;
  readonly gw = new In6Addr();
  readonly flags: number;
  readonly prefsrc = new In6Addr();
  rt6_output: Rt6Info | null = null;
  constructor(o: { dst: ReadonlyIn6Addr; prefixlen: number; dev: NetDevice; gw?: ReadonlyIn6Addr | null; flags: number; prefsrc: ReadonlyIn6Addr | null }) {
    this.prefixlen = o.prefixlen;
    const m = (i: number): number => {
      const bits = Math.min(32, Math.max(0, o.prefixlen - i * 32));
      return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    };
    this.dst.set(o.dst.w0 & m(0), o.dst.w1 & m(1), o.dst.w2 & m(2), o.dst.w3 & m(3));
    this.dev = o.dev;
    if (o.gw) this.gw.copy_from(o.gw);
    this.flags = o.flags;
    if (o.prefsrc !== null) this.prefsrc.copy_from(o.prefsrc);
  }
}

/** struct rt6_exception: a learnt path MTU for one destination, with its route. */
export class Rt6Exception {
  readonly daddr = new In6Addr();
  pmtu = 0;
  expires = 0;
  rt: Rt6Info | null = null;
}

/** A netns's IPv6 FIB. */
export class Fib6 {
  readonly routes: Fib6Info[] = [];
  genid = 1;
  /** Route exceptions by a hash of the destination. */
  readonly exceptions = new Map<number, Rt6Exception[]>();
  /** net.ipv6.route.mtu_expires (seconds). */
  ip6_rt_mtu_expires = 600;
}

function exc_hash(a: ReadonlyIn6Addr): number {
  return (a.w0 ^ a.w1 ^ a.w2 ^ a.w3) | 0;
}

function rt6_find_exception(fib: Fib6, daddr: ReadonlyIn6Addr): Rt6Exception | undefined {
  const chain = fib.exceptions.get(exc_hash(daddr));
  if (chain === undefined) return undefined;
  for (const e of chain) if (ipv6_prefix_match(e.daddr, daddr, 128)) return e;
  return undefined;
}

/**
 * __ip6_rt_update_pmtu (ip6_sk_update_pmtu, what tcp_v6_mtu_reduced and udpv6's err handler
 * reach): daddr's path MTU is mtu (at least 1280) for net.ipv6.route.mtu_expires; never raised.
 * Stored as a route exception for daddr; cached routes go stale so their users find it.
 */
export function ip6_rt_update_pmtu(net: Net, rt: Rt6Info | null, daddr: ReadonlyIn6Addr, mtu: number): void {
  const fib = net.ipv6.fib6;
  const m = Math.max(mtu, 1280);
  if (rt !== null && m >= rt6_mtu(rt)) return;
  let e = rt6_find_exception(fib, daddr);
  if (e === undefined) {
    e = new Rt6Exception();
    e.daddr.copy_from(daddr);
    const h = exc_hash(daddr);
    const chain = fib.exceptions.get(h);
    if (chain === undefined) fib.exceptions.set(h, [e]);
    else chain.push(e);
  }
  e.pmtu = m;
  e.expires = net.boot.clock.get_jiffies_64() + fib.ip6_rt_mtu_expires * HZ;
  fib.genid++;
}

function rt6_exception_route(net: Net, base: Rt6Info, daddr: ReadonlyIn6Addr): Rt6Info | null {
  const fib = net.ipv6.fib6;
  const e = rt6_find_exception(fib, daddr);
  if (e === undefined) return null;
  if (net.boot.clock.get_jiffies_64() >= e.expires) {
    const h = exc_hash(daddr);
    const chain = fib.exceptions.get(h)!;
    chain.splice(chain.indexOf(e), 1);
    if (chain.length === 0) fib.exceptions.delete(h);
    return null;
  }
  let rt = e.rt;
  if (rt === null || rt.rt6i_genid !== fib.genid) {
    rt = mkroute6(net, base.dst_dev, base.rt6i_idev, base.rt6i_flags | RTF.RTF_CACHE, (base.rt6i_flags & RTF.RTF_GATEWAY) !== 0 ? base.rt6i_gateway : null, 128);
    rt.rt6i_src.copy_from(base.rt6i_src);
    e.rt = rt;
  }
  rt.rt6i_pmtu = e.pmtu;
  rt.rt6i_pmtu_expires = e.expires;
  return rt;
}

/** fib6_add: inserts a route, longest prefix first; -EEXIST for a duplicate. */
export function fib6_insert(net: Net, o: { dst: ReadonlyIn6Addr; prefixlen: number; dev: NetDevice; gw?: ReadonlyIn6Addr | null; flags: number; prefsrc: ReadonlyIn6Addr | null }): number {
  const f = new Fib6Info(o);
  const list = net.ipv6.fib6.routes;
  for (const r of list) {
    if (r.prefixlen === f.prefixlen && r.dev === f.dev && r.flags === f.flags && ipv6_prefix_match(r.dst, f.dst, 128) && ipv6_prefix_match(r.gw, f.gw, 128)) {
      return -IP_ERRNO.EEXIST;
    }
  }
  let i = 0;
  while (i < list.length && list[i]!.prefixlen >= f.prefixlen) i++;
  list.splice(i, 0, f);
  net.ipv6.fib6.genid++;
  return 0;
}

/**
 * `ip -6 route add DST/PREFIXLEN [via GW] dev DEV [src SRC]`. The gateway must be on link
 * (-ENETUNREACH otherwise), unless link-local, which is on link by definition.
 */
export function ip6_route_add(net: Net, dst: ReadonlyIn6Addr, prefixlen: number, dev: NetDevice, gw?: ReadonlyIn6Addr, src?: ReadonlyIn6Addr): number {
  if (!(prefixlen >= 0 && prefixlen <= 128)) return -IP_ERRNO.EINVAL;
  const hasGw = gw !== undefined && !ipv6_addr_any(gw);
  if (hasGw && (gw.w0 >>> 22) !== (0xfe80 >>> 6)) {
    const r = fib6_lookup(net, gw, dev.ifindex);
    if (r === undefined || (r.flags & RTF.RTF_GATEWAY) !== 0) return -IP_ERRNO.ENETUNREACH;
  }
  return fib6_insert(net, { dst, prefixlen, dev, gw: hasGw ? gw : null, flags: hasGw ? RTF.RTF_GATEWAY : 0, prefsrc: src ?? null });
}

/** fib6_lookup: the most specific route for daddr (through oif when set; local routes always). */
export function fib6_lookup(net: Net, daddr: ReadonlyIn6Addr, oif = 0): Fib6Info | undefined {
  const list = net.ipv6.fib6.routes;
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    if (!ipv6_prefix_match(r.dst, daddr, r.prefixlen)) continue;
    if (oif !== 0 && r.dev.ifindex !== oif && (r.flags & RTF.RTF_LOCAL) === 0) continue;
    if ((r.dev.flags & IFF.IFF_UP) === 0) continue;
    return r;
  }
  return undefined;
}

function mkroute6(net: Net, dev: NetDevice, idev: NetDevice, flags: number, gw: ReadonlyIn6Addr | null, plen: number): Rt6Info {
  const rt = new Rt6Info(dev);
  rt.rt6i_idev = idev;
  rt.rt6i_flags = flags;
  rt.rt6i_dst_plen = plen;
  if (gw !== null) rt.rt6i_gateway.copy_from(gw);
  rt.rt6i_genid = net.ipv6.fib6.genid;
  return rt;
}

/**
 * ip6_route_output (+ ip6_dst_lookup_tail's source choice): the route for fl6, or -ENETUNREACH.
 * Fills fl6.saddr when ::. Multicast and link-local destinations go out fl6's device (or, for
 * multicast without one, the first device with IPv6 that is not lo).
 */
export function ip6_route_output(net: Net, fl6: Flowi6): Rt6Info | number {
  const daddr = fl6.daddr;
  let rt: Rt6Info | null = null;
  const oifdev = fl6.flowi6_oif !== 0 ? dev_get_by_index(net, fl6.flowi6_oif) ?? null : null;
  if (fl6.flowi6_oif !== 0 && (oifdev === null || (oifdev.flags & IFF.IFF_UP) === 0)) return -IP_ERRNO.ENETUNREACH;
  const linklocal = (daddr.w0 >>> 22) === (0xfe80 >>> 6);
  if (ipv6_addr_is_multicast(daddr) || (linklocal && oifdev !== null)) {
    let dev = oifdev;
    if (dev === null) {
      for (const d of net.dev_base.by_index.values()) {
        if ((d.flags & IFF.IFF_LOOPBACK) === 0 && (d.flags & IFF.IFF_UP) !== 0 && __in6_dev_get(d) !== null) {
          dev = d;
          break;
        }
      }
    }
    if (dev === null) return -IP_ERRNO.ENETUNREACH;
    if (linklocal && ipv6_chk_addr(net, daddr, dev) && net.loopback_dev !== null) {
      rt = mkroute6(net, net.loopback_dev, dev, RTF.RTF_LOCAL, null, 128);
    } else {
      rt = mkroute6(net, dev, dev, 0, null, ipv6_addr_mc_scope(daddr) <= 2 ? 16 : 8);
    }
  } else {
    const f = fib6_lookup(net, daddr, fl6.flowi6_oif);
    if (f === undefined) {
      if (oifdev === null) return -IP_ERRNO.ENETUNREACH;
      rt = mkroute6(net, oifdev, oifdev, 0, null, 128);
    } else {
      rt = f.rt6_output;
      if (rt === null || rt.rt6i_genid !== net.ipv6.fib6.genid) {
        const local = (f.flags & RTF.RTF_LOCAL) !== 0;
        const lo = net.loopback_dev;
        if (local && lo === null) return -IP_ERRNO.ENETUNREACH;
        rt = mkroute6(net, local ? lo! : f.dev, f.dev, f.flags, (f.flags & RTF.RTF_GATEWAY) !== 0 ? f.gw : null, f.prefixlen);
        if (!ipv6_addr_any(f.prefsrc)) rt.rt6i_src.copy_from(f.prefsrc);
        f.rt6_output = rt;
      }
      if (net.ipv6.fib6.exceptions.size !== 0 && (f.flags & RTF.RTF_LOCAL) === 0) {
        const ex = rt6_exception_route(net, rt, daddr);
        if (ex !== null) rt = ex;
      }
    }
  }
  if (ipv6_addr_any(fl6.saddr)) {
    if (!ipv6_addr_any(rt.rt6i_src)) fl6.saddr.copy_from(rt.rt6i_src);
    else if (ipv6_dev_get_saddr(net, rt.rt6i_idev, daddr, fl6.saddr) !== 0) return -IP_ERRNO.EADDRNOTAVAIL;
  }
  return rt;
}

/** __sk_dst_check for IPv6. */
export function rt6_valid(net: Net, rt: Rt6Info): boolean {
  return rt.rt6i_genid === net.ipv6.fib6.genid && (rt.dst_dev.flags & IFF.IFF_UP) !== 0;
}

/** rt6_nexthop: the gateway, or the destination itself. */
export function rt6_nexthop(rt: Rt6Info, daddr: ReadonlyIn6Addr): ReadonlyIn6Addr {
  return (rt.rt6i_flags & RTF.RTF_GATEWAY) !== 0 ? rt.rt6i_gateway : daddr;
}

/** One line of `ip -6 route show table all`. */
export interface Route6Show {
  type: 'local' | 'unicast';
  dst: string;
  dev: string;
  via: string | null;
}

/** `ip -6 route show table all`, longest prefix first. */
export function ip6_route_dump(net: Net): Route6Show[] {
  return net.ipv6.fib6.routes.map((f) => ({
    type: (f.flags & RTF.RTF_LOCAL) !== 0 ? 'local' : 'unicast',
    dst: f.prefixlen === 0 ? 'default' : `${inet_ntop6(f.dst)}/${f.prefixlen}`,
    dev: f.dev.name,
    via: (f.flags & RTF.RTF_GATEWAY) !== 0 ? inet_ntop6(f.gw) : null,
  }));
}

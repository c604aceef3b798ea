// net/ipv4/route.c and the FIB it consults (fib_frontend.c, fib_trie.c reduced to ordered lists):
// per netns a local table (local addresses, their subnets' broadcasts) searched before the main
// table (connected subnets, gateways, the default route), longest prefix first. Output routes are
// cached on the FIB entry (the kernel's nh_pcpu_rth_output), so a lookup allocates nothing; a
// route or address change bumps the netns's genid, which invalidates sockets' cached routes.
import { IFF, type NetDevice } from '../core/netdevice.ts';
import { HZ } from '../core/clock.ts';
import { inet_ntop4 } from '../core/inet-addr.ts';
import type { Net } from '../core/net-namespace.ts';
import type { Flowi4 } from '../core/flow.ts';
import { dev_get_by_index } from '../core/dev.ts';
import { __in_dev_get, inet_select_addr_scope } from './devinet.ts';
import { EHOSTUNREACH, ENETUNREACH, IP_ERRNO } from './ip-errno.ts';

/** enum rtn type (include/uapi/linux/rtnetlink.h). */
export const RTN = {
  RTN_UNSPEC: 0, RTN_UNICAST: 1, RTN_LOCAL: 2, RTN_BROADCAST: 3, RTN_ANYCAST: 4, RTN_MULTICAST: 5,
  RTN_BLACKHOLE: 6, RTN_UNREACHABLE: 7, RTN_PROHIBIT: 8, RTN_THROW: 9, RTN_NAT: 10, RTN_XRESOLVE: 11,
} as const;
const { RTN_UNICAST, RTN_LOCAL, RTN_BROADCAST, RTN_MULTICAST } = RTN;

/** enum rt_scope_t. */
export const RT_SCOPE = { RT_SCOPE_UNIVERSE: 0, RT_SCOPE_SITE: 200, RT_SCOPE_LINK: 253, RT_SCOPE_HOST: 254, RT_SCOPE_NOWHERE: 255 } as const;

/** RT_TABLE_MAIN / RT_TABLE_LOCAL. */
export const RT_TABLE = { RT_TABLE_MAIN: 254, RT_TABLE_LOCAL: 255 } as const;

/** RTCF_* (include/uapi/linux/in_route.h): what kind of destination a route reaches. */
export const RTCF = { RTCF_MULTICAST: 0x20000000, RTCF_BROADCAST: 0x10000000, RTCF_LOCAL: 0x80000000 } as const;

/** RTAX_FEATURE_* (include/uapi/linux/rtnetlink.h): `ip route add ... features tcp_usec_ts`. */
export const RTAX_FEATURE = { RTAX_FEATURE_ECN: 1 << 0, RTAX_FEATURE_SACK: 1 << 1, RTAX_FEATURE_TIMESTAMP: 1 << 2, RTAX_FEATURE_ALLFRAG: 1 << 3, RTAX_FEATURE_TCP_USEC_TS: 1 << 4 } as const;

export const INADDR_BROADCAST = 0xffffffff;
export const INADDR_LOOPBACK = 0x7f000001;

export function ipv4_is_multicast(a: number): boolean {
  return a >>> 28 === 0xe;
}
export function ipv4_is_lbcast(a: number): boolean {
  return a >>> 0 === INADDR_BROADCAST;
}
export function ipv4_is_zeronet(a: number): boolean {
  return a >>> 24 === 0;
}
export function ipv4_is_loopback(a: number): boolean {
  return a >>> 24 === 0x7f;
}
export function inet_make_mask(prefixlen: number): number {
  return prefixlen === 0 ? 0 : (0xffffffff << (32 - prefixlen)) >>> 0;
}

/** struct rtable: where a datagram goes. */
export class Rtable {
  dst_dev: NetDevice;
  /** The gateway; 0: on link, the next hop is the destination itself. */
  rt_gw4 = 0;
  rt_type: number = RTN_UNICAST;
  /** A learnt path MTU (0: the device's), valid until rt_pmtu_expires (jiffies; 0: no expiry). */
  rt_pmtu = 0;
  rt_pmtu_expires = 0;
  /** The PMTU went below ip_rt_min_pmtu: the route's MTU is locked (DF is no longer set by PMTU discovery). */
  rt_mtu_locked = false;
  /** The source address this route prefers (the entry's prefsrc, else the device's). */
  rt_src = 0;
  rt_flags = 0;
  /** The netns genid when made; a cached route with an older one is stale (__sk_dst_check). */
  rt_genid = 0;
  /** The RTAX_FEATURES metric of the entry it was made from (dst_feature). */
  dst_features = 0;
  constructor(dev: NetDevice) {
    this.dst_dev = dev;
  }
}

/** ipv4_mtu (dst_mtu): a learnt path MTU while it has not expired, else the device's. */
export function rt_mtu(rt: Rtable): number {
  const mtu = rt.dst_dev.mtu;
  if (rt.rt_pmtu === 0 || rt.rt_pmtu >= mtu) return mtu;
  if (rt.rt_pmtu_expires !== 0) {
    const net = rt.dst_dev.nd_net;
    if (net !== null && net.boot.clock.get_jiffies_64() >= rt.rt_pmtu_expires) return mtu;
  }
  return rt.rt_pmtu;
}

/** dst_tcp_usec_ts: connections over this route send microsecond TSvals (Linux 6.7). */
export function dst_tcp_usec_ts(rt: Rtable): boolean {
  return (rt.dst_features & RTAX_FEATURE.RTAX_FEATURE_TCP_USEC_TS) !== 0;
}

/** The next hop a route sends to (rt_nexthop). */
export function rt_nexthop(rt: Rtable, daddr: number): number {
  return rt.rt_gw4 !== 0 ? rt.rt_gw4 : daddr;
}

/** struct fib_alias + fib_info + fib_nh, one route. */
export class FibAlias {
  readonly dst: number;
  readonly prefixlen: number;
  readonly mask: number;
  readonly type: number;
  readonly scope: number;
  readonly table: number;
  readonly dev: NetDevice;
  readonly gw: number;
  readonly prefsrc: number;
  /** fib_metrics' RTAX_FEATURES (RTAX_FEATURE_*), what its routes' dst_feature reads. */
  readonly features: number;
  /** nh_rth_output: the output route made from this entry, until the genid moves. */
  rth_output: Rtable | null = null;
  constructor(o: { dst: number; prefixlen: number; type: number; scope: number; table: number; dev: NetDevice; gw: number; prefsrc: number; features?: number }) {
    this.prefixlen = o.prefixlen;
    this.mask = inet_make_mask(o.prefixlen);
    this.dst = (o.dst & this.mask) >>> 0;
    this.type = o.type;
    this.scope = o.scope;
    this.table = o.table;
    this.dev = o.dev;
    this.gw = o.gw >>> 0;
    this.prefsrc = o.prefsrc >>> 0;
    this.features = o.features ?? 0;
  }
}

/** struct fib_nh_exception: what was learnt about one destination (its path MTU), with its route. */
export class FibNhException {
  readonly daddr: number;
  pmtu = 0;
  mtu_locked = false;
  /** Jiffies when the learnt MTU lapses. */
  expires = 0;
  rth: Rtable | null = null;
  constructor(daddr: number) {
    this.daddr = daddr >>> 0;
  }
}

/** A netns's IPv4 FIB: the local and main tables, each ordered longest prefix first. */
export class Fib4 {
  readonly local: FibAlias[] = [];
  readonly main: FibAlias[] = [];
  /** rt_genid_ipv4: bumped on every change. */
  genid = 1;
  /** Next-hop exceptions by destination (the kernel keeps them per next hop; one FIB entry reaches a destination here). */
  readonly exceptions = new Map<number, FibNhException>();
  /** net.ipv4.route.min_pmtu and mtu_expires (seconds). */
  ip_rt_min_pmtu = 552;
  ip_rt_mtu_expires = 600;
}

/** struct inet_peer's ICMP rate limit state (rate_tokens, rate_last), by destination. */
export class InetPeer {
  rate_tokens = 0;
  rate_last = 0;
}

/** The inet_peer tree of a netns, reduced to a map of what ICMP rate limiting keeps. */
export class InetPeerBase {
  readonly peers = new Map<number | string, InetPeer>();
}

function fib_insert(list: FibAlias[], fa: FibAlias): number {
  for (const o of list) {
    if (o.dst === fa.dst && o.prefixlen === fa.prefixlen && o.dev === fa.dev && o.gw === fa.gw && o.type === fa.type) {
      return -IP_ERRNO.EEXIST;
    }
  }
  let i = 0;
  while (i < list.length && list[i]!.prefixlen >= fa.prefixlen) i++;
  list.splice(i, 0, fa);
  return 0;
}

/** fib_table_insert: adds a route (table local for LOCAL/BROADCAST types, else main). */
export function fib_table_insert(net: Net, o: { dst: number; prefixlen: number; type: number; scope: number; dev: NetDevice; gw?: number; prefsrc?: number; features?: number }): number {
  if (!(o.prefixlen >= 0 && o.prefixlen <= 32)) return -IP_ERRNO.EINVAL;
  const table = o.type === RTN_LOCAL || o.type === RTN_BROADCAST ? RT_TABLE.RT_TABLE_LOCAL : RT_TABLE.RT_TABLE_MAIN;
  const fa = new FibAlias({ ...o, table, gw: o.gw ?? 0, prefsrc: o.prefsrc ?? 0 });
  const fib = net.ipv4.fib;
  const err = fib_insert(table === RT_TABLE.RT_TABLE_LOCAL ? fib.local : fib.main, fa);
  if (err === 0) rt_cache_flush(net);
  return err;
}

/** fib_table_delete for the routes of one device (an address or device going away). */
export function fib_flush_dev(net: Net, dev: NetDevice, pred: (fa: FibAlias) => boolean): void {
  const fib = net.ipv4.fib;
  for (const list of [fib.local, fib.main]) {
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.dev === dev && pred(list[i]!)) list.splice(i, 1);
  }
  rt_cache_flush(net);
}

/** rt_cache_flush: every cached route is stale. */
export function rt_cache_flush(net: Net): void {
  net.ipv4.fib.genid++;
}

/**
 * `ip route add DST/PREFIXLEN [via GW] dev DEV [src SRC] [features F]`: a unicast route in the
 * main table, scope link when on link, universe through a gateway. The gateway must be on link (a
 * connected route reaches it), as fib_check_nh requires: -ENETUNREACH otherwise. `features` are
 * RTAX_FEATURE_* bits (tcp_usec_ts).
 */
export function ip_route_add(net: Net, dst: number, prefixlen: number, dev: NetDevice, gw?: number, src?: number, features = 0): number {
  const g = (gw ?? 0) >>> 0;
  if (g !== 0) {
    const fa = fib_lookup_list(net.ipv4.fib.main, g, dev.ifindex);
    if (fa === undefined || fa.gw !== 0) return -ENETUNREACH;
  }
  return fib_table_insert(net, {
    dst, prefixlen, type: RTN_UNICAST, scope: g !== 0 ? RT_SCOPE.RT_SCOPE_UNIVERSE : RT_SCOPE.RT_SCOPE_LINK, dev, gw: g, prefsrc: src ?? 0, features,
  });
}

function fib_lookup_list(list: FibAlias[], daddr: number, oif: number): FibAlias | undefined {
  for (let i = 0; i < list.length; i++) {
    const fa = list[i]!;
    if (((daddr & fa.mask) >>> 0) !== fa.dst) continue;
    if (oif !== 0 && fa.dev.ifindex !== oif && fa.type !== RTN_LOCAL) continue;
    if ((fa.dev.flags & IFF.IFF_UP) === 0) continue;
    return fa;
  }
  return undefined;
}

/** fib_lookup: the local table, then main; the most specific match. */
export function fib_lookup(net: Net, daddr: number, oif = 0): FibAlias | undefined {
  const fib = net.ipv4.fib;
  return fib_lookup_list(fib.local, daddr >>> 0, oif) ?? fib_lookup_list(fib.main, daddr >>> 0, oif);
}

function mkroute(net: Net, dev: NetDevice, type: number, gw: number, src: number): Rtable {
  const rt = new Rtable(dev);
  rt.rt_type = type;
  rt.rt_gw4 = gw;
  rt.rt_src = src;
  rt.rt_genid = net.ipv4.fib.genid;
  if ((dev.flags & IFF.IFF_LOOPBACK) !== 0) rt.rt_flags |= RTCF.RTCF_LOCAL;
  if (type === RTN_BROADCAST) rt.rt_flags |= RTCF.RTCF_BROADCAST | RTCF.RTCF_LOCAL;
  else if (type === RTN_MULTICAST) rt.rt_flags |= RTCF.RTCF_MULTICAST;
  return rt;
}

/**
 * ip_route_output_key (ip_route_output_key_hash_rcu): the route for fl4, or -ENETUNREACH
 * (-EINVAL for an impossible source). Fills fl4.saddr when 0. A local destination routes through
 * lo; a socket bound to a device with no route for the destination assumes it on link, as the
 * kernel does.
 */
export function ip_route_output_key(net: Net, fl4: Flowi4): Rtable | number {
  const saddr = fl4.saddr >>> 0;
  if (saddr !== 0) {
    if (ipv4_is_multicast(saddr) || ipv4_is_lbcast(saddr) || ipv4_is_zeronet(saddr)) return -IP_ERRNO.EINVAL;
    // __ip_dev_find: the source must be ours (the local table holds exactly our addresses).
    const sa = fib_lookup_list(net.ipv4.fib.local, saddr, 0);
    if (sa === undefined || sa.type !== RTN_LOCAL) return -ENETUNREACH;
  }
  let dev_out: NetDevice | null = null;
  if (fl4.flowi4_oif !== 0) {
    dev_out = dev_get_by_index(net, fl4.flowi4_oif) ?? null;
    if (dev_out === null || (dev_out.flags & IFF.IFF_UP) === 0) return -ENETUNREACH;
    if (ipv4_is_lbcast(fl4.daddr) || (fl4.daddr >>> 8) === 0xe00000) {
      // Limited broadcast and local multicast through a chosen device need no table.
      if (saddr === 0) fl4.saddr = inet_select_addr_scope(dev_out, 0, RT_SCOPE.RT_SCOPE_LINK);
      return mkroute(net, dev_out, ipv4_is_lbcast(fl4.daddr) ? RTN_BROADCAST : RTN_MULTICAST, 0, fl4.saddr);
    }
  }
  if (fl4.daddr === 0) {
    // To "any": ourselves, through lo.
    fl4.daddr = saddr !== 0 ? saddr : INADDR_LOOPBACK;
    if (saddr === 0) fl4.saddr = INADDR_LOOPBACK;
    const lo = net.loopback_dev;
    if (lo === null) return -ENETUNREACH;
    return mkroute(net, lo, RTN_LOCAL, 0, fl4.saddr);
  }
  const fa = fib_lookup(net, fl4.daddr, fl4.flowi4_oif);
  if (fa === undefined) {
    if (dev_out !== null) {
      if (saddr === 0) fl4.saddr = inet_select_addr_scope(dev_out, 0, RT_SCOPE.RT_SCOPE_LINK);
      return mkroute(net, dev_out, ipv4_is_multicast(fl4.daddr) ? RTN_MULTICAST : RTN_UNICAST, 0, fl4.saddr);
    }
    return -ENETUNREACH;
  }
  let rt = fa.rth_output;
  if (rt === null || rt.rt_genid !== net.ipv4.fib.genid) {
    const made = fib_make_output_route(net, fa, fl4.daddr);
    if (typeof made === 'number') return made;
    fa.rth_output = rt = made;
  }
  if (saddr === 0) fl4.saddr = fa.type === RTN_LOCAL && fa.prefsrc === 0 ? fl4.daddr : rt.rt_src;
  if (net.ipv4.fib.exceptions.size !== 0 && fa.type === RTN_UNICAST) {
    const ex = fib_nh_exception_route(net, fa, rt, fl4.daddr);
    if (ex !== null) return ex;
  }
  return rt;
}

/** find_exception + rt_bind_exception: the destination's own route while what was learnt holds. */
function fib_nh_exception_route(net: Net, fa: FibAlias, base: Rtable, daddr: number): Rtable | null {
  const fib = net.ipv4.fib;
  const ex = fib.exceptions.get(daddr >>> 0);
  if (ex === undefined) return null;
  if (net.boot.clock.get_jiffies_64() >= ex.expires) {
    fib.exceptions.delete(daddr >>> 0);
    return null;
  }
  let rt = ex.rth;
  if (rt === null || rt.rt_genid !== fib.genid || rt.dst_dev !== fa.dev) {
    rt = mkroute(net, base.dst_dev, base.rt_type, base.rt_gw4, base.rt_src);
    rt.dst_features = base.dst_features;
    ex.rth = rt;
  }
  rt.rt_pmtu = ex.pmtu;
  rt.rt_pmtu_expires = ex.expires;
  rt.rt_mtu_locked = ex.mtu_locked;
  return rt;
}

/**
 * __ip_rt_update_pmtu (ipv4_sk_update_pmtu, what tcp_v4_mtu_reduced and udp's err handler reach):
 * daddr's path MTU is mtu from now, for net.ipv4.route.mtu_expires. Below min_pmtu it is
 * clamped and locked; never raised. Stored as an exception for daddr, which later lookups (and
 * sockets whose cached route goes stale by it) find. rt is the route the caller used, if any.
 */
export function ip_rt_update_pmtu(net: Net, rt: Rtable | null, daddr: number, mtu: number): void {
  const fib = net.ipv4.fib;
  const old = rt !== null ? rt_mtu(rt) : 0xffff;
  if (old < mtu) return;
  let m = mtu;
  let lock = false;
  if (m < fib.ip_rt_min_pmtu) {
    lock = true;
    m = Math.min(old, fib.ip_rt_min_pmtu);
  }
  const now = net.boot.clock.get_jiffies_64();
  const expires_j = fib.ip_rt_mtu_expires * HZ;
  const key = daddr >>> 0;
  let ex = fib.exceptions.get(key);
  if (ex !== undefined && ex.pmtu === m && !lock && now < ex.expires - expires_j / 2) return;
  if (ex === undefined) {
    ex = new FibNhException(key);
    fib.exceptions.set(key, ex);
  }
  ex.pmtu = m;
  ex.mtu_locked = lock;
  ex.expires = now + expires_j;
  // Whoever cached a route to this next hop must look again and find the exception.
  rt_cache_flush(net);
}

function fib_make_output_route(net: Net, fa: FibAlias, daddr: number): Rtable | number {
  if (fa.type === RTN_LOCAL) {
    const lo = net.loopback_dev;
    if (lo === null) return -ENETUNREACH;
    return mkroute(net, lo, RTN_LOCAL, 0, fa.prefsrc !== 0 ? fa.prefsrc : daddr);
  }
  if (fa.type === RTN_BROADCAST) {
    return mkroute(net, fa.dev, RTN_BROADCAST, 0, fa.prefsrc !== 0 ? fa.prefsrc : inet_select_addr_scope(fa.dev, daddr, RT_SCOPE.RT_SCOPE_LINK));
  }
  if (fa.type !== RTN_UNICAST) return -EHOSTUNREACH;
  const src = fa.prefsrc !== 0 ? fa.prefsrc : inet_select_addr_scope(fa.dev, fa.gw !== 0 ? fa.gw : daddr, fa.scope);
  const rt = mkroute(net, fa.dev, ipv4_is_multicast(daddr) ? RTN_MULTICAST : RTN_UNICAST, fa.gw, src);
  rt.dst_features = fa.features;
  return rt;
}

/** __sk_dst_check for a route a socket cached: still valid under the current genid. */
export function rt_valid(net: Net, rt: Rtable): boolean {
  return rt.rt_genid === net.ipv4.fib.genid && (rt.dst_dev.flags & IFF.IFF_UP) !== 0;
}

/**
 * ip_route_input_slow, as a classification: what a received datagram is for. Returns RTN_LOCAL,
 * RTN_BROADCAST or RTN_MULTICAST for local delivery, or a negative errno: -EINVAL for a martian
 * (impossible source or destination), -EHOSTUNREACH for a datagram not for us while forwarding
 * is off, -ENETUNREACH for one with no route while it is on (forwarding itself is not modelled).
 */
export function ip_route_input_slow(net: Net, daddr: number, saddr: number, dev: NetDevice): number {
  const in_dev = __in_dev_get(dev);
  if (in_dev === null) return -IP_ERRNO.EINVAL;
  if ((dev.flags & IFF.IFF_LOOPBACK) !== 0) {
    // What lo delivers was routed on output already (the kernel keeps that route on the skb).
    if (ipv4_is_lbcast(daddr)) return RTN_BROADCAST;
    if (ipv4_is_multicast(daddr)) return RTN_MULTICAST;
    return RTN_LOCAL;
  }
  if (ipv4_is_multicast(saddr) || ipv4_is_lbcast(saddr)) return -IP_ERRNO.EINVAL;
  if (ipv4_is_lbcast(daddr) || (saddr === 0 && daddr === 0)) return RTN_BROADCAST;
  if (ipv4_is_multicast(daddr)) {
    // Only 224.0.0.1 (all hosts), which every interface joins; no other group memberships here.
    return daddr >>> 0 === 0xe0000001 ? RTN_MULTICAST : -IP_ERRNO.EINVAL;
  }
  if (ipv4_is_zeronet(saddr) || ipv4_is_zeronet(daddr)) return -IP_ERRNO.EINVAL;
  if (ipv4_is_loopback(daddr) || ipv4_is_loopback(saddr)) return -IP_ERRNO.EINVAL;
  const fa = fib_lookup(net, daddr);
  if (fa === undefined) return net.ipv4.sysctl_ip_forward !== 0 ? -ENETUNREACH : -EHOSTUNREACH;
  if (fa.type === RTN_BROADCAST) return RTN_BROADCAST;
  if (fa.type === RTN_LOCAL) {
    // fib_validate_source: our own address as the source on a wire is a martian.
    if (net.ipv4.sysctl_accept_local === 0) {
      const sa = fib_lookup_list(net.ipv4.fib.local, saddr >>> 0, 0);
      if (sa !== undefined && sa.type === RTN_LOCAL) return -IP_ERRNO.EINVAL;
    }
    return RTN_LOCAL;
  }
  return -EHOSTUNREACH;
}

/** One line of `ip route show table all` (IPv4). */
export interface RouteShow {
  table: 'local' | 'main';
  type: string;
  dst: string;
  dev: string;
  via: string | null;
  src: string | null;
}

const RTN_NAMES = ['unspec', 'unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat', 'xresolve'];

/** `ip route show table all`: main, then local, longest prefix first. */
export function ip_route_dump(net: Net): RouteShow[] {
  const fib = net.ipv4.fib;
  const show = (fa: FibAlias, table: 'local' | 'main'): RouteShow => ({
    table,
    type: RTN_NAMES[fa.type] ?? String(fa.type),
    dst: fa.prefixlen === 0 ? 'default' : `${inet_ntop4(fa.dst)}/${fa.prefixlen}`,
    dev: fa.dev.name,
    via: fa.gw !== 0 ? inet_ntop4(fa.gw) : null,
    src: fa.prefsrc !== 0 ? inet_ntop4(fa.prefsrc) : null,
  });
  return [...fib.main.map((fa) => show(fa, 'main')), ...fib.local.map((fa) => show(fa, 'local'))];
}

// net/ipv6/addrconf.c: a device's IPv6 addresses (struct inet6_dev on dev->ip6_ptr, its list of
// struct inet6_ifaddr), the routes an address brings (a local /128 through lo, the on-link
// prefix), the multicast groups a node joins (all-nodes, each address's solicited-node group),
// and source address selection (RFC 6724, reduced to: same device, longest matching prefix).
// Addresses are usable at once: no duplicate address detection, no link-local autoconfiguration.
import type { NetDevice } from '../core/netdevice.ts';
import { IFF } from '../core/netdevice.ts';
import type { Net } from '../core/net-namespace.ts';
import { dev_net } from '../core/dev.ts';
import { In6Addr, IPV6_ADDR_TYPES, ipv6_addr_equal, ipv6_addr_type, type ReadonlyIn6Addr } from '../core/in6-addr.ts';
import { fib6_insert, in6_word, RTF } from './route.ts';
import { IP_ERRNO } from '../ipv4/ip-errno.ts';

/** struct inet6_ifaddr. */
export class Inet6Ifaddr {
  readonly addr = new In6Addr();
  readonly prefix_len: number;
  readonly scope: number;
  readonly idev: Inet6Dev;
  /** IFA_F_* flags; none of TENTATIVE/OPTIMISTIC: DAD is not modelled. */
  flags = 0;
  constructor(idev: Inet6Dev, addr: ReadonlyIn6Addr, prefix_len: number) {
    this.idev = idev;
    this.addr.copy_from(addr);
    this.prefix_len = prefix_len;
    this.scope = ipv6_addr_type(addr) & (IPV6_ADDR_TYPES.IPV6_ADDR_LOOPBACK | IPV6_ADDR_TYPES.IPV6_ADDR_LINKLOCAL);
  }
}

/** struct ipv6_devconf, the per-device switches read here. */
export class Ipv6Devconf {
  forwarding = 0;
  hop_limit = 64;
  disable_ipv6 = 0;
  accept_source_route = 0;
  max_hbh_opts_cnt = 8;
  max_dst_opts_cnt = 8;
}

/** struct inet6_dev (dev->ip6_ptr). */
export class Inet6Dev {
  readonly dev: NetDevice;
  readonly addr_list: Inet6Ifaddr[] = [];
  /** Multicast groups joined (ff02::1 and the solicited-node groups). */
  readonly mc_list: In6Addr[] = [];
  readonly cnf = new Ipv6Devconf();
  constructor(dev: NetDevice) {
    this.dev = dev;
    this.mc_list.push(new In6Addr(0xff020000, 0, 0, 1));
  }
}

export function __in6_dev_get(dev: NetDevice): Inet6Dev | null {
  // Only ipv6_add_dev writes ip6_ptr.
  return dev.ip6_ptr as Inet6Dev | null;
}

/** ipv6_add_dev: the device's inet6_dev, made on first use. */
export function ipv6_add_dev(dev: NetDevice): Inet6Dev {
  let idev = __in6_dev_get(dev);
  if (idev === null) {
    idev = new Inet6Dev(dev);
    dev.ip6_ptr = idev;
  }
  return idev;
}

/** addrconf_addr_solict_mult: ff02::1:ffXX:XXXX for an address's low 24 bits. */
export function addrconf_addr_solict_mult(addr: ReadonlyIn6Addr, out: In6Addr): In6Addr {
  return out.set(0xff020000, 0, 1, (0xff000000 | (addr.w3 & 0xffffff)) >>> 0);
}

export function ipv6_addr_is_solict_mult(a: ReadonlyIn6Addr): boolean {
  return a.w0 === 0xff020000 && a.w1 === 0 && a.w2 === 1 && a.w3 >>> 24 === 0xff;
}

export function ipv6_addr_is_multicast(a: ReadonlyIn6Addr): boolean {
  return a.w0 >>> 24 === 0xff;
}

export function ipv6_addr_loopback(a: ReadonlyIn6Addr): boolean {
  return (a.w0 | a.w1 | a.w2) === 0 && a.w3 === 1;
}

/** IPV6_ADDR_MC_SCOPE: a multicast address's scope nibble. */
export function ipv6_addr_mc_scope(a: ReadonlyIn6Addr): number {
  return (a.w0 >>> 16) & 0xf;
}

function ipv6_mc_join(idev: Inet6Dev, group: ReadonlyIn6Addr): void {
  for (const g of idev.mc_list) if (ipv6_addr_equal(g, group)) return;
  idev.mc_list.push(new In6Addr().copy_from(group));
}

/**
 * `ip -6 addr add ADDR/PREFIXLEN dev DEV` (inet6_addr_add): the address, its local route, the
 * on-link prefix route, and its solicited-node group. 0 or -EEXIST / -EINVAL / -ENODEV.
 */
export function ipv6_addr_add(dev: NetDevice, addr: ReadonlyIn6Addr, prefixlen: number): number {
  if (dev.nd_net === null) return -IP_ERRNO.ENODEV;
  if (!(Number.isInteger(prefixlen) && prefixlen >= 0 && prefixlen <= 128)) return -IP_ERRNO.EINVAL;
  const t = ipv6_addr_type(addr);
  if (t === IPV6_ADDR_TYPES.IPV6_ADDR_ANY || (t & (IPV6_ADDR_TYPES.IPV6_ADDR_MULTICAST | IPV6_ADDR_TYPES.IPV6_ADDR_MAPPED)) !== 0) {
    return -IP_ERRNO.EINVAL;
  }
  const net = dev_net(dev);
  const idev = ipv6_add_dev(dev);
  for (const ifp of idev.addr_list) if (ipv6_addr_equal(ifp.addr, addr)) return -IP_ERRNO.EEXIST;
  const ifp = new Inet6Ifaddr(idev, addr, prefixlen);
  idev.addr_list.push(ifp);
  fib6_insert(net, { dst: addr, prefixlen: 128, dev, flags: RTF.RTF_LOCAL, prefsrc: addr });
  if (prefixlen < 128 && (dev.flags & IFF.IFF_LOOPBACK) === 0) {
    fib6_insert(net, { dst: addr, prefixlen, dev, flags: 0, prefsrc: null });
  }
  ipv6_mc_join(idev, addrconf_addr_solict_mult(addr, new In6Addr()));
  return 0;
}

/**
 * ipv6_get_ifaddr: our address addr. With dev, strict: only an address of dev; not strict: dev's,
 * or a global one of any device (link-local and host-scope addresses count only on their own).
 */
export function ipv6_get_ifaddr(net: Net, addr: ReadonlyIn6Addr, dev: NetDevice | null, strict = true): Inet6Ifaddr | null {
  for (const d of net.dev_base.by_index.values()) {
    const idev = __in6_dev_get(d);
    if (idev === null) continue;
    for (const ifp of idev.addr_list) {
      if (!ipv6_addr_equal(ifp.addr, addr)) continue;
      if (dev === null || d === dev || (!strict && ifp.scope === 0)) return ifp;
    }
  }
  return null;
}

/** ipv6_chk_addr (strict 0): addr is ours, on dev if it is link-local or host scope. */
export function ipv6_chk_addr(net: Net, addr: ReadonlyIn6Addr, dev: NetDevice | null): boolean {
  return ipv6_get_ifaddr(net, addr, dev, false) !== null;
}

/** ipv6_chk_mcast_addr: dev has joined group. */
export function ipv6_chk_mcast_addr(dev: NetDevice, group: ReadonlyIn6Addr): boolean {
  const idev = __in6_dev_get(dev);
  if (idev === null) return false;
  for (const g of idev.mc_list) if (ipv6_addr_equal(g, group)) return true;
  return false;
}

function common_prefix(a: ReadonlyIn6Addr, b: ReadonlyIn6Addr): number {
  for (let i = 0; i < 4; i++) {
    const x = (in6_word(a, i) ^ in6_word(b, i)) >>> 0;
    if (x !== 0) return i * 32 + Math.clz32(x);
  }
  return 128;
}

/**
 * ipv6_dev_get_saddr: the source for daddr (RFC 6724 reduced): the destination itself when ours,
 * else an address of the same scope on dev, preferring the longest common prefix; then any
 * non-loopback address of the netns. 0, or -EADDRNOTAVAIL with out left ::.
 */
export function ipv6_dev_get_saddr(net: Net, dev: NetDevice | null, daddr: ReadonlyIn6Addr, out: In6Addr): number {
  const dtype = ipv6_addr_type(daddr);
  const dll = (dtype & IPV6_ADDR_TYPES.IPV6_ADDR_LINKLOCAL) !== 0 || (ipv6_addr_is_multicast(daddr) && ipv6_addr_mc_scope(daddr) <= 2);
  let best: Inet6Ifaddr | null = null;
  let bestScore = -1;
  const consider = (ifp: Inet6Ifaddr, onDev: boolean): void => {
    if (ipv6_addr_equal(ifp.addr, daddr)) {
      best = ifp;
      bestScore = 1 << 20;
      return;
    }
    const ll = (ifp.scope & IPV6_ADDR_TYPES.IPV6_ADDR_LINKLOCAL) !== 0;
    const lo = (ifp.scope & IPV6_ADDR_TYPES.IPV6_ADDR_LOOPBACK) !== 0;
    if (lo && !ipv6_addr_loopback(daddr)) return;
    // Rule 2 (appropriate scope), rule 5 (outgoing interface), rule 8 (longest matching prefix).
    const score = (ll === dll ? 1 << 12 : 0) + (onDev ? 1 << 10 : 0) + common_prefix(ifp.addr, daddr);
    if (score > bestScore) {
      best = ifp;
      bestScore = score;
    }
  };
  if (dev !== null) {
    const idev = __in6_dev_get(dev);
    if (idev !== null) for (const ifp of idev.addr_list) consider(ifp, true);
  }
  if (dev === null || bestScore < 0 || (bestScore & (1 << 12)) === 0) {
    for (const d of net.dev_base.by_index.values()) {
      if (d === dev) continue;
      const idev = __in6_dev_get(d);
      if (idev === null) continue;
      for (const ifp of idev.addr_list) {
        // Link-local addresses of another device can't be used off their link.
        if ((ifp.scope & IPV6_ADDR_TYPES.IPV6_ADDR_LINKLOCAL) !== 0 && dev !== null) continue;
        consider(ifp, false);
      }
    }
  }
  if (best === null) {
    out.set(0, 0, 0, 0);
    return -IP_ERRNO.EADDRNOTAVAIL;
  }
  out.copy_from((best as Inet6Ifaddr).addr);
  return 0;
}

// net/ipv4/devinet.c: a device's IPv4 addresses (struct in_device on dev->ip_ptr, its list of
// struct in_ifaddr), the routes an address brings (fib_add_ifaddr: a local route, the subnet's
// broadcast, the connected subnet), address types and source address selection.
import type { NetDevice } from '../core/netdevice.ts';
import { IFF } from '../core/netdevice.ts';
import type { Net } from '../core/net-namespace.ts';
import { dev_net } from '../core/dev.ts';
import {
  RTN, RT_SCOPE, fib_lookup, fib_table_insert, inet_make_mask, ipv4_is_lbcast, ipv4_is_loopback, ipv4_is_multicast,
  ipv4_is_zeronet,
} from './route.ts';
import { IP_ERRNO } from './ip-errno.ts';

/** struct in_ifaddr. */
export class InIfaddr {
  readonly ifa_local: number;
  readonly ifa_address: number;
  readonly ifa_mask: number;
  readonly ifa_prefixlen: number;
  readonly ifa_broadcast: number;
  readonly ifa_scope: number;
  readonly ifa_dev: InDevice;
  constructor(dev: InDevice, addr: number, prefixlen: number) {
    this.ifa_dev = dev;
    this.ifa_local = this.ifa_address = addr >>> 0;
    this.ifa_prefixlen = prefixlen;
    this.ifa_mask = inet_make_mask(prefixlen);
    this.ifa_broadcast = prefixlen < 31 ? ((addr | ~this.ifa_mask) >>> 0) : 0;
    this.ifa_scope = ipv4_is_loopback(addr) ? RT_SCOPE.RT_SCOPE_HOST : RT_SCOPE.RT_SCOPE_UNIVERSE;
  }
}

/** struct ipv4_devconf, the per-device switches this stack reads. */
export class Ipv4Devconf {
  forwarding = 0;
  accept_local = 0;
  arp_ignore = 0;
  arp_announce = 0;
}

/** struct in_device (dev->ip_ptr). */
export class InDevice {
  readonly dev: NetDevice;
  readonly ifa_list: InIfaddr[] = [];
  readonly cnf = new Ipv4Devconf();
  constructor(dev: NetDevice) {
    this.dev = dev;
  }
}

/** __in_dev_get_rcu. */
export function __in_dev_get(dev: NetDevice): InDevice | null {
  // Only inetdev_init writes ip_ptr (typed unknown in netdevice.ts to keep net/core below ipv4).
  return dev.ip_ptr as InDevice | null;
}

/** inetdev_init: the device's in_device, made on first use. */
export function inetdev_init(dev: NetDevice): InDevice {
  let in_dev = __in_dev_get(dev);
  if (in_dev === null) {
    in_dev = new InDevice(dev);
    dev.ip_ptr = in_dev;
  }
  return in_dev;
}

/**
 * `ip addr add ADDR/PREFIXLEN dev DEV` (inet_rtm_newaddr, fib_add_ifaddr): the address, a local
 * route for it, the subnet's broadcast, and the connected route (a local one on a loopback
 * device, so all of 127/8 is ours). 0 or -EEXIST / -EINVAL / -ENODEV.
 */
export function inet_addr_add(dev: NetDevice, addr: number, prefixlen: number): number {
  if (dev.nd_net === null) return -IP_ERRNO.ENODEV;
  if (!(Number.isInteger(prefixlen) && prefixlen >= 0 && prefixlen <= 32)) return -IP_ERRNO.EINVAL;
  const a = addr >>> 0;
  if (ipv4_is_multicast(a) || ipv4_is_lbcast(a) || a === 0) return -IP_ERRNO.EINVAL;
  const net = dev_net(dev);
  const in_dev = inetdev_init(dev);
  for (const ifa of in_dev.ifa_list) if (ifa.ifa_local === a) return -IP_ERRNO.EEXIST;
  const ifa = new InIfaddr(in_dev, a, prefixlen);
  in_dev.ifa_list.push(ifa);
  const loop = (dev.flags & IFF.IFF_LOOPBACK) !== 0;
  fib_table_insert(net, { dst: a, prefixlen: 32, type: RTN.RTN_LOCAL, scope: RT_SCOPE.RT_SCOPE_HOST, dev, prefsrc: a });
  const prefix = (a & ifa.ifa_mask) >>> 0;
  if (!ipv4_is_zeronet(prefix) && (prefix !== a || prefixlen < 32)) {
    fib_table_insert(net, {
      dst: prefix, prefixlen, type: loop ? RTN.RTN_LOCAL : RTN.RTN_UNICAST,
      scope: loop ? RT_SCOPE.RT_SCOPE_HOST : RT_SCOPE.RT_SCOPE_LINK, dev, prefsrc: a,
    });
  }
  if (ifa.ifa_broadcast !== 0) {
    fib_table_insert(net, { dst: ifa.ifa_broadcast, prefixlen: 32, type: RTN.RTN_BROADCAST, scope: RT_SCOPE.RT_SCOPE_LINK, dev, prefsrc: a });
  }
  return 0;
}

/** __ip_dev_find: the device that has addr, or null. */
export function __ip_dev_find(net: Net, addr: number): NetDevice | null {
  const a = addr >>> 0;
  for (const dev of net.dev_base.by_index.values()) {
    const in_dev = __in_dev_get(dev);
    if (in_dev === null) continue;
    for (const ifa of in_dev.ifa_list) if (ifa.ifa_local === a) return dev;
  }
  // Addresses a loopback prefix route covers (all of 127/8) are ours too.
  const fa = fib_lookup(net, a);
  return fa !== undefined && fa.type === RTN.RTN_LOCAL ? fa.dev : null;
}

/**
 * inet_addr_type: RTN_LOCAL for ours, RTN_BROADCAST for 0.0.0.0, 255.255.255.255 and our
 * subnets' broadcasts, RTN_MULTICAST for class D, RTN_UNICAST for the rest.
 */
export function inet_addr_type(net: Net, addr: number): number {
  const a = addr >>> 0;
  if (ipv4_is_zeronet(a) || ipv4_is_lbcast(a)) return RTN.RTN_BROADCAST;
  if (ipv4_is_multicast(a)) return RTN.RTN_MULTICAST;
  const fib = net.ipv4.fib;
  for (const fa of fib.local) if (((a & fa.mask) >>> 0) === fa.dst) return fa.type;
  return RTN.RTN_UNICAST;
}

/** inet_select_addr(dev, dst, RT_SCOPE_UNIVERSE): the preferred source on dev for dst. */
export function inet_select_addr(dev: NetDevice, dst: number): number {
  return inet_select_addr_scope(dev, dst, RT_SCOPE.RT_SCOPE_UNIVERSE);
}

/**
 * inet_select_addr: on dev, the address whose subnet holds dst, else its first address of at
 * most `scope`; a device without one borrows from the others (never a host-scope address).
 */
export function inet_select_addr_scope(dev: NetDevice, dst: number, scope: number): number {
  const in_dev = __in_dev_get(dev);
  let addr = 0;
  if (in_dev !== null) {
    for (const ifa of in_dev.ifa_list) {
      if (ifa.ifa_scope > scope) continue;
      if (dst === 0 || ((dst ^ ifa.ifa_local) & ifa.ifa_mask) === 0) return ifa.ifa_local;
      if (addr === 0) addr = ifa.ifa_local;
    }
  }
  if (addr !== 0 || dev.nd_net === null) return addr;
  for (const d of dev.nd_net.dev_base.by_index.values()) {
    const idev = __in_dev_get(d);
    if (idev === null) continue;
    for (const ifa of idev.ifa_list) {
      if (ifa.ifa_scope !== RT_SCOPE.RT_SCOPE_LINK && ifa.ifa_scope <= scope) return ifa.ifa_local;
    }
  }
  return 0;
}

/** The device's primary address (the first), 0 if none: what ARP probes come from by default. */
export function inet_primary_addr(dev: NetDevice): number {
  return __in_dev_get(dev)?.ifa_list[0]?.ifa_local ?? 0;
}

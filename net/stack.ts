// One machine's network stack: a boot (clock, PRNG, secrets), its initial netns with `lo`, and
// IPv4, IPv6, ICMP, ARP/ND, UDP and TCP brought up as the kernel's inet_init and inet6_init do.
// The guest worker builds one above virtio_net's eth0, the host worker one behind the bridge, a
// test one per simulated host (on a VirtualClock), a packetdrill run one around its tun device.
import { BootState, type BootStateOptions } from './core/boot-state.ts';
import { Net, type NetOptions } from './core/net-namespace.ts';
import { net_tx_action, register_netdevice } from './core/dev.ts';
import type { NetDevice } from './core/netdevice.ts';
import { loopback_init, loopback_poll, type LoopbackDevice } from './core/loopback.ts';
import { nstat, snmp_seq_show } from './core/snmp.ts';
import type { ReadonlyIn6Addr } from './core/in6-addr.ts';
import { ip_init } from './ipv4/ip-output.ts';
import { inet_addr_add } from './ipv4/devinet.ts';
import { ip_route_add } from './ipv4/route.ts';
import { udp_init } from './ipv4/udp.ts';
import { tcp_init } from './ipv4/tcp.ts';
import { inet_diag_dump, ss_format, type InetDiagEntry } from './ipv4/inet-diag.ts';
import { ipv6_init } from './ipv6/ip6-output.ts';
import { ipv6_addr_add } from './ipv6/addrconf.ts';
import { Socket } from './socket.ts';
import { NetError } from './core/errors.ts';

/**
 * inet_init + inet6_init for one netns: lo (127.0.0.1/8, ::1), the IPv4 and IPv6 receive
 * handlers with ARP, ICMP and neighbour discovery, then UDP and TCP in the protocol tables and in
 * socket(2). (The kernel's lives in af_inet.c; here it sits above the protocols it starts, since
 * they import af-inet.ts.)
 */
export function inet_init(net: Net): LoopbackDevice {
  const lo = loopback_init(net);
  ip_init(net);
  ipv6_init(net);
  udp_init(net);
  tcp_init(net);
  return lo;
}

export interface NetStackOptions extends BootStateOptions {
  /** The initial netns's options (hash_mix, cpu). */
  net?: NetOptions;
}

/** An address to give a device: IPv4 as host-order u32 or text is parsed by the caller (inet_pton4). */
export interface IfAddr4 {
  addr: number;
  prefixlen: number;
}
export interface IfAddr6 {
  addr: ReadonlyIn6Addr;
  prefixlen: number;
}

export class NetStack {
  readonly boot: BootState;
  /** init_net. */
  readonly net: Net;
  readonly lo: LoopbackDevice;

  constructor(o: NetStackOptions = {}) {
    this.boot = new BootState(o);
    this.net = new Net(this.boot, o.net);
    this.lo = inet_init(this.net);
  }

  /** register_netdevice plus `ip addr add` for each address; throws NetError for a refused address. */
  addDevice(dev: NetDevice, addrs: { v4?: IfAddr4[]; v6?: IfAddr6[] } = {}): NetDevice {
    register_netdevice(this.net, dev);
    for (const a of addrs.v4 ?? []) {
      const r = inet_addr_add(dev, a.addr, a.prefixlen);
      if (r < 0) throw NetError.fromErrno(r, `${dev.name}: IPv4 address refused`);
    }
    for (const a of addrs.v6 ?? []) {
      const r = ipv6_addr_add(dev, a.addr, a.prefixlen);
      if (r < 0) throw NetError.fromErrno(r, `${dev.name}: IPv6 address refused`);
    }
    return dev;
  }

  /** `ip route add default via gw dev dev` (or a prefix). */
  addRoute4(dst: number, prefixlen: number, dev: NetDevice, gw = 0): void {
    const r = ip_route_add(this.net, dst, prefixlen, dev, gw);
    if (r < 0) throw NetError.fromErrno(r, `route to ${dst >>> 0}/${prefixlen} refused`);
  }

  /** socket(2): a Socket, or a negative errno. */
  socket(family: number, type: number, protocol = 0): Socket | number {
    return Socket.create(this.net, family, type, protocol);
  }

  /** Sends what the qdiscs hold for woken devices, then receives what lo has queued; returns packets moved. */
  poll(budget = 64): number {
    return net_tx_action(this.net) + loopback_poll(this.lo, budget);
  }

  /** /proc/net/snmp and /proc/net/netstat, grouped. */
  snmp(): ReturnType<typeof snmp_seq_show> {
    return snmp_seq_show(this.net.mib);
  }

  /** The non-zero counters as nstat names them (TcpInSegs, UdpNoPorts, TcpExtSyncookiesSent, ...). */
  nstat(): Record<string, number> {
    return nstat(this.net.mib);
  }

  /** `ss -tuan -e`: every TCP and UDP socket. */
  sockets(): InetDiagEntry[] {
    return inet_diag_dump(this.net);
  }

  ss(): string {
    return ss_format(this.sockets());
  }
}

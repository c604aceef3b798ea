// struct net: a network namespace, with the per-netns state the socket tables read. Sockets belong
// to one (skc_net) and every lookup checks it, so two namespaces can share one set of tables as the
// kernel's share tcp_hashinfo.
import type { BootState } from './boot-state.ts';
import { jhash1word } from '../../bpf-vm/maps/jhash.ts';
import { SkLookupRunArray } from './sk-lookup.ts';

/** struct netns_ipv4: the sysctls net.ipv4.* that binding and lookup read. */
export class NetnsIpv4 {
  /** net.ipv4.ip_local_port_range: the ephemeral ports, inclusive. */
  ip_local_port_range: [number, number] = [32768, 60999];
  /** net.ipv4.ip_local_reserved_ports: never handed out as ephemeral ports. */
  readonly sysctl_local_reserved_ports = new Set<number>();
  /** net.ipv4.ip_autobind_reuse: bind(0) may, as a last resort, share a port with SO_REUSEADDR sockets. */
  sysctl_ip_autobind_reuse = false;
  /** net.ipv4.tcp_l3mdev_accept / udp_l3mdev_accept: unbound sockets take packets from a VRF. */
  sysctl_tcp_l3mdev_accept = false;
  sysctl_udp_l3mdev_accept = false;
}

export interface NetOptions {
  /** net_hash_mix(net): mixed into every table hash. Default: random (from the boot's PRNG). */
  hash_mix?: number;
  /** raw_smp_processor_id() of the CPU this netns's packets are processed on. Default 0. */
  cpu?: number;
}

export class Net {
  readonly boot: BootState;
  readonly hash_mix: number;
  /** net->net_cookie (bpf_get_netns_cookie). */
  readonly net_cookie: number;
  readonly ipv4 = new NetnsIpv4();
  /** net->bpf.run_array[NETNS_BPF_SK_LOOKUP]: SK_LOOKUP programs attached to this netns. */
  readonly sk_lookup = new SkLookupRunArray();
  /**
   * jhash_1word(INADDR_ANY, hash_mix): the wildcard half of ipv4_portaddr_hash, which every UDP
   * datagram for a wildcard-bound socket and every SYN for a wildcard listener hashes. Fixed per
   * netns, so it is computed once.
   */
  readonly portaddr_hash_any: number;
  /**
   * The CPU lookups run on: a socket whose SO_INCOMING_CPU equals it scores one more. An emulated
   * machine processes its packets on one thread, so this is one number, not a per-call value.
   */
  cpu: number;

  constructor(boot: BootState, options: NetOptions = {}) {
    this.boot = boot;
    this.hash_mix = (options.hash_mix ?? boot.random.get_random_u32()) | 0;
    this.portaddr_hash_any = jhash1word(0, this.hash_mix) | 0;
    this.net_cookie = boot.next_net_cookie();
    this.cpu = options.cpu ?? 0;
  }
}

export function net_eq(a: Net, b: Net): boolean {
  return a === b;
}

export function net_hash_mix(net: Net): number {
  return net.hash_mix;
}

/** inet_get_local_port_range. */
export function inet_get_local_port_range(net: Net): readonly [number, number] {
  return net.ipv4.ip_local_port_range;
}

export function inet_is_local_reserved_port(net: Net, port: number): boolean {
  return net.ipv4.sysctl_local_reserved_ports.size !== 0 && net.ipv4.sysctl_local_reserved_ports.has(port);
}

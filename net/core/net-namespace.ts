// struct net: a network namespace, with the per-netns state the socket tables read. Sockets belong
// to one (skc_net) and every lookup checks it, so two namespaces can share one set of tables as the
// kernel's share tcp_hashinfo.
import type { BootState } from './boot-state.ts';
import { jhash1word } from '../../bpf-vm/maps/jhash.ts';
import { SkLookupRunArray } from './sk-lookup.ts';
import { NetDevBase } from './dev.ts';
import { NetnsMib } from './snmp.ts';
import { InetHashinfo } from '../ipv4/inet-hashinfo.ts';
import { UdpTable } from '../ipv4/udp-table.ts';
import type { NetDevice } from './netdevice.ts';
import { NeighTable } from './neighbour.ts';
import { Fib4, InetPeerBase } from '../ipv4/route.ts';
import { Fib6 } from '../ipv6/route.ts';
import { AF_INET, AF_INET6 } from './socket-constants.ts';

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

  /** The TCP socket tables (net->ipv4.tcp_death_row.hashinfo): the boot's shared tcp_hashinfo unless a netns gets its own. */
  tcp_hashinfo: InetHashinfo;
  /** net->ipv4.udp_table. */
  udp_table: UdpTable;

  // net.ipv4.* sysctls, with the kernel's defaults.
  sysctl_ip_default_ttl = 64;
  sysctl_ip_forward = 0;
  sysctl_ip_no_pmtu_disc = 0;
  sysctl_icmp_echo_ignore_all = 0;
  sysctl_icmp_echo_ignore_broadcasts = 1;
  /** icmp_ratelimit (ms) and icmp_ratemask (which types are limited: dest unreach, source quench, time exceeded, param problem). */
  sysctl_icmp_ratelimit = 1000;
  sysctl_icmp_ratemask = 0x1818;
  /** icmp_msgs_per_sec / icmp_msgs_burst: the global ICMP token bucket. */
  sysctl_icmp_msgs_per_sec = 1000;
  sysctl_icmp_msgs_burst = 50;
  /** tcp_syncookies: 0 never, 1 when the SYN queue overflows, 2 always. */
  sysctl_tcp_syncookies = 1;
  /** tcp_max_syn_backlog: max(128, ehash buckets / 128), as tcp_sk_init sets it. */
  sysctl_max_syn_backlog = 128;
  sysctl_tcp_timestamps = 1;
  sysctl_tcp_sack = 1;
  sysctl_tcp_dsack = 1;
  sysctl_tcp_window_scaling = 1;
  sysctl_tcp_ecn = 2;
  /** tcp_fin_timeout, seconds (TCP_FIN_TIMEOUT). */
  sysctl_tcp_fin_timeout = 60;
  sysctl_tcp_syn_retries = 6;
  sysctl_tcp_synack_retries = 5;
  sysctl_tcp_retries1 = 3;
  sysctl_tcp_retries2 = 15;
  sysctl_tcp_orphan_retries = 0;
  /** tcp_rmem / tcp_wmem: min, default, max bytes. */
  sysctl_tcp_rmem: [number, number, number] = [4096, 131072, 6291456];
  sysctl_tcp_wmem: [number, number, number] = [4096, 16384, 4194304];
  sysctl_tcp_congestion_control = 'cubic';
  sysctl_tcp_abort_on_overflow = 0;
  sysctl_tcp_max_tw_buckets = 262144;
  /** net->ipv4.tcp_death_row.tw_refcount: 1 plus the TIME_WAIT sockets alive (inet_twsk_alloc's limit). */
  tw_refcount = 1;
  sysctl_tcp_tw_reuse = 2;
  sysctl_tcp_rfc1337 = 0;
  sysctl_tcp_adv_win_scale = 1;
  sysctl_tcp_app_win = 31;
  sysctl_tcp_moderate_rcvbuf = 1;
  sysctl_tcp_autocorking = 1;
  sysctl_tcp_min_snd_mss = 48;
  sysctl_tcp_base_mss = 1024;
  sysctl_tcp_mtu_probing = 0;
  sysctl_tcp_slow_start_after_idle = 1;
  sysctl_tcp_reordering = 3;
  sysctl_tcp_max_reordering = 300;
  sysctl_tcp_early_retrans = 3;
  /** tcp_recovery: 1 = RACK loss detection. */
  sysctl_tcp_recovery = 1;
  sysctl_tcp_frto = 2;
  sysctl_tcp_limit_output_bytes = 1048576;
  sysctl_tcp_challenge_ack_limit = 1000;
  sysctl_tcp_invalid_ratelimit = 500;
  sysctl_tcp_notsent_lowat = 0xffffffff;
  sysctl_tcp_min_rtt_wlen = 300;
  sysctl_tcp_comp_sack_nr = 44;
  sysctl_tcp_delack_max_ms = 200;
  sysctl_tcp_rto_min_us = 200000;
  sysctl_tcp_keepalive_time = 7200;
  sysctl_tcp_keepalive_probes = 9;
  sysctl_tcp_keepalive_intvl = 75;
  sysctl_udp_rmem_min = 4096;
  sysctl_udp_wmem_min = 4096;

  // --- The IP layer's state (net/ipv4: route.c, fib, arp.c, icmp.c, ip_output.c) ---
  /** The local and main FIB tables. */
  readonly fib = new Fib4();
  /** arp_tbl's entries of this netns (set by the Net constructor: the table reads the clock). */
  arp_tbl!: NeighTable;
  /** inet_peer rate limits of ICMP errors (icmpv4_xrlim_allow), by destination. */
  readonly inet_peers = new InetPeerBase();
  /** The global ICMP token bucket (icmp_global_allow): credit and the jiffies of the last refill. */
  icmp_global_credit = 0;
  icmp_global_stamp = 0;
  /** ip_idents / ip_tstamps (__ip_select_ident) and the key that spreads flows over them. */
  ip_idents: Uint32Array | null = null;
  ip_tstamps: Uint32Array | null = null;
  ip_id_key = 0;
  /** icmp_errors_use_inbound_ifaddr: errors about forwarded datagrams from the inbound device's address. */
  sysctl_icmp_errors_use_inbound_ifaddr = 0;
  /** arp_ignore / arp_announce (conf/all; a device's own cnf may raise them): 0, answer for any local address; probe from any local source. */
  sysctl_arp_ignore = 0;
  sysctl_arp_announce = 0;
  /** conf/all/accept_source_route: 0, source-routed datagrams are dropped. */
  sysctl_accept_source_route = 0;
  /** conf/all/accept_local: 0, a datagram from one of our own addresses on a wire is a martian. */
  sysctl_accept_local = 0;

  constructor(tables: { tcp_hashinfo?: InetHashinfo; udp_table?: UdpTable } = {}) {
    this.tcp_hashinfo = tables.tcp_hashinfo ?? new InetHashinfo({ ehash_entries: 4096, lhash2_entries: 256, bhash_entries: 1024 });
    this.udp_table = tables.udp_table ?? new UdpTable();
    this.sysctl_max_syn_backlog = Math.max(128, (this.tcp_hashinfo.ehash_mask + 1) / 128);
  }
}

/** struct netns_ipv6's sysctls. */
export class NetnsIpv6 {
  /** net.ipv6.bindv6only: new AF_INET6 sockets start IPV6_V6ONLY. */
  sysctl_bindv6only = 0;
  /** The default hop limit (devconf hop_limit). */
  sysctl_hop_limit = 64;
  sysctl_icmpv6_echo_ignore_all = 0;
  sysctl_icmpv6_ratelimit = 1000;

  // --- The IPv6 layer's state (net/ipv6: route.c, ndisc.c, icmp.c) ---
  readonly fib6 = new Fib6();
  /** nd_tbl's entries of this netns (set by the Net constructor). */
  nd_tbl!: NeighTable;
  /** icmpv6 ratemask: every error type but Packet Too Big (types 0-1, 3-127). */
  readonly sysctl_icmpv6_ratemask = icmpv6_ratemask_default();
  /** inet_peer rate limits of ICMPv6 errors, by destination. */
  readonly inet_peers = new InetPeerBase();
  /** ipv6 devconf accept_dad / the flowlabel and fragment ident state, as far as output needs. */
  ip6_id = 0;
}

function icmpv6_ratemask_default(): Uint8Array {
  const m = new Uint8Array(256).fill(1, 0, 128);
  m[2] = 0;
  return m;
}

/** net.core.* sysctls. */
export class NetnsCore {
  sysctl_somaxconn = 4096;
  sysctl_rmem_default = 212992;
  sysctl_rmem_max = 212992;
  sysctl_wmem_default = 212992;
  sysctl_wmem_max = 212992;
  sysctl_netdev_max_backlog = 1000;
}

export interface NetOptions {
  /** net_hash_mix(net): mixed into every table hash. Default: random (from the boot's PRNG). */
  hash_mix?: number;
  /** raw_smp_processor_id() of the CPU this netns's packets are processed on. Default 0. */
  cpu?: number;
  /** Share TCP/UDP tables with another netns (the kernel's default: one tcp_hashinfo per boot). */
  tcp_hashinfo?: InetHashinfo;
  udp_table?: UdpTable;
}

export class Net {
  readonly boot: BootState;
  readonly hash_mix: number;
  /** net->net_cookie (bpf_get_netns_cookie). */
  readonly net_cookie: number;
  readonly ipv4: NetnsIpv4;
  readonly ipv6 = new NetnsIpv6();
  readonly core = new NetnsCore();
  /** The devices and packet handlers (dev_base_head, ptype lists). */
  readonly dev_base = new NetDevBase();
  /** The SNMP counters (net->mib). */
  readonly mib = new NetnsMib();
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
  /** net->loopback_dev: `lo`, where output routes to local addresses point (loopback_init). */
  loopback_dev: NetDevice | null = null;

  constructor(boot: BootState, options: NetOptions = {}) {
    this.boot = boot;
    this.ipv4 = new NetnsIpv4({ tcp_hashinfo: options.tcp_hashinfo, udp_table: options.udp_table });
    this.hash_mix = (options.hash_mix ?? boot.random.get_random_u32()) | 0;
    this.portaddr_hash_any = jhash1word(0, this.hash_mix) | 0;
    this.net_cookie = boot.next_net_cookie();
    this.cpu = options.cpu ?? 0;
    this.ipv4.arp_tbl = new NeighTable(this, AF_INET);
    this.ipv6.nd_tbl = new NeighTable(this, AF_INET6);
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

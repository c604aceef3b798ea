// net/'s public surface so far: time (clocks and timers), the socket structures, SO_REUSEPORT
// groups, the SK_LOOKUP hook point, and the TCP and UDP socket tables with their lookups.
export { ERRNO, errnoName, type ErrnoName } from '../bpf-vm/errno.ts';
export { NetError } from './core/errors.ts';
export { ERR_PTR, ERR_ECONNREFUSED, IS_ERR, PTR_ERR, type ErrPtr } from './core/err-ptr.ts';
export {
  HZ, NSEC_PER_SEC, NSEC_PER_MSEC, NSEC_PER_JIFFY, TimerList, timer_pending, msecs_to_jiffies, jiffies_to_msecs,
  type Clock, type TimerFn,
} from './core/clock.ts';
export { TimerBase, TimerClock } from './core/timer-base.ts';
export { VirtualClock } from './core/virtual-clock.ts';
export { RealClock, type RealClockOptions } from './core/real-clock.ts';
export { Prandom } from './core/random.ts';
export { BootState, type BootStateOptions, type HashSecrets } from './core/boot-state.ts';
export { Net, NetnsIpv4, net_eq, net_hash_mix, inet_get_local_port_range, inet_is_local_reserved_port, type NetOptions } from './core/net-namespace.ts';
export { cpu_to_be16, cpu_to_be32 } from './core/byteorder.ts';
export { reciprocal_scale } from './core/math.ts';
export {
  In6Addr, in6addr_any, ipv6_addr_equal, ipv6_addr_any, ipv6_addr_v4mapped, ipv6_addr_set_v4mapped, ipv6_addr_type, IPV6_ADDR_TYPES,
  type ReadonlyIn6Addr,
} from './core/in6-addr.ts';
export { inet_pton4, inet_ntop4, inet_pton6, inet_ntop6 } from './core/inet-addr.ts';
export * from './core/socket-constants.ts';
export * from './core/tcp-states.ts';
export {
  SockCommon, sock_net, ipv6_only_sock, sk_unhashed, sk_rcv_saddr_set, sk_daddr_set, sk_v6_rcv_saddr_set, sk_v6_daddr_set,
  ipv6_addr_v4_view, inet_rcv_saddr_any, inet6_rcv_saddr,
} from './core/sock-common.ts';
export { Sock, sk_alloc, sk_fullsock, sock_i_uid } from './core/sock.ts';
export { RequestSock, inet_reqsk_alloc, inet_reqsk } from './core/request-sock.ts';
export { sock_gen_cookie } from './core/sock-diag.ts';
export {
  SockReuseport, REUSEPORT_MAX_SOCKS, reuseport_alloc, reuseport_add_sock, reuseport_detach_sock, reuseport_stop_listen_sock,
  reuseport_attach_prog, reuseport_select_sock, reuseport_has_conns, reuseport_has_conns_set, reuseport_update_incoming_cpu,
  type SkReuseportProg, type SkBuffRef,
} from './core/sock-reuseport.ts';
export {
  SkLookupRunArray, BpfSkLookupKern, SK_ACTIONS, SK_DROP, SK_PASS, BPF_SK_LOOKUP_FLAGS, NETNS_BPF_MAX_PROGS, type SkLookupProg,
  NetnsBpfLink, netns_bpf_link_create, bpf_netns_link_update_prog, bpf_netns_link_detach, netns_bpf_links,
  BPF_LINK_TYPE_NETNS, BPF_SK_LOOKUP_ATTACH_TYPE, type SkLookupLinkProg, type NetnsLinkInfo,
} from './core/sk-lookup.ts';
export {
  inet_ehashfn, inet6_ehashfn, udp_ehashfn, udp6_ehashfn, __ipv6_addr_jhash, ipv4_portaddr_hash, ipv6_portaddr_hash, inet_bhashfn,
  udp_hashfn, type InetEhashfn, type Inet6Ehashfn,
} from './ipv4/inet-hashfn.ts';
export { InetHashinfo, inet_ehash_bucket, inet_lhash2_bucket, type InetHashinfoOptions } from './ipv4/inet-hashinfo.ts';
export {
  InetBindBucket, inet_bind_bucket_find, inet_bind_bucket_create, inet_bind_bucket_destroy, inet_bind_hash, inet_put_port, __inet_inherit_port,
} from './ipv4/inet-bind-bucket.ts';
export {
  inet_rcv_saddr_equal, inet_csk_bind_conflict, inet_csk_find_open_port, inet_csk_get_port, inet_csk_listen_start,
} from './ipv4/inet-connection-sock.ts';
export {
  sk_ehashfn, inet_lhash2_hash_sk, inet_ehash_insert, inet_ehash_nolisten, inet_ehash_del, __inet_hash, inet_hash, inet_unhash,
} from './ipv4/inet-hash.ts';
export {
  inet_bound_dev_eq, inet_sk_bound_dev_eq, inet_match, compute_score as inet_compute_score, inet_lookup_reuseport, inet_lookup_run_sk_lookup,
  __inet_lookup_listener, __inet_lookup_established, __inet_lookup, inet_steal_sock, __inet_lookup_skb,
} from './ipv4/inet-hashtables.ts';
export {
  InetTimewaitSock, TCP_TIMEWAIT_LEN, inet_twsk, inet_twsk_alloc, inet_twsk_hashdance_schedule, inet_twsk_kill, inet_twsk_deschedule_put,
} from './ipv4/inet-timewait-sock.ts';
export { __inet_bind, inet_reset_saddr, type GetPort } from './ipv4/af-inet.ts';
export {
  UdpTable, UDP_HTABLE_SIZE_MIN, udp_hashslot, udp_hashslot2, udp_lib_get_port, udp_v4_get_port, udp_v6_get_port, udp_lib_unhash,
  udp_lib_rehash, udp_v4_rehash, udp_v6_rehash, type UdpTableOptions,
} from './ipv4/udp-table.ts';
export { UDP_HLEN, udp_sk_bound_dev_eq, compute_score as udp_compute_score, __udp4_lib_lookup } from './ipv4/udp-lookup.ts';
export { ip4_datagram_connect } from './ipv4/datagram.ts';
export {
  inet6_match, compute_score as inet6_compute_score, inet6_lookup_reuseport, inet6_lookup_run_sk_lookup, inet6_lookup_listener,
  __inet6_lookup_established, __inet6_lookup, inet6_steal_sock, __inet6_lookup_skb,
} from './ipv6/inet6-hashtables.ts';
export { __inet6_bind } from './ipv6/af-inet6.ts';
export { compute_score as udp6_compute_score, __udp6_lib_lookup } from './ipv6/udp6-lookup.ts';
export { ip6_datagram_connect } from './ipv6/datagram.ts';

// --- packets, devices, the IP layer (issue 15) ---
export * from './core/skbuff.ts';
export * from './core/netdevice.ts';
export * from './core/dev.ts';
export * from './core/veth.ts';
export * from './core/loopback.ts';
export * from './core/neighbour.ts';
export * from './core/checksum.ts';
export * from './core/flow.ts';
export * from './core/snmp.ts';
export * from './core/siphash.ts';
export * from './core/msghdr.ts';
export * from './core/socket-options.ts';
export type { Proto, SockoptValue } from './core/proto.ts';
export * from './ethernet/eth.ts';
export * from './sched/pkt-cls.ts';
export * from './ipv4/protocol.ts';
export * from './ipv4/route.ts';
export * from './ipv4/devinet.ts';
export * from './ipv4/arp.ts';
export * from './ipv4/ip-input.ts';
export * from './ipv4/ip-output.ts';
export * from './ipv4/icmp.ts';
export * from './ipv6/addrconf.ts';
export * from './ipv6/ip6-input.ts';
export * from './ipv6/ip6-output.ts';
export * from './ipv6/ndisc.ts';
// --- sockets, UDP, TCP, SYN cookies, congestion control ---
export * from './socket.ts';
export * from './ipv4/syncookies.ts';
export * from './ipv4/tcp-cong.ts';
export * from './ipv4/tcp-sock.ts';
export * from './ipv4/inet-diag.ts';
export * from './stack.ts';
export * from './ipv6/route.ts';
export * from './ipv6/icmp.ts';
export * from './ipv6/syncookies.ts';
export * from './ipv4/udp.ts';
export * from './ipv6/udp.ts';
export * from './ipv4/tcp.ts';
export * from './ipv4/tcp-ipv4.ts';
export * from './ipv6/tcp-ipv6.ts';
export * from './ipv4/tcp-cubic.ts';
export * from './core/sock-opts.ts';
export * from './ipv4/ip-sockglue.ts';
export * from './ipv6/ipv6-sockglue.ts';
export * from './core/machine-stack.ts';
// --- BPF attached to the stacks (issue 16): tc (clsact + cls_bpf), socket filters, the listing ---
export * from './sched/cls-bpf.ts';
export * from './core/sk-filter.ts';
export * from './core/bpf-show.ts';
// The stack side of socket-aware BPF: the BpfNetHost, bpf_fib_lookup, socket maps, prefetched sockets.
export { NetBpfHost, net_bpf_host, sk_to_full_sk, bpf_sk_lookup_assign, BPF_SKB_MAX_LEN } from './core/filter.ts';
export { bpf_fib_lookup, BPF_FIB_LKUP_RET, BPF_FIB_LOOKUP, BPF_FIB_LOOKUP_PARAMS, BPF_FIB_LOOKUP_SIZE } from './core/bpf-fib-lookup.ts';
export { bpf_sock_refs_held, sk_is_refcounted } from './core/sock-refcnt.ts';
export { sock_pfree, skb_sk_is_prefetched, skb_prefetched } from './core/skb-steal-sock.ts';
// The stack side of the SYN cookie kfunc (issue 17): bpf_sk_assign_tcp_reqsk and its attributes.
export {
  bpf_sk_assign_tcp_reqsk, BPF_TCP_REQ_ATTRS, bpf_tcp_req_attrs_write, TCP_MAX_WSCALE, BPF_TCP_REQSK_MAX, type BpfTcpReqAttrs,
} from './core/bpf-tcp-reqsk.ts';
export { reqsk_bpf_live } from './core/request-sock.ts';
export { sock_diag_lookup, sock_diag_forget } from './core/sock-diag.ts';
export {
  sock_map_update_elem_sys, sock_map_update_elem, sock_map_delete_elem_sys, sock_map_links, sock_map_sk_is_suitable, sock_map_sk_state_allowed,
} from './core/sock-map.ts';

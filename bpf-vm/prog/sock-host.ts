// What the socket-aware program types need from a network stack, as interfaces bpf-vm defines and
// net implements (architecture.md: bpf-vm imports nothing of ours). A program of vxo runs against
// these: tc (SCHED_CLS/ACT) and socket filters against a BpfSkb, SK_LOOKUP against a
// BpfSkLookupKern, and every socket helper (bpf_sk_lookup_*, bpf_sk_assign, the sockmap lookups,
// bpf_tcp_check_syncookie, bpf_fib_lookup, ...) through the BpfNetHost of the machine it runs on.
// Without a host (a bare BPF_PROG_TEST_RUN with no stack) the lookups find nothing, as in a netns
// with no sockets, and the stack-only helpers return the kernel's errno for "no such thing".
//
// Sockets cross this boundary as opaque references (BpfSockRef): bpf-vm never reads a socket's
// fields itself; it asks the host to write struct bpf_sock / struct bpf_tcp_sock into the bytes
// the program reads (bpf-sock.ts has the layouts).
//
// The one exception is a BTF-typed pointer (struct tcp_sock from bpf_skc_to_tcp_sock, a pointer
// member, bpf_cast_to_kern_ctx's struct sk_buff): its bytes are the kernel struct's, read from the
// object's properties named by vxo's kernel BTF (KernelField.model; interp/btf-views.ts), the one
// description of vxo's objects that both sides share.

/** A socket of the host's stack (net's SockCommon: full socket, request or TIME_WAIT socket). */
export type BpfSockRef = object;

/**
 * The fields of an sk_buff that __sk_buff and the skb helpers reach (net's SkBuff has them under
 * these names; it is passed as is, no adapter). Offsets index `head`; the packet is head[data,
 * data + len), linear; `meta_len` bytes of XDP metadata precede data (data_meta).
 */
export interface BpfSkb {
  head: Uint8Array;
  view: DataView;
  data: number;
  tail: number;
  end: number;
  len: number;
  mac_header: number;
  network_header: number;
  transport_header: number;
  mac_len: number;
  /** Host order (ETH_P_IP ...); __sk_buff.protocol is the network-order value. */
  protocol: number;
  pkt_type: number;
  mark: number;
  priority: number;
  queue_mapping: number;
  hash: number;
  tc_index: number;
  tc_classid: number;
  tstamp: number;
  skb_iif: number;
  meta_len: number;
  /** qdisc_skb_cb's data[20]: __sk_buff.cb[0..4]. */
  readonly bpf_cb: Uint8Array;
  readonly dev: { readonly ifindex: number } | null;
  sk: BpfSockRef | null;
}

/** struct bpf_sk_lookup_kern (net/core/sk-lookup.ts BpfSkLookupKern has these fields). */
export interface BpfSkLookupKern {
  family: number;
  protocol: number;
  /** Host-order IPv4 addresses. */
  v4_saddr: number;
  v4_daddr: number;
  /** IPv6 addresses as four host-order words (w0 = the first four bytes). */
  v6_saddr: { readonly w0: number; readonly w1: number; readonly w2: number; readonly w3: number };
  v6_daddr: { readonly w0: number; readonly w1: number; readonly w2: number; readonly w3: number };
  /** Host order. */
  sport: number;
  dport: number;
  ingress_ifindex: number;
  selected_sk: BpfSockRef | null;
  no_reuseport: boolean;
}

/** Where a lookup helper was called from: the device and netns it sees (the skb's or the xdp_buff's). */
export interface BpfLookupCaller {
  /** dev->ifindex of the skb or of the XDP receive queue (the lookup's dif). */
  ifindex: number;
  /** The skb, for tc callers (its sk, its headers); null from XDP. */
  skb: BpfSkb | null;
}

/** bpf_sk_lookup_*'s protocol and what kind of socket it may return. */
export const BPF_SK_LOOKUP_KIND = {
  /** bpf_sk_lookup_tcp: a full socket (a request socket gives its listener). */
  SK_TCP: 0,
  /** bpf_sk_lookup_udp. */
  SK_UDP: 1,
  /** bpf_skc_lookup_tcp: any socket, request and TIME_WAIT sockets included. */
  SKC_TCP: 2,
} as const;
export type BpfSkLookupKind = (typeof BPF_SK_LOOKUP_KIND)[keyof typeof BPF_SK_LOOKUP_KIND];

export interface BpfNetHost {
  /** The netns's id as BPF sees it (bpf_sk_lookup's netns argument, sk_lookup's netns cookie). */
  readonly netns_id: number;

  /**
   * bpf_sk_lookup_tcp/udp, bpf_skc_lookup_tcp, after bpf-vm checked flags and the tuple size:
   * `tuple` holds struct bpf_sock_tuple's ipv4 (12 bytes) or ipv6 (36 bytes) form, addresses and
   * ports in network order; `netns` is the argument as a signed 64-bit value (negative: the
   * caller's netns). Runs the SK_LOOKUP programs as the stack's own lookup does. The socket, with
   * a reference taken when the kernel takes one, or null.
   */
  sk_lookup(caller: BpfLookupCaller, kind: BpfSkLookupKind, family: number, tuple: Uint8Array, netns: bigint): BpfSockRef | null;

  /** bpf_sk_release: drops the reference sk_lookup or a sockmap lookup took (no-op for RCU-freed sockets). */
  sk_release(sk: BpfSockRef): void;

  /** Writes struct bpf_sock (80 bytes, bpf-sock.ts BPF_SOCK; zeroed before) for `sk` at dv[off..]. */
  fill_bpf_sock(sk: BpfSockRef, dv: DataView, off: number): void;

  /** Writes struct bpf_tcp_sock (112 bytes) at dv[off..]; false when sk is not a full TCP socket. */
  fill_bpf_tcp_sock(sk: BpfSockRef, dv: DataView, off: number): boolean;

  /**
   * sk_fullsock(sk) && sk->sk_protocol == IPPROTO_TCP, of sk itself (a request socket is not its
   * listener here): what bpf_skc_to_tcp_sock checks, per packet. Optional: without it the answer
   * is fill_bpf_tcp_sock's.
   */
  sk_is_tcp_fullsock?(sk: BpfSockRef): boolean;

  /** sk_to_full_sk then sk_fullsock: the full socket of `sk` (a listener for a request socket), or null. */
  sk_fullsock(sk: BpfSockRef): BpfSockRef | null;

  /** sock_gen_cookie. */
  sk_cookie(sk: BpfSockRef): bigint;

  /** The socket with this cookie in this netns (how a sockmap entry, which holds the cookie, reaches its socket). */
  sk_by_cookie(cookie: bigint): BpfSockRef | null;

  /** bpf_sk_assign at tc ingress: 0 or a negative errno (bpf_sk_assign's checks). */
  sk_assign_skb(skb: BpfSkb, sk: BpfSockRef, flags: bigint): number;

  /**
   * The kfunc bpf_sk_assign_tcp_reqsk (SCHED_CLS only; Linux 6.9): `attrs` holds struct
   * bpf_tcp_req_attrs (20 bytes: u32 rcv_tsval, u32 rcv_tsecr, u16 mss, u8 rcv_wscale, snd_wscale,
   * ecn_ok, wscale_ok, sack_ok, tstamp_ok, usec_ts_ok, reserved[3]) as read from the program's
   * memory, `attrsSz` the attrs__sz argument, `atIngress` skb_at_tc_ingress. 0 or a negative errno
   * (-EINVAL, -ENETUNREACH, -ENOMEM). Optional: a host without it has no kfunc (the caller returns
   * -EOPNOTSUPP, as a kernel without CONFIG_SYN_COOKIES).
   */
  sk_assign_tcp_reqsk?(skb: BpfSkb, sk: BpfSockRef, attrs: Uint8Array, attrsSz: number, atIngress: boolean): number;

  /** bpf_sk_assign for SK_LOOKUP (bpf_sk_lookup_assign's checks): 0 or a negative errno; sets ctx.selected_sk. */
  sk_assign_lookup(ctx: BpfSkLookupKern, sk: BpfSockRef | null, flags: bigint): number;

  /** bpf_tcp_check_syncookie: 0 if the ACK's cookie is valid for listener sk, else a negative errno. */
  tcp_check_syncookie(sk: BpfSockRef, iph: Uint8Array, th: Uint8Array): number;

  /** bpf_tcp_gen_syncookie: (mss << 32) | cookie, or a negative errno. */
  tcp_gen_syncookie(sk: BpfSockRef, iph: Uint8Array, th: Uint8Array): bigint;

  /**
   * bpf_fib_lookup on the machine's routes and neighbours: `params` is struct bpf_fib_lookup (64
   * bytes), read and written in place. Returns BPF_FIB_LKUP_RET_* or a negative errno.
   */
  fib_lookup(params: Uint8Array, flags: number, ifindex: number): number;

  /**
   * skb helpers that reallocate or unshare: bpf_skb_change_tail, bpf_skb_pull_data (ensure
   * `len` bytes linear and writable: vxo's skbs are always linear, so this unshares a clone),
   * both 0 or a negative errno.
   */
  skb_change_tail(skb: BpfSkb, len: number, flags: bigint): number;
  skb_ensure_writable(skb: BpfSkb, len: number): number;
}

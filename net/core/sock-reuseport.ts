// SO_REUSEPORT groups (net/core/sock_reuseport.c). Sockets bound with SO_REUSEPORT to the same
// address and port by the same user share one struct sock_reuseport (sk_reuseport_cb). A lookup
// that finds one member asks the group which member gets the packet: the group's SK_REUSEPORT
// program if one is attached and there is a packet to run it on, else the member at
// reciprocal_scale(hash, num_socks), the hash being the flow's (inet_ehashfn for TCP, udp_ehashfn
// for UDP), so one flow always lands on one member while the group does not change.
//
// Not modelled: listener migration (net.ipv4.tcp_migrate_req and the closed-socket section of the
// array; with it off, the default, a listener that stops listening leaves its group at once) and
// the classic-BPF SO_ATTACH_REUSEPORT_CBPF filter.
import type { ErrPtr } from './err-ptr.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { reciprocal_scale } from './math.ts';
import { TCP_ESTABLISHED } from './tcp-states.ts';
import type { Sock } from './sock.ts';

/** The kernel's array is indexed by a u16. */
export const REUSEPORT_MAX_SOCKS = 0xffff;

/** The packet a lookup is for, as an SK_REUSEPORT program sees it. The skb model comes with the receive path. */
export type SkBuffRef = object;

/**
 * The hook point for an SK_REUSEPORT program (BPF_PROG_TYPE_SK_REUSEPORT), for a later issue to
 * fill: return the member it selected (bpf_sk_select_reuseport), undefined to let the hash choose
 * (SK_PASS without a selection), or ERR_ECONNREFUSED for SK_DROP, which fails the whole lookup.
 */
export interface SkReuseportProg {
  run(reuse: SockReuseport, sk: Sock, skb: SkBuffRef, hash: number, hdr_len: number): Sock | ErrPtr | undefined;
}

/** struct sock_reuseport. */
export class SockReuseport {
  /** reuseport_id: names the group to SK_REUSEPORT maps. */
  readonly reuseport_id: number;
  /** The members (socks[0..num_socks)). Removal moves the last member into the hole, as the kernel's does. */
  readonly socks: Sock[] = [];
  /** Members with SO_INCOMING_CPU set: while nonzero, selection prefers one on this CPU. */
  incoming_cpu = 0;
  /** The group is bound to the wildcard address. */
  bind_inany: boolean;
  /** A member is a connected UDP socket: lookups score the group's members instead of trusting the pick. */
  has_conns = false;
  /** The attached SK_REUSEPORT program: empty until a later issue attaches one. */
  prog: SkReuseportProg | null = null;
  /** Jiffies (u32) of the group's last SYN queue overflow, -1 before the first (tcp_synq_overflow). */
  synq_overflow_ts = -1;

  constructor(reuseport_id: number, bind_inany: boolean) {
    this.reuseport_id = reuseport_id;
    this.bind_inany = bind_inany;
  }

  get num_socks(): number {
    return this.socks.length;
  }
}

/** reuseport_alloc: a group of one for `sk`. 0. */
export function reuseport_alloc(sk: Sock, bind_inany: boolean): number {
  const reuse = sk.sk_reuseport_cb;
  if (reuse !== null) {
    // A group made earlier for this socket alone (a program attached before bind): keep it.
    if (bind_inany) reuse.bind_inany = true;
    return 0;
  }
  const group = new SockReuseport(sk.skc_net.boot.next_reuseport_id(), bind_inany);
  group.socks.push(sk);
  if (sk.skc_incoming_cpu >= 0) group.incoming_cpu++;
  sk.sk_reuseport_cb = group;
  return 0;
}

/** reuseport_add_sock: `sk` joins the group of `sk2`. 0, -EBUSY or -ENOMEM. */
export function reuseport_add_sock(sk: Sock, sk2: Sock, bind_inany: boolean): number {
  if (sk2.sk_reuseport_cb === null) {
    const err = reuseport_alloc(sk2, bind_inany);
    if (err) return err;
  }
  const reuse = sk2.sk_reuseport_cb!;
  const old = sk.sk_reuseport_cb;
  if (old === reuse) return 0;
  if (old !== null && old.num_socks !== 1) return -ERRNO.EBUSY;
  if (reuse.num_socks >= REUSEPORT_MAX_SOCKS) return -ERRNO.ENOMEM;
  reuse.socks.push(sk);
  sk.sk_reuseport_cb = reuse;
  if (sk.skc_incoming_cpu >= 0) reuse.incoming_cpu++;
  if (old !== null) old.socks.length = 0;
  return 0;
}

/** reuseport_detach_sock: `sk` leaves its group; the last member leaving frees it (and its program). */
export function reuseport_detach_sock(sk: Sock): void {
  const reuse = sk.sk_reuseport_cb;
  if (reuse === null) return;
  sk.sk_reuseport_cb = null;
  const socks = reuse.socks;
  const i = socks.indexOf(sk);
  if (i < 0) return;
  socks[i] = socks[socks.length - 1]!;
  socks.pop();
  if (sk.skc_incoming_cpu >= 0) reuse.incoming_cpu--;
  if (socks.length === 0) reuse.prog = null;
}

/** reuseport_stop_listen_sock: without migration, a listener that stops listening just leaves. */
export function reuseport_stop_listen_sock(sk: Sock): void {
  reuseport_detach_sock(sk);
}

/**
 * reuseport_attach_prog: the SK_REUSEPORT slot. An unhashed SO_REUSEPORT socket gets a group of its
 * own to hold the program until bind; a hashed one must already be in a group. 0 or -EINVAL.
 */
export function reuseport_attach_prog(sk: Sock, prog: SkReuseportProg | null): number {
  if (!sk.skc_hashed) {
    if (!sk.skc_reuseport) return -ERRNO.EINVAL;
    reuseport_alloc(sk, false);
  } else if (sk.sk_reuseport_cb === null) {
    return -ERRNO.EINVAL;
  }
  sk.sk_reuseport_cb!.prog = prog;
  return 0;
}

/**
 * reuseport_select_sock_by_hash: the member at reciprocal_scale(hash, n), stepping past connected
 * (TCP_ESTABLISHED) UDP members; with SO_INCOMING_CPU in use, the first member on this CPU from
 * there, else the first eligible one.
 */
function reuseport_select_sock_by_hash(reuse: SockReuseport, hash: number, num_socks: number, cpu: number): Sock | undefined {
  const socks = reuse.socks;
  let first_valid: Sock | undefined;
  let i = reciprocal_scale(hash, num_socks);
  const j = i;
  do {
    const sk = socks[i]!;
    if (sk.skc_state !== TCP_ESTABLISHED) {
      if (reuse.incoming_cpu === 0) return sk;
      if (sk.skc_incoming_cpu === cpu) return sk;
      if (first_valid === undefined) first_valid = sk;
    }
    if (++i >= num_socks) i = 0;
  } while (i !== j);
  return first_valid;
}

/**
 * reuseport_select_sock: which member of `sk`'s group gets the packet. The program decides when
 * there is one and a packet; an undefined answer (or none) falls back to the hash. Undefined when
 * `sk` is in no group.
 */
export function reuseport_select_sock(sk: Sock, hash: number, skb: SkBuffRef | null, hdr_len: number): Sock | ErrPtr | undefined {
  const reuse = sk.sk_reuseport_cb;
  if (reuse === null) return undefined;
  const socks = reuse.socks.length;
  if (socks === 0) return undefined;
  let sk2: Sock | ErrPtr | undefined;
  if (reuse.prog !== null && skb !== null) sk2 = reuse.prog.run(reuse, sk, skb, hash, hdr_len);
  if (sk2 === undefined) sk2 = reuseport_select_sock_by_hash(reuse, hash, socks, sk.skc_net.cpu);
  return sk2;
}

/** reuseport_has_conns: the group holds a connected UDP socket. */
export function reuseport_has_conns(sk: Sock): boolean {
  const reuse = sk.sk_reuseport_cb;
  return reuse !== null && reuse.has_conns;
}

/** reuseport_has_conns_set: called when a UDP member connects. */
export function reuseport_has_conns_set(sk: Sock): void {
  const reuse = sk.sk_reuseport_cb;
  if (reuse !== null) reuse.has_conns = true;
}

/** reuseport_update_incoming_cpu: SO_INCOMING_CPU, keeping the group's count of members that set it. */
export function reuseport_update_incoming_cpu(sk: Sock, val: number): void {
  const old = sk.skc_incoming_cpu;
  sk.skc_incoming_cpu = val;
  const reuse = sk.sk_reuseport_cb;
  if (reuse === null) return;
  if (old < 0 && val >= 0) reuse.incoming_cpu++;
  else if (old >= 0 && val < 0) reuse.incoming_cpu--;
}

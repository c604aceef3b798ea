// Socket filters (net/core/filter.c: sk_attach_bpf, sk_detach_filter, sk_filter_trim_cap): a
// BPF_PROG_TYPE_SOCKET_FILTER program attached to a socket with SO_ATTACH_BPF runs on every
// packet the protocol is about to queue to it (UDP's udp_queue_rcv_one_skb, TCP's tcp_filter)
// with skb->data where the protocol has it, the transport header. Its return value is the
// number of bytes to keep: 0 drops the packet (the caller counts it in sk_drops and its MIB and
// frees it as SOCKET_FILTER), fewer than the packet trims it, never below the protocol's header
// (`cap`).
//
// The kernel's socket has an sk_filter pointer; vxo's Sock has no field for it yet, so the
// filters live in a WeakMap behind a count of attached filters: a receive path with no filter
// anywhere pays one load and compare, as the kernel pays one pointer test.
//
// SO_ATTACH_BPF takes a program fd. Sockets here have no process around them, so a netns is given
// the fd table its programs are named in (sk_filter_set_fd_table: bpf-vm's FdTable, where
// `vxo` and the scenarios add loaded programs), and `sk_attach_bpf(sk, prog)` is the direct API.
import { BpfError } from '../../bpf-vm/errors.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';
import type { EngineName } from '../../bpf-vm/engines.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import type { BpfNetHost } from '../../bpf-vm/prog/sock-host.ts';
import { SkbProgramRunner } from '../../bpf-vm/prog/skb-runner.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import type { VerifyResult } from '../../bpf-vm/verifier/api.ts';
import type { Net } from './net-namespace.ts';
import type { Sock } from './sock.ts';
import { skb_trim, type SkBuff } from './skbuff.ts';
import { net_bpf_host } from './filter.ts';

/** The SOL_SOCKET option numbers (asm-generic/socket.h). */
export const SO_FILTER = {
  SO_ATTACH_FILTER: 26,
  /** getsockopt's name for 26. */
  SO_GET_FILTER: 26,
  SO_DETACH_FILTER: 27,
  SO_DETACH_BPF: 27,
  SO_LOCK_FILTER: 44,
  SO_ATTACH_BPF: 50,
} as const;

/** The runner options a filter is built with. */
export interface SkFilterOptions {
  engine?: EngineName;
  /** The stack the program runs in (socket helpers); the socket's netns's (net_bpf_host) by default. */
  netHost?: BpfNetHost;
  verify?: boolean | VerifyResult;
  seed?: number;
  cpu?: number;
}

/** What the filter did (vxo's counters; the kernel counts only the drops, in sk_drops). */
export class SkFilterStats {
  runs = 0;
  /** Returned 0: dropped. */
  drops = 0;
  /** Returned less than the packet: trimmed. */
  trims = 0;
  /** Faulted (an unverified program only): dropped. */
  faults = 0;
}

/** struct sk_filter: the program and its runner. */
export class SkFilter {
  readonly stats = new SkFilterStats();
  constructor(
    readonly prog: Program,
    readonly runner: SkbProgramRunner,
  ) {}
}

const locked = new WeakSet<Sock>();

/** rcu_dereference(sk->sk_filter). */
export function sk_filter(sk: Sock): SkFilter | undefined {
  return sk.sk_filter ?? undefined;
}

/** sock_flag(sk, SOCK_FILTER_LOCKED). */
export function sk_filter_locked(sk: Sock): boolean {
  return locked.has(sk);
}

/** SO_LOCK_FILTER: once set it cannot be cleared (-EPERM); while set, no attach or detach. */
export function sk_lock_filter(sk: Sock, on: boolean): number {
  if (locked.has(sk) && !on) return -ERRNO.EPERM;
  if (on) locked.add(sk);
  return 0;
}

function set_filter(sk: Sock, f: SkFilter | undefined): void {
  sk.sk_filter = f ?? null;
}

/**
 * sk_attach_bpf with the program itself: 0, -EPERM on a locked socket, -EINVAL for a program
 * that is not a SOCKET_FILTER (bpf_prog_get_type). An existing filter is replaced, as
 * __sk_attach_prog does. The runner is built here (verifying the program, as its load would).
 */
export function sk_attach_bpf(sk: Sock, prog: Program, o: SkFilterOptions = {}): number {
  if (locked.has(sk)) return -ERRNO.EPERM;
  if (prog.type !== BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER) return -ERRNO.EINVAL;
  const netHost = o.netHost ?? net_bpf_host(sk.skc_net);
  const runner = new SkbProgramRunner(prog, { engine: o.engine, netHost, verify: o.verify, seed: o.seed, cpu: o.cpu });
  set_filter(sk, new SkFilter(prog, runner));
  return 0;
}

/** sk_detach_filter (SO_DETACH_FILTER / SO_DETACH_BPF): 0, -EPERM on a locked socket, -ENOENT without a filter. */
export function sk_detach_filter(sk: Sock): number {
  if (locked.has(sk)) return -ERRNO.EPERM;
  if (sk.sk_filter === null) return -ERRNO.ENOENT;
  set_filter(sk, undefined);
  return 0;
}

/**
 * sk_destruct's sk_filter_uncharge: a socket that is going away lets go of its filter (the lock
 * does not apply). The stack's receive paths skip the filter lookup once no socket has one.
 */
export function sk_filter_release(sk: Sock): void {
  set_filter(sk, undefined);
  locked.delete(sk);
}

/** sk_clone_lock's share of the filter: a child (an accepted TCP socket) inherits its listener's filter and lock. */
export function sk_filter_inherit(newsk: Sock, sk: Sock): void {
  const f = sk_filter(sk);
  if (f !== undefined) set_filter(newsk, f);
  if (locked.has(sk)) locked.add(newsk);
}

/** Where a netns's SO_ATTACH_BPF finds programs by fd: bpf-vm's FdTable has this shape. */
export interface BpfProgFdTable {
  getProgram(fd: number): Program | undefined;
  /** Maps are fds too: naming one is -EINVAL, not -EBADF. */
  get?(fd: number): unknown;
}

interface NetFds {
  table: BpfProgFdTable;
  opts: SkFilterOptions;
}
const fd_tables = new WeakMap<Net, NetFds>();

/** Gives net's sockets an fd table for SO_ATTACH_BPF, and the runner options its filters get. */
export function sk_filter_set_fd_table(net: Net, table: BpfProgFdTable, opts: SkFilterOptions = {}): void {
  fd_tables.set(net, { table, opts });
}

/**
 * SO_ATTACH_BPF (sk_attach_bpf(ufd, sk)): -EPERM on a locked socket, -EBADF for an fd that is
 * nothing (or a netns with no fd table), -EINVAL for an fd that is not a program or a program of
 * another type.
 */
export function sk_attach_bpf_fd(sk: Sock, ufd: number): number {
  if (locked.has(sk)) return -ERRNO.EPERM;
  const fds = fd_tables.get(sk.skc_net);
  if (fds === undefined || ufd < 0) return -ERRNO.EBADF;
  const prog = fds.table.getProgram(ufd);
  if (prog === undefined) return fds.table.get?.(ufd) !== undefined ? -ERRNO.EINVAL : -ERRNO.EBADF;
  return sk_attach_bpf(sk, prog, fds.opts);
}

/** sk_get_filter (getsockopt SO_GET_FILTER): 0 without a filter; an eBPF program has no classic form to copy out (-EACCES). */
export function sk_get_filter(sk: Sock): number {
  return sk.sk_filter !== null ? -ERRNO.EACCES : 0;
}


/**
 * sk_filter_trim_cap: runs sk's filter on skb (skb->data where the protocol has it). 0 to go on
 * (the skb trimmed to what the program kept, never below `cap` bytes), or -EPERM when the program
 * returned 0 or faulted: the caller drops with SKB_DROP_REASON_SOCKET_FILTER and counts.
 */
export function sk_filter_trim_cap(sk: Sock, skb: SkBuff, cap: number): number {
  const f = sk_filter(sk);
  if (f === undefined) return 0;
  const st = f.stats;
  st.runs++;
  const save_sk = skb.sk;
  // bpf_prog_run_save_cb: the program sees __sk_buff.cb zeroed and the skb keeps what it had. Five
  // words in locals rather than typed-array set/fill calls: this runs for every datagram of a
  // filtered flood.
  const w = skb.bpf_cb_words;
  const c0 = w[0]!, c1 = w[1]!, c2 = w[2]!, c3 = w[3]!, c4 = w[4]!;
  w[0] = w[1] = w[2] = w[3] = w[4] = 0;
  skb.sk = sk;
  let pkt_len: number;
  try {
    pkt_len = f.runner.run(skb, false) >>> 0;
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    st.faults++;
    pkt_len = 0;
  } finally {
    skb.sk = save_sk;
    w[0] = c0; w[1] = c1; w[2] = c2; w[3] = c3; w[4] = c4;
  }
  if (pkt_len === 0) {
    st.drops++;
    return -ERRNO.EPERM;
  }
  const keep = pkt_len > cap ? pkt_len : cap;
  if (keep < skb.len) {
    st.trims++;
    skb_trim(skb, keep);
  }
  return 0;
}

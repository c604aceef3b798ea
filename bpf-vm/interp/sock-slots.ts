// Socket pointers at run time. A pointer a program holds to a socket (from bpf_sk_lookup_*, a
// sockmap lookup, skb->sk or the SK_LOOKUP context) is a region-tagged pointer like any other: each
// socket handed to the program gets a slot, a small read-only region into which the host wrote
// struct bpf_sock (and, once asked for, struct bpf_tcp_sock), so loads through it are plain region
// loads on both engines. The slot remembers the socket (for bpf_sk_release, bpf_sk_assign, ...)
// and whether it holds a reference. A released slot's region is emptied, so a use after release
// faults even in an unverified run; every slot is released when the run ends.
//
// BTF-typed pointers to the same sockets (bpf_skc_to_tcp_sock's struct tcp_sock) are views
// (interp/btf-views.ts) kept beside the slots: a socket helper takes either, a view made by a cast
// shares its slot's reference, and releasing either releases the socket and empties both.
import { RuntimeFault } from '../errors.ts';
import { BPF_SOCK_SIZE, SOCK_SLOT } from '../prog/bpf-sock.ts';
import type { BpfNetHost, BpfSockRef } from '../prog/sock-host.ts';
import { BtfViews } from './btf-views.ts';
import { Region, regionTag } from './regions.ts';

/** Sockets one run may hold at once; a verified program releases what it looks up. */
export const MAX_SOCK_SLOTS = 64;

export class SockSlots {
  private readonly regions: (Region | undefined)[] = [];
  private readonly socks: (BpfSockRef | null)[] = [];
  private readonly refs: boolean[] = [];
  /** Slots in use (a stack of free indexes would be more general; programs hold few sockets). */
  private used = 0;
  /** BTF-typed pointers (regions after the slots'). */
  readonly views: BtfViews;

  constructor(
    /** The region table of the environment (ExecEnv.regions), where slot i is region firstId + i. */
    private readonly table: (Region | undefined)[],
    readonly firstId: number,
  ) {
    this.views = new BtfViews(table, firstId + MAX_SOCK_SLOTS);
  }

  /**
   * Hands `sk` to the program: fills a free slot's struct bpf_sock and returns the pointer's high
   * half (the low half is SOCK_SLOT.SOCK). `ref`: the slot holds a reference to release.
   */
  acquire(host: BpfNetHost, sk: BpfSockRef, ref: boolean, pc: number): number {
    let i = 0;
    while (i < this.used && this.socks[i] !== null) i++;
    if (i >= MAX_SOCK_SLOTS) throw new RuntimeFault(pc, `more than ${MAX_SOCK_SLOTS} sockets held at once`);
    if (i === this.used) this.used++;
    const id = this.firstId + i;
    let r = this.regions[i];
    if (r === undefined) {
      r = new Region(id, 'sock', 'sock', new Uint8Array(SOCK_SLOT.SIZE), false);
      this.regions[i] = r;
      this.table[id] = r;
    }
    // struct bpf_sock only: the tcp_sock half stays out of reach (hi) until exposeTcpSock fills it.
    r.u8.fill(0, SOCK_SLOT.SOCK, SOCK_SLOT.SOCK + BPF_SOCK_SIZE);
    host.fill_bpf_sock(sk, r.dv, SOCK_SLOT.SOCK);
    r.lo = SOCK_SLOT.SOCK;
    r.hi = SOCK_SLOT.SOCK + BPF_SOCK_SIZE;
    this.socks[i] = sk;
    this.refs[i] = ref;
    return regionTag(id);
  }

  /**
   * A pointer to `sk` that holds no reference (ctx->sk of SK_LOOKUP, skb->sk): the slot already
   * showing it, or a new one, so that a program loading the field again and again uses one slot.
   */
  view(host: BpfNetHost, sk: BpfSockRef, pc: number): number {
    for (let i = 0; i < this.used; i++) if (this.socks[i] === sk && this.refs[i] !== true) return regionTag(this.firstId + i);
    return this.acquire(host, sk, false, pc);
  }

  /** The socket a pointer's high half names (a slot or a BTF view of a socket), or undefined (none, or released). */
  get(hi: number): BpfSockRef | undefined {
    const i = (hi & 0xffff) - this.firstId;
    if ((hi >>> 16) !== 0xffff || i < 0) return undefined;
    if (i >= MAX_SOCK_SLOTS) return this.views.sockOf(hi);
    if (i >= this.used) return undefined;
    return this.socks[i] ?? undefined;
  }

  /** The slot a pointer names, directly or through a BTF view tied to it; -1 otherwise. */
  slotOf(hi: number): number {
    const i = (hi & 0xffff) - this.firstId;
    if ((hi >>> 16) !== 0xffff || i < 0) return -1;
    if (i >= MAX_SOCK_SLOTS) return this.views.tieOf(hi);
    return i < this.used && this.socks[i] !== null ? i : -1;
  }

  /**
   * Makes the slot's struct bpf_tcp_sock readable (bpf_tcp_sock): false when
   * the host says the socket is not a full TCP socket.
   */
  exposeTcpSock(host: BpfNetHost, hi: number): boolean {
    const i = (hi & 0xffff) - this.firstId;
    const sk = this.get(hi);
    const r = this.regions[i];
    if (sk === undefined || r === undefined) return false;
    r.u8.fill(0, SOCK_SLOT.TCP_SOCK, SOCK_SLOT.SIZE);
    if (!host.fill_bpf_tcp_sock(sk, r.dv, SOCK_SLOT.TCP_SOCK)) return false;
    r.hi = SOCK_SLOT.SIZE;
    return true;
  }

  /**
   * bpf_sk_release: drops the slot, and its reference if it holds one, with the BTF views tied to
   * it (a view passed in releases its slot). False if it was no socket.
   */
  release(host: BpfNetHost | undefined, hi: number): boolean {
    const sk = this.get(hi);
    if (sk === undefined) return false;
    let i = (hi & 0xffff) - this.firstId;
    if (i >= MAX_SOCK_SLOTS) {
      i = this.views.tieOf(hi);
      // A view holding no reference (a pointer member's socket): only the view goes.
      if (i < 0) return this.views.release(hi);
    }
    if (this.refs[i] === true && host !== undefined) host.sk_release(sk);
    this.free(i);
    return true;
  }

  /** At the end of a run: whatever is still held goes (only an unverified program can leak). */
  reset(host: BpfNetHost | undefined): void {
    for (let i = 0; i < this.used; i++) {
      const sk = this.socks[i];
      if (sk === null || sk === undefined) continue;
      if (this.refs[i] === true && host !== undefined) host.sk_release(sk);
      this.free(i);
    }
    this.used = 0;
    this.views.reset();
  }

  /** Slots and views in use: nonzero when a run left something to reset. */
  get inUse(): number {
    return this.used + this.views.inUse;
  }

  private free(i: number): void {
    this.socks[i] = null;
    this.refs[i] = false;
    this.views.dropTie(i);
    const r = this.regions[i];
    if (r !== undefined) { r.lo = 0; r.hi = 0; }
    while (this.used > 0 && this.socks[this.used - 1] === null) this.used--;
  }
}

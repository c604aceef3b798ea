// The SK_LOOKUP hook point (BPF_PROG_TYPE_SK_LOOKUP, Linux 5.9): each netns holds a run array of
// programs that the TCP listener lookup and the UDP lookup consult before their hash tables
// (sockets.md §1.1 3a, §1.2 step 4), attached through netns BPF links (below: BPF_LINK_CREATE on a
// netns, an SkLookupProgramRunner of bpf-vm as the program); the lookups test its length first,
// as the kernel tests the bpf_sk_lookup_enabled static key, so an empty array costs one load per
// lookup. bpf_sk_assign's checks are in filter.ts (bpf_sk_lookup_assign).
//
// The run array's rules are BPF_PROG_SK_LOOKUP_RUN_ARRAY's (sockets.md §2.7): programs run in
// attach order; before each, the context's selection is restored to the last one remembered; a
// program returning SK_PASS with a socket selected is remembered (the last such wins, with its
// no_reuseport flag); SK_DROP notes "not all passed". The result: the remembered socket if any;
// else ERR_PTR(-ECONNREFUSED) if any program dropped; else no socket (go on to the tables).
//
// A netns can also be a kernel without the series (5.6.3, the cover letters' baseline): its
// lookups have no SK_LOOKUP step at all, not even the test of the run array (sk_lookup_hook_set).
// The lookups test `hooked` first, which all three configurations pay alike (a field of the run
// array they load anyway), so what the hook itself costs (the run array's length, the programs)
// is exactly what separates them.
import { ERR_ECONNREFUSED, type ErrPtr } from './err-ptr.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { in6addr_any, type ReadonlyIn6Addr } from './in6-addr.ts';
import { AF_INET, AF_INET6 } from './socket-constants.ts';
import type { Sock } from './sock.ts';
import type { Net } from './net-namespace.ts';

/** enum sk_action. */
export const SK_ACTIONS = { SK_DROP: 0, SK_PASS: 1 } as const;
export const { SK_DROP, SK_PASS } = SK_ACTIONS;

/** bpf_sk_assign flags for SK_LOOKUP. */
export const BPF_SK_LOOKUP_FLAGS = { BPF_SK_LOOKUP_F_REPLACE: 1, BPF_SK_LOOKUP_F_NO_REUSEPORT: 2 } as const;

/** netns_bpf_max_progs: programs one netns may attach at a hook. */
export const NETNS_BPF_MAX_PROGS = 64;

/**
 * struct bpf_sk_lookup_kern: what a program reads, and the selection it writes (bpf_sk_assign sets
 * selected_sk and no_reuseport; its checks come with the helper). Ports are host order here; the
 * BPF context conversion gives remote_port as the kernel's __be16.
 */
export class BpfSkLookupKern {
  family = 0;
  protocol = 0;
  /** Remote and local IPv4 addresses (v4.saddr, v4.daddr). */
  v4_saddr = 0;
  v4_daddr = 0;
  /** Remote and local IPv6 addresses (v6.saddr, v6.daddr). */
  v6_saddr: ReadonlyIn6Addr = in6addr_any;
  v6_daddr: ReadonlyIn6Addr = in6addr_any;
  sport = 0;
  dport = 0;
  ingress_ifindex = 0;
  selected_sk: Sock | null = null;
  no_reuseport = false;
}

/** An attached SK_LOOKUP program: returns SK_PASS or SK_DROP, and may select a socket on the context. */
export interface SkLookupProg {
  run(ctx: BpfSkLookupKern): number;
}

export class SkLookupRunArray {
  /** Replaced, never mutated, on attach and detach (the kernel swaps the array under RCU). */
  private items: readonly SkLookupProg[] = [];
  /** One context, reused by every run: a lookup allocates nothing. */
  private readonly ctx = new BpfSkLookupKern();
  /** The no_reuseport flag that came with the last run's socket. */
  no_reuseport = false;
  /**
   * The netns's lookups have the SK_LOOKUP step (a kernel with the series, the default); false:
   * a kernel without it, whose lookups skip it entirely and which refuses the attach type.
   */
  hooked = true;

  get length(): number {
    return this.items.length;
  }

  get progs(): readonly SkLookupProg[] {
    return this.items;
  }

  /** Appends a program: 0, -EINVAL without the hook (no such attach type), or -E2BIG past NETNS_BPF_MAX_PROGS. */
  attach(prog: SkLookupProg): number {
    if (!this.hooked) return -ERRNO.EINVAL;
    if (this.items.length >= NETNS_BPF_MAX_PROGS) return -ERRNO.E2BIG;
    this.items = [...this.items, prog];
    return 0;
  }

  /** Swaps a program in place (BPF_LINK_UPDATE): 0, or -ENOENT. */
  replace(old: SkLookupProg, prog: SkLookupProg): number {
    const i = this.items.indexOf(old);
    if (i < 0) return -ERRNO.ENOENT;
    const next = [...this.items];
    next[i] = prog;
    this.items = next;
    return 0;
  }

  /** Detaches a program: 0, or -ENOENT. */
  detach(prog: SkLookupProg): number {
    const i = this.items.indexOf(prog);
    if (i < 0) return -ERRNO.ENOENT;
    this.items = this.items.filter((_, j) => j !== i);
    return 0;
  }

  /** bpf_sk_lookup_run_v4: the selected socket, ERR_PTR(-ECONNREFUSED), or undefined; no_reuseport is set. */
  run_v4(protocol: number, saddr: number, sport: number, daddr: number, dport: number, ifindex: number): Sock | ErrPtr | undefined {
    const ctx = this.ctx;
    ctx.family = AF_INET;
    ctx.protocol = protocol;
    ctx.v4_saddr = saddr;
    ctx.v4_daddr = daddr;
    ctx.v6_saddr = in6addr_any;
    ctx.v6_daddr = in6addr_any;
    ctx.sport = sport;
    ctx.dport = dport;
    ctx.ingress_ifindex = ifindex;
    return this.run(ctx);
  }

  /** bpf_sk_lookup_run_v6: as run_v4. */
  run_v6(
    protocol: number,
    saddr: ReadonlyIn6Addr,
    sport: number,
    daddr: ReadonlyIn6Addr,
    dport: number,
    ifindex: number,
  ): Sock | ErrPtr | undefined {
    const ctx = this.ctx;
    ctx.family = AF_INET6;
    ctx.protocol = protocol;
    ctx.v4_saddr = 0;
    ctx.v4_daddr = 0;
    ctx.v6_saddr = saddr;
    ctx.v6_daddr = daddr;
    ctx.sport = sport;
    ctx.dport = dport;
    ctx.ingress_ifindex = ifindex;
    return this.run(ctx);
  }

  private run(ctx: BpfSkLookupKern): Sock | ErrPtr | undefined {
    const items = this.items;
    let selected: Sock | null = null;
    let no_reuseport = false;
    let all_pass = true;
    for (let i = 0; i < items.length; i++) {
      ctx.selected_sk = selected;
      ctx.no_reuseport = no_reuseport;
      const ret = items[i]!.run(ctx);
      if (ret === SK_PASS && ctx.selected_sk !== null) {
        selected = ctx.selected_sk;
        no_reuseport = ctx.no_reuseport;
      } else if (ret === SK_DROP) {
        all_pass = false;
      }
    }
    ctx.selected_sk = null;
    ctx.v6_saddr = in6addr_any;
    ctx.v6_daddr = in6addr_any;
    this.no_reuseport = no_reuseport;
    if (selected !== null) return selected;
    return all_pass ? undefined : ERR_ECONNREFUSED;
  }
}

/**
 * Makes `net` a kernel with (true) or without (false) the SK_LOOKUP series: without it the TCP
 * listener and UDP lookups go straight to their hash tables and BPF_LINK_CREATE with
 * BPF_SK_LOOKUP fails with -EINVAL, as on 5.6.3 (enum bpf_attach_type had no such value). 0, or
 * -EBUSY when removing the hook while programs are attached (set it before attaching anything).
 */
export function sk_lookup_hook_set(net: Net, hooked: boolean): number {
  const run = net.sk_lookup;
  if (!hooked && run.length !== 0) return -ERRNO.EBUSY;
  run.hooked = hooked;
  return 0;
}

// --- Attaching: the netns BPF link (kernel/bpf/net_namespace.c) ---
//
// SK_LOOKUP programs are attached only through a link: BPF_LINK_CREATE with attach type
// BPF_SK_LOOKUP on a netns fd. The link sits in the run array in attach order; BPF_LINK_UPDATE
// swaps its program in place (tubular's upgrade: no lookup ever sees the hook empty); detaching
// or closing the link takes it out. A link outlives its attachment: once detached it is
// "defunct" and updates fail with -ENOLINK.

/** enum bpf_link_type's BPF_LINK_TYPE_NETNS and enum bpf_attach_type's BPF_SK_LOOKUP. */
export const BPF_LINK_TYPE_NETNS = 5;
export const BPF_SK_LOOKUP_ATTACH_TYPE = 36;
/** ENOLINK (bpf-vm's errno table has no entry for it). */
const ENOLINK = 67;
/** BPF_PROG_TYPE_SK_LOOKUP (bpf-vm/prog/types.ts). */
const BPF_PROG_TYPE_SK_LOOKUP = 30;

/**
 * A program a link holds: runnable on the context, and, when it comes from bpf-vm (an
 * SkLookupProgramRunner), its Program, whose type is checked and whose name is listed.
 */
export interface SkLookupLinkProg extends SkLookupProg {
  readonly program?: { readonly name: string; readonly type: number };
}

/** What `bpftool link show` prints for a netns link (struct bpf_link_info's netns part). */
export interface NetnsLinkInfo {
  id: number;
  type: 'netns';
  prog_name: string;
  /** netns_ino: vxo's netns have no inode; the netns cookie names the netns instead. */
  netns_ino: number;
  attach_type: number;
  /** Detached (the netns side let go): the link is defunct. */
  defunct: boolean;
}

const link_ids = new WeakMap<object, { next: number }>();
const net_links = new WeakMap<Net, NetnsBpfLink[]>();

/** struct bpf_netns_link: the run-array entry, which forwards to the program it holds. */
export class NetnsBpfLink implements SkLookupProg {
  readonly id: number;
  readonly type = BPF_LINK_TYPE_NETNS;
  readonly attach_type = BPF_SK_LOOKUP_ATTACH_TYPE;
  /** The netns while attached; null once detached. */
  net: Net | null;
  prog: SkLookupLinkProg;

  constructor(net: Net, prog: SkLookupLinkProg, id: number) {
    this.net = net;
    this.prog = prog;
    this.id = id;
  }

  run(ctx: BpfSkLookupKern): number {
    return this.prog.run(ctx);
  }

  /** The program's bpf-vm Program, for listings that look at run-array entries. */
  get program(): { readonly name: string; readonly type: number } | undefined {
    return this.prog.program;
  }

  info(): NetnsLinkInfo {
    return {
      id: this.id,
      type: 'netns',
      prog_name: this.prog.program?.name ?? '',
      netns_ino: this.net?.net_cookie ?? 0,
      attach_type: this.attach_type,
      defunct: this.net === null,
    };
  }
}

/**
 * netns_bpf_link_create (BPF_LINK_CREATE, attach type BPF_SK_LOOKUP, target a netns): the link,
 * or -EINVAL (flags, a program of another type), -E2BIG (NETNS_BPF_MAX_PROGS already attached).
 */
export function netns_bpf_link_create(net: Net, prog: SkLookupLinkProg, flags = 0): NetnsBpfLink | number {
  if (flags !== 0) return -ERRNO.EINVAL;
  if (prog.program !== undefined && prog.program.type !== BPF_PROG_TYPE_SK_LOOKUP) return -ERRNO.EINVAL;
  let ids = link_ids.get(net.boot);
  if (ids === undefined) {
    ids = { next: 1 };
    link_ids.set(net.boot, ids);
  }
  const link = new NetnsBpfLink(net, prog, ids.next);
  const err = net.sk_lookup.attach(link);
  if (err !== 0) return err;
  ids.next++;
  let links = net_links.get(net);
  if (links === undefined) {
    links = [];
    net_links.set(net, links);
  }
  links.push(link);
  return link;
}

/**
 * bpf_netns_link_update_prog (BPF_LINK_UPDATE): the link runs `new_prog` from the next lookup on,
 * at the same place in the run array. -ENOLINK once detached; -EPERM if `old_prog` is given and
 * is not the link's program (BPF_F_REPLACE); -EINVAL for a program of another type.
 */
export function bpf_netns_link_update_prog(link: NetnsBpfLink, new_prog: SkLookupLinkProg, old_prog?: SkLookupLinkProg): number {
  if (link.net === null) return -ENOLINK;
  if (old_prog !== undefined && old_prog !== link.prog) return -ERRNO.EPERM;
  if (new_prog.program !== undefined && new_prog.program.type !== BPF_PROG_TYPE_SK_LOOKUP) return -ERRNO.EINVAL;
  link.prog = new_prog;
  return 0;
}

/** bpf_netns_link_detach (BPF_LINK_DETACH, or the last link fd closed): out of the run array. 0. */
export function bpf_netns_link_detach(link: NetnsBpfLink): number {
  const net = link.net;
  if (net === null) return 0;
  net.sk_lookup.detach(link);
  const links = net_links.get(net);
  if (links !== undefined) links.splice(links.indexOf(link), 1);
  link.net = null;
  return 0;
}

/** The netns's SK_LOOKUP links in attach order (bpftool link / net show). */
export function netns_bpf_links(net: Net): readonly NetnsBpfLink[] {
  return net_links.get(net) ?? [];
}

// net/core/neighbour.c: the neighbour cache ARP (arp_tbl) and neighbour discovery (nd_tbl) share.
// An entry maps a next hop on a device to a link-layer address and runs the NUD state machine
// (include/net/neighbour.h): INCOMPLETE while unresolved (packets wait on arp_queue, bounded by
// unres_qlen_bytes), REACHABLE once confirmed, STALE when the confirmation ages, DELAY and PROBE
// when a stale entry is used, FAILED when probes go unanswered (queued packets dropped with
// NEIGH_FAILED after error_report). PERMANENT and NOARP entries never change unless an admin
// update says so. Timers are jiffies on the machine's clock, as the kernel's are.
// The table is bounded as the kernel's is: past gc_thresh2/gc_thresh3 a new entry first forces a
// collection of idle entries (neigh_forced_gc) and is refused (table_fulls) if none can go, and a
// periodic pass (neigh_periodic_work) drops STALE/FAILED entries unused for gc_staletime.
import { TimerList, timer_pending } from './clock.ts';
import { HZ } from './clock.ts';
import {
  SKB_DROP_REASONS, SkBuffHead, __skb_dequeue, __skb_queue_tail, kfree_skb_reason, skb_queue_purge_reason, type SkBuff,
} from './skbuff.ts';
import { NET_XMIT_DROP, dev_queue_xmit } from './dev.ts';
import type { NetDevice } from './netdevice.ts';
import type { Net } from './net-namespace.ts';
import { In6Addr, type ReadonlyIn6Addr } from './in6-addr.ts';
import { AF_INET, AF_INET6 } from './socket-constants.ts';
import { eth_header, eth_ntop } from '../ethernet/eth.ts';
import { inet_ntop4, inet_ntop6 } from './inet-addr.ts';

/** NUD_* (include/uapi/linux/neighbour.h). */
export const NUD = {
  NUD_NONE: 0x00,
  NUD_INCOMPLETE: 0x01,
  NUD_REACHABLE: 0x02,
  NUD_STALE: 0x04,
  NUD_DELAY: 0x08,
  NUD_PROBE: 0x10,
  NUD_FAILED: 0x20,
  NUD_NOARP: 0x40,
  NUD_PERMANENT: 0x80,
} as const;
const { NUD_NONE, NUD_INCOMPLETE, NUD_REACHABLE, NUD_STALE, NUD_DELAY, NUD_PROBE, NUD_FAILED, NUD_NOARP, NUD_PERMANENT } = NUD;
export const NUD_IN_TIMER = NUD_INCOMPLETE | NUD_REACHABLE | NUD_DELAY | NUD_PROBE;
export const NUD_VALID = NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY;
export const NUD_CONNECTED = NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE;

/** NEIGH_UPDATE_F_* (include/net/neighbour.h). */
export const NEIGH_UPDATE = {
  NEIGH_UPDATE_F_OVERRIDE: 0x1,
  NEIGH_UPDATE_F_WEAK_OVERRIDE: 0x2,
  NEIGH_UPDATE_F_OVERRIDE_ISROUTER: 0x4,
  NEIGH_UPDATE_F_ISROUTER: 0x40000000,
  NEIGH_UPDATE_F_ADMIN: 0x80000000,
} as const;
const { NEIGH_UPDATE_F_OVERRIDE, NEIGH_UPDATE_F_WEAK_OVERRIDE, NEIGH_UPDATE_F_ADMIN } = NEIGH_UPDATE;

/** struct neigh_parms, the defaults of net.ipv4.neigh.default.* (times in ms). */
export class NeighParms {
  base_reachable_time_ms = 30_000;
  retrans_time_ms = 1_000;
  delay_probe_time_ms = 5_000;
  gc_staletime_ms = 60_000;
  /** ARP's locktime: a reply within this of the last update does not override (anti-flap). */
  locktime_ms = 1_000;
  ucast_probes = 3;
  mcast_probes = 3;
  app_probes = 0;
  mcast_reprobes = 0;
  /** unres_qlen_bytes: SK_WMEM_MAX, the bytes (truesize) queued per unresolved entry. */
  queue_len_bytes = 212_992;
  /** reachable_time in jiffies, drawn from base_reachable_time (neigh_rand_reach_time). */
  reachable_time = 30_000;
}

/** neigh_ops: how a family asks (solicit) and how it reports a packet it could not deliver. */
export interface NeighOps {
  /** arp_solicit / ndisc_solicit: send one probe; skb is the newest queued packet, if any. */
  solicit(n: Neighbour, skb: SkBuff | null): void;
  /** arp_error_report / ndisc_error_report: the packet's sender learns the host is unreachable. Frees skb. */
  error_report(n: Neighbour, skb: SkBuff): void;
}

/** What the table counts (struct neigh_statistics, `ip -s ntable`). */
export class NeighStatistics {
  allocs = 0;
  destroys = 0;
  lookups = 0;
  hits = 0;
  res_failed = 0;
  rcv_probes_mcast = 0;
  rcv_probes_ucast = 0;
  unres_discards = 0;
  periodic_gc_runs = 0;
  forced_gc_runs = 0;
  /** neigh_alloc refused an entry: the table was at gc_thresh3 and nothing could be collected. */
  table_fulls = 0;
}

export class Neighbour {
  readonly tbl: NeighTable;
  readonly dev: NetDevice;
  /** primary_key: the IPv4 next hop (host order) or the IPv6 one. */
  readonly key4: number;
  readonly key6 = new In6Addr();
  /** The link-layer address (valid in NUD_VALID states). */
  readonly ha = new Uint8Array(6);
  nud_state: number = NUD_NONE;
  /** NTF_ROUTER for ND. */
  flags = 0;
  probes = 0;
  /** Jiffies of the last state change, the last confirmation (reply, upper-layer ack) and the last use. */
  updated = 0;
  confirmed = 0;
  used = 0;
  readonly arp_queue = new SkBuffHead();
  readonly timer: TimerList;
  dead = false;
  /** On the table's gc_list (counted in gc_entries): false for PERMANENT entries, which GC never takes. */
  on_gc_list = false;

  constructor(tbl: NeighTable, dev: NetDevice, key4: number, key6: ReadonlyIn6Addr | null) {
    this.tbl = tbl;
    this.dev = dev;
    this.key4 = key4 >>> 0;
    if (key6 !== null) this.key6.copy_from(key6);
    this.timer = new TimerList(() => neigh_timer_handler(this));
  }
}

/** struct neigh_table: arp_tbl (AF_INET) or nd_tbl (AF_INET6) of one netns. */
export class NeighTable {
  readonly family: number;
  readonly net: Net;
  readonly parms = new NeighParms();
  /** The family's operations, set by arp_init / ndisc_init. */
  ops: NeighOps | null = null;
  readonly stats = new NeighStatistics();
  /** Chains by a hash of (key, ifindex). */
  readonly hash = new Map<number, Neighbour[]>();
  entries = 0;
  /** net.ipv4.neigh.default.gc_thresh1/2/3: no periodic GC below 1; forced GC past 2 (every 5 s) and 3 (always); never more than 3 collectable entries. */
  gc_thresh1 = 128;
  gc_thresh2 = 512;
  gc_thresh3 = 1024;
  /** gc_interval (jiffies): reported only, as in the kernel; the periodic pass runs every base_reachable_time/2. */
  gc_interval = 30 * HZ;
  /** The collectable entries, oldest first (tbl->gc_list), and their count (gc_entries). */
  readonly gc_list = new Set<Neighbour>();
  gc_entries = 0;
  /** Jiffies of the last completed forced GC, and of the last reachable_time redraw. */
  last_flush = 0;
  last_rand = 0;
  /** tbl->gc_work: neigh_periodic_work, pending while entries >= gc_thresh1 (see neigh_alloc). */
  readonly gc_work: TimerList;

  constructor(net: Net, family: number) {
    this.net = net;
    this.family = family;
    this.gc_work = new TimerList(() => neigh_periodic_work(this));
    // reachable_time is drawn by neigh_table_init (arp_init, ndisc_init), not here: a netns that
    // never runs IP must not consume the boot's random numbers.
  }
}

/** neigh_table_init: the table's parms take their randomized reachable_time. */
export function neigh_table_init(tbl: NeighTable, ops: NeighOps): void {
  tbl.ops = ops;
  tbl.parms.reachable_time = neigh_rand_reach_time(tbl.net, tbl.parms.base_reachable_time_ms);
  const now = jiffies(tbl);
  tbl.last_flush = now;
  tbl.last_rand = now;
}

/** neigh_rand_reach_time: uniform in [base/2, 3*base/2). */
export function neigh_rand_reach_time(net: Net, base_ms: number): number {
  const base = Math.ceil((base_ms * HZ) / 1000);
  return base !== 0 ? net.boot.random.get_random_u32_below(base) + (base >>> 1) : 0;
}

function jiffies(tbl: NeighTable): number {
  return tbl.net.boot.clock.get_jiffies_64();
}

function ms(tbl: NeighTable, v: number): number {
  return Math.ceil((v * HZ) / 1000);
}

function hash4(key: number, dev: NetDevice): number {
  return (Math.imul(key >>> 0, 0x9e3779b1) ^ dev.ifindex) | 0;
}
function hash6(key: ReadonlyIn6Addr, dev: NetDevice): number {
  return (Math.imul((key.w0 ^ key.w1 ^ key.w2 ^ key.w3) >>> 0, 0x9e3779b1) ^ dev.ifindex) | 0;
}

/** neigh_lookup for IPv4 keys. */
export function neigh_lookup4(tbl: NeighTable, key: number, dev: NetDevice): Neighbour | undefined {
  tbl.stats.lookups++;
  const chain = tbl.hash.get(hash4(key, dev));
  if (chain === undefined) return undefined;
  for (const n of chain) {
    if (n.key4 === key >>> 0 && n.dev === dev) {
      tbl.stats.hits++;
      return n;
    }
  }
  return undefined;
}

/** neigh_lookup for IPv6 keys. */
export function neigh_lookup6(tbl: NeighTable, key: ReadonlyIn6Addr, dev: NetDevice): Neighbour | undefined {
  tbl.stats.lookups++;
  const chain = tbl.hash.get(hash6(key, dev));
  if (chain === undefined) return undefined;
  for (const n of chain) {
    const k = n.key6;
    if (k.w0 === key.w0 && k.w1 === key.w1 && k.w2 === key.w2 && k.w3 === key.w3 && n.dev === dev) {
      tbl.stats.hits++;
      return n;
    }
  }
  return undefined;
}

/**
 * neigh_alloc: a new entry, unless the table is full. Collectable entries are bounded: at
 * gc_thresh3, or at gc_thresh2 with no forced GC for 5 s, idle entries are collected first, and at
 * gc_thresh3 with nothing collected the entry is refused (undefined, table_fulls). Entries exempt
 * from GC (`ip neigh add ... permanent`) bypass the limit.
 */
function neigh_alloc(tbl: NeighTable, dev: NetDevice, key4: number, key6: ReadonlyIn6Addr | null, exempt_from_gc: boolean): Neighbour | undefined {
  const now = jiffies(tbl);
  if (!exempt_from_gc) {
    const entries = tbl.gc_entries++;
    if (entries >= tbl.gc_thresh3 || (entries >= tbl.gc_thresh2 && now > tbl.last_flush + 5 * HZ)) {
      if (neigh_forced_gc(tbl) === 0 && entries >= tbl.gc_thresh3) {
        tbl.stats.table_fulls++;
        tbl.gc_entries--;
        return undefined;
      }
    }
  }
  const n = new Neighbour(tbl, dev, key4, key6);
  n.updated = n.used = now;
  // An entry starts long unconfirmed, so the first reply is what confirms it.
  n.confirmed = now - 2 * ms(tbl, tbl.parms.base_reachable_time_ms);
  tbl.stats.allocs++;
  tbl.entries++;
  // gc_work is deferrable in the kernel (it never wakes an idle CPU); here it is armed only while
  // the table is big enough for it to collect, so an idle machine has no timer pending for it.
  if (tbl.entries >= tbl.gc_thresh1 && tbl.ops !== null && !timer_pending(tbl.gc_work)) neigh_gc_work_arm(tbl, now);
  if (!exempt_from_gc) {
    n.on_gc_list = true;
    tbl.gc_list.add(n);
  }
  const h = key6 !== null ? hash6(key6, dev) : hash4(key4, dev);
  const chain = tbl.hash.get(h);
  if (chain === undefined) tbl.hash.set(h, [n]);
  else chain.push(n);
  return n;
}

/**
 * The kernel's refcnt == 1 test: only the table holds the entry. A pending timer holds a reference
 * (neigh_add_timer), so INCOMPLETE/REACHABLE/DELAY/PROBE entries, and with them every entry with
 * packets waiting, are never collected; transient holders do not outlive a call here.
 */
function neigh_unreferenced(n: Neighbour): boolean {
  return !timer_pending(n.timer);
}

/** tbl->is_multicast: arp_is_multicast / ndisc_is_multicast of the primary key. */
function neigh_key_is_multicast(n: Neighbour): boolean {
  return n.tbl.family === AF_INET6 ? n.key6.w0 >>> 24 === 0xff : (n.key4 & 0xf0000000) === 0xe0000000;
}

/**
 * neigh_forced_gc: collect unreferenced entries, oldest first, that are FAILED, NOARP, multicast,
 * or not updated in the last 5 s, until gc_entries is down to gc_thresh2. Returns how many went.
 */
export function neigh_forced_gc(tbl: NeighTable): number {
  const max_clean = tbl.gc_entries - tbl.gc_thresh2;
  const now = jiffies(tbl);
  const tref = now - 5 * HZ;
  let shrunk = 0;
  tbl.stats.forced_gc_runs++;
  for (const n of tbl.gc_list) {
    if (!neigh_unreferenced(n)) continue;
    const remove = n.nud_state === NUD_FAILED || n.nud_state === NUD_NOARP || neigh_key_is_multicast(n) ||
      !(n.updated >= tref && n.updated <= now);
    if (remove) {
      neigh_destroy(n);
      shrunk++;
    }
    if (shrunk >= max_clean) break;
  }
  tbl.last_flush = now;
  return shrunk;
}

/**
 * neigh_periodic_work: every base_reachable_time/2 while the table holds gc_thresh1 entries, drop
 * unreferenced entries that are FAILED or unused for gc_staletime (PERMANENT entries and entries
 * with a running timer stay), and redraw reachable_time if 300 s passed since the last draw.
 */
function neigh_periodic_work(tbl: NeighTable): void {
  const now = jiffies(tbl);
  const p = tbl.parms;
  tbl.stats.periodic_gc_runs++;
  if (now > tbl.last_rand + 300 * HZ) {
    tbl.last_rand = now;
    p.reachable_time = neigh_rand_reach_time(tbl.net, p.base_reachable_time_ms);
  }
  if (tbl.entries >= tbl.gc_thresh1) {
    const stale = ms(tbl, p.gc_staletime_ms);
    const doomed: Neighbour[] = [];
    for (const chain of tbl.hash.values()) {
      for (const n of chain) {
        const state = n.nud_state;
        if ((state & (NUD_PERMANENT | NUD_IN_TIMER)) !== 0) continue;
        if (n.used < n.confirmed && n.confirmed <= now) n.used = n.confirmed;
        // time_in_range_open(now, used, used + gc_staletime) fails: stale (or used in the future).
        if (neigh_unreferenced(n) && (state === NUD_FAILED || !(now >= n.used && now < n.used + stale))) doomed.push(n);
      }
    }
    for (const n of doomed) neigh_destroy(n);
  }
  if (tbl.entries >= tbl.gc_thresh1) neigh_gc_work_arm(tbl, now);
}

/** The pass covers the table every base_reachable_time/2, as the kernel's does. */
function neigh_gc_work_arm(tbl: NeighTable, now: number): void {
  tbl.net.boot.clock.mod_timer(tbl.gc_work, now + (ms(tbl, tbl.parms.base_reachable_time_ms) >> 1));
}

/** __neigh_lookup(tbl, key, dev, creat) for IPv4: undefined when absent, or when creating and the table is full. */
export function __neigh_lookup4(tbl: NeighTable, key: number, dev: NetDevice, creat: boolean): Neighbour | undefined {
  const n = neigh_lookup4(tbl, key, dev);
  if (n !== undefined || !creat) return n;
  return neigh_alloc(tbl, dev, key, null, false);
}

/** __neigh_lookup for IPv6. */
export function __neigh_lookup6(tbl: NeighTable, key: ReadonlyIn6Addr, dev: NetDevice, creat: boolean): Neighbour | undefined {
  const n = neigh_lookup6(tbl, key, dev);
  if (n !== undefined || !creat) return n;
  return neigh_alloc(tbl, dev, 0, key, false);
}

/** neigh_release of a dead entry: unlinked, timer stopped, queue dropped. */
export function neigh_destroy(n: Neighbour): void {
  const tbl = n.tbl;
  const h = tbl.family === AF_INET6 ? hash6(n.key6, n.dev) : hash4(n.key4, n.dev);
  const chain = tbl.hash.get(h);
  if (chain !== undefined) {
    const i = chain.indexOf(n);
    if (i >= 0) {
      chain.splice(i, 1);
      tbl.entries--;
      tbl.stats.destroys++;
    }
    if (chain.length === 0) tbl.hash.delete(h);
  }
  neigh_gc_list_del(n);
  n.dead = true;
  tbl.net.boot.clock.del_timer(n.timer);
  skb_queue_purge_reason(n.arp_queue, SKB_DROP_REASONS.SKB_DROP_REASON_NEIGH_DEAD);
}

function neigh_add_timer(n: Neighbour, when: number): void {
  n.tbl.net.boot.clock.mod_timer(n.timer, when);
}

function neigh_del_timer(n: Neighbour): void {
  n.tbl.net.boot.clock.del_timer(n.timer);
}

function neigh_max_probes(n: Neighbour): number {
  const p = n.tbl.parms;
  return p.ucast_probes + p.app_probes + ((n.nud_state & NUD_PROBE) !== 0 ? p.mcast_reprobes : p.mcast_probes);
}

/** neigh_probe: one more probe, about the newest waiting packet. */
function neigh_probe(n: Neighbour): void {
  const skb = n.arp_queue.last;
  n.probes++;
  n.tbl.ops?.solicit(n, skb);
}

/**
 * neigh_invalidate: resolution failed. Each waiting packet is reported (error_report: ICMP host
 * unreachable to its sender) and dropped with NEIGH_FAILED.
 */
function neigh_invalidate(n: Neighbour): void {
  n.tbl.stats.res_failed++;
  const ops = n.tbl.ops;
  for (let skb = __skb_dequeue(n.arp_queue); skb !== null; skb = __skb_dequeue(n.arp_queue)) {
    if (n.nud_state !== NUD_FAILED) {
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NEIGH_FAILED);
      continue;
    }
    if (ops !== null) ops.error_report(n, skb);
    else kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NEIGH_FAILED);
  }
}

/** neigh_timer_handler: the NUD transitions that time drives. */
function neigh_timer_handler(n: Neighbour): void {
  const tbl = n.tbl;
  const p = tbl.parms;
  const now = jiffies(tbl);
  let next = now + HZ;
  const state = n.nud_state;
  if ((state & NUD_IN_TIMER) === 0) return;
  const retrans = Math.max(ms(tbl, p.retrans_time_ms), HZ / 100);
  const delay = ms(tbl, p.delay_probe_time_ms);
  if ((state & NUD_REACHABLE) !== 0) {
    if (now <= n.confirmed + p.reachable_time) {
      next = n.confirmed + p.reachable_time;
    } else if (now <= n.used + delay) {
      n.nud_state = NUD_DELAY;
      n.updated = now;
      next = now + delay;
    } else {
      n.nud_state = NUD_STALE;
      n.updated = now;
    }
  } else if ((state & NUD_DELAY) !== 0) {
    if (now <= n.confirmed + delay) {
      n.nud_state = NUD_REACHABLE;
      n.updated = now;
      next = n.confirmed + p.reachable_time;
    } else {
      n.nud_state = NUD_PROBE;
      n.updated = now;
      n.probes = 0;
      next = now + retrans;
    }
  } else {
    // INCOMPLETE or PROBE: the next retransmission.
    next = now + retrans;
  }
  if ((n.nud_state & (NUD_INCOMPLETE | NUD_PROBE)) !== 0 && n.probes >= neigh_max_probes(n)) {
    n.nud_state = NUD_FAILED;
    n.updated = now;
    neigh_invalidate(n);
    return;
  }
  if ((n.nud_state & NUD_IN_TIMER) !== 0) {
    if (next < now + HZ / 100) next = now + HZ / 100;
    neigh_add_timer(n, next);
  }
  if ((n.nud_state & (NUD_INCOMPLETE | NUD_PROBE)) !== 0) neigh_probe(n);
}

/**
 * __neigh_event_send: a packet wants this neighbour. 0 when it may go now (CONNECTED, DELAY,
 * PROBE, or a STALE entry that starts its DELAY); 1 when it was queued (INCOMPLETE) or dropped.
 * The skb belongs to the table when 1 is returned.
 */
export function __neigh_event_send(n: Neighbour, skb: SkBuff | null): number {
  const tbl = n.tbl;
  const p = tbl.parms;
  const now = jiffies(tbl);
  n.used = now;
  if ((n.nud_state & (NUD_CONNECTED | NUD_DELAY | NUD_PROBE)) !== 0) return 0;
  if (n.dead) {
    if (skb !== null) kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NEIGH_DEAD);
    return 1;
  }
  let immediate_probe = false;
  if ((n.nud_state & (NUD_STALE | NUD_INCOMPLETE)) === 0) {
    if (p.mcast_probes + p.app_probes !== 0) {
      n.probes = p.ucast_probes;
      n.nud_state = NUD_INCOMPLETE;
      n.updated = now;
      neigh_add_timer(n, now + Math.max(ms(tbl, p.retrans_time_ms), HZ / 100));
      immediate_probe = true;
    } else {
      n.nud_state = NUD_FAILED;
      n.updated = now;
      if (skb !== null) kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NEIGH_FAILED);
      return 1;
    }
  } else if ((n.nud_state & NUD_STALE) !== 0) {
    n.nud_state = NUD_DELAY;
    n.updated = now;
    neigh_add_timer(n, now + ms(tbl, p.delay_probe_time_ms));
  }
  let rc = 0;
  if (n.nud_state === NUD_INCOMPLETE) {
    if (skb !== null) {
      // unres_qlen_bytes: the oldest waiting packets make room for the newest.
      while (n.arp_queue.qlen !== 0 && queue_truesize(n.arp_queue) + skb.truesize > p.queue_len_bytes) {
        const old = __skb_dequeue(n.arp_queue)!;
        kfree_skb_reason(old, SKB_DROP_REASONS.SKB_DROP_REASON_NEIGH_QUEUEFULL);
        tbl.stats.unres_discards++;
        tbl.net.mib.arp.QueueDrops++;
      }
      if (skb.truesize > p.queue_len_bytes) {
        kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NEIGH_QUEUEFULL);
        tbl.stats.unres_discards++;
        tbl.net.mib.arp.QueueDrops++;
      } else {
        __skb_queue_tail(n.arp_queue, skb);
      }
    }
    rc = 1;
  }
  if (immediate_probe) neigh_probe(n);
  return rc;
}

function queue_truesize(q: SkBuffHead): number {
  let t = 0;
  for (let s = q.first; s !== null; s = s.next) t += s.truesize;
  return t;
}

function same_ha(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * neigh_update: what a reply, a solicitation or an admin sets. lladdr null keeps the known
 * address. Returns 0 or -EPERM (an admin entry and a non-admin update).
 */
export function neigh_update(n: Neighbour, lladdr: Uint8Array | null, nstate: number, flags: number): number {
  const tbl = n.tbl;
  const now = jiffies(tbl);
  const old = n.nud_state;
  if ((flags & NEIGH_UPDATE_F_ADMIN) === 0 && (old & (NUD_NOARP | NUD_PERMANENT)) !== 0) return -1;
  if (n.dead) return 0;
  if ((nstate & NUD_VALID) === 0) {
    neigh_del_timer(n);
    n.nud_state = nstate;
    n.updated = now;
    neigh_update_gc_list(n);
    if ((old & (NUD_INCOMPLETE | NUD_PROBE)) !== 0 && (nstate & NUD_FAILED) !== 0) neigh_invalidate(n);
    return 0;
  }
  let addr = lladdr;
  if (addr === null) {
    if ((old & NUD_VALID) === 0) return 0;
    addr = n.ha;
  }
  if ((nstate & NUD_CONNECTED) !== 0) n.confirmed = now;
  let changed_addr = !same_ha(addr, n.ha);
  if ((old & NUD_VALID) !== 0) {
    if (changed_addr && (flags & NEIGH_UPDATE_F_OVERRIDE) === 0) {
      if ((flags & NEIGH_UPDATE_F_WEAK_OVERRIDE) !== 0 && (old & NUD_CONNECTED) !== 0) {
        addr = n.ha;
        changed_addr = false;
        nstate = NUD_STALE;
      } else {
        return 0;
      }
    } else if (!changed_addr && nstate === NUD_STALE && (flags & NEIGH_UPDATE_F_ADMIN) === 0) {
      // The same address heard again: no reason to demote a better state.
      nstate = old;
    }
  }
  if (nstate !== old || changed_addr) n.updated = now;
  if (nstate !== old) {
    neigh_del_timer(n);
    if ((nstate & NUD_PROBE) !== 0) n.probes = 0;
    if ((nstate & NUD_IN_TIMER) !== 0) {
      neigh_add_timer(n, now + ((nstate & NUD_REACHABLE) !== 0 ? tbl.parms.reachable_time : 0));
    }
    n.nud_state = nstate;
    neigh_update_gc_list(n);
  }
  if (changed_addr) {
    n.ha.set(addr.subarray(0, 6));
    if ((nstate & NUD_CONNECTED) === 0) n.confirmed = now - 2 * ms(tbl, tbl.parms.base_reachable_time_ms);
  }
  if (nstate === old) return 0;
  if ((old & NUD_VALID) === 0) {
    // Resolved: what waited goes out now, oldest first.
    for (let skb = __skb_dequeue(n.arp_queue); skb !== null; skb = __skb_dequeue(n.arp_queue)) {
      neigh_resolve_output(n, skb);
    }
  }
  return 0;
}

/**
 * neigh_update_gc_list: an entry that became PERMANENT leaves the gc_list (GC never takes it, and
 * it no longer counts toward gc_thresh*); one that stopped being PERMANENT joins it at the tail.
 */
function neigh_update_gc_list(n: Neighbour): void {
  if (n.dead) return;
  const tbl = n.tbl;
  const exempt = (n.nud_state & NUD_PERMANENT) !== 0;
  if (exempt && n.on_gc_list) {
    neigh_gc_list_del(n);
  } else if (!exempt && !n.on_gc_list) {
    n.on_gc_list = true;
    tbl.gc_list.add(n);
    tbl.gc_entries++;
  }
}

function neigh_gc_list_del(n: Neighbour): void {
  if (!n.on_gc_list) return;
  n.on_gc_list = false;
  n.tbl.gc_list.delete(n);
  n.tbl.gc_entries--;
}

/**
 * neigh_event_ns-like: an entry learnt from a solicitation for us (STALE, overriding). undefined
 * when the table is full (neigh_alloc refused it).
 */
export function neigh_event_ns4(tbl: NeighTable, lladdr: Uint8Array, saddr: number, dev: NetDevice): Neighbour | undefined {
  const n = __neigh_lookup4(tbl, saddr, dev, true);
  if (n === undefined) return undefined;
  neigh_update(n, lladdr, NUD_STALE, NEIGH_UPDATE_F_OVERRIDE);
  return n;
}

/**
 * neigh_resolve_output: the link header once the address is known, or the packet waits. skb.data
 * is at the network header and skb.protocol set. Returns 0 (sent or queued) or NET_XMIT_DROP.
 */
export function neigh_resolve_output(n: Neighbour, skb: SkBuff): number {
  if (__neigh_event_send(n, skb) !== 0) return 0;
  eth_header(skb, n.dev, skb.protocol, n.ha);
  skb.dev = n.dev;
  return dev_queue_xmit(skb);
}

/** neigh_output: connected entries go straight out (the hh cache path), others through resolution. */
export function neigh_output(n: Neighbour | undefined, skb: SkBuff): number {
  // A full table refused the entry (__neigh_lookup undefined): ip_finish_output2's NEIGH_CREATEFAIL.
  if (n === undefined) {
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_NEIGH_CREATEFAIL);
    return NET_XMIT_DROP;
  }
  if ((n.nud_state & NUD_CONNECTED) !== 0) {
    eth_header(skb, n.dev, skb.protocol, n.ha);
    skb.dev = n.dev;
    return dev_queue_xmit(skb);
  }
  return neigh_resolve_output(n, skb);
}

/** neigh_confirm (dst_confirm_neigh): an upper layer saw the peer answer (TCP's ACK of new data). */
export function neigh_confirm(n: Neighbour): void {
  const now = jiffies(n.tbl);
  if (n.confirmed !== now) n.confirmed = now;
}

/** Sockets whose next transmission confirms its neighbour (sk->sk_dst_pending_confirm). */
const dst_pending_confirm = new WeakSet<object>();

/**
 * sk_dst_confirm: the peer is alive (TCP calls it when an ACK advances snd_una), so the next
 * datagram the socket sends confirms the neighbour it goes through: a busy connection keeps its
 * entry REACHABLE without probes, as in the kernel.
 */
export function sk_dst_confirm(sk: object): void {
  dst_pending_confirm.add(sk);
}

/** sock_confirm_neigh: on output, a pending confirmation of skb's socket is applied to n. */
export function sock_confirm_neigh(skb: SkBuff, n: Neighbour | undefined): void {
  const sk = skb.sk;
  if (n !== undefined && sk !== null && dst_pending_confirm.delete(sk)) neigh_confirm(n);
}

/**
 * `ip neigh add ADDR lladdr MAC dev DEV nud permanent`: a static entry, never probed. addr is an
 * IPv4 u32 for AF_INET or an In6Addr for AF_INET6. Returns 0 or -EINVAL.
 */
export function neigh_add_static(net: Net, dev: NetDevice, family: number, addr: number | ReadonlyIn6Addr, mac: Uint8Array): number {
  if (mac.length < 6) return -22;
  // neigh_add creates a permanent entry exempt from GC: it neither counts toward gc_thresh3 nor is refused by it.
  let n: Neighbour | undefined;
  if (family === AF_INET && typeof addr === 'number') {
    const tbl = net.ipv4.arp_tbl;
    n = neigh_lookup4(tbl, addr, dev) ?? neigh_alloc(tbl, dev, addr, null, true);
  } else if (family === AF_INET6 && typeof addr !== 'number') {
    const tbl = net.ipv6.nd_tbl;
    n = neigh_lookup6(tbl, addr, dev) ?? neigh_alloc(tbl, dev, 0, addr, true);
  }
  if (n === undefined) return -22;
  return neigh_update(n, mac, NUD_PERMANENT, NEIGH_UPDATE_F_OVERRIDE | NEIGH_UPDATE_F_ADMIN);
}

/** `ip neigh del`: forgets an entry (its waiting packets are dropped). */
export function neigh_delete(n: Neighbour): void {
  neigh_destroy(n);
}

/** The state's name as `ip neigh` prints it. */
export function neigh_state_name(state: number): string {
  switch (state) {
    case NUD_NONE: return 'NONE';
    case NUD_INCOMPLETE: return 'INCOMPLETE';
    case NUD_REACHABLE: return 'REACHABLE';
    case NUD_STALE: return 'STALE';
    case NUD_DELAY: return 'DELAY';
    case NUD_PROBE: return 'PROBE';
    case NUD_FAILED: return 'FAILED';
    case NUD_NOARP: return 'NOARP';
    case NUD_PERMANENT: return 'PERMANENT';
    default: return `0x${state.toString(16)}`;
  }
}

/** One line of `ip neigh show`. */
export interface NeighShow {
  dst: string;
  dev: string;
  lladdr: string | null;
  state: string;
}

/** `ip neigh show` for a table (arp_tbl or nd_tbl), in creation order per chain. */
export function neigh_dump(tbl: NeighTable): NeighShow[] {
  const out: NeighShow[] = [];
  for (const chain of tbl.hash.values()) {
    for (const n of chain) {
      out.push({
        dst: tbl.family === AF_INET6 ? inet_ntop6(n.key6) : inet_ntop4(n.key4),
        dev: n.dev.name,
        lladdr: (n.nud_state & NUD_VALID) !== 0 ? eth_ntop(n.ha) : null,
        state: neigh_state_name(n.nud_state),
      });
    }
  }
  return out;
}

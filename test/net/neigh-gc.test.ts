// Neighbour table garbage collection (net/core/neighbour.ts: neigh_alloc, neigh_forced_gc,
// neigh_periodic_work): the periodic pass ages out STALE entries unused for gc_staletime once the
// table holds gc_thresh1 entries; a full table (gc_thresh3) forces a collection of entries idle
// for 5 s and refuses the new one (table_fulls) when nothing can go; PERMANENT entries and entries
// with a running timer are never collected.
import test from 'ava';
import { twoHosts, type TwoHosts } from './support/topology.ts';
import { NUD, NEIGH_UPDATE, __neigh_lookup4, neigh_add_static, neigh_event_ns4, neigh_lookup4, neigh_update, type NeighTable } from '../../net/core/neighbour.ts';
import { AF_INET } from '../../net/core/socket-constants.ts';
import { timer_pending } from '../../net/core/clock.ts';

const MAC = new Uint8Array([0x02, 0x77, 0, 0, 0, 1]);
const BASE = 0x0a010000; // 10.1.0.0/16: not a's own subnet, only table keys.

function tbl(h: TwoHosts): NeighTable {
  return h.a.ipv4.arp_tbl;
}

/** `count` entries learnt as from solicitations (STALE), keys BASE+from... */
function learn(h: TwoHosts, from: number, count: number): void {
  for (let i = from; i < from + count; i++) neigh_event_ns4(tbl(h), MAC, BASE + i, h.deva);
}

function has(h: TwoHosts, i: number): boolean {
  return neigh_lookup4(tbl(h), BASE + i, h.deva) !== undefined;
}

const SEC = 1e9;

test('defaults: gc_thresh1/2/3 128/512/1024, gc_staletime 60 s; the periodic pass runs from gc_thresh1 entries on', (t) => {
  const h = twoHosts();
  const tb = tbl(h);
  t.deepEqual([tb.gc_thresh1, tb.gc_thresh2, tb.gc_thresh3], [128, 512, 1024]);
  t.is(tb.parms.gc_staletime_ms, 60_000);
  learn(h, 0, 127);
  t.false(timer_pending(tb.gc_work), 'nothing for it to collect: no timer (the kernel\'s work is deferrable)');
  learn(h, 127, 1);
  t.true(timer_pending(tb.gc_work));
  h.clock.advance(16 * SEC);
  t.is(tb.stats.periodic_gc_runs, 1, 'every base_reachable_time/2');
});

test('periodic GC: STALE entries unused for gc_staletime go, once the table holds gc_thresh1', (t) => {
  const h = twoHosts();
  const tb = tbl(h);
  learn(h, 0, 200);
  t.is(tb.entries, 200);
  t.is(tb.gc_entries, 200);
  h.clock.advance(59 * SEC);
  t.is(tb.entries, 200, 'younger than gc_staletime: kept');
  t.true(has(h, 0));
  // The pass runs every base_reachable_time/2 (15 s): by 60 s + 15 s all are gone.
  h.clock.advance(17 * SEC);
  t.is(tb.entries, 0, 'all aged out');
  t.false(timer_pending(tb.gc_work), 'below gc_thresh1 the pass stops');
  t.is(tb.gc_entries, 0);
  t.is(tb.stats.destroys, 200);
  t.false(has(h, 0));
});

test('periodic GC: below gc_thresh1 nothing is collected, however old', (t) => {
  const h = twoHosts();
  const tb = tbl(h);
  learn(h, 0, 10);
  h.clock.advance(600 * SEC);
  t.is(tb.entries, 10);
  t.is(tb.stats.periodic_gc_runs, 0);
});

test('PERMANENT entries are never collected and do not count toward gc_thresh3', (t) => {
  const h = twoHosts();
  const tb = tbl(h);
  t.is(neigh_add_static(h.a, h.deva, AF_INET, BASE + 5000, MAC), 0);
  t.is(tb.gc_entries, 0, 'exempt from GC');
  learn(h, 0, 1024);
  t.is(tb.entries, 1025);
  t.is(tb.gc_entries, 1024);
  // A forced GC (entries idle for 5 s) takes collectable entries only.
  h.clock.advance(6 * SEC);
  learn(h, 2000, 1);
  t.is(tb.gc_entries, 512);
  t.is(tb.entries, 513);
  t.true(has(h, 5000));
  // The periodic pass, past gc_staletime, neither.
  h.clock.advance(120 * SEC);
  t.false(has(h, 1000), 'the idle collectable entries went');
  t.true(has(h, 5000), 'the permanent one stays');
  t.is(neigh_lookup4(tb, BASE + 5000, h.deva)!.nud_state, NUD.NUD_PERMANENT);
  // A permanent entry made ordinary again by an admin joins the gc_list.
  const n = neigh_lookup4(tb, BASE + 5000, h.deva)!;
  neigh_update(n, MAC, NUD.NUD_STALE, NEIGH_UPDATE.NEIGH_UPDATE_F_OVERRIDE | NEIGH_UPDATE.NEIGH_UPDATE_F_ADMIN);
  t.is(tb.gc_entries, tb.entries);
});

test('table full: nothing idle for 5 s, the entry is refused and counted as table_fulls', (t) => {
  const h = twoHosts();
  const tb = tbl(h);
  learn(h, 0, 1024);
  t.is(tb.entries, 1024);
  t.is(tb.stats.table_fulls, 0);
  t.is(__neigh_lookup4(tb, BASE + 1024, h.deva, true), undefined, 'refused');
  t.is(tb.stats.table_fulls, 1);
  t.true(tb.stats.forced_gc_runs >= 1);
  t.is(tb.entries, 1024);
  t.is(tb.gc_entries, 1024);
  // An existing entry is still found and updated.
  t.not(__neigh_lookup4(tb, BASE + 3, h.deva, true), undefined);
  // Entries not updated for 5 s may go: the forced GC takes the oldest down to gc_thresh2.
  h.clock.advance(6 * SEC);
  t.not(__neigh_lookup4(tb, BASE + 1024, h.deva, true), undefined, 'room made');
  t.is(tb.gc_entries, 512);
  t.is(tb.entries, 512);
  t.false(has(h, 0), 'the oldest went first');
  t.true(has(h, 1023));
});

test('forced GC skips entries whose timer runs (REACHABLE) and takes FAILED ones regardless of age', (t) => {
  const h = twoHosts();
  const tb = tbl(h);
  learn(h, 0, 1024);
  for (let i = 0; i < 10; i++) neigh_update(neigh_lookup4(tb, BASE + i, h.deva)!, MAC, NUD.NUD_REACHABLE, NEIGH_UPDATE.NEIGH_UPDATE_F_OVERRIDE);
  h.clock.advance(6 * SEC);
  t.not(__neigh_lookup4(tb, BASE + 2000, h.deva, true), undefined);
  for (let i = 0; i < 10; i++) t.true(has(h, i), `REACHABLE entry ${i} kept (its timer holds it)`);
  t.false(has(h, 10), 'the oldest STALE went');
  t.is(tb.gc_entries, 512);

  // A fresh table at gc_thresh3 with FAILED entries: those go although just updated.
  const h2 = twoHosts();
  const tb2 = tbl(h2);
  learn(h2, 0, 1024);
  for (let i = 100; i < 103; i++) neigh_update(neigh_lookup4(tb2, BASE + i, h2.deva)!, null, NUD.NUD_FAILED, NEIGH_UPDATE.NEIGH_UPDATE_F_ADMIN);
  t.not(__neigh_lookup4(tb2, BASE + 2000, h2.deva, true), undefined, 'a FAILED entry made room');
  t.is(tb2.stats.table_fulls, 0);
  t.false(has(h2, 100));
  t.true(has(h2, 0), 'fresh STALE entries kept');
});

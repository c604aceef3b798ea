// The sk-lookup suite (`vxo table --suite sk-lookup`): the SK_LOOKUP cover letters' benchmark and
// the dispatch it was made for (sockets.md §7, §9.1).
//
// Floods (rows tcp4 tcp6 udp4 udp6): pktgen's flood from one address and 10k source ports at one
// destination port (run-flood.ts), through NIC -> br0 -> tap -> vhost -> virtio_net -> the guest's
// stack. tcp: SYNs at one listener that never accepts, tcp_syncookies = 2 (cookies always on). udp:
// 0-length datagrams at one socket whose socket filter (sf_drop.o, SO_ATTACH_BPF) drops them all,
// the letters' "filter that drops the packets". Columns, the letters' three kernels:
//   no-hook  a guest kernel without the series (net/core/sk-lookup.ts sk_lookup_hook_set: the
//            lookups have no SK_LOOKUP step), the baseline;
//   no-prog  the hook, no program attached (the lookups test the run array and go on);
//   lpm200   sk_lookup_bench.o on the guest's netns link, its LPM trie filled with 200 entries as
//            scenarios/sk/README.md says (tcp 10.i.0.0/16 port 1000 + i): every lookup misses it
//            twice (with the port, then port 0) and passes, so the flood's result never changes.
// The figure: rx pps, frames eth0 received per second over the window (virtio_net's rx_packets,
// /proc/net/dev's counter, which `ifpps -d eth0` reads as the letters measured), beside both
// published tables. Conservation: the four workers' ledger (every generated frame delivered,
// dropped by reason or queued) and the guest stack's (every frame eth0 handed it answered with a
// cookie / dropped by the filter, or dropped by reason), and with the program its own counters
// (runs = hits + misses, one run per lookup).
//
// Lookup cost (rows 'lookup tcp4' ...): the same three kernels' lookup alone, ns per lookup on one
// thread, interleaved (sk-lookup-cost.ts): the mechanism's deltas where the floods' are noise.
// Dispatch (rows 'dispatch ...'), two columns: 'workers', pktgen cycling the binding's destinations
// through the four workers into the guest's dispatcher (sk-lookup-dispatch-workers.ts: datagrams
// read, SYNs answered); 'one-thread', two stacks on a veth pair sending each destination once plus
// the miss probes (sk-lookup-dispatch.ts): the only way to show TCP accepts (a client's handshake)
// and misses by reason.
import { join } from 'node:path';
import { isEngineName, type EngineName } from '../../bpf-vm/engines.ts';
import { runFlood, type FloodKind, type FloodResult } from '../run/run-flood.ts';
import { RunError } from '../run/run-error.ts';
import type { BpfAttachSpec, MapInit } from '../stack/bpf-attach.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { DISPATCH_ROWS, dispatchPlan, runDispatchCell, type DispatchRow } from './sk-lookup-dispatch.ts';
import { runDispatchWorkerCell } from './sk-lookup-dispatch-workers.ts';
import { runLookupCostIsolated } from './sk-lookup-cost.ts';
import {
  SK_LOOKUP_CONFIGS, SK_LOOKUP_CYCLES, SK_LOOKUP_FLOODS, skLookupPublished, type SkLookupConfig, type SkLookupFlood,
} from './sk-lookup-published.ts';
import type { SuiteRunWithNotes } from './run-suite.ts';
import type { Suite, SuiteCell, SuiteCellSpec, SuiteOptions, SuiteRun } from './types.ts';

/** What each column's cells say beside their figure (the runner gathers runs' notes into the cell's). */
const CONFIG_NOTES: Record<SkLookupConfig, string> = {
  'no-hook': 'guest kernel without the SK_LOOKUP series: the lookups have no hook (sk_lookup_hook_set)',
  'no-prog': 'SK_LOOKUP hook, no program: one test of the netns run array per lookup',
  lpm200: 'sk_lookup_bench.o on the netns link, 200-entry LPM trie; every lookup misses it twice and passes',
};
const RX_NOTE = 'rx pps: virtio_net rx_packets on the guest\'s eth0 (what ifpps -d eth0 counts)';

const SK_DIR = join(PACKAGE_ROOT, 'scenarios', 'sk');
export const SK_LOOKUP_BENCH_OBJECT = join(SK_DIR, 'sk_lookup_bench.o');
export const SF_DROP_OBJECT = join(SK_DIR, 'sf_drop.o');

/** The benchmark trie's size (sk_lookup_bench.c BENCH_ENTRIES, the letters' 200-entry LPM_TRIE). */
export const BENCH_ENTRIES = 200;
/** The lookup-cost rows (sk-lookup-cost.ts): one per flood, ns per lookup under the three kernels. */
export const COST_ROWS = SK_LOOKUP_FLOODS.map((f) => `lookup ${f}`);
/** The dispatch cells' columns: through the four workers, and two stacks in one thread. */
export const DISPATCH_COLUMNS = ['workers', 'one-thread'] as const;
export type DispatchColumn = (typeof DISPATCH_COLUMNS)[number];

const DISPATCH_METRIC: Record<DispatchColumn, Record<'udp' | 'tcp', string>> = {
  workers: { udp: 'datagrams read per datagram looked up', tcp: 'cookie SYN-ACKs per SYN looked up' },
  'one-thread': { udp: 'datagrams read per destination', tcp: 'connections accepted per destination' },
};

const FLOOD_KIND: Record<SkLookupFlood, FloodKind> = { tcp4: 'syn4', tcp6: 'syn6', udp4: 'udp4', udp6: 'udp6' };

/**
 * bench_bindings' 200 entries as README.md fills them: tcp 10.i.0.0/16 port 1000 + i, keys in
 * struct bind_key's layout (prefixlen LE = 24 + 96 + 16, protocol, port BE, v4-mapped address).
 */
export function benchMapInits(): MapInit[] {
  const out: MapInit[] = [];
  for (let i = 0; i < BENCH_ENTRIES; i++) {
    const key = new Uint8Array(23);
    const dv = new DataView(key.buffer);
    dv.setUint32(0, 24 + 96 + 16, true);
    key[4] = 6;
    dv.setUint16(5, 1000 + i, false);
    key.set([0xff, 0xff, 10, i], 17);
    out.push({ map: 'bench_bindings', key: hex(key), value: hex(Uint8Array.of(i + 1, 0, 0, 0)) });
  }
  return out;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** The guest's attachments for a cell: the drop filter on the UDP socket, the benchmark program in lpm200. */
export function floodAttachments(flood: SkLookupFlood, config: SkLookupConfig): BpfAttachSpec[] {
  const specs: BpfAttachSpec[] = [];
  if (flood.startsWith('udp')) specs.push({ kind: 'socket_filter', object: SF_DROP_OBJECT });
  if (config === 'lpm200') specs.push({ kind: 'sk_lookup', object: SK_LOOKUP_BENCH_OBJECT, maps: benchMapInits() });
  return specs;
}

function engineOf(o: SuiteOptions): EngineName {
  if (!isEngineName(o.engine)) throw new RunError('EINVAL', `--engine ${o.engine}: interp or jit`);
  return o.engine;
}

/** A u64 LE slot of a dumped ARRAY map (keys u32 LE), 0 when absent. */
function slot(entries: readonly { key: string; value: string }[] | undefined, i: number): number {
  const key = hex(Uint8Array.of(i & 255, (i >> 8) & 255, 0, 0));
  const v = entries?.find((e) => e.key === key)?.value;
  if (v === undefined) return 0;
  let n = 0;
  for (let b = 7; b >= 0; b--) n = n * 256 + parseInt(v.slice(b * 2, b * 2 + 2), 16);
  return n;
}

/** One flood cell, once. */
export async function runFloodCell(flood: SkLookupFlood, config: SkLookupConfig, o: SuiteOptions): Promise<SuiteRunWithNotes> {
  const engine = engineOf(o);
  const r = await runFlood({
    kind: FLOOD_KIND[flood], duration: o.duration, warmup: o.warmup,
    bpf: { engine, guest: floodAttachments(flood, config) },
    ...(config === 'no-hook' ? { skLookupHook: false } : {}),
  });
  return floodRun(flood, config, r);
}

/** The suite's view of one flood run: the figure, the counters behind it, conservation. */
export function floodRun(flood: SkLookupFlood, config: SkLookupConfig, r: FloodResult): SuiteRunWithNotes {
  const w = r.window;
  const c = r.counters;
  const sa = r.stack_accounting;
  const bench = r.bpf?.guest?.maps['bench_counters']?.entries;
  const runs = slot(bench, 0), hits = slot(bench, 1), misses = slot(bench, 2);
  const lpm = config === 'lpm200';
  // With the program: one run per lookup, each a hit or a miss (hits 0: no binding is on the flood's port).
  const programBalanced = !lpm || (runs > 0 && runs === hits + misses && (r.bpf?.guest?.maps['bench_bindings']?.entries.length ?? 0) === 200);
  // Without it: nothing is attached at the hook, and the kernel without the series has no run array to attach to.
  const skLookupAttached = /sk_lookup:/.test(r.bpf?.guest?.net ?? '');
  const shapeOk = lpm ? skLookupAttached : !skLookupAttached;
  const syn = flood.startsWith('tcp');
  const rxFrames = w['guest_rx_packets'] ?? 0;
  const acc = r.accounting;
  const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);
  const ledgerDropped = sum(acc.dropped);
  const counters: Record<string, number> = {
    rx_frames: rxFrames,
    stack_rx: w['guest_stack_rx_packets'] ?? 0,
    ...(syn ? { syncookies_sent: w['guest_app_syncookies_sent'] ?? 0, synack_tx: w['guest_tx_skb'] ?? 0 } : {}),
    stack_drops: w['guest_stack_skb_drop_total'] ?? 0,
    // Run totals: the four workers' ledger, the stack's, the program's (ledgers close on totals, not on the window).
    total_generated: acc.generated,
    total_delivered: sum(acc.delivered),
    total_dropped: ledgerDropped,
    total_queued: sum(acc.queued),
    ...Object.fromEntries(Object.entries(acc.dropped).filter(([, v]) => v > 0).map(([k, v]) => [`total_drop_${k}`, v])),
    total_received: sa.received,
    ...Object.fromEntries(Object.entries(sa.dropped).map(([k, v]) => [`total_stack_drop_${k}`, v])),
    ...(lpm ? { prog_runs: runs, prog_hits: hits, prog_misses: misses } : {}),
    ...(syn ? { total_listen_drops: c['guest_app_listen_drops'] ?? 0 } : {}),
  };
  const cpu: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.explain)) if (k.startsWith('cpu_') && typeof v === 'number' && Number.isFinite(v)) cpu[k.slice(4)] = v;
  const guestCpu = cpu['guest'] ?? NaN;
  return {
    value: r.rx_pps,
    seconds: r.seconds,
    balanced: r.accounting.balanced && sa.balanced && programBalanced && shapeOk,
    counters,
    explain: {
      // The guest thread's CPU per frame: what the stack (and the hook, and the program) cost each packet.
      guest_us_per_frame: rxFrames > 0 ? (guestCpu * r.seconds * 1e6) / rxFrames : NaN,
      // Generated frames dropped before the guest (the tap's full queue, mostly): the guest, not the generator, set the rate.
      ledger_drop_share: acc.generated > 0 ? ledgerDropped / acc.generated : NaN,
      probe_us_guest: r.explain.probe_us_guest ?? NaN,
    },
    cpu,
    notes: [RX_NOTE, CONFIG_NOTES[config], flood.startsWith('tcp') ? 'SYN flood at one listener that never accepts, tcp_syncookies = 2' : '0-length UDP flood at one socket, sf_drop.o (SO_ATTACH_BPF) drops every datagram'],
  };
}

function floodSpecs(): SuiteCellSpec[] {
  const out: SuiteCellSpec[] = [];
  for (const flood of SK_LOOKUP_FLOODS) {
    for (const config of SK_LOOKUP_CONFIGS) {
      out.push({ id: `${flood}/${config}`, row: flood, column: config, metric: 'rx pps', unit: 'pps', published: skLookupPublished(flood, config) });
    }
  }
  return out;
}

function costSpecs(): SuiteCellSpec[] {
  const out: SuiteCellSpec[] = [];
  for (const flood of SK_LOOKUP_FLOODS) {
    for (const config of SK_LOOKUP_CONFIGS) {
      out.push({ id: `lookup ${flood}/${config}`, row: `lookup ${flood}`, column: config, metric: 'ns per lookup', unit: 'ns', published: [] });
    }
  }
  return out;
}

function dispatchSpecs(): SuiteCellSpec[] {
  return DISPATCH_ROWS.flatMap((row) => DISPATCH_COLUMNS.map((column) => ({
    id: `${row}/${column}`, row, column, metric: DISPATCH_METRIC[column][dispatchPlan(row).protocol], unit: 'share', published: [],
  })));
}

function parseCell(cell: SuiteCellSpec): { flood: SkLookupFlood; config: SkLookupConfig; cost: boolean } | { dispatch: DispatchRow; column: DispatchColumn } {
  const cost = cell.row.startsWith('lookup ');
  const row = cost ? cell.row.slice('lookup '.length) : cell.row;
  if ((DISPATCH_ROWS as readonly string[]).includes(cell.row) && (DISPATCH_COLUMNS as readonly string[]).includes(cell.column)) {
    return { dispatch: cell.row as DispatchRow, column: cell.column as DispatchColumn };
  }
  if ((SK_LOOKUP_FLOODS as readonly string[]).includes(row) && (SK_LOOKUP_CONFIGS as readonly string[]).includes(cell.column)) {
    return { flood: row as SkLookupFlood, config: cell.column as SkLookupConfig, cost };
  }
  throw new RunError('ENOENT', `sk-lookup: no cell ${cell.id}`);
}

/** The four-worker dispatch cells' packet tap: which of the frames the guest took it kept. */
function tapText(k: Readonly<Record<string, number>>): string {
  const kept = k['tap_frames_in'] ?? 0, all = k['total_received'] ?? 0;
  const n = (x: number): string => x.toLocaleString('en-US');
  return kept < all
    ? `first ${n(kept)} of the ${n(all)} frames the guest's stack took (a packet tap on eth0 keeps two ranges' worth)`
    : `${n(kept)} frames the guest's stack took in the run (a packet tap on eth0 kept them all)`;
}

// n/a where a cell read nothing (a 0 pps window on a loaded machine), never "NaN%".
const pct = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%` : 'n/a');
const us2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const signedNs = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(0)} ns` : 'n/a');

/** The findings, from the finished cells' counters. */
export function skLookupFindings(cells: readonly SuiteCell[]): string[] {
  const out: string[] = [];
  const by = new Map(cells.map((c) => [c.id, c]));
  for (const flood of SK_LOOKUP_FLOODS) {
    const base = by.get(`${flood}/no-hook`), none = by.get(`${flood}/no-prog`), lpm = by.get(`${flood}/lpm200`);
    if (base === undefined || none === undefined || lpm === undefined) continue;
    const spread = Math.max(...[base, none, lpm].map((c) => (c.median > 0 ? (c.max - c.min) / c.median : 0)));
    const us = (c: SuiteCell): number => c.explain['guest_us_per_frame'] ?? NaN;
    const cyc = SK_LOOKUP_CYCLES[flood];
    const d1 = none.delta ?? NaN, d2 = lpm.delta ?? NaN;
    const runs = lpm.runs[0]?.counters['prog_runs'] ?? 0, misses = lpm.runs[0]?.counters['prog_misses'] ?? 0;
    const line = [
      `${flood}: no-prog ${pct(d1)}, lpm200 ${pct(d2)} vs no-hook (runs' spread up to ${(spread * 100).toFixed(1)}%);`,
      `guest CPU per frame ${us2(us(base))} / ${us2(us(none))} / ${us2(us(lpm))} µs;`,
      `the program ran ${runs} times in the first run, ${misses} of them missing all 200 entries (two trie lookups each).`,
      `Published: v1 ${pct(none.published[0]?.delta ?? NaN)} / ${pct(lpm.published[0]?.delta ?? NaN)}, v5 ${pct(none.published[1]?.delta ?? NaN)} / ${pct(lpm.published[1]?.delta ?? NaN)};`,
      `the lookup's cycle share there ${cyc.v1.join(' / ')}% (v1), ${cyc.v5.join(' / ')}% (v5).`,
    ];
    const cb = by.get(`lookup ${flood}/no-hook`), cn = by.get(`lookup ${flood}/no-prog`), cl = by.get(`lookup ${flood}/lpm200`);
    if (cb !== undefined && cn !== undefined && cl !== undefined) {
      const perFrame = us(base) * 1e3;
      const expect = (c: SuiteCell): string => (Number.isFinite(perFrame) && perFrame > 0 ? pct(-(c.median - cb.median) / perFrame) : 'n/a');
      line.push(
        `Per lookup, one thread: ${cb.median.toFixed(0)} / ${cn.median.toFixed(0)} / ${cl.median.toFixed(0)} ns (hook ${signedNs(cn.median - cb.median)}, program ${signedNs(cl.median - cb.median)});`
        + ` against the guest's ${us2(us(base))} µs per frame that predicts ${expect(cn)} and ${expect(cl)} in rx pps; the floods' deltas can show that only where their spread is smaller.`,
      );
    }
    if (Math.abs(d1) <= spread) {
      line.push('The hook without a program is inside our noise: it is one test of the run array\'s length per lookup, as v5\'s static key made it nearly free (v1 paid a pointer load and branch, and its restructured UDP lookup).');
    }
    if (Number.isFinite(d2) && Math.abs(d2) <= spread) {
      const progShare = cb !== undefined && cl !== undefined && us(base) > 0 ? (cl.median - cb.median) / (us(base) * 1e3) : NaN;
      line.push(Number.isFinite(progShare)
        ? `The program's flood delta is inside the runs' spread; its cost per lookup is ${(progShare * 100).toFixed(1)}% of the guest's time per frame (the letters' lookup was 1-8% of cycles, the program adding 1.3-4.6 points): ${progShare > 0.05 ? 'more than the letters\' share, the JIT\'d program and its two trie lookups against a lean TypeScript lookup' : 'less than the letters\' share: the rest of vxo\'s path per frame (virtio ring, skb, IP, the protocol, the filter or the cookie SYN-ACK) dwarfs it'}.`
        : 'The program\'s flood delta is inside the runs\' spread.');
    }
    out.push(line.join(' '));
  }
  const tapShare = cells.filter((c) => c.column === 'no-hook').map((c) => c.explain['ledger_drop_share'] ?? NaN).filter(Number.isFinite);
  if (tapShare.length > 0) {
    out.push(`Absolute rates: the guest thread sets them (${(Math.min(...tapShare) * 100).toFixed(0)}-${(Math.max(...tapShare) * 100).toFixed(0)}% of the generated frames were dropped before the guest in the baselines, at the tap's full queue): one emulated vCPU in TypeScript against 4 RX queues on a 24-core Skylake; the ratios to the published figures say that, not the deltas.`);
  }
  for (const row of DISPATCH_ROWS) {
    const plan = dispatchPlan(row);
    const udp = plan.protocol === 'udp';
    const what = plan.shape === 'prefix' ? `every address of 192.0.2.0/24 on port ${udp ? 53 : 80}` : 'every port (1-65535) of 198.51.100.1';
    const bindNeeds = `A bind()-based setup would need ${plan.targets.toLocaleString('en-US')} sockets for the same traffic`
      + `${plan.shape === 'prefix' ? ' (one per address: bind() takes one address or the wildcard, and the wildcard takes every address the host owns)' : ' (one per port: bind() takes one port, and 65,535 sockets cannot also leave the other services their ports)'}; here 1.`;
    const misses = (k: Readonly<Record<string, number>>, errors: number): string =>
      `misses by reason: no binding ${k['dispatch_no_binding'] ?? 0}, binding without a socket ${k['dispatch_missing_socket'] ?? 0}, assign errors ${errors}`;
    const wk = by.get(`${row}/workers`);
    if (wk !== undefined) {
      const k = wk.runs[0]?.counters ?? {};
      const e = wk.explain;
      const drops = Object.entries(k).filter(([n, v]) => n.startsWith('total_stack_drop_') && v > 0).map(([n, v]) => `${n.slice('total_stack_drop_'.length)} ${v}`);
      const seen = k['destinations_seen'] ?? 0;
      out.push(
        `${row} (four workers): pktgen sent ${udp ? 'datagrams' : 'SYNs'} to ${what}, going through the range ${(e['range_passes'] ?? NaN).toFixed(1)} times in the first run`
        + ` and the guest's stack taking ${(e['guest_range_passes'] ?? NaN).toFixed(2)} ranges' worth; ${seen.toLocaleString('en-US')} of the ${plan.targets.toLocaleString('en-US')} destinations were among the ${tapText(k)}`
        + `${seen < plan.targets ? ` (${(k['tap_frames_in'] ?? 0) < (k['total_received'] ?? 0)
          ? 'frames reach the guest in bursts between the tap queue\'s drops, so the first two ranges\' worth of them do not cover every destination'
          : `the rest did not reach the guest in this run: at its rate here, ${Math.round(e['reached_pps'] ?? NaN)}/s, a longer --duration covers them`})` : ''};`
        + ` of the ${k['covered'] ?? 0} the guest looked up by the window's close, the dispatcher assigned ${k['dispatch_assigned'] ?? 0} to the binding's one socket`
        + (udp
          ? ` (the sink on *:10053), which read ${k['reached'] ?? 0} (${k['queued'] ?? 0} queued, ${k['socket_drops'] ?? 0} dropped at the socket);`
          : ` (a listener on *:10080, tcp_syncookies = 2), which answered ${k['reached'] ?? 0} with a cookie SYN-ACK (${k['socket_drops'] ?? 0} listen drops; no accepts: pktgen never completes a handshake);`)
        + ` ${misses(k, e['errors'] ?? 0)}; the guest stack's drops by reason: ${drops.length > 0 ? drops.join(', ') : 'none'};`
        + ` ${(100 * (e['ledger_drop_share'] ?? NaN)).toFixed(0)}% of the generated frames were dropped before the guest (the tap's full queue). ${bindNeeds}`,
      );
    }
    const one = by.get(`${row}/one-thread`);
    if (one !== undefined) {
      const k = one.runs[0]?.counters ?? {};
      out.push(
        `${row} (two stacks, one thread, each destination once${udp ? '' : ': an accept needs a client\'s handshake, which pktgen\'s SYNs never complete'}): ${k['reached'] ?? 0} of ${k['covered'] ?? 0} ${udp ? 'datagrams' : 'connections'} to ${what}`
        + ` ${udp ? 'were read from' : 'were accepted on'} the binding's one socket (bound to 127.0.0.1); ${misses(k, one.explain['errors'] ?? 0)}, each refused (${udp ? 'ICMP port unreachable' : 'RST'}): ${k['refused'] ?? 0}.`
        + `${wk === undefined ? ` ${bindNeeds}` : ''}`,
      );
    }
  }
  return out;
}

export const skLookupSuite: Suite = {
  id: 'sk-lookup',
  title: 'SK_LOOKUP: the cover letters\' floods (rx pps) and the dispatcher',
  source: 'sockets.md §7.1 (v1 cover, 5.6.3) and §7.2 (v5 re-run, 5.8-rc7); dispatch: §9.1 (tubular)',
  rows: [...SK_LOOKUP_FLOODS, ...COST_ROWS, ...DISPATCH_ROWS],
  columns: [...SK_LOOKUP_CONFIGS, ...DISPATCH_COLUMNS],
  baseline: 'no-hook',
  cells(): readonly SuiteCellSpec[] {
    return [...floodSpecs(), ...costSpecs(), ...dispatchSpecs()];
  },
  async run(cell: SuiteCellSpec, o: SuiteOptions): Promise<SuiteRun> {
    const p = parseCell(cell);
    if ('dispatch' in p) {
      if (p.column === 'workers') return runDispatchWorkerCell(p.dispatch, engineOf(o), { duration: o.duration, warmup: o.warmup });
      return runDispatchCell(p.dispatch, engineOf(o));
    }
    if (p.cost) return runLookupCostIsolated({ flood: p.flood, config: p.config, engine: engineOf(o), object: SK_LOOKUP_BENCH_OBJECT, inits: benchMapInits() });
    return runFloodCell(p.flood, p.config, o);
  },
  findings(cells: readonly SuiteCell[]): string[] {
    return skLookupFindings(cells);
  },
};

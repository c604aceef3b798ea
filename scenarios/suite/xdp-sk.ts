// The socket-aware XDP suite (LPC 2018's idea; sockets.md §4.4): scenarios/sk/xdp_sk_firewall.o in
// the guest's virtio_net, native, looks up a socket for every TCP/UDP packet (bpf_skc_lookup_tcp,
// bpf_sk_lookup_udp) and drops at XDP what no socket would take, before the stack spends an skb, a
// lookup and a reply (RST, ICMP port unreachable) on it. Under the flood of `vxo run flood` (pktgen,
// one source, 10k source ports) aimed at a port with and without a socket, four configurations:
// the stack alone (baseline), plain xdp1 (drops everything after one map update: XDP's floor), the
// firewall native, and the firewall asked to offload, which the device refuses (the helpers are
// not on the offload allow list: the host cannot see the guest's sockets) so the guest runs it
// natively. The figure is the frames the guest's driver took off its rx ring per second
// (virtnet's rx_frames); the lookups' cost per packet comes from the guest thread's CPU per frame,
// firewall against xdp1 under the same flood. No published table exists for this design: the
// cells stand alone, and the findings say what the counters show.
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';
import { formatRate } from '../report/fmt.ts';
import { bpfReport, withBpf, workerDataWith, type ScenarioBpf } from '../run/bpf-options.ts';
import { benchObject } from '../run/programs.ts';
import { RunError } from '../run/run-error.ts';
import { runMachines } from '../run/run-machines.ts';
import { floodTemplate, guestFloodSetup, stackAccounting, type FloodKind } from '../run/run-flood.ts';
import { NET_PORTS } from '../stack/setup-data.ts';
import type { SuiteRunWithNotes } from './run-suite.ts';
import { measureXdpCost } from './xdp-sk-cost.ts';
import type { Suite, SuiteCell, SuiteCellSpec, SuiteOptions } from './types.ts';

export const XDP_SK_FIREWALL_OBJECT = join(PACKAGE_ROOT, 'scenarios', 'sk', 'xdp_sk_firewall.o');

/** The firewall's fw_verdicts slots (scenarios/sk/README.md), in index order. */
export const FW_VERDICTS = [
  'FW_PASS_NOT_IP', 'FW_PASS_OTHER', 'FW_PASS_FRAGMENT', 'FW_PASS_MULTICAST', 'FW_PASS_TCP_LISTENER', 'FW_PASS_TCP_SOCKET',
  'FW_PASS_UDP', 'FW_DROP_TCP', 'FW_DROP_UDP', 'FW_DROP_TRUNCATED',
] as const;

/** A port nothing in the guest binds or listens on (the flood's "no socket" rows). */
export const XDP_SK_CLOSED_PORT = { udp: 7, tcp: 81 } as const;

/** Each row: the flood and where it is aimed. */
export const XDP_SK_ROWS = {
  'udp4 no socket': { kind: 'udp4', port: XDP_SK_CLOSED_PORT.udp },
  'udp4 to socket': { kind: 'udp4', port: NET_PORTS.udpSink },
  'syn4 no listener': { kind: 'syn4', port: XDP_SK_CLOSED_PORT.tcp },
  'syn4 to listener': { kind: 'syn4', port: NET_PORTS.synListener },
} as const satisfies Record<string, { kind: FloodKind; port: number }>;
/** The one-thread rows (xdp-sk-cost.ts): the program alone on this thread, the same frames. */
export const XDP_SK_COST_ROWS = {
  'one thread: udp4 no socket': { port: XDP_SK_CLOSED_PORT.udp },
  'one thread: udp4 to socket': { port: NET_PORTS.udpSink },
} as const;
export type XdpSkFloodRow = keyof typeof XDP_SK_ROWS;
export type XdpSkRow = XdpSkFloodRow | keyof typeof XDP_SK_COST_ROWS;

export const XDP_SK_COLUMNS = ['stack', 'xdp1', 'firewall', 'offload'] as const;
export type XdpSkColumn = (typeof XDP_SK_COLUMNS)[number];

/**
 * The cells: the stack and the firewall under every flood; xdp1 where the firewall drops too (the
 * same verdict after a lookup: the lookup's cost is the difference); the offload attempt once (the
 * refusal does not depend on the flood: the device refuses the helper when the program is attached).
 */
const LAYOUT: Readonly<Record<XdpSkRow, readonly XdpSkColumn[]>> = {
  'udp4 no socket': ['stack', 'xdp1', 'firewall', 'offload'],
  'udp4 to socket': ['stack', 'firewall'],
  'syn4 no listener': ['stack', 'xdp1', 'firewall'],
  'syn4 to listener': ['stack', 'firewall'],
  'one thread: udp4 no socket': ['xdp1', 'firewall'],
  'one thread: udp4 to socket': ['firewall'],
};

const METRIC = 'guest rx frames (virtnet rx_frames)';
const COST_METRIC = 'XDP program run, one thread (median round)';

const isCostRow = (s: string): s is keyof typeof XDP_SK_COST_ROWS => Object.hasOwn(XDP_SK_COST_ROWS, s);

function cellSpecs(): SuiteCellSpec[] {
  return (Object.keys(LAYOUT) as XdpSkRow[]).flatMap((row) => LAYOUT[row].map((column) => ({
    id: `${row}/${column}`, row, column, published: [],
    ...(isCostRow(row) ? { metric: COST_METRIC, unit: 'ns/packet' } : { metric: METRIC, unit: 'pps' }),
  })));
}

function isRow(s: string): s is XdpSkFloodRow {
  return Object.hasOwn(XDP_SK_ROWS, s);
}

/** A one-thread cell: the program's ns per packet, its actions and its map against the runs. */
function runCostCell(spec: SuiteCellSpec, o: SuiteOptions, row: keyof typeof XDP_SK_COST_ROWS): SuiteRunWithNotes {
  if (spec.column !== 'xdp1' && spec.column !== 'firewall') throw new RunError('EINVAL', `xdp-sk: no cell ${spec.id}`);
  const engine = o.engine === 'interp' ? 'interp' : 'jit';
  const t0 = performance.now();
  const r = measureXdpCost({ program: spec.column, dstPort: XDP_SK_COST_ROWS[row].port, engine, seconds: o.duration, firewallObject: XDP_SK_FIREWALL_OBJECT });
  const seconds = (performance.now() - t0) / 1000;
  const explain: Record<string, number> = { min_ns_per_packet: r.minNs, max_ns_per_packet: r.maxNs, runs: r.runs };
  if (spec.column === 'firewall') FW_VERDICTS.forEach((v, i) => { if ((r.slots[i] ?? 0) > 0) explain[`run_${v}`] = r.slots[i]!; });
  else explain['run_xdp1_counted'] = r.mapCounted;
  const notes = r.balanced ? [] : [`runs ${r.runs}, actions ${JSON.stringify(r.actions)} (expected ${r.expected} for all), counted by the map ${r.mapCounted}`];
  return {
    value: r.nsPerPacket, seconds, balanced: r.balanced,
    counters: { runs: r.runs, map_counted: r.mapCounted, ...Object.fromEntries(Object.entries(r.actions).map(([a, n]) => [`action_${a}`, n])) },
    explain, notes,
  };
}

/** The guest's XDP for a column (none for the stack alone). */
export function xdpSkBpf(column: XdpSkColumn, engine: 'jit' | 'interp'): ScenarioBpf | undefined {
  switch (column) {
    case 'stack': return undefined;
    case 'xdp1': return { engine, guestXdp: { object: benchObject('xdp1'), mode: 'native' } };
    case 'firewall': return { engine, guestXdp: { object: XDP_SK_FIREWALL_OBJECT, mode: 'native' } };
    case 'offload': return { engine, guestXdp: { object: XDP_SK_FIREWALL_OBJECT, mode: 'offload', fallbackNative: true } };
  }
}

/** u64 LE values of an ARRAY map's dump, by slot (keys are u32 LE). */
function arraySlots(entries: readonly { key: string; value: string }[] | undefined): number[] {
  const out: number[] = [];
  for (const e of entries ?? []) {
    const k = Buffer.from(e.key, 'hex').readUInt32LE(0);
    out[k] = Number(Buffer.from(e.value, 'hex').readBigUInt64LE(0));
  }
  return out;
}

export interface XdpSkLedger {
  /** Frames the program ran on = its verdicts' sum (xdp1: its per-protocol counts). */
  xdp_runs: number;
  xdp_counted: number;
  /** The guest stack's own ledger of what XDP passed. */
  stack_received: number;
  stack_balanced: boolean;
  balanced: boolean;
}

/**
 * Conservation beyond the machines' frame ledger (run-machines.ts): every frame the program ran on
 * has one verdict in its map (the firewall's fw_verdicts, xdp1's rxcnt), its drops are the
 * driver's XDP drops, what it passed is what the stack received; and the stack accounted for all of
 * that (udp: read, queued or dropped by reason; syn: answered with a cookie SYN-ACK or dropped by
 * reason, every SYN-ACK and RST on the tx ring, dropped there or still on the qdisc).
 */
export function xdpSkLedger(kind: FloodKind, column: XdpSkColumn, c: Readonly<Record<string, number>>, slots: readonly number[]): XdpSkLedger {
  const g = (k: string): number => c[`guest_${k}`] ?? 0;
  const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + (b ?? 0), 0);
  const runs = g('rx_xdp_packets');
  let xdpOk = true;
  let counted = 0;
  if (column === 'xdp1') {
    counted = sum(slots);
    xdpOk = counted === runs && g('rx_xdp_drops') === runs;
  } else if (column !== 'stack') {
    counted = sum(slots);
    const drops = (slots[7] ?? 0) + (slots[8] ?? 0) + (slots[9] ?? 0);
    xdpOk = counted === runs && drops === g('rx_xdp_drops') && counted - drops === g('rx_packets');
  } else xdpOk = runs === 0;
  const sa = stackAccounting(kind, c as Record<string, number>);
  let stackOk = sa.balanced;
  if (kind.startsWith('syn')) {
    // stackAccounting's syn ledger knows only SYN-ACKs; a SYN with no listener is answered with a RST.
    const rsts = g('nstat_TcpOutRsts');
    const rxDrops = g('stack_skb_drop_total') - (sa.tx_dropped ?? 0);
    stackOk = sa.received === (sa.answered ?? 0) + rxDrops
      && (sa.answered ?? 0) + rsts === (sa.transmitted ?? 0) + (sa.tx_dropped ?? 0) + (sa.qdisc_queued ?? 0);
  }
  const stackOkFromXdp = sa.received === g('rx_packets');
  return { xdp_runs: runs, xdp_counted: counted, stack_received: sa.received, stack_balanced: stackOk && stackOkFromXdp, balanced: xdpOk && stackOk && stackOkFromXdp };
}

/** The window's counters this suite's cells explain themselves with. */
const WINDOW_COUNTERS = [
  'pktgen_generated', 'tapx_drop_full_ring', 'vhost_rx_packets', 'guest_rx_frames', 'guest_rx_xdp_packets', 'guest_rx_xdp_drops',
  'guest_rx_packets', 'guest_stack_rx_packets', 'guest_stack_skb_drop_total', 'guest_tx_skb', 'guest_app_rx_packets', 'guest_app_syncookies_sent',
] as const;

async function runCell(spec: SuiteCellSpec, o: SuiteOptions): Promise<SuiteRunWithNotes> {
  if (isCostRow(spec.row)) return runCostCell(spec, o, spec.row);
  if (!isRow(spec.row) || !(XDP_SK_COLUMNS as readonly string[]).includes(spec.column)) throw new RunError('EINVAL', `xdp-sk: no cell ${spec.id}`);
  const engine = o.engine === 'interp' ? 'interp' : 'jit';
  const { kind, port } = XDP_SK_ROWS[spec.row];
  const column = spec.column as XdpSkColumn;
  const b = xdpSkBpf(column, engine);
  const r = await runMachines({
    duration: o.duration, warmup: o.warmup,
    template: { ...floodTemplate(kind), dstPort: port },
    guest: withBpf(guestFloodSetup(kind), 'guest', b),
    ...workerDataWith(undefined, b),
  });
  const rep = b !== undefined ? bpfReport(b, r).bpf?.guest_xdp : undefined;
  const slots = arraySlots(rep?.maps[column === 'xdp1' ? 'rxcnt' : 'fw_verdicts']?.entries);
  const ledger = xdpSkLedger(kind, column, r.counters, slots);
  const w = r.window;
  const s = r.seconds;
  const frames = w['guest_rx_frames'] ?? 0;
  const counters: Record<string, number> = {};
  for (const k of WINDOW_COUNTERS) counters[k] = w[k] ?? 0;
  const explain: Record<string, number> = {
    offered_pps: (w['pktgen_generated'] ?? 0) / s,
    // The guest thread's CPU per frame it took off the ring: driver, XDP and (for passes) the stack.
    guest_ns_per_frame: frames > 0 ? ((r.explain['cpu_guest'] ?? NaN) * s * 1e9) / frames : NaN,
    xdp_drop_share: frames > 0 ? (w['guest_rx_xdp_drops'] ?? 0) / frames : NaN,
    stack_share: frames > 0 ? (w['guest_rx_packets'] ?? 0) / frames : NaN,
    // What the stack sent back per second: ICMP port unreachables (rate limited), RSTs, SYN-ACKs.
    replies_per_sec: (w['guest_tx_skb'] ?? 0) / s,
    stack_drops_per_sec: (w['guest_stack_skb_drop_total'] ?? 0) / s,
  };
  // Whole-run totals (the maps and the stack's nstat are read once, at the end).
  if (column !== 'stack' && column !== 'xdp1') FW_VERDICTS.forEach((v, i) => { if ((slots[i] ?? 0) > 0) explain[`run_${v}`] = slots[i]!; });
  if (column === 'xdp1') explain['run_xdp1_counted'] = ledger.xdp_counted;
  for (const k of ['nstat_UdpNoPorts', 'nstat_IcmpOutDestUnreachs', 'nstat_IcmpOutRateLimitHost', 'nstat_TcpOutRsts', 'nstat_TcpExtSyncookiesSent', 'stack_skb_drop_NO_SOCKET']) {
    const v = r.counters[`guest_${k}`];
    if (v !== undefined && v > 0) explain[`run_${k}`] = v;
  }
  for (const [k, v] of Object.entries(r.explain)) if (!(k in explain)) explain[k] = v;
  const cpu: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.explain)) if (k.startsWith('cpu_') && k !== 'cpu_probe_ms' && k !== 'cpu_all' && k !== 'cpu_other' && k !== 'cpu_steal') cpu[k] = v;
  const notes: string[] = [];
  if (column === 'offload') {
    notes.push(rep?.offload_refused !== undefined
      ? `offload refused (${rep.offload_refused}): the guest runs the firewall native instead`
      : 'offload was NOT refused: the device took a program that calls socket lookup helpers');
  }
  if (!r.accounting.balanced) notes.push(`machines' frame ledger off: generated ${r.accounting.generated}, accounted ${r.accounting.accounted}`);
  if (!ledger.balanced) notes.push(`XDP/stack ledger off: program runs ${ledger.xdp_runs}, verdicts ${ledger.xdp_counted}, stack received ${ledger.stack_received}`);
  return {
    value: frames / s, seconds: s, balanced: r.accounting.balanced && ledger.balanced,
    counters, explain, cpu, notes,
  };
}

const find = (cells: readonly SuiteCell[], row: XdpSkRow, column: XdpSkColumn): SuiteCell | undefined => cells.find((c) => c.row === row && c.column === column);
const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : 'n/a');
const ns = (x: number | undefined): string => (x !== undefined && Number.isFinite(x) ? `${x.toFixed(0)} ns` : 'n/a');
const kpps = (x: number): string => (Number.isFinite(x) ? `${(x / 1e3).toFixed(1)}k pps` : 'n/a');

function findings(cells: readonly SuiteCell[]): string[] {
  const out: string[] = [];
  for (const row of ['udp4 no socket', 'syn4 no listener'] as const) {
    const st = find(cells, row, 'stack'), fw = find(cells, row, 'firewall'), x1 = find(cells, row, 'xdp1');
    if (st !== undefined && fw !== undefined) {
      const reply = row.startsWith('udp') ? 'ICMP port unreachables (rate limited)' : 'RSTs';
      out.push(`${row}: the firewall dropped ${pct(fw.explain['xdp_drop_share'] ?? NaN)} of the frames at XDP (${row.startsWith('udp') ? 'FW_DROP_UDP' : 'FW_DROP_TCP'}), ${ns(fw.explain['guest_ns_per_frame'])} of guest CPU per frame, where the stack alone took ${ns(st.explain['guest_ns_per_frame'])} per frame to drop them as NO_SOCKET and sent ${formatRate(st.explain['replies_per_sec'] ?? NaN)}/s ${reply}; rx ${kpps(fw.median)} vs ${kpps(st.median)}.`);
    }
    if (fw !== undefined && x1 !== undefined) {
      const d = (fw.explain['guest_ns_per_frame'] ?? NaN) - (x1.explain['guest_ns_per_frame'] ?? NaN);
      if (!(d > 0)) {
        out.push(`${row}: under the flood the guest thread spent ${ns(fw.explain['guest_ns_per_frame'])} per frame with the firewall and ${ns(x1.explain['guest_ns_per_frame'])} with xdp1: the lookup's cost is below what this machine's load lets the workers' CPU figures resolve (see the one-thread rows).`);
        continue;
      }
      out.push(`${row}: the socket lookup (${row.startsWith('udp') ? 'bpf_sk_lookup_udp' : 'bpf_skc_lookup_tcp'} finding nothing, plus the firewall's parsing) costs about ${ns(d)} per packet over xdp1's drop (${ns(fw.explain['guest_ns_per_frame'])} vs ${ns(x1.explain['guest_ns_per_frame'])} of guest CPU per frame, same flood; noisy on a shared machine).`);
    }
  }
  for (const row of ['udp4 to socket', 'syn4 to listener'] as const) {
    const st = find(cells, row, 'stack'), fw = find(cells, row, 'firewall');
    if (st !== undefined && fw !== undefined) {
      out.push(`${row}: every frame has a socket, so the firewall passes ${pct(fw.explain['stack_share'] ?? NaN)} and adds its lookup to the stack's own: ${ns(fw.explain['guest_ns_per_frame'])} vs ${ns(st.explain['guest_ns_per_frame'])} per frame (a hit also takes and releases a reference on the socket).`);
    }
  }
  const x1 = find(cells, 'one thread: udp4 no socket', 'xdp1');
  const miss = find(cells, 'one thread: udp4 no socket', 'firewall');
  const hit = find(cells, 'one thread: udp4 to socket', 'firewall');
  if (x1 !== undefined && (miss !== undefined || hit !== undefined)) {
    const parts = [
      ...(miss !== undefined ? [`finding no socket ${ns(miss.median)} per packet, ${ns(miss.median - x1.median)} over xdp1's ${ns(x1.median)}`] : []),
      ...(hit !== undefined ? [`finding the sink's socket ${ns(hit.median)}, ${ns(hit.median - x1.median)} over xdp1 (a hit takes and releases a reference)`] : []),
    ];
    out.push(`one thread (the program alone, the flood's frames): the firewall's parse and bpf_sk_lookup_udp cost, ${parts.join('; ')}.`);
  }
  const off = cells.find((c) => c.column === 'offload');
  if (off !== undefined) {
    const refused = off.notes.find((n) => n.startsWith('offload refused'));
    out.push(refused !== undefined
      ? `offload: ${refused}. The design consequence: a socket-aware XDP program must run where the sockets are, in the guest; only packet-only programs (xdp1, xdp2) can move to the host's tap, so offload and socket awareness exclude each other unless the host learns the guest's sockets (a map the guest fills, which the program would then consult instead of the helpers).`
      : 'offload: the device did NOT refuse the firewall: a program calling socket lookup helpers ran on the host\'s tap, which cannot see the guest\'s sockets.');
  }
  out.push('No published table: LPC 2018 proposed the design without figures; the cells stand alone (pps as virtnet rx_frames over the window, CPU per frame from the guest thread\'s schedstat).');
  return out;
}

export const xdpSkSuite: Suite = {
  id: 'xdp-sk',
  title: 'Socket-aware XDP in the guest: the XDP socket firewall vs xdp1 and the stack, and its offload refused',
  source: 'LPC 2018 socket-aware XDP (sockets.md §4.4: the lookup helpers XDP may call); scenarios/sk/xdp_sk_firewall.c',
  rows: Object.keys(LAYOUT),
  columns: XDP_SK_COLUMNS,
  baseline: 'stack',
  cells: cellSpecs,
  run: runCell,
  findings,
};

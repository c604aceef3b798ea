// The netperf suite (`vxo table --suite netperf`): the offload RFC's second table (sockets.md §8),
// which showed that its tun/vhost_net changes cost nothing when no program is offloaded. Rows, the
// RFC's five tests; columns, the RFC's two kernels, as vhost_net's handle_rx reads the tap
// (vhost/rx-path.ts):
//   before  vhost_net holds the tap's ptr_ring: vhost_net_buf_produce consumes it in batches into
//           vhost's own buffer, peek_head_len reads the head's length there, and each pointer goes
//           back to the tap's recvmsg as msg_control (tun_do_read copies it to the guest, frees it);
//   after   patches 5-6: vhost calls the tap's recvmsg for the batch (where an offloaded program
//           would run; none is attached here, as in the RFC's measurement) and copies what passed.
// Everything else (bridge, tun_net_xmit, the wake-ups, handle_tx, both stacks) is the same code.
//
// Direction, as netperf's: netperf on the host (br0, 10.0.0.1), netserver in the guest (eth0,
// 10.0.0.2), the RFC's host -> guest. STREAM tests send data host -> guest (TCP's ACKs come back
// guest -> host); RR tests send the request host -> guest and the response guest -> host, so only
// their request half crosses the path that differs. Figures as netperf prints them (sockets.md
// §8; the RFC gives no units): STREAM, 10^6 bits/s on netserver's receive side (UDP: the receive
// line, what was delivered; TCP: what netserver read); RR, transactions per second at netperf.
//
// Cell ids: `row/column` with the row's space written `_` (UDP_STREAM_18byte/before), so a
// --cells list needs no quoting.
//
// Conservation: the four workers' frame ledger both ways (scenarios/run/accounting-net.ts: every
// frame pktgen, br0 or the guest stack produced is delivered, dropped by reason or still queued
// when the producers stopped), and the run's counters must show the asked path (vhost_rx_path):
// a run that silently took the other path is an error, never a cell.
import { runNetperf, type NetperfRunOptions, type NetperfRunResult } from '../run/run-netperf.ts';
import { RunError } from '../run/run-error.ts';
import type { NetperfTest } from '../../net/apps/netserver.ts';
import { VHOST_RX_PATH_CODE, vhostRxPathOf, type VhostRxPath } from '../../vhost/rx-path.ts';
import type { PublishedFigure, Suite, SuiteCell, SuiteCellSpec, SuiteOptions, SuiteRun } from './types.ts';

export const NETPERF_SUITE_ROWS = ['UDP_STREAM 18byte', 'UDP_STREAM 1472byte', 'TCP_STREAM', 'UDP_RR', 'TCP_RR'] as const;
export type NetperfSuiteRow = (typeof NETPERF_SUITE_ROWS)[number];
export const NETPERF_SUITE_COLUMNS = ['before', 'after'] as const;
export type NetperfSuiteColumn = (typeof NETPERF_SUITE_COLUMNS)[number];

/** Each column's handle_rx path. */
export const COLUMN_PATH = { before: 'ptr_ring', after: 'tap_recvmsg' } as const satisfies Record<NetperfSuiteColumn, VhostRxPath>;

/** Each row's netperf test and size (STREAM: -m; RR: the default 1-byte request and response). */
export const NETPERF_SUITE_TESTS = {
  'UDP_STREAM 18byte': { test: 'UDP_STREAM', size: 18 },
  'UDP_STREAM 1472byte': { test: 'UDP_STREAM', size: 1472 },
  TCP_STREAM: { test: 'TCP_STREAM', size: 16384 },
  UDP_RR: { test: 'UDP_RR', size: 1 },
  TCP_RR: { test: 'TCP_RR', size: 1 },
} as const satisfies Record<NetperfSuiteRow, { test: NetperfTest; size: number }>;

/**
 * The RFC's table exactly (sockets.md §8): before, after, and its own Difference column (printed
 * rounded; TCP_RR's exact quotient is −1.54%, the RFC prints −1.53%).
 */
export const NETPERF_RFC_TABLE = {
  'UDP_STREAM 18byte': { before: 89.43, after: 90.74, difference: 0.0146 },
  'UDP_STREAM 1472byte': { before: 6882, after: 7026, difference: 0.0209 },
  TCP_STREAM: { before: 9403, after: 9407, difference: 0.0004 },
  UDP_RR: { before: 13520, after: 13478, difference: -0.0031 },
  TCP_RR: { before: 13120, after: 12918, difference: -0.0153 },
} as const satisfies Record<NetperfSuiteRow, { before: number; after: number; difference: number }>;

const SOURCE = {
  before: 'RFC before',
  after: 'RFC after',
} as const satisfies Record<NetperfSuiteColumn, string>;

/** What each row sends which way (netperf on the host, netserver in the guest). */
export const NETPERF_SUITE_DIRECTION = {
  'UDP_STREAM 18byte': 'host -> guest: 18-byte datagrams (netperf on the host, netserver in the guest); the figure is the guest\'s receive line',
  'UDP_STREAM 1472byte': 'host -> guest: 1472-byte datagrams (one 1514-byte frame each); the figure is the guest\'s receive line',
  TCP_STREAM: 'host -> guest: bulk data, 16384-byte sends; ACKs guest -> host',
  UDP_RR: 'request host -> guest, response guest -> host: 1 byte each, one transaction in flight',
  TCP_RR: 'request host -> guest, response guest -> host: 1 byte each, one transaction in flight',
} as const satisfies Record<NetperfSuiteRow, string>;

export function netperfCellId(row: NetperfSuiteRow, column: NetperfSuiteColumn): string {
  return `${row.replace(/ /g, '_')}/${column}`;
}

function published(row: NetperfSuiteRow, column: NetperfSuiteColumn): PublishedFigure[] {
  const t = NETPERF_RFC_TABLE[row];
  return column === 'before'
    ? [{ source: SOURCE.before, value: t.before }]
    : [{ source: SOURCE.after, value: t.after, delta: t.difference }];
}

function unitOf(row: NetperfSuiteRow): { metric: string; unit: string } {
  return NETPERF_SUITE_TESTS[row].test.endsWith('_RR') ? { metric: 'rate', unit: 'trans/s' } : { metric: 'throughput', unit: 'Mbit/s' };
}

export function netperfCells(): SuiteCellSpec[] {
  const out: SuiteCellSpec[] = [];
  for (const row of NETPERF_SUITE_ROWS) {
    for (const column of NETPERF_SUITE_COLUMNS) out.push({ id: netperfCellId(row, column), row, column, ...unitOf(row), published: published(row, column) });
  }
  return out;
}

function parseCell(cell: SuiteCellSpec): { row: NetperfSuiteRow; column: NetperfSuiteColumn } {
  const row = NETPERF_SUITE_ROWS.find((r) => r === cell.row);
  const column = NETPERF_SUITE_COLUMNS.find((c) => c === cell.column);
  if (row === undefined || column === undefined || cell.id !== netperfCellId(row, column)) {
    throw new RunError('EINVAL', `netperf suite: no cell ${cell.id} (rows ${NETPERF_SUITE_ROWS.join(', ')}; columns ${NETPERF_SUITE_COLUMNS.join(', ')})`);
  }
  return { row, column };
}

/** The live counters a cell keeps (window increases), besides netperf's own figures. */
const WINDOW_COUNTERS = [
  'vhost_rx_packets', 'vhost_rx_bytes', 'vhost_rx_batches', 'vhost_rx_recvmsg', 'vhost_rx_empty_polls', 'vhost_rx_no_buffer', 'vhost_rx_too_big',
  'vhost_tx_packets', 'vhost_wakeups', 'vhost_sleeps', 'vhost_guest_interrupts',
  'tap_tx_packets', 'tap_tx_dropped', 'tap_consumed', 'tap_batches', 'tap_read_ptr',
  'tapx_tx_packets', 'tapx_wakeups', 'tapx_drop_full_ring',
] as const;

const ratio = (a: number, b: number): number => (b > 0 ? a / b : Number.NaN);

/** The run's options for a cell (exported for the test: the path travels as vhost worker data). */
export function netperfRunOptions(row: NetperfSuiteRow, column: NetperfSuiteColumn, o: SuiteOptions): NetperfRunOptions & { vhostRx: VhostRxPath } {
  const t = NETPERF_SUITE_TESTS[row];
  return { test: t.test, size: t.size, direction: 'host-to-guest', family: 4, duration: o.duration, warmup: o.warmup, vhostRx: COLUMN_PATH[column] };
}

/** A finished netperf run as the suite's run: the figure, the ledger, the path check, the counters behind it. */
export function netperfSuiteRun(row: NetperfSuiteRow, column: NetperfSuiteColumn, r: NetperfRunResult): SuiteRun & { notes: string[] } {
  const want = COLUMN_PATH[column];
  const code = r.counters['vhost_rx_path'];
  const took = vhostRxPathOf(code);
  if (took !== want) {
    throw new RunError('EIO', `netperf suite ${netperfCellId(row, column)}: vhost's handle_rx took ${took ?? `no known path (vhost_rx_path ${String(code)})`}, not ${want}: the run did not pass the path to the vhost worker (NetperfRunOptions.vhostRx)`);
  }
  const w = (k: string): number => r.window[k] ?? 0;
  const counters: Record<string, number> = {};
  for (const k of WINDOW_COUNTERS) counters[k] = w(k);
  Object.assign(counters, {
    netperf_messages_sent: r.window_stats.messages_sent, netperf_bytes_sent: r.window_stats.bytes_sent,
    netperf_send_errors: r.window_stats.send_errors, netserver_messages_received: r.window_stats.messages_received,
    netserver_bytes_received: r.window_stats.bytes_received, netserver_responses: r.window_stats.responses,
    netperf_transactions: r.window_stats.transactions,
    ledger_generated: r.accounting.generated, ledger_accounted: r.accounting.accounted,
    vhost_rx_path: code ?? 0,
  });
  const rr = NETPERF_SUITE_TESTS[row].test.endsWith('_RR');
  const value = rr ? (r.tps ?? Number.NaN) : (r.mbps ?? Number.NaN);
  const e = r.explain;
  const explain: Record<string, number> = {
    // Towards the guest, the path the columns differ in.
    rx_pps: ratio(w('vhost_rx_packets'), r.seconds),
    rx_frames_per_batch: ratio(w('vhost_rx_packets'), w('vhost_rx_batches')),
    recvmsg_per_frame: ratio(w('vhost_rx_recvmsg'), w('vhost_rx_packets')),
    frames_per_vhost_wakeup: ratio(w('vhost_rx_packets') + w('vhost_tx_packets'), w('vhost_wakeups')),
    guest_interrupts_per_frame: ratio(w('vhost_guest_interrupts'), w('vhost_rx_packets')),
    tx_pps: ratio(w('vhost_tx_packets'), r.seconds),
    // UDP_STREAM: what netserver received of what netperf sent (the rest dropped by reason in the ledger, or queued).
    delivered_share: rr ? Number.NaN : ratio(r.window_stats.bytes_received, r.window_stats.bytes_sent),
    vhost_cpu: e['cpu_vhost'] ?? Number.NaN,
    host_cpu: e['cpu_host'] ?? Number.NaN,
    guest_cpu: e['cpu_guest'] ?? Number.NaN,
    vhost_us_per_frame: ratio((e['cpu_vhost'] ?? Number.NaN) * r.seconds * 1e6, w('vhost_rx_packets') + w('vhost_tx_packets')),
    // The sender's side: netperf and the host's stack, bridge and tap share the host worker's thread.
    sent_pps: ratio(rr ? r.window_stats.transactions : r.window_stats.messages_sent, r.seconds),
    host_us_per_message: ratio((e['cpu_host'] ?? Number.NaN) * r.seconds * 1e6, rr ? r.window_stats.transactions : r.window_stats.messages_sent),
  };
  // Per thread, as the suite renderers' CPU table reads them (cpu_<thread>, runq_wait_<thread>); the machine-wide
  // shares (all, other processes, steal) go with the explain, where the renderers look for a crowded machine.
  const cpu: Record<string, number> = {};
  for (const [k, v] of Object.entries(e)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    if (k === 'cpu_all' || k === 'cpu_other' || k === 'cpu_steal') explain[k] = v;
    else if ((k.startsWith('cpu_') && k !== 'cpu_probe_ms') || k.startsWith('runq_wait_')) cpu[k] = v;
  }
  const notes = [
    NETPERF_SUITE_DIRECTION[row],
    column === 'before'
      ? 'vhost consumes the tap\'s ptr_ring itself (vhost_net_buf_produce) and hands each frame back to tun_recvmsg as msg_control'
      : 'vhost gets each batch from the tap\'s recvmsg (RFC patches 5-6); no Tx-path program attached',
  ];
  return { value, seconds: r.seconds, balanced: r.accounting.balanced, counters, explain, ...(Object.keys(cpu).length > 0 ? { cpu } : {}), notes };
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

/** A thread busy this share of a core is the bottleneck of a stream it feeds. */
const SENDER_SATURATED = 0.9;
const pct0 = (x: number): string => `${Math.round(x * 100)}%`;

/** A cell's spread as a fraction of its median ((max − min) / median / 2, ± around it). */
function spreadOf(c: SuiteCell): number {
  return c.median > 0 && c.runs.length > 1 ? (c.max - c.min) / c.median / 2 : Number.NaN;
}

export function netperfFindings(cells: readonly SuiteCell[]): string[] {
  const out: string[] = [
    'Direction: netperf runs on the host (br0 10.0.0.1), netserver in the guest (eth0 10.0.0.2), as the RFC measured host -> guest. '
      + 'STREAM data and RR requests cross the path the columns differ in (tap -> vhost handle_rx -> guest); RR responses and TCP ACKs come back through handle_tx, the same code in both columns.',
  ];
  for (const row of NETPERF_SUITE_ROWS) {
    const b = cells.find((c) => c.row === row && c.column === 'before');
    const a = cells.find((c) => c.row === row && c.column === 'after');
    if (b === undefined || a === undefined) continue;
    const ours = a.median / b.median - 1;
    const rfc = NETPERF_RFC_TABLE[row].difference;
    const noise = Math.max(spreadOf(a), spreadOf(b));
    const eb = b.explain, ea = a.explain;
    const num = (e: Readonly<Record<string, number>>, k: string): number => e[k] ?? Number.NaN;
    const mech = `before: ${f2(num(eb, 'recvmsg_per_frame'))} recvmsg per frame, ${f2(num(eb, 'rx_frames_per_batch'))} frames per ring batch; `
      + `after: ${f2(num(ea, 'recvmsg_per_frame'))} recvmsg per frame, ${f2(num(ea, 'rx_frames_per_batch'))} frames per batch; `
      + `vhost ${f2(num(eb, 'vhost_us_per_frame'))} vs ${f2(num(ea, 'vhost_us_per_frame'))} us of CPU per frame`;
    const parts: string[] = [];
    if (!Number.isFinite(ours)) parts.push('no difference computable (a column measured 0)');
    else {
      parts.push(Number.isFinite(noise)
        ? (Math.abs(ours) <= noise ? `within the runs' spread (±${(noise * 100).toFixed(2)}%)` : `outside the runs' spread (±${(noise * 100).toFixed(2)}%)`)
        : 'one run per cell: no spread to judge it by (--repeat)');
      parts.push(Math.sign(ours) === Math.sign(rfc) ? 'the RFC\'s sign' : 'the opposite sign to the RFC\'s');
    }
    // What the counters say the path changed for this row: with a frame per batch, nothing.
    const batchA = num(ea, 'rx_frames_per_batch');
    const sameWork = Math.abs(num(ea, 'recvmsg_per_frame') - num(eb, 'recvmsg_per_frame')) < 0.05;
    parts.push(sameWork
      ? `both paths did the same work per frame here (${f2(batchA)} frames per batch, one recvmsg per frame on each), so the path cannot explain a difference: it is the runs' noise, as the RFC's ${pct(rfc)} is`
      : `after took ${f2(batchA)} frames per tap recvmsg where before called the tap per frame: vxo's after saves ${f2(1 - num(ea, 'recvmsg_per_frame'))} tap calls per frame`);
    // When the sender's thread is saturated in both columns, the rate is what that thread's cost per message allows.
    const hb = num(eb, 'host_cpu'), ha = num(ea, 'host_cpu');
    if (hb >= SENDER_SATURATED && ha >= SENDER_SATURATED && Number.isFinite(ours) && Math.abs(ours) > noise) {
      parts.push(`the sender set the rate: the host's thread (netperf, its stack, the bridge, the tap's transmit) ran at ${pct0(hb)} and ${pct0(ha)} of a core `
        + `and spent ${f2(num(eb, 'host_us_per_message'))} vs ${f2(num(ea, 'host_us_per_message'))} us per message sent (${f2(num(eb, 'sent_pps') / 1e3)} vs ${f2(num(ea, 'sent_pps') / 1e3)} k/s), `
        + 'so the difference is on the host thread\'s side of the tap\'s ring, which both columns share, not in handle_rx: what the consumer does to the ring and the frames it frees (cache lines the host writes next) is what is left to differ');
    }
    out.push(`${row}: after vs before ${pct(ours)} (RFC ${pct(rfc)}): ${parts.join('; ')}. Counters: ${mech}.`);
  }
  out.push('The columns\' structural difference in vxo, visible as recvmsg_per_frame: before, vhost reads the ring and calls the tap once per frame (tun_do_read with the pointer, which copies it); '
    + 'after, one tap recvmsg per batch returns the frames (and checks for an offloaded program: none here) and vhost copies them, as offload-rfc.md describes the RFC\'s path. '
    + 'So vxo\'s after does less per frame than before on rows with batches of several frames (the STREAM rows), and the same on rows with one frame per batch (the RR rows); '
    + 'our sources do not say whether the RFC\'s patches kept a per-frame read beside the batch call, which would make its after path slightly dearer instead.');
  // The absolute level: a per-frame cost bounds the STREAM rows, so their ratio is the frame sizes' unless the wire or the receiver saturates.
  const s18 = cells.find((c) => c.row === 'UDP_STREAM 18byte' && c.column === 'after');
  const s1472 = cells.find((c) => c.row === 'UDP_STREAM 1472byte' && c.column === 'after');
  if (s18 !== undefined && s1472 !== undefined && s18.median > 0) {
    const ourRatio = s1472.median / s18.median;
    const rfcRatio = NETPERF_RFC_TABLE['UDP_STREAM 1472byte'].after / NETPERF_RFC_TABLE['UDP_STREAM 18byte'].after;
    const pps18 = s18.explain['rx_pps'] ?? Number.NaN, pps1472 = s1472.explain['rx_pps'] ?? Number.NaN;
    const ppsRatio = pps18 / pps1472;
    out.push(`UDP_STREAM 1472 vs 18 bytes: ${f2(ourRatio)}x here, ${f2(rfcRatio)}x in the RFC (82x the payload): `
      + `${f2(pps18 / 1e3)} vs ${f2(pps1472 / 1e3)} kpps reached the guest, `
      + (ppsRatio > 0.8 && ppsRatio < 1.25
        ? 'about the same frame rate: a per-frame cost, not the bytes, bounds both rows, so the ratio follows the payloads'
        : `frame rates ${f2(ppsRatio)}x apart: not one per-frame bound in these runs (each run got its own share of a loaded machine's CPU: see the CPU table)`)
      + `; netserver read ${f2((s18.explain['delivered_share'] ?? Number.NaN) * 100)}% and ${f2((s1472.explain['delivered_share'] ?? Number.NaN) * 100)}% of the bytes netperf sent in the window `
      + '(over 100%: datagrams sent before the window was opened were read in it; UDP has no flow control, and what never arrived is in the ledger, dropped by reason or queued).');
  }
  // How crowded the machine was: the threads' time waiting for a core (schedstat's run_delay) over the window.
  let wait = 0, waitAt = '';
  for (const c of cells) {
    for (const r of c.runs) {
      for (const [k, v] of Object.entries(r.cpu ?? {})) if (k.startsWith('runq_wait_') && v > wait) { wait = v; waitAt = `${c.id}, ${k.slice('runq_wait_'.length)}`; }
    }
  }
  if (wait >= 0.1) {
    out.push(`The machine was crowded: a thread waited for a core up to ${(wait * 100).toFixed(0)}% of a window (${waitAt}; the CPU table's "waiting for a core"). `
      + 'Run-to-run spreads of tens of percent follow from that, and no difference between the columns smaller than the spread says anything about the path.');
  }
  const unbalanced = cells.filter((c) => c.runs.some((r) => !r.balanced)).map((c) => c.id);
  if (unbalanced.length > 0) out.push(`Not balanced (a frame unaccounted for): ${unbalanced.join(', ')}.`);
  return out;
}

export const netperfSuite: Suite = {
  id: 'netperf',
  title: 'netperf: vhost reading the tap before and after the offload RFC',
  source: 'virtio_net XDP offload RFC (net-next, 26 Nov 2019), its netperf table (sockets.md §8); patches 5-6: vhost_net uses the tap\'s recvmsg for the ptr_ring',
  rows: NETPERF_SUITE_ROWS,
  columns: NETPERF_SUITE_COLUMNS,
  baseline: 'before',
  cells: netperfCells,
  async run(cell: SuiteCellSpec, o: SuiteOptions): Promise<SuiteRun> {
    const { row, column } = parseCell(cell);
    // The path travels as vhost worker data; the run's counters prove which one ran (netperfSuiteRun).
    const opts = netperfRunOptions(row, column, o);
    const r = await runNetperf(opts);
    return netperfSuiteRun(row, column, r);
  },
  findings: netperfFindings,
};

/** The path code each column's runs must show (for readers of a saved report's counters). */
export const NETPERF_COLUMN_PATH_CODE = {
  before: VHOST_RX_PATH_CODE[COLUMN_PATH.before],
  after: VHOST_RX_PATH_CODE[COLUMN_PATH.after],
} as const;

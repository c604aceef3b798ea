// The syncookie suite (`vxo table --suite syncookie`): connections per second a legitimate client
// (netperf TCP_CRR, host -> guest) gets from the guest's listener, without and under pktgen's SYN
// flood, with the listener defended three ways: a stateless SYN proxy on the host whose cookies the
// guest's tc program checks and turns into connections with bpf_sk_assign_tcp_reqsk (the AWS
// design the kfunc's cover letter gives as its motivation, sockets.md §5), the listener's own
// classic cookies (tcp_syncookies=2, §6), and no cookies (tcp_syncookies=0); without the flood also
// the proxy in the middle of a key rotation (the shared secret rolls). Beside the rate, the
// listener's state: request sockets, SYN queue overflows and drops, cookies it made. No document
// publishes figures for this experiment, so the table has ours only; the findings compare the
// columns from the counters. Every row over IPv4 and over IPv6 (TCP_CRR6: netperf -6 -t TCP_CRR,
// the flood pktgen's syn6): the proxy and the guest's program make and check IPv6 cookies from the
// same source (scenarios/sk/syncookie.h), the listener its own with cookie_v6_*. How one run goes:
// syncookie-run.ts.
import { SYNCOOKIE_DEFENCES, runSyncookie, type SyncookieDefence, type SyncookieFamily } from './syncookie-run.ts';
import { RunError } from '../run/run-error.ts';
import { witnessRun } from './run-suite.ts';
import type { Suite, SuiteCell, SuiteCellSpec, SuiteOptions, SuiteRun } from './types.ts';

/**
 * The paced flood's rate, SYNs per second: one flood for every column. pktgen runs on the host
 * worker's thread, which also runs the proxy in the syn-proxy column, so an unpaced flood is as fast
 * as what the proxy leaves of that thread; a paced one is the same flood everywhere, as long as the
 * host keeps the pace (the findings compare flood_generated with it). A round figure well under what
 * the proxy answers on one thread, not fitted to any result.
 */
export const FLOOD_PPS = 10_000;

export const SYNCOOKIE_ROWS = [
  'TCP_CRR', 'TCP_CRR+syn4 10kpps', 'TCP_CRR+syn4',
  'TCP_CRR6', 'TCP_CRR6+syn6 10kpps', 'TCP_CRR6+syn6',
] as const;
export type SyncookieRow = (typeof SYNCOOKIE_ROWS)[number];

/** The row's family and flood: none, pktgen's syn4/syn6 at the listener paced at FLOOD_PPS, or unpaced. */
const FLOOD: Record<SyncookieRow, { family: SyncookieFamily; flood: boolean; pps?: number }> = {
  'TCP_CRR': { family: 4, flood: false }, 'TCP_CRR+syn4 10kpps': { family: 4, flood: true, pps: FLOOD_PPS }, 'TCP_CRR+syn4': { family: 4, flood: true },
  'TCP_CRR6': { family: 6, flood: false }, 'TCP_CRR6+syn6 10kpps': { family: 6, flood: true, pps: FLOOD_PPS }, 'TCP_CRR6+syn6': { family: 6, flood: true },
};

/** Per family: the row without a flood, under the paced flood, under the unpaced one. */
const FAMILY_ROWS = [
  { family: 4, idle: 'TCP_CRR', paced: 'TCP_CRR+syn4 10kpps', unpaced: 'TCP_CRR+syn4' },
  { family: 6, idle: 'TCP_CRR6', paced: 'TCP_CRR6+syn6 10kpps', unpaced: 'TCP_CRR6+syn6' },
] as const satisfies readonly { family: SyncookieFamily; idle: SyncookieRow; paced: SyncookieRow; unpaced: SyncookieRow }[];

const BASELINE: SyncookieDefence = 'syncookies=2';

/** The rotation column only without the flood: it shows the keys, not a defence. */
const ROTATED: SyncookieDefence = 'syn-proxy (key rotated)';

function cellSpecs(): SuiteCellSpec[] {
  return SYNCOOKIE_ROWS.flatMap((row) => SYNCOOKIE_DEFENCES.filter((d) => !(FLOOD[row].flood && d === ROTATED)).map((column) => ({
    id: `${row}/${column}`, row, column, metric: 'connections', unit: 'conn/s', published: [],
  })));
}

function isRow(r: string): r is SyncookieRow {
  return (SYNCOOKIE_ROWS as readonly string[]).includes(r);
}

/** The cell's median run, whose counters explain its figure (the runner's witness). */
const medianRun = (c: SuiteCell): SuiteRun | undefined => witnessRun(c);

const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
/** "(×r)" of two conn/s medians; a column that completed no connection in the window says so instead of ×0.00 or ×n/a. */
const times = (a: number, b: number): string => {
  if (a === 0 && b === 0) return '(neither completed a connection in the window: its first handshake may come after it; a longer --warmup or --duration)';
  if (a === 0) return '(none completed in the window: its first handshake may come after it; a longer --warmup or --duration)';
  if (b === 0) return '(the other completed none in the window)';
  return `(×${f2(a / b)})`;
};

/** One line per cell: the rate, the listener's state, who answered the SYNs. */
function cellLine(c: SuiteCell): string {
  const r = medianRun(c);
  if (r === undefined) return `${c.id}: no run`;
  const k = r.counters;
  const g = (n: string): number => k[n] ?? 0;
  const who = c.column === 'syn-proxy' || c.column === ROTATED
    ? `the host's proxy answered ${g('proxy_synack_sent')} SYNs, the guest's program checked ${g('guest_prog_ack')} ACKs (${g('guest_prog_ack_invalid')} invalid) and made ${g('guest_prog_assigned')} connections with the kfunc`
    : `the listener answered ${g('listener_end_TcpExtSyncookiesSent')} SYNs with cookies and took ${g('listener_end_TcpExtSyncookiesRecv')} cookie ACKs`;
  return `${c.id}: ${f0(c.median)} conn/s (${g('conn_completed')} completed, ${g('conn_failed')} failed in the window); `
    + `listener: ${g('listener_request_socks')} request sockets at the window's close; over the run ListenOverflows ${g('listener_end_TcpExtListenOverflows')}, `
    + `ListenDrops ${g('listener_end_TcpExtListenDrops')}, TCPReqQFullDrop ${g('listener_end_TcpExtTCPReqQFullDrop')}; ${who}; `
    + `CPU guest ${f2(r.explain['cpu_guest'] ?? NaN)}, host ${f2(r.explain['cpu_host'] ?? NaN)} of a core`;
}

/** The findings: the columns compared from their counters, and why the table looks as it does. */
export function syncookieFindings(cells: readonly SuiteCell[]): string[] {
  const out: string[] = [];
  const at = (row: SyncookieRow, col: SyncookieDefence): SuiteCell | undefined => cells.find((c) => c.row === row && c.column === col);
  for (const c of cells) out.push(cellLine(c));
  // A drop_ counter is written only when non-zero.
  const k = (c: SuiteCell | undefined, n: string): number => (c === undefined ? NaN : medianRun(c)?.counters[n] ?? (n.startsWith('drop_') ? 0 : NaN));
  const e = (c: SuiteCell | undefined, n: string): number => (c === undefined ? NaN : c.explain[n] ?? NaN);

  for (const row of FAMILY_ROWS.flatMap((f) => [f.paced, f.unpaced])) {
    const p = at(row, 'syn-proxy'), c = at(row, 'syncookies=2'), n = at(row, 'syncookies=0');
    if (p === undefined || c === undefined) continue;
    const gen = [p, c, n].filter((x): x is SuiteCell => x !== undefined).map((x) => f0(k(x, 'flood_generated'))).join(', ');
    const pps = FLOOD[row].pps;
    // Paced: the same flood wherever the host kept the pace, i.e. generated about as many as the best
    // column. The count is over the whole run, whose start and stop vary by a few hundred ms around
    // the same window: within a quarter of the best counts as the pace.
    const counts = [p, c, n].filter((x): x is SuiteCell => x !== undefined).map((x) => ({ col: x.column, n: k(x, 'flood_generated') }));
    const most = Math.max(...counts.map((x) => x.n));
    const behind = counts.filter((x) => x.n < 0.75 * most).map((x) => `${x.col} (${f0(x.n)} of ${f0(most)})`);
    const same = pps !== undefined
      ? `pktgen paced at ${pps} SYNs/s generated ${gen} SYNs over the run (syn-proxy, syncookies=2${n !== undefined ? ', syncookies=0' : ''}): `
        + (behind.length === 0 ? 'the same flood in every column.' : `the host's thread fell behind the pace in ${behind.join(', ')}.`)
      : 'Not the same flood, though: pktgen and the proxy share the host worker\'s thread, so the proxy\'s work per SYN (the bpf_loop '
        + `option walk, SipHash, two bpf_skb_change_tail, the checksums) paced pktgen: ${gen} SYNs over the run (syn-proxy, syncookies=2`
        + `${n !== undefined ? ', syncookies=0' : ''}), same window and warm-up (a real attacker is another machine).`;
    out.push(
      `${row}: ${k(p, 'listener_end_TcpExtSyncookiesSent') === 0 && k(p, 'guest_prog_syn') === 0 ? 'the proxy kept the listener free of SYNs' : 'SYNs got past the proxy'}: over the run, with syncookies=2 the guest answered ${f0(k(c, 'listener_end_TcpExtSyncookiesSent'))} SYNs `
      + `itself (CPU guest ${f2(e(c, 'cpu_guest'))}), with the proxy ${f0(k(p, 'listener_end_TcpExtSyncookiesSent'))} (its program saw `
      + `${f0(k(p, 'guest_prog_syn'))} SYNs; CPU guest ${f2(e(p, 'cpu_guest'))}), the host's proxy answered ${f0(k(p, 'proxy_synack_sent'))} `
      + `(CPU host ${f2(e(p, 'cpu_host'))}). The legitimate client got ${f0(p.median)} conn/s with the proxy against ${f0(c.median)} `
      + `with the listener's cookies ${times(p.median, c.median)}. ${same} Request sockets at the window's close: `
      + `${f0(k(p, 'listener_request_socks'))} and ${f0(k(c, 'listener_request_socks'))}; ListenOverflows + ListenDrops over the run: `
      + `${f0(k(p, 'listener_end_TcpExtListenOverflows') + k(p, 'listener_end_TcpExtListenDrops'))} and `
      + `${f0(k(c, 'listener_end_TcpExtListenOverflows') + k(c, 'listener_end_TcpExtListenDrops'))}.`,
    );
  }
  // The same comparisons in each family.
  for (const f of FAMILY_ROWS) {
    const proxy = at(f.unpaced, 'syn-proxy'), classic = at(f.unpaced, 'syncookies=2'), none = at(f.unpaced, 'syncookies=0');
    if (none !== undefined) {
      const reqs = k(none, 'listener_request_socks');
      out.push(
        `${f.unpaced}: without cookies the flood fills the SYN queue: ${f0(reqs)} request sockets at the window's close (the listener's backlog `
        + `${f0(k(none, 'listener_backlog'))}; without cookies tcp_conn_request also drops a SYN once fewer than a quarter of `
        + `net.ipv4.tcp_max_syn_backlog remain), `
        + `over the run ListenOverflows ${f0(k(none, 'listener_end_TcpExtListenOverflows'))}, ListenDrops ${f0(k(none, 'listener_end_TcpExtListenDrops'))}, `
        + `TCPReqQFullDrop ${f0(k(none, 'listener_end_TcpExtTCPReqQFullDrop'))}. The client completed ${f0(k(none, 'client_completed'))} `
        + `connections over the run (${f0(none.median)} conn/s in the window): a SYN of its lost with the flood's, at the tap's full ring `
        + `(${f0(k(none, 'drop_host_tap_dropped'))} frames dropped there) or at the listener, waits for the 1 s initial RTO `
        + `(${f0(k(none, 'client_syn_retrans'))} SYN retransmissions by the end).`,
      );
    }
    const idleProxy = at(f.idle, 'syn-proxy'), idleClassic = at(f.idle, 'syncookies=2');
    if (idleProxy !== undefined && idleClassic !== undefined) {
      out.push(
        `${f.idle}, without a flood: ${f0(idleProxy.median)} conn/s with the proxy against ${f0(idleClassic.median)} with the listener's own cookies `
        + `${times(idleProxy.median, idleClassic.median)}. netperf makes one connection at a time, so the rate follows the round trips between `
        + `the workers, not the work: per connection the guest took ${f2(e(idleProxy, 'guest_segs_per_conn'))} segments with the proxy (no SYN) `
        + `against ${f2(e(idleClassic, 'guest_segs_per_conn'))}, and the workers' loops slept ${f2(e(idleProxy, 'sleeps_per_conn'))} against `
        + `${f2(e(idleClassic, 'sleeps_per_conn'))} times (each sleep a wake-up later, which a loaded machine makes slow); the two big `
        + `programs of the proxy column (the proxy, the guest's ACK half) also start cold in every run.`,
      );
    }
    if (proxy !== undefined && classic !== undefined) {
      const drops = (c: SuiteCell): string => {
        const r = medianRun(c);
        const d = Object.entries(r?.counters ?? {}).filter(([n]) => n.startsWith('drop_')).map(([n, v]) => `${n.slice(5)} ${v}`);
        return d.length > 0 ? d.join(', ') : 'none';
      };
      const atListener = k(classic, 'listener_request_socks') + k(classic, 'listener_end_TcpExtListenDrops') + k(classic, 'listener_end_TcpExtListenOverflows');
      const tapDrops = k(classic, 'drop_host_tap_dropped');
      const classicLine = `With syncookies=2 the listener ${atListener === 0 ? 'kept up with what reached it (no request sockets, no drops there)' : `had ${f0(atListener)} request sockets, drops and overflows`} `
        + `and the client completed ${f0(k(classic, 'client_completed'))} connections over the run`
        + (tapDrops > 0 ? `: ${f0(tapDrops)} frames were dropped at the tap's full ring, where the client's frames queue with the flood's.` : '.');
      out.push(
        `${f.unpaced}: where frames were lost under the flood (the workers' ledger): with the proxy ${drops(proxy)}; with syncookies=2 ${drops(classic)}; `
        + `with syncookies=0 ${none !== undefined ? drops(none) : 'n/a'}. The proxy answers the flood at the tap's egress hook, before the tap's `
        + `ring toward the guest, so the client's frames do not queue behind the flood's there. ${classicLine}`,
      );
    }
    const rotated = at(f.idle, ROTATED);
    if (rotated !== undefined) {
      out.push(
        `${f.idle}: key rotation in flight (the guest one key ahead of the proxy): the guest's program accepted ${f0(k(rotated, 'guest_prog_ack_previous_key'))} `
        + `of ${f0(k(rotated, 'guest_prog_ack_valid'))} valid ACKs under its previous key and refused ${f0(k(rotated, 'guest_prog_ack_invalid'))}; `
        + `${f0(rotated.median)} conn/s: a rotation done servers first, then the proxy, breaks no handshake.`,
      );
    }
  }
  // IPv6 against IPv4, column by column: the same handshakes with longer headers, a SipHash over five
  // words instead of two in the proxy and the guest's program (40 bytes of addresses, ports and ISN
  // against 16), cookie_v6_* in the listener. Without a flood the guest's CPU per connection says
  // where a difference went; under one the guest's CPU is mostly the flood's, so it is given whole.
  const [v4, v6] = FAMILY_ROWS;
  for (const which of ['idle', 'paced', 'unpaced'] as const) {
    const r4 = v4[which], r6 = v6[which];
    const parts: string[] = [];
    for (const col of SYNCOOKIE_DEFENCES) {
      const a = at(r4, col), b = at(r6, col);
      if (a === undefined || b === undefined) continue;
      // CPU-µs per connection: a core's share over the window divided by the connections per second.
      const us = (c: SuiteCell): number => (e(c, 'cpu_guest') / c.median) * 1e6;
      const cpu = which === 'idle'
        ? `guest CPU per connection ${f0(us(b))} against ${f0(us(a))} µs`
        : `CPU guest ${f2(e(b, 'cpu_guest'))} against ${f2(e(a, 'cpu_guest'))}, host ${f2(e(b, 'cpu_host'))} against ${f2(e(a, 'cpu_host'))} of a core`;
      parts.push(`${col} ${f0(b.median)} against ${f0(a.median)} conn/s ${times(b.median, a.median).slice(0, -1)}; ${cpu})`);
    }
    if (parts.length > 0) out.push(`${r6} against ${r4}: ${parts.join('; ')}.`);
  }
  out.push(
    'Where the proxy sits: at the egress of the tap (the bridge\'s port toward the guest), for the wire\'s clients and the host\'s own alike; '
    + 'its SYN-ACK goes back into the tap\'s receive path through the host worker\'s netif_rx backlog, as bpf_redirect(BPF_F_INGRESS) does in Linux.',
    'The secret: fresh SipHash keys per run (slot 0 current, slot 1 previous) written into the proxy\'s and the guest program\'s '
    + 'syncookie_keys alike, as the cover letter\'s rolling salt shared by every node.',
    'No published figures: sockets.md §5 records the kfunc and its motivation (AWS\'s stateless SYN proxy, LPC 2023) but no table to compare with.',
  );
  return out;
}

export const syncookieSuite: Suite = {
  id: 'syncookie',
  title: 'SYN cookies under a SYN flood: a stateless SYN proxy on the host, the listener\'s own cookies, none',
  source: 'sockets.md §5 (bpf_sk_assign_tcp_reqsk, Linux 6.9; the AWS stateless SYN proxy of its cover letter) and §6 (classic SYN cookies)',
  rows: SYNCOOKIE_ROWS,
  columns: SYNCOOKIE_DEFENCES,
  baseline: BASELINE,
  cells: cellSpecs,
  async run(cell: SuiteCellSpec, o: SuiteOptions): Promise<SuiteRun> {
    const row = cell.row;
    if (!isRow(row) || !(SYNCOOKIE_DEFENCES as readonly string[]).includes(cell.column) || (FLOOD[row].flood && cell.column === ROTATED)) {
      throw new RunError('EINVAL', `syncookie: no cell ${cell.id}`);
    }
    return runSyncookie({
      defence: cell.column as SyncookieDefence, family: FLOOD[row].family, flood: FLOOD[row].flood, ...(FLOOD[row].pps !== undefined ? { floodPps: FLOOD[row].pps } : {}),
      duration: o.duration, warmup: o.warmup,
      engine: o.engine as 'jit' | 'interp',
    });
  },
  findings: syncookieFindings,
};

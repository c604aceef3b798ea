// The text and JSON reports of `vxo run flood` and `vxo run netperf`: the figure (with its goal or
// the RFC's beside it), the path's counters as `vxo run case1` prints them, the CPU table, both
// ledgers (every frame of the run; every packet the guest stack got), the stacks' counters by
// nstat name and their sockets as ss lists them. The JSON is the result object itself: what the
// library's runFlood/runNetperf return.
import type { FloodResult } from '../run/run-flood.ts';
import type { NetperfRunResult } from '../run/run-netperf.ts';
import { threadSummary } from './cpu.ts';
import { scenarioBpfText } from '../run/bpf-options.ts';

export type FloodJson = FloodResult;
export type NetperfJson = NetperfRunResult;

/** JSON-safe copies (NaN from a probe that did not run becomes null in JSON.stringify anyway). */
export function floodJson(r: FloodResult): FloodJson {
  return r;
}

export function netperfJson(r: NetperfRunResult): NetperfJson {
  return r;
}

const n = (w: Record<string, number>, k: string): string => String(Math.round(w[k] ?? 0));

function nstatLines(title: string, nstat: Record<string, number>): string[] {
  const keys = Object.keys(nstat);
  if (keys.length === 0) return [`${title}: none`];
  const out = [`${title}:`];
  const width = Math.max(...keys.map((k) => k.length));
  for (const k of keys) out.push(`  ${k.padEnd(width)}  ${nstat[k]}`);
  return out;
}

function indent(text: string): string[] {
  return text === '' ? ['  (no report)'] : text.split('\n').map((l) => `  ${l}`);
}

function pathLines(w: Record<string, number>, e: Record<string, number>): string[] {
  return [
    `  pktgen ${n(w, 'pktgen_generated')}  bridge forwarded ${n(w, 'bridge_forwarded')} flooded ${n(w, 'bridge_flooded')}  tap ring full drops ${n(w, 'tapx_drop_full_ring')}  out of the NIC ${n(w, 'nic_tx_packets')}`,
    `  vhost: ${n(w, 'vhost_rx_packets')} to guest, ${n(w, 'vhost_tx_packets')} from guest, ${n(w, 'vhost_wakeups')} wake-ups, ${(e['pkts_per_vhost_wakeup'] ?? 0).toFixed(1)} pkts/wake-up; backlog to host ${n(w, 'backlog_enqueued')} (dropped ${n(w, 'backlog_dropped')})`,
    `  guest: ${n(w, 'guest_rx_frames')} frames in, ${n(w, 'guest_tx_skb')} out (ring full: ${n(w, 'guest_stack_tx_dropped')} dropped, ${n(w, 'guest_tx_queue_stops')} queue stops), ${n(w, 'guest_napi_polls')} NAPI polls`,
  ];
}

function tail(r: { explain: Record<string, number>; accounting: FloodResult['accounting']; pcap?: { file: string; frames: number } }): string[] {
  const lines: string[] = [];
  if (r.pcap !== undefined) lines.push(`  pcap: ${r.pcap.frames} frames written to ${r.pcap.file}`);
  const cpu = threadSummary(r.explain);
  if (cpu !== undefined) lines.push(`  cpu, share of one core: ${cpu}`);
  const a = r.accounting;
  lines.push(`  accounting: generated ${a.generated} = accounted ${a.accounted}: ${a.balanced ? 'balanced' : 'NOT BALANCED'}`);
  return lines;
}

export function formatFlood(r: FloodResult): string {
  const what = r.kind.startsWith('udp') ? 'datagrams read at the socket' : 'SYN-ACKs sent (TcpExtSyncookiesSent)';
  const w = r.window;
  const s = r.stack_accounting;
  const ledger = r.kind.startsWith('udp')
    ? `received ${s.received} = read ${s.read ?? 0} + queued ${s.queued ?? 0} + dropped ${Object.values(s.dropped).reduce((x, y) => x + y, 0)}`
    : `received ${s.received} = answered ${s.answered ?? 0} + dropped ${Object.values(s.dropped).reduce((x, y) => x + y, 0)}; SYN-ACKs ${s.answered ?? 0} = onto the tx ring ${s.transmitted ?? 0} + dropped at a full ring ${s.tx_dropped ?? 0} + waiting on the qdisc ${s.qdisc_queued ?? 0}`;
  const lines = [
    `flood ${r.kind}: ${r.mpps.toFixed(3)} Mpps ${what} (${r.metric}: ${r.packets} in ${r.seconds.toFixed(2)} s); goal >= ${r.goal_mpps.toFixed(2)} Mpps (Cloudflare's ${r.kind} baseline, 24 cores)`,
    ...pathLines(w, r.explain),
    `  guest stack: ${ledger}${Object.keys(s.dropped).length > 0 ? ` (${Object.entries(s.dropped).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}: ${s.balanced ? 'balanced' : 'NOT BALANCED'}`,
    ...tail(r),
    '',
    ...nstatLines('guest stack counters (nstat)', r.stack.nstat),
    '',
    'guest sockets (ss -tuan -e, as the window closed):',
    ...indent(r.stack.ss),
    ...(r.bpf !== undefined ? ['', scenarioBpfText(r.bpf)] : []),
  ];
  return lines.join('\n');
}

export function formatNetperf(r: NetperfRunResult): string {
  const [host, guest] = r.family === 6 ? ['fd00::1', 'fd00::2'] : ['10.0.0.1', '10.0.0.2'];
  const [src, dst] = r.direction === 'host-to-guest' ? [host, guest] : [guest, host];
  const af = r.family === 6 ? 'AF_INET6' : 'AF_INET';
  const kind = r.test === 'TCP_CRR' ? 'TCP Connect/Request/Response TEST' : r.test.replace('_', ' ').replace('STREAM', 'STREAM TEST').replace(/RR$/, 'REQUEST/RESPONSE TEST');
  const figure = r.tps !== undefined ? `${r.tps.toFixed(2)} transactions/s` : `${(r.mbps ?? 0).toFixed(2)} 10^6bits/s`;
  const rfc = r.rfc !== undefined ? `; the RFC's table: ${r.rfc} (its host, no units given)` : '';
  const lines = [
    `MIGRATED ${kind} from ${src} () port 0 ${af} to ${dst} () port ${12866} ${af} (${r.direction})`,
    r.text,
    '',
    `netperf ${r.test}${r.test.endsWith('STREAM') ? ` -m ${r.size}` : ` -r ${r.size},${r.size}`}: ${figure}${rfc}`,
    ...pathLines(r.window, r.explain),
    ...tail(r),
    '',
    ...nstatLines('host stack counters (nstat)', r.stacks.host.nstat),
    ...nstatLines('guest stack counters (nstat)', r.stacks.guest.nstat),
    '',
    'host sockets (ss -tuan -e, as the window closed):',
    ...indent(r.stacks.host.ss),
    'guest sockets:',
    ...indent(r.stacks.guest.ss),
    ...(r.bpf !== undefined ? ['', scenarioBpfText(r.bpf)] : []),
  ];
  return lines.join('\n');
}

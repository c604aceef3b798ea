// What `vxo run` and `vxo table` do (their options are in run-commands.ts). Loaded only when one
// of them runs: it brings in the scenario runner, the workers' setup and the report.
// Numbers are parsed here only as far as the command line's syntax goes (a number or not); their
// ranges are the runner's to check (scenarios/run/limits.ts), before any worker starts, so the
// library gets the same checks.
import { writeFileSync } from 'node:fs';
import { isEngineName, type EngineName } from '../../bpf-vm/engines.ts';
import { formatOffloadShow, type OffloadShow } from '../../host/offload/index.ts';
import { runCase, type CapturePoint, type RunMode, type RunResult } from '../run/run-case.ts';
import { lineRatePps, parseLinkSpeed } from '../run/line-rate.ts';
import { checkLimit } from '../run/limits.ts';
import { checkOutputPath } from '../run/output-path.ts';
import { runTable, type TableRunOptions } from '../run/table.ts';
import { renderTextTable, shouldColor, threadSummary, toHtml, toJsonText } from '../report/index.ts';
import { UsageError } from './errors.ts';
import { netperfTarget, scenarioBpf } from './bpf-flags.ts';
import { runJson } from '../report/run-json.ts';
import type { FloodKind } from '../run/run-flood.ts';
import { NET_CAPTURE_POINTS, type NetCapturePoint } from '../run/net-capture.ts';
import type { NetperfDirection } from '../run/run-netperf.ts';
import type { NetperfTest } from '../../net/apps/netserver.ts';
import { VHOST_RX_PATH_DEFAULT, type VhostRxPath } from '../../vhost/rx-path.ts';

export interface CommonFlags {
  duration: string;
  warmup: string;
  vhostPollUs: string;
  engine: string;
  lineRate?: string;
  pktSize: string;
  flows: string;
}

/** Decimal notation only: Number() would also take '', ' ', '0x3c' and 'Infinity'. */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function num(name: string, v: string): number {
  if (!NUMBER.test(v)) throw new UsageError(`--${name} ${JSON.stringify(v)}: not a number`);
  return Number(v);
}

function common(f: CommonFlags): { duration: number; warmup: number; vhostPollUs: number; engine: EngineName; ratePps: number | undefined; pktSize: number; flows: number } {
  if (!isEngineName(f.engine)) throw new UsageError(`--engine ${f.engine}: interp or jit`);
  const pktSize = num('pkt-size', f.pktSize);
  let ratePps: number | undefined;
  if (f.lineRate !== undefined) {
    const bps = parseLinkSpeed(f.lineRate);
    if (bps === undefined) throw new UsageError(`--line-rate ${f.lineRate}: a link speed such as 10G or 25G`);
    ratePps = lineRatePps(bps, pktSize);
  }
  return {
    duration: num('duration', f.duration), warmup: num('warmup', f.warmup), vhostPollUs: num('vhost-poll-us', f.vhostPollUs),
    engine: f.engine, ratePps, pktSize, flows: num('flows', f.flows),
  };
}

export interface RunFlags extends CommonFlags {
  prog: string; section?: string; mode: string; replay?: string; json?: boolean; showOffload?: boolean; trace?: boolean;
  pcap?: string; pcapAt?: string; pcapCount: string;
  kind?: string; test?: string; size?: string; direction?: string; family?: string;
  attach?: string[]; map?: string[]; bind?: string[]; target?: string; sysctl?: string[];
  vhostRx?: string; dst?: string;
}

/** --sysctl MACHINE:NAME=VALUE, repeatable: syntax only (the runner checks the name and the value). */
export function parseSysctls(specs: readonly string[]): Partial<Record<'host' | 'guest', Record<string, number>>> | undefined {
  if (specs.length === 0) return undefined;
  const out: Partial<Record<'host' | 'guest', Record<string, number>>> = {};
  for (const spec of specs) {
    const m = /^(host|guest):([A-Za-z0-9_.]+)=(.*)$/.exec(spec);
    if (m === null) throw new UsageError(`--sysctl ${spec}: MACHINE:NAME=VALUE, MACHINE host or guest, e.g. guest:tcp_syncookies=2`);
    const machine = m[1] as 'host' | 'guest';
    (out[machine] ??= {})[m[2]!] = num('sysctl', m[3]!);
  }
  return out;
}

export async function runCommand(scenario: string, f: RunFlags): Promise<void> {
  if (scenario === 'flood' || scenario === 'netperf') {
    await runNetCommand(scenario, f);
    return;
  }
  if (f.dst !== undefined) throw new UsageError('--dst is for flood (case1 and case2 send to the guest\'s MAC through the NIC as the RFC did)');
  if (f.vhostRx !== undefined && f.vhostRx !== VHOST_RX_PATH_DEFAULT) throw new UsageError(`--vhost-rx ${f.vhostRx}: netperf only (case1 and case2 run the RFC's path, the offload needs it)`);
  const m = /^case([12])$/.exec(scenario);
  if (!m) throw new UsageError(`scenario ${scenario}: case1, case2, flood or netperf`);
  if (f.mode !== 'native' && f.mode !== 'offload') throw new UsageError(`--mode ${f.mode}: native or offload`);
  const c = common(f);
  const pcapAt = f.pcapAt ?? 'tap';
  if (pcapAt !== 'nic' && pcapAt !== 'tap' && pcapAt !== 'guest') throw new UsageError(`--pcap-at ${pcapAt}: nic, tap or guest`);
  const pcapCount = num('pcap-count', f.pcapCount);
  // Without --pcap the runner never sees it; a bad value is still a mistake worth saying.
  if (f.pcap === undefined) checkLimit('pcapCount', pcapCount);
  const pcap = f.pcap !== undefined ? { file: f.pcap, at: pcapAt as CapturePoint, count: pcapCount } : undefined;
  const r = await runCase({
    case: Number(m[1]) as 1 | 2, prog: f.prog, ...(f.section !== undefined ? { section: f.section } : {}), mode: f.mode as RunMode, ...c,
    replayPcap: f.replay, pcap,
    // stderr, so that stdout keeps only the result (one JSON document with --json).
    ...(f.trace === true ? { trace: (line: string) => { process.stderr.write(line + '\n'); } } : {}),
  });
  if (f.json) {
    // One document and nothing else: the offload dump goes inside it.
    process.stdout.write(JSON.stringify(runJson(r, { offload: f.showOffload === true })) + '\n');
  } else {
    process.stdout.write(formatRun(r) + '\n');
    if (f.showOffload && r.offload) process.stdout.write('\n' + formatOffloadShow(r.offload as OffloadShow, 'tap0') + '\n');
  }
  if (!r.accounting.balanced) process.exitCode = 1;
}

export interface TableFlags extends CommonFlags { repeat: string; prog?: string; section?: string; json?: string; html?: string; cells?: string }

export async function runTableCommand(f: TableFlags): Promise<void> {
  const c = common(f);
  // The reports are written after minutes of runs: where they go is checked before the first.
  if (f.json !== undefined) checkOutputPath(f.json, '--json');
  if (f.html !== undefined) checkOutputPath(f.html, '--html');
  const opts: TableRunOptions = {
    ...c, repeat: num('repeat', f.repeat), lineRate: f.lineRate ?? null, cells: f.cells,
    // A bar on a terminal, plain lines in a CI log: minutes of silence look like a hang.
    progress: true,
    ...(f.prog !== undefined ? { prog: f.prog } : {}), ...(f.section !== undefined ? { section: f.section } : {}),
  };
  const report = await runTable(opts);
  process.stdout.write(renderTextTable(report, { color: shouldColor(process.stdout) }) + '\n');
  if (f.json) writeFileSync(f.json, toJsonText(report));
  if (f.html) writeFileSync(f.html, await toHtml(report));
}

export function formatRun(r: RunResult): string {
  const w = r.window;
  const g = (k: string): string => String(Math.round(w[k] ?? 0));
  const e = r.explain;
  const lines = [
    `${r.scenario} ${r.prog}${r.section !== undefined ? ` (${r.section})` : ''} ${r.mode}: ${r.mpps.toFixed(2)} Mpps (${r.metric}: ${r.packets} in ${r.seconds.toFixed(2)} s)`,
    `  pktgen ${g('pktgen_generated')}  tap ring full drops ${g('tapx_drop_full_ring')}  tap xdp_xmit ${g('tapx_xdp_xmit_calls')} calls  net_xmit ${g('tapx_net_xmit_calls')}`,
    `  vhost: ${g('vhost_rx_packets')} to guest, ${g('vhost_tx_packets')} from guest, ${g('vhost_wakeups')} wake-ups, ${e.pkts_per_vhost_wakeup.toFixed(1)} pkts/wake-up, batch ${e.tap_batch_avg.toFixed(1)}`,
    `  tap Tx-path program: pass ${g('tap_xdp_pass')} drop ${g('tap_xdp_drop')} tx ${g('tap_xdp_tx')}; tap Rx-path program: drop ${g('taprx_xdp_drop')} pass ${g('taprx_xdp_pass')}`,
    `  guest: ${g('guest_rx_frames')} frames, xdp drop ${g('guest_rx_xdp_drops')} tx ${g('guest_rx_xdp_tx')} pass ${g('guest_rx_packets')}, ${g('guest_napi_polls')} NAPI polls`,
    `  accounting: generated ${r.accounting.generated} = accounted ${r.accounting.accounted}: ${r.accounting.balanced ? 'balanced' : 'NOT BALANCED'}`,
  ];
  const cpu = threadSummary(e);
  if (cpu !== undefined) lines.splice(lines.length - 1, 0, `  cpu, share of one core: ${cpu}`);
  return lines.join('\n');
}

/**
 * `vxo run flood` and `vxo run netperf`: the runner checks every value before a worker starts
 * (RunError EINVAL); one JSON document with --json; exit code 1 when a ledger does not balance.
 * Their runners and reports load only here.
 */
async function runNetCommand(scenario: 'flood' | 'netperf', f: RunFlags): Promise<void> {
  const pcapCount = num('pcap-count', f.pcapCount);
  // The point and the count are the runner's to check (RunError EINVAL), with or without --pcap.
  if (f.pcap === undefined) checkLimit('pcapCount', pcapCount);
  if (f.pcap === undefined && f.pcapAt !== undefined && !(NET_CAPTURE_POINTS as readonly string[]).includes(f.pcapAt)) {
    throw new UsageError(`--pcap-at ${f.pcapAt}: ${NET_CAPTURE_POINTS.join(', ')}`);
  }
  const pcap = f.pcap !== undefined ? { pcap: { file: f.pcap, at: (f.pcapAt ?? 'guest-stack') as NetCapturePoint, count: pcapCount } } : {};
  if (!isEngineName(f.engine)) throw new UsageError(`--engine ${f.engine}: interp or jit`);
  const bpf = scenarioBpf(f, f.engine);
  const t = { duration: num('duration', f.duration), warmup: num('warmup', f.warmup), vhostPollUs: num('vhost-poll-us', f.vhostPollUs), ...pcap, ...(bpf !== undefined ? { bpf } : {}) };
  const report = await import('../report/net-run.ts');
  const sysctls = parseSysctls(f.sysctl ?? []);
  if (scenario === 'flood') {
    if (f.target !== undefined) throw new UsageError('--target is for netperf (the flood\'s destination is the guest\'s sink or listener)');
    if (sysctls !== undefined) throw new UsageError('--sysctl is for netperf (the flood sets its own: tcp_syncookies=2 for syn4 and syn6)');
    if (f.vhostRx !== undefined && f.vhostRx !== VHOST_RX_PATH_DEFAULT) throw new UsageError(`--vhost-rx ${f.vhostRx}: netperf only (the flood runs the RFC's path)`);
    const { runFlood, parseFloodDst } = await import('../run/run-flood.ts');
    const r = await runFlood({ kind: (f.kind ?? '') as FloodKind, ...t, ...(f.dst !== undefined ? { dst: parseFloodDst(f.dst) } : {}) });
    process.stdout.write((f.json === true ? JSON.stringify(report.floodJson(r)) : report.formatFlood(r)) + '\n');
    if (!r.accounting.balanced || !r.stack_accounting.balanced) process.exitCode = 1;
    return;
  }
  if (f.dst !== undefined) throw new UsageError('--dst is for flood (netperf\'s destination is --target)');
  const { runNetperf, listenerText, vhostRxText } = await import('../run/run-netperf.ts');
  const r = await runNetperf({
    test: (f.test ?? 'TCP_STREAM') as NetperfTest, direction: (f.direction ?? 'host-to-guest') as NetperfDirection,
    family: num('family', f.family ?? '4') as 4 | 6,
    ...(f.size !== undefined ? { size: num('size', f.size) } : {}), ...t,
    ...(f.target !== undefined ? { target: netperfTarget(f.target)! } : {}),
    ...(sysctls !== undefined ? { sysctls } : {}),
    // The runner refuses a path it does not know (RunError EINVAL, naming both).
    ...(f.vhostRx !== undefined ? { vhostRx: f.vhostRx as VhostRxPath } : {}),
  });
  // The listener's handshake counters (TCP tests) after the report: which path the connections took.
  const listener = listenerText(r);
  // Then which way vhost read the tap (the counter's word), and an offload QEMU refused on that path.
  const lines = [report.formatNetperf(r), ...(listener.length > 0 ? ['', ...listener] : []), '', ...vhostRxText(r)];
  process.stdout.write((f.json === true ? JSON.stringify(report.netperfJson(r)) : lines.join('\n')) + '\n');
  if (!r.accounting.balanced) process.exitCode = 1;
}

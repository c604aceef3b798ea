// What `vxo run` and `vxo table` do (their options are in run-commands.ts). Loaded only when one
// of them runs: it brings in the scenario runner, the workers' setup and the report.
import { writeFileSync } from 'node:fs';
import { isEngineName, type EngineName } from '../../bpf-vm/engines.ts';
import { formatOffloadShow, type OffloadShow } from '../../host/offload/index.ts';
import { runCase, type CapturePoint, type RunMode, type RunResult } from '../run/run-case.ts';
import { lineRatePps, parseLinkSpeed } from '../run/line-rate.ts';
import { runTable, type TableRunOptions } from '../run/table.ts';
import { renderTextTable, shouldColor, threadSummary, toHtml, toJsonText } from '../report/index.ts';
import { UsageError } from './errors.ts';
import { runJson } from '../report/run-json.ts';

export interface CommonFlags {
  duration: string;
  warmup: string;
  vhostPollUs: string;
  engine: string;
  lineRate?: string;
  pktSize: string;
  flows: string;
}

function num(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} ${v}: a number >= ${min}`);
  return n;
}

function common(f: CommonFlags): { duration: number; warmup: number; vhostPollUs: number; engine: EngineName; ratePps: number | undefined; pktSize: number; flows: number } {
  if (!isEngineName(f.engine)) throw new UsageError(`--engine ${f.engine}: interp or jit`);
  const pktSize = num('pkt-size', f.pktSize, 60);
  let ratePps: number | undefined;
  if (f.lineRate !== undefined) {
    const bps = parseLinkSpeed(f.lineRate);
    if (bps === undefined) throw new UsageError(`--line-rate ${f.lineRate}: a link speed such as 10G or 25G`);
    ratePps = lineRatePps(bps, pktSize);
  }
  return {
    duration: num('duration', f.duration, 0.01), warmup: num('warmup', f.warmup, 0), vhostPollUs: num('vhost-poll-us', f.vhostPollUs, 0),
    engine: f.engine, ratePps, pktSize, flows: num('flows', f.flows, 1),
  };
}

export interface RunFlags extends CommonFlags {
  prog: string; mode: string; replay?: string; json?: boolean; showOffload?: boolean; pcap?: string; pcapAt: string; pcapCount: string;
}

export async function runCommand(scenario: string, f: RunFlags): Promise<void> {
  const m = /^case([12])$/.exec(scenario);
  if (!m) throw new UsageError(`scenario ${scenario}: case1 or case2`);
  if (f.mode !== 'native' && f.mode !== 'offload') throw new UsageError(`--mode ${f.mode}: native or offload`);
  const c = common(f);
  if (f.pcapAt !== 'nic' && f.pcapAt !== 'tap' && f.pcapAt !== 'guest') throw new UsageError(`--pcap-at ${f.pcapAt}: nic, tap or guest`);
  const pcap = f.pcap ? { file: f.pcap, at: f.pcapAt as CapturePoint, count: num('pcap-count', f.pcapCount, 1) } : undefined;
  const r = await runCase({ case: Number(m[1]) as 1 | 2, prog: f.prog, mode: f.mode as RunMode, ...c, replayPcap: f.replay, pcap });
  if (f.json) process.stdout.write(JSON.stringify(runJson(r)) + '\n');
  else process.stdout.write(formatRun(r) + '\n');
  if (f.showOffload && r.offload) process.stdout.write('\n' + formatOffloadShow(r.offload as OffloadShow, 'tap0') + '\n');
  if (!r.accounting.balanced) process.exitCode = 1;
}

export interface TableFlags extends CommonFlags { repeat: string; json?: string; html?: string; cells?: string }

export async function runTableCommand(f: TableFlags): Promise<void> {
  const c = common(f);
  const opts: TableRunOptions = { ...c, repeat: num('repeat', f.repeat, 1), lineRate: f.lineRate ?? null, cells: f.cells };
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
    `${r.scenario} ${r.prog} ${r.mode}: ${r.mpps.toFixed(2)} Mpps (${r.metric}: ${r.packets} in ${r.seconds.toFixed(2)} s)`,
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

// `vxo run case1|case2` (one scenario) and `vxo table` (the RFC's eight cells beside its numbers).
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { isEngineName, type EngineName } from '../../bpf-vm/engines.ts';
import { formatOffloadShow, type OffloadShow } from '../../host/offload/index.ts';
import { runCase, type CapturePoint, type RunMode, type RunResult } from '../run/run-case.ts';
import { lineRatePps, parseLinkSpeed } from '../run/line-rate.ts';
import { runTable, type TableRunOptions } from '../run/table.ts';
import { renderTextTable, shouldColor, threadSummary, toHtml, toJsonText } from '../report/index.ts';
import { UsageError } from './errors.ts';

interface CommonFlags {
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

function withCommon(c: Command, duration: string): Command {
  return c
    .option('--duration <s>', 'measured window, seconds', duration)
    .option('--warmup <s>', 'traffic before the window opens, seconds', '0.5')
    .option('--vhost-poll-us <n>', 'vhost busy-polls this long before sleeping (QEMU poll-us)', '0')
    .option('--engine <e>', 'eBPF engine: jit or interp', 'jit')
    .option('--line-rate <speed>', "cap pktgen at a link's rate for its frame size, e.g. 10G (14.88 Mpps at 64 bytes)")
    .option('--pkt-size <n>', 'frame size without FCS', '60')
    .option('--flows <n>', 'UDP flows pktgen cycles through', '1');
}

export function registerRunCommands(program: Command): void {
  withCommon(program.command('run <scenario>'), '2')
    .description('run one scenario: case1 (NIC XDP redirect into the tap) or case2 (NIC -> bridge -> tap)')
    .option('--prog <p>', 'the guest program: xdp1, xdp2 or a clang object', 'xdp1')
    .option('--mode <m>', 'native (in the guest driver) or offload (in the tap Tx path)', 'native')
    .option('--replay <pcap>', 'pktgen replays this capture instead of generating UDP')
    .option('--json', 'print one JSON object')
    .option('--show-offload', 'print the program and maps the tap runs (offload mode), like bpftool prog show / map dump')
    .option('--pcap <file>', 'write the first frames seen at --pcap-at to a pcap file')
    .option('--pcap-at <point>', 'capture point: nic, tap or guest', 'tap')
    .option('--pcap-count <n>', 'frames to capture', '1000')
    .action(async (scenario: string, f: CommonFlags & { prog: string; mode: string; replay?: string; json?: boolean; showOffload?: boolean; pcap?: string; pcapAt: string; pcapCount: string }) => {
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
    });

  withCommon(program.command('table'), '2')
    .description("run the RFC's eight cells (Case 1/2 x xdp1/xdp2 x native/offload) and print them beside the RFC's table")
    .option('--repeat <n>', 'runs per cell (median reported)', '3')
    .option('--json <file>', 'write the results as JSON')
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .option('--cells <list>', 'only these cells, e.g. 1/xdp1/offload,2/xdp2/native')
    .action(async (f: CommonFlags & { repeat: string; json?: string; html?: string; cells?: string }) => {
      const c = common(f);
      const opts: TableRunOptions = { ...c, repeat: num('repeat', f.repeat, 1), lineRate: f.lineRate ?? null, cells: f.cells };
      const report = await runTable(opts);
      process.stdout.write(renderTextTable(report, { color: shouldColor(process.stdout) }) + '\n');
      if (f.json) writeFileSync(f.json, toJsonText(report));
      if (f.html) writeFileSync(f.html, await toHtml(report));
    });
}

/** The documented --json shape of `vxo run`. */
export function runJson(r: RunResult): Record<string, unknown> {
  return {
    scenario: r.scenario, prog: r.prog, mode: r.mode, mpps: r.mpps, packets: r.packets, seconds: r.seconds, metric: r.metric,
    counters: r.counters, window: r.window,
    accounting: { generated: r.accounting.generated, accounted: r.accounting.accounted, balanced: r.accounting.balanced, dropped: r.accounting.dropped, delivered: r.accounting.delivered, queued: r.accounting.queued },
    explain: r.explain,
  };
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

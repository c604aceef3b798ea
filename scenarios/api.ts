// The scenarios as a library: run one case, the RFC's table, a flood or netperf, from a script or a test, and get
// the objects `vxo run --json` and `vxo table --json` print. The runner (workers, shared memory,
// the report) is loaded on the first call, so importing vxo stays cheap.
import type { ScenarioBpf } from './run/bpf-options.ts';
import type { EngineName } from '../bpf-vm/engines.ts';
import type { TableJson } from './report/json.ts';
import type { RunJson } from './report/run-json.ts';
import type { CapturePoint, RunMode } from './run/run-case.ts';
import { RunError } from './run/run-error.ts';
import type { FloodJson, NetperfJson } from './report/net-run.ts';
import type { FloodKind } from './run/run-flood.ts';
import type { NetperfDirection } from './run/run-netperf.ts';
import type { NetperfTest } from '../net/apps/netserver.ts';

export interface TrafficOptions {
  /** Measured window, seconds (default 2). */
  duration?: number;
  /** Traffic before the window opens, seconds (default 0.5). */
  warmup?: number;
  /** vhost busy-polls this long before sleeping, as QEMU's poll-us (default 0). */
  vhostPollUs?: number;
  engine?: EngineName;
  /** Cap pktgen at a link's rate for its frame size: '10G', '25G', ... (default uncapped). */
  lineRate?: string;
  /** Frame size without FCS (default 60). */
  pktSize?: number;
  /** UDP flows pktgen cycles through (default 1). */
  flows?: number;
}

export interface ScenarioOptions extends TrafficOptions {
  case: 1 | 2;
  /** 'xdp1', 'xdp2' or the path of a clang-built object (default 'xdp1'). */
  prog?: string;
  /** The program in `prog`'s object, by function or section name (default: the object's first). */
  section?: string;
  mode?: RunMode;
  /** pktgen replays this capture (pcap or pcapng) instead of generating UDP. */
  replayPcap?: string;
  /** Write the first frames seen at a capture point to a pcap file. */
  pcap?: { file: string; at: CapturePoint; count?: number };
  /** Receives the programs' bpf_trace_printk output, one trace_pipe-like line at a time (rate-limited per worker). */
  trace?: (line: string) => void;
}

export interface TableOptions extends TrafficOptions {
  /** A clang-built object run in place of xdp1 and xdp2 (four cells, with no RFC figure beside them). */
  prog?: string;
  /** The program in `prog`'s object (default: its first). */
  section?: string;
  /** Runs per cell; the median is reported (default 3). */
  repeat?: number;
  /** Only these cells, e.g. '1/xdp1/offload,2/xdp2/native'. */
  cells?: string;
  /** A progress bar on stderr (default: only when stderr is a terminal). */
  progress?: boolean;
}

async function ratePps(o: TrafficOptions): Promise<number | undefined> {
  if (o.lineRate === undefined) return undefined;
  const { lineRatePps, parseLinkSpeed } = await import('./run/line-rate.ts');
  const bps = parseLinkSpeed(o.lineRate);
  if (bps === undefined) throw new RunError('EINVAL', `lineRate ${o.lineRate}: a link speed such as 10G or 25G`);
  return lineRatePps(bps, o.pktSize ?? 60);
}

/** One scenario with the four workers; resolves to what `vxo run --json` prints. */
export async function runScenario(o: ScenarioOptions): Promise<RunJson> {
  const [{ runCase }, { runJson }] = await Promise.all([import('./run/run-case.ts'), import('./report/run-json.ts')]);
  const r = await runCase({
    case: o.case, prog: o.prog ?? 'xdp1', section: o.section, mode: o.mode ?? 'native', duration: o.duration ?? 2, warmup: o.warmup,
    vhostPollUs: o.vhostPollUs, engine: o.engine, ratePps: await ratePps(o), pktSize: o.pktSize, flows: o.flows,
    replayPcap: o.replayPcap, pcap: o.pcap, trace: o.trace,
  });
  return runJson(r);
}

/** The RFC's Case 1/Case 2 cells; resolves to what `vxo table --json FILE` writes. */
export async function runRfcTable(o: TableOptions = {}): Promise<TableJson> {
  const [{ runTable }, { toJson }] = await Promise.all([import('./run/table.ts'), import('./report/json.ts')]);
  const report = await runTable({
    duration: o.duration ?? 2, warmup: o.warmup ?? 0.5, repeat: o.repeat ?? 3, vhostPollUs: o.vhostPollUs ?? 0,
    engine: o.engine ?? 'jit', ratePps: await ratePps(o), lineRate: o.lineRate ?? null, pktSize: o.pktSize ?? 60,
    flows: o.flows ?? 1, cells: o.cells, prog: o.prog, section: o.section, progress: o.progress,
  });
  return toJson(report);
}

export interface FloodOptions {
  /** syn4/syn6: SYNs at a guest listener (syncookies=2); udp4/udp6: 0-length UDP into one guest socket. */
  kind: FloodKind;
  /** Measured window, seconds (default 2). */
  duration?: number;
  /** Flood before the window opens, seconds (default 0.5). */
  warmup?: number;
  vhostPollUs?: number;
  /** BPF on the guest: tc, SK_LOOKUP, a socket filter on the sink or listener, native XDP, the dispatcher. */
  bpf?: ScenarioBpf;
}

export interface NetperfOptions {
  test: NetperfTest;
  /** STREAM: send size (-m); RR: request and response size. Default 1472 (UDP_STREAM), 16384 (TCP_STREAM), 1 (RR). */
  size?: number;
  /** The sending side (default host-to-guest). */
  direction?: NetperfDirection;
  /** Measured window, seconds (default 2). */
  duration?: number;
  /** Before the window opens (connection set-up), seconds (default 0.5). */
  warmup?: number;
  vhostPollUs?: number;
  /** IPv4 (default) or IPv6. */
  family?: 4 | 6;
  /** BPF on either machine (the dispatcher on the guest). */
  bpf?: ScenarioBpf;
  /** Where netperf connects when a program steers a service address or port to netserver. */
  target?: { addr?: string; port?: number };
  /** net.ipv4 sysctls per machine before the applications start, e.g. `{ guest: { tcp_syncookies: 2 } }`. */
  sysctls?: Partial<Record<'host' | 'guest', Record<string, number>>>;
}

/** pktgen floods the guest's stack over Case 2's path; resolves to what `vxo run flood --json` prints (`mpps`, the stack's counters). */
export async function runFlood(o: FloodOptions): Promise<FloodJson> {
  const [{ runFlood: run }, { floodJson }] = await Promise.all([import('./run/run-flood.ts'), import('./report/net-run.ts')]);
  return floodJson(await run({ kind: o.kind, duration: o.duration ?? 2, warmup: o.warmup, vhostPollUs: o.vhostPollUs, ...(o.bpf ? { bpf: o.bpf } : {}) }));
}

/** netperf between the host's and the guest's stacks; resolves to what `vxo run netperf --json` prints (`mbps` or `tps`, both stacks' counters). */
export async function runNetperf(o: NetperfOptions): Promise<NetperfJson> {
  const [{ runNetperf: run }, { netperfJson }] = await Promise.all([import('./run/run-netperf.ts'), import('./report/net-run.ts')]);
  return netperfJson(await run({
    test: o.test, size: o.size, direction: o.direction, duration: o.duration ?? 2, warmup: o.warmup, vhostPollUs: o.vhostPollUs,
    ...(o.family ? { family: o.family } : {}), ...(o.bpf ? { bpf: o.bpf } : {}), ...(o.target ? { target: o.target } : {}),
    ...(o.sysctls ? { sysctls: o.sysctls } : {}),
  }));
}

export type { RunJson, TableJson, RunMode, CapturePoint, FloodJson, NetperfJson, FloodKind, NetperfTest, NetperfDirection };
export type { ScenarioBpf, ScenarioBpfReport, GuestXdpOption } from './run/bpf-options.ts';
export type { BpfAttachSpec, BpfAttachReport, MapInit } from './stack/bpf-attach.ts';

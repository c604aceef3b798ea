// `vxo run netperf --test UDP_STREAM|TCP_STREAM|UDP_RR|TCP_RR|TCP_CRR`: netperf and netserver on the two
// machines' stacks (the host's br0 at 10.0.0.1, the guest's eth0 at 10.0.0.2), the sender on the
// side --direction names, over Case 2's path both ways. The two machines are separate workers, so
// the control connection's job (agreeing on the data port) is done by the runner: both sides get
// the data port in their setup data, netserver listens on it, netperf connects to it. The result
// is assembled from both machines' counters over the measured window, as netperf reports it
// (sockets.md §8): STREAM in 10^6 bits/s at the receiver, RR in transactions per second
// (TCP_CRR: a connection per transaction, so connections per second). net.ipv4 sysctls can be set
// on either machine (`--sysctl guest:tcp_syncookies=2` forces the classic SYN cookie path), and
// the TCP tests report the listening machine's handshake counters, which tell which path the
// connections took (the SYN queue, syncookies, or a tc program's own cookie the listener never saw).
import { netperf_rr, netperf_tcp, type NetperfTest } from '../../net/apps/netserver.ts';
import { NetnsIpv4 } from '../../net/core/net-namespace.ts';
import { NET_ADDRS, NET_PORTS, type StackReport, type StackSetupData } from '../stack/setup-data.ts';
import { checkLimit } from './limits.ts';
import { RunError } from './run-error.ts';
import { isVhostRxPath, VHOST_RX_PATH_DEFAULT, VHOST_RX_PATHS, vhostRxPathOf, type VhostRxPath } from '../../vhost/rx-path.ts';
import { runMachines, type MachinesRunOptions } from './run-machines.ts';
import { checkNetPcap, netCapture, type NetCaptureWorkerData, type NetPcapOptions } from './net-capture.ts';
import { bpfReport, checkScenarioBpf, withBpf, workerDataWith, type ScenarioBpf, type ScenarioBpfReport } from './bpf-options.ts';
import type { Accounting } from './accounting.ts';
import type { RunExplain } from './explain.ts';

export const NETPERF_TESTS = ['UDP_STREAM', 'TCP_STREAM', 'UDP_RR', 'TCP_RR', 'TCP_CRR'] as const satisfies readonly NetperfTest[];
export const NETPERF_DIRECTIONS = ['host-to-guest', 'guest-to-host'] as const;
export type NetperfDirection = (typeof NETPERF_DIRECTIONS)[number];

/** The size's range per test: a UDP message fits one datagram without fragments (MTU 1500). */
export const NETPERF_SIZE = {
  UDP_STREAM: { min: 1, max: 1472, default: 1472 },
  TCP_STREAM: { min: 1, max: 1 << 20, default: 16384 },
  UDP_RR: { min: 1, max: 1472, default: 1 },
  TCP_RR: { min: 1, max: 65536, default: 1 },
  TCP_CRR: { min: 1, max: 65536, default: 1 },
} as const satisfies Record<NetperfTest, { min: number; max: number; default: number }>;

/** The RFC's figures (sockets.md §8, "After"), for the report's side-by-side. */
export const NETPERF_RFC: Partial<Record<string, number>> = {
  'UDP_STREAM/18': 90.74, 'UDP_STREAM/1472': 7026, 'TCP_STREAM': 9407, 'UDP_RR': 13478, 'TCP_RR': 12918,
};

export interface NetperfRunOptions {
  test: NetperfTest;
  /** STREAM: the send size (-m); RR: request and response size (-r N,N). Default per test. */
  size?: number;
  direction?: NetperfDirection;
  /** IPv4 (10.0.0.1 and 10.0.0.2, default) or IPv6 (fd00::1 and fd00::2). */
  family?: 4 | 6;
  duration: number;
  /** Seconds before the window opens (connection set-up and slow start excluded; default 0.5). */
  warmup?: number;
  queueSize?: number;
  vhostPollUs?: number;
  /** Write the first frames seen at a capture point to a pcap file (default point guest-stack). */
  pcap?: NetPcapOptions;
  /** BPF attached to the machines (bpf-options.ts). */
  bpf?: ScenarioBpf;
  /**
   * Where netperf connects, when not netserver's own address and port: a service address or port
   * a BPF program on the server's machine steers to netserver (tc bpf_sk_assign, the dispatcher).
   */
  target?: { addr?: string; port?: number };
  /**
   * net.ipv4.* sysctls per machine, by proc name with or without the prefix (tcp_syncookies or
   * net.ipv4.tcp_syncookies), integers; applied before the applications start.
   */
  sysctls?: Partial<Record<'host' | 'guest', Record<string, number>>>;
  /** How vhost's handle_rx reads the tap (vhost/rx-path.ts): 'ptr_ring' as before the offload RFC, 'tap_recvmsg' after it (default). */
  vhostRx?: VhostRxPath;
}

/**
 * The listening machine's handshake counters from the start to the window's close (nstat names, 0 when absent):
 * which way the connections came in. The SYN queue: PassiveOpens only. syncookies=2: every SYN
 * answered by a cookie (TcpExtSyncookiesSent) and every ACK checked (TcpExtSyncookiesRecv). A tc
 * program's own cookie (bpf_sk_assign_tcp_reqsk): PassiveOpens with all the SYN counters at 0,
 * the listener never saw a SYN.
 */
export const LISTENER_COUNTERS = [
  'TcpPassiveOpens', 'TcpExtSyncookiesSent', 'TcpExtSyncookiesRecv', 'TcpExtSyncookiesFailed',
  'TcpExtTCPReqQFullDoCookies', 'TcpExtTCPReqQFullDrop', 'TcpExtListenOverflows', 'TcpExtListenDrops',
  'TcpAttemptFails', 'TcpEstabResets', 'TcpOutRsts', 'TcpExtTW',
] as const;

export interface NetperfListener {
  /** netserver's machine. */
  machine: 'host' | 'guest';
  counters: Record<(typeof LISTENER_COUNTERS)[number], number>;
}

export interface NetperfSide {
  /** Sends the socket took, bytes, sends refused (not EAGAIN). */
  messages_sent: number;
  bytes_sent: number;
  send_errors: number;
  /** Messages (datagrams or reads) and bytes netserver received; RR responses it sent. */
  messages_received: number;
  bytes_received: number;
  responses: number;
  transactions: number;
}

export interface NetperfRunResult {
  scenario: 'netperf';
  test: NetperfTest;
  direction: NetperfDirection;
  family: 4 | 6;
  size: number;
  seconds: number;
  /** STREAM: 10^6 bits/s at the receiver (netperf's figure; UDP's send side in send_mbps). */
  mbps?: number;
  send_mbps?: number;
  /** RR: transactions per second. */
  tps?: number;
  /** The RFC's figure for this test, when it has one. */
  rfc?: number;
  /** The window's figures behind them. */
  window_stats: NetperfSide;
  /** netperf's report lines. */
  text: string;
  counters: Record<string, number>;
  window: Record<string, number>;
  accounting: Accounting;
  explain: RunExplain;
  /** Both stacks: counters by nstat name (at the end) and sockets (as the window closed; in `ss`, more than 20 TIME-WAIT sockets are counted in one line, `sockets` has them all). */
  stacks: Record<'host' | 'guest', { nstat: Record<string, number>; sockets: StackReport['sockets']; ss: string }>;
  /** With --pcap: frames written to the file. */
  pcap?: { file: string; frames: number };
  /** With BPF attached: what each machine attached and the maps at the end. */
  bpf?: ScenarioBpfReport;
  /** The sysctls set, per machine (net.ipv4 names without the prefix). */
  sysctls?: Partial<Record<'host' | 'guest', Record<string, number>>>;
  /** TCP tests: netserver's machine's handshake counters. */
  listener?: NetperfListener;
  /**
   * How vhost's handle_rx read the tap, from the vhost worker's counter vhost_rx_path (the path it
   * took, not the one asked). runNetperf always sets it (optional for results made elsewhere).
   */
  vhost_rx?: VhostRxPath;
}

/** What each path is, in the words the report and the errors use. */
export const VHOST_RX_PATH_TEXT = {
  ptr_ring: "before the offload RFC: vhost consumes the tap's ptr_ring itself, in batches",
  tap_recvmsg: "the RFC's patches 5-6: the tap's recvmsg hands vhost a batch, where an offloaded program runs",
} as const satisfies Record<VhostRxPath, string>;

/** The net.ipv4 sysctls a run may set: the numeric fields of netns_ipv4 (vxo's names: sysctl_NAME). */
let ipv4Defaults: Record<string, unknown> | undefined;

/** `tcp_syncookies` from `net.ipv4.tcp_syncookies` or `tcp_syncookies`; RunError when vxo has no such numeric sysctl. */
export function sysctlName(name: string): string {
  const k = name.startsWith('net.ipv4.') ? name.slice('net.ipv4.'.length) : name;
  ipv4Defaults ??= new NetnsIpv4() as unknown as Record<string, unknown>;
  if (!/^[a-z0-9_]+$/.test(k) || typeof ipv4Defaults[`sysctl_${k}`] !== 'number') {
    throw new RunError('EINVAL', `sysctl ${name}: not a net.ipv4 sysctl vxo can set on a machine (a number, e.g. tcp_syncookies, tcp_timestamps, tcp_sack)`);
  }
  return k;
}

function checkSysctls(s: NetperfRunOptions['sysctls']): void {
  for (const [m, set] of Object.entries(s ?? {})) {
    if (m !== 'host' && m !== 'guest') throw new RunError('EINVAL', `sysctls: the machine is host or guest, not ${JSON.stringify(m)}`);
    for (const [k, v] of Object.entries(set ?? {})) {
      sysctlName(k);
      if (!Number.isSafeInteger(v)) throw new RunError('EINVAL', `sysctl ${k}=${String(v)}: an integer`);
    }
  }
}

function normSysctls(set: Record<string, number> | undefined): Record<string, number> | undefined {
  if (set === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(set)) out[sysctlName(k)] = v;
  return out;
}

export function checkNetperf(o: NetperfRunOptions): void {
  if (!(NETPERF_TESTS as readonly string[]).includes(o.test)) throw new RunError('EINVAL', `--test ${String(o.test)}: ${NETPERF_TESTS.join(', ')}`);
  if (o.direction !== undefined && !(NETPERF_DIRECTIONS as readonly string[]).includes(o.direction)) {
    throw new RunError('EINVAL', `--direction ${String(o.direction)}: ${NETPERF_DIRECTIONS.join(' or ')}`);
  }
  if (o.family !== undefined && o.family !== 4 && o.family !== 6) throw new RunError('EINVAL', `--family ${String(o.family)}: 4 or 6`);
  if (o.size !== undefined) {
    const r = NETPERF_SIZE[o.test];
    // A UDP datagram in one 1500-byte frame: 1472 bytes over IPv4, 1452 over IPv6's 40-byte header.
    const max = o.family === 6 && o.test.startsWith('UDP') ? r.max - 20 : r.max;
    if (!(Number.isInteger(o.size) && o.size >= r.min && o.size <= max)) {
      throw new RunError('EINVAL', `--size ${String(o.size)}: must be an integer from ${r.min} to ${max} for ${o.test}${o.family === 6 ? ' over IPv6' : ''}`);
    }
  }
  if (o.duration === undefined) throw new RunError('EINVAL', '--duration: required');
  checkLimit('duration', o.duration);
  checkLimit('warmup', o.warmup);
  checkLimit('vhostPollUs', o.vhostPollUs);
  checkLimit('queueSize', o.queueSize);
  if (o.queueSize !== undefined && (o.queueSize & (o.queueSize - 1)) !== 0) throw new RunError('EINVAL', `queueSize ${o.queueSize}: a power of two`);
  checkNetPcap(o.pcap, true);
  checkScenarioBpf(o.bpf);
  checkSysctls(o.sysctls);
  if (o.vhostRx !== undefined && !isVhostRxPath(o.vhostRx)) {
    throw new RunError('EINVAL', `--vhost-rx ${JSON.stringify(o.vhostRx)}: ${VHOST_RX_PATHS.map((p) => `${p} (${VHOST_RX_PATH_TEXT[p]})`).join(' or ')}`);
  }
  if (o.target?.port !== undefined && !(Number.isInteger(o.target.port) && o.target.port > 0 && o.target.port < 65536)) {
    throw new RunError('EINVAL', `target port ${o.target.port}: 1..65535`);
  }
}

const NEIGH = [
  { family: 4, addr: NET_ADDRS.host4, mac: NET_ADDRS.hostMac }, { family: 6, addr: NET_ADDRS.host6, mac: NET_ADDRS.hostMac },
  { family: 4, addr: NET_ADDRS.guest4, mac: NET_ADDRS.guestMac }, { family: 6, addr: NET_ADDRS.guest6, mac: NET_ADDRS.guestMac },
] as const;

function side(machine: 'host' | 'guest', role: 'netperf' | 'netserver', test: NetperfTest, size: number, family: 4 | 6, sysctls: Record<string, number> | undefined): Omit<StackSetupData, 'report'> {
  const own = machine === 'host' ? { addr4: NET_ADDRS.host4, addr6: NET_ADDRS.host6 } : { addr4: NET_ADDRS.guest4, addr6: NET_ADDRS.guest6 };
  const peer = family === 6 ? (machine === 'host' ? NET_ADDRS.guest6 : NET_ADDRS.host6) : (machine === 'host' ? NET_ADDRS.guest4 : NET_ADDRS.host4);
  return {
    role, family, ...own, neigh: NEIGH.filter((n) => n.addr !== own.addr4 && n.addr !== own.addr6).map((n) => ({ ...n })),
    port: NET_PORTS.netperfData, backlog: 16,
    netperf: { test, size, responseSize: netperf_rr(test) ? size : 1, peer },
    ...(sysctls !== undefined ? { sysctls } : {}),
  };
}

const f2 = (x: number): string => x.toFixed(2);

export function netperfText(r: Pick<NetperfRunResult, 'test' | 'size' | 'seconds' | 'window_stats' | 'mbps' | 'send_mbps' | 'tps'>, sndbuf: number, rcvbuf: number): string {
  const w = r.window_stats, secs = f2(r.seconds);
  switch (r.test) {
    case 'UDP_STREAM':
      return [
        'Socket  Message  Elapsed      Messages',
        'Size    Size     Time         Okay Errors   Throughput',
        'bytes   bytes    secs            #      #   10^6bits/sec',
        '',
        `${String(sndbuf).padEnd(8)}${String(r.size).padStart(7)}  ${secs.padStart(6)}  ${String(w.messages_sent).padStart(10)} ${String(w.send_errors).padStart(6)}  ${f2(r.send_mbps ?? 0).padStart(10)}`,
        `${String(rcvbuf).padEnd(8)}         ${secs.padStart(6)}  ${String(w.messages_received).padStart(10)}         ${f2(r.mbps ?? 0).padStart(10)}`,
      ].join('\n');
    case 'TCP_STREAM':
      return [
        'Recv   Send    Send',
        'Socket Socket  Message  Elapsed',
        'Size   Size    Size     Time     Throughput',
        'bytes  bytes   bytes    secs.    10^6bits/sec',
        '',
        `${String(rcvbuf).padEnd(7)}${String(sndbuf).padEnd(8)}${String(r.size).padEnd(9)}${secs.padEnd(9)}${f2(r.mbps ?? 0)}`,
      ].join('\n');
    default:
      return [
        'Local /Remote',
        'Socket Size   Request  Resp.   Elapsed  Trans.',
        'Send   Recv   Size     Size    Time     Rate',
        'bytes  Bytes  bytes    bytes   secs.    per sec',
        '',
        `${String(sndbuf).padEnd(7)}${String(rcvbuf).padEnd(7)}${String(r.size).padEnd(9)}${String(r.size).padEnd(8)}${secs.padEnd(9)}${f2(r.tps ?? 0)}`,
      ].join('\n');
  }
}

/** TIME-WAIT lines an `ss` text keeps; past that they are counted in one line (TCP_CRR leaves one per connection). */
const SS_TIME_WAIT_LINES = 20;

const TIME_WAIT_LINE = /^\S+\s+TIME-WAIT\s/;

function ssText(ss: string): string {
  const lines = ss.split('\n');
  const tw = lines.filter((l) => TIME_WAIT_LINE.test(l)).length;
  if (tw <= SS_TIME_WAIT_LINES) return ss;
  return [...lines.filter((l) => !TIME_WAIT_LINE.test(l)), `(${tw} sockets in TIME-WAIT not listed: ss -tan state time-wait)`].join('\n');
}

function stackOf(counters: Record<string, number>, prefix: string, rep: StackReport | undefined): { nstat: Record<string, number>; sockets: StackReport['sockets']; ss: string } {
  const nstat: Record<string, number> = {};
  for (const [k, v] of Object.entries(counters)) if (k.startsWith(prefix)) nstat[k.slice(prefix.length)] = v;
  return { nstat: Object.keys(nstat).length > 0 ? nstat : (rep?.nstat ?? {}), sockets: rep?.sockets ?? [], ss: ssText(rep?.ss ?? '') };
}

export async function runNetperf(o: NetperfRunOptions): Promise<NetperfRunResult> {
  checkNetperf(o);
  const direction = o.direction ?? 'host-to-guest';
  const family = o.family ?? 4;
  const size = o.size ?? (family === 6 && o.test === 'UDP_STREAM' ? 1452 : NETPERF_SIZE[o.test].default);
  const sender = direction === 'host-to-guest' ? 'host' : 'guest';
  const server = sender === 'host' ? 'guest' : 'host';
  const sysctls = { host: normSysctls(o.sysctls?.host), guest: normSysctls(o.sysctls?.guest) };
  const cap = netCapture(o.pcap);
  // workerData: the captures' extra worker data (run-machines.ts spreads it into each worker's).
  const mo: MachinesRunOptions & { workerData?: NetCaptureWorkerData } = {
    duration: o.duration, warmup: o.warmup ?? 0.5, queueSize: o.queueSize, vhostPollUs: o.vhostPollUs,
    host: withBpf(withTarget(side('host', sender === 'host' ? 'netperf' : 'netserver', o.test, size, family, sysctls.host), sender === 'host', o.target), 'host', o.bpf),
    guest: withBpf(withTarget(side('guest', sender === 'guest' ? 'netperf' : 'netserver', o.test, size, family, sysctls.guest), sender === 'guest', o.target), 'guest', o.bpf),
    ...withVhostRx(workerDataWith(cap?.workerData, o.bpf), o.vhostRx),
  };
  const r = await runMachines(mo);
  const want = o.vhostRx ?? VHOST_RX_PATH_DEFAULT;
  const took = vhostRxPathOf(r.counters['vhost_rx_path']);
  if (took !== want) {
    throw new RunError('EIO', `netperf: vhost's handle_rx took ${took ?? `no known path (vhost_rx_path ${String(r.counters['vhost_rx_path'])})`}, not ${want}: the vhost worker did not get the path`);
  }
  const pcap = cap !== undefined ? { file: cap.o.file, frames: cap.write() } : undefined;
  // The host's stack counters carry host_, the guest's guest_.
  const s = (k: string): string => (sender === 'host' ? `host_${k}` : `guest_${k}`);
  const rcv = (k: string): string => (sender === 'host' ? `guest_${k}` : `host_${k}`);
  const w = (k: string): number => r.window[k] ?? 0;
  const ws: NetperfSide = {
    messages_sent: w(s('app_np_sent')), bytes_sent: w(s('app_np_bytes_sent')), send_errors: w(s('app_np_send_errors')),
    transactions: w(s('app_np_transactions')),
    messages_received: w(rcv('app_np_rx_messages')), bytes_received: w(rcv('app_np_rx_bytes')), responses: w(rcv('app_np_responses')),
  };
  const secs = r.seconds;
  const rr = netperf_rr(o.test);
  const figures = rr
    ? { tps: ws.transactions / secs }
    : { mbps: (ws.bytes_received * 8) / secs / 1e6, send_mbps: (ws.bytes_sent * 8) / secs / 1e6 };
  const rfc = NETPERF_RFC[o.test === 'UDP_STREAM' ? `UDP_STREAM/${size}` : o.test];
  const base = { test: o.test, size, seconds: secs, window_stats: ws, ...figures };
  // netperf prints its data sockets' buffer sizes, as each side had them at the end.
  const sndbuf = r.counters[s('app_np_sndbuf')] ?? 0;
  const rcvbuf = r.counters[rcv('app_np_rcvbuf')] ?? 0;
  const stacks = { host: stackOf(r.counters, 'host_nstat_', r.stacks.host), guest: stackOf(r.counters, 'guest_nstat_', r.stacks.guest) };
  const set = Object.fromEntries(Object.entries(sysctls).filter(([, v]) => v !== undefined && Object.keys(v).length > 0));
  return {
    scenario: 'netperf', direction, family, ...base, ...(rfc !== undefined ? { rfc } : {}), vhost_rx: took,
    text: netperfText(base, sndbuf, rcvbuf),
    counters: r.counters, window: r.window, accounting: r.accounting, explain: r.explain,
    stacks,
    ...(pcap !== undefined ? { pcap } : {}),
    ...bpfReport(o.bpf, r),
    ...(Object.keys(set).length > 0 ? { sysctls: set } : {}),
    // The report's counters, posted with the maps and the sockets as the window closed: the same
    // instant as a program's counters (the end-of-run nstat also has what came after the window).
    ...(netperf_tcp(o.test) ? { listener: listenerOf(server, r.stacks[server]?.nstat ?? stacks[server].nstat) } : {}),
  };
}

function listenerOf(machine: 'host' | 'guest', nstat: Record<string, number>): NetperfListener {
  const counters = {} as NetperfListener['counters'];
  for (const k of LISTENER_COUNTERS) counters[k] = nstat[k] ?? 0;
  return { machine, counters };
}

/**
 * The listener's lines of the report: its handshake counters (zeros shown: a 0 is the point when
 * a tc program answered every SYN), and which path that says the connections took.
 */
export function listenerText(r: Pick<NetperfRunResult, 'listener' | 'sysctls'>): string[] {
  const l = r.listener;
  if (l === undefined) return [];
  const c = l.counters;
  const path = c.TcpPassiveOpens === 0
    ? 'no connection accepted'
    : c.TcpExtSyncookiesRecv >= c.TcpPassiveOpens
      ? 'every connection through a SYN cookie (the listener answered each SYN: TcpExtSyncookiesSent)'
      : c.TcpExtSyncookiesSent === 0 && c.TcpExtSyncookiesRecv === 0
        ? 'no SYN cookie of the stack: the SYN queue, or a tc program\'s own cookie (then the listener never saw a SYN; see the program\'s counters)'
        : 'partly through SYN cookies';
  const out = [`listener (netserver on the ${l.machine}), from the start to the window's close: ${path}`];
  const width = Math.max(...LISTENER_COUNTERS.map((k) => k.length));
  for (const k of LISTENER_COUNTERS) out.push(`  ${k.padEnd(width)}  ${c[k]}`);
  for (const [m, set] of Object.entries(r.sysctls ?? {})) {
    out.push(`  sysctls on the ${m}: ${Object.entries(set).map(([k, v]) => `net.ipv4.${k}=${v}`).join(' ')}`);
  }
  return out;
}

/** netperf's side connects to `target` (a service address or port a BPF program steers) instead of netserver's. */
function withTarget(d: Omit<StackSetupData, 'report'>, isSender: boolean, t: NetperfRunOptions['target']): Omit<StackSetupData, 'report'> {
  if (!isSender || t === undefined || d.netperf === undefined) return d;
  return { ...d, ...(t.port !== undefined ? { peerPort: t.port } : {}), netperf: { ...d.netperf, ...(t.addr !== undefined ? { peer: t.addr } : {}) } };
}

type WithVhostRx<T> = T & { vhost?: Record<string, unknown>; qemu?: Record<string, unknown> };

/**
 * The vhost worker's rx path (VhostWorkerData.rxPath), beside whatever else it is given (a
 * capture); and QEMU's probe of the tap (QemuWorkerData.tun): one host kernel has both the RFC's
 * recvmsg path and its TUNSETOFFLOADEDXDP, or neither.
 */
function withVhostRx<T extends object>(wd: { workerData?: T }, path: VhostRxPath | undefined): { workerData?: WithVhostRx<T> } {
  if (path === undefined) return wd;
  const w = (wd.workerData ?? {}) as WithVhostRx<T>;
  return { workerData: { ...w, vhost: { ...w.vhost, rxPath: path }, qemu: { ...w.qemu, tun: { offloadedXdp: path === 'tap_recvmsg' } } } };
}

/**
 * The report's line on vhost's rx path (the counter's, not the option's), with the counters that
 * show it: on ptr_ring, vhost's own ring reads and one tap recvmsg per frame; on tap_recvmsg, one
 * recvmsg per batch.
 */
export function vhostRxText(r: Pick<NetperfRunResult, 'vhost_rx' | 'window' | 'counters' | 'bpf'>): string[] {
  if (r.vhost_rx === undefined) return [];
  const w = (k: string): number => r.window[k] ?? 0;
  const batches = w('vhost_rx_batches');
  const per = batches > 0 ? (w('vhost_rx_packets') / batches).toFixed(1) : '0';
  const how = r.vhost_rx === 'ptr_ring'
    ? `${batches} batches from the ring (${per} frames each), ${w('vhost_rx_recvmsg')} tap recvmsg calls (one per frame)`
    : `${w('vhost_rx_recvmsg')} tap recvmsg calls (${per} frames each)`;
  const out = [`vhost handle_rx: ${r.vhost_rx} (${VHOST_RX_PATH_TEXT[r.vhost_rx]}): ${how}, ${w('vhost_rx_empty_polls')} looks into an empty tap`];
  // The reason itself is in the guest xdp lines (the driver's error, QEMU's words in it).
  const refused = r.counters['qemu_tun_set_offload_refused'] ?? 0;
  if (refused > 0) {
    out.push(`  QEMU refused ${refused} xdp offload${refused === 1 ? '' : 's'} (no TUNSETOFFLOADEDXDP on this host's tun)${r.bpf?.guest_xdp?.offload_refused !== undefined ? ': the guest runs the program in its driver' : ''}`);
  }
  return out;
}

// `vxo run flood --kind syn4|syn6|udp4|udp6`: pktgen floods the guest through Case 2's path (NIC ->
// bridge -> tap -> vhost -> virtio_net -> the guest's stack) from one address and 10,000 source
// ports at one destination port, as the sk_lookup cover letters' benchmark (sockets.md §7).
// udp: 0-length datagrams into one UDP socket read by a sink; the figure is datagrams read at the
// socket per second. syn: SYNs at one listener that never accepts, with tcp_syncookies = 2; the
// figure is SYN-ACKs sent per second (TcpExtSyncookiesSent), which leave through the guest's tx
// path (virtio tx queue, vhost handle_tx, the tap, the bridge) and end at the NIC's wire.
import { PktgenTemplate, type PktgenTemplateSpec } from '../../host/net/pktgen-templates.ts';
import { NET_ADDRS, NET_PORTS, type StackReport, type StackSetupData } from '../stack/setup-data.ts';
import { checkLimit } from './limits.ts';
import { RunError } from './run-error.ts';
import { runMachines, type MachinesRunOptions } from './run-machines.ts';
import { checkNetPcap, netCapture, type NetCaptureWorkerData, type NetPcapOptions } from './net-capture.ts';
import { bpfReport, checkScenarioBpf, withBpf, workerDataWith, type ScenarioBpf, type ScenarioBpfReport } from './bpf-options.ts';
import type { Accounting } from './accounting.ts';
import type { RunExplain } from './explain.ts';

export const FLOOD_KINDS = ['syn4', 'syn6', 'udp4', 'udp6'] as const;
export type FloodKind = (typeof FLOOD_KINDS)[number];

/** Cloudflare's 5.6.3 baselines (SKL-v1, sockets.md §7.1), packets per second. */
export const FLOOD_BASELINE_PPS: Record<FloodKind, number> = { syn4: 939_616, syn6: 875_838, udp4: 2_738_662, udp6: 2_867_885 };

/** Source ports the flood cycles through (the cover letter's 10k). */
export const FLOOD_SOURCE_PORTS = 10_000;

export interface FloodOptions {
  kind: FloodKind;
  /** Measured window, seconds. */
  duration: number;
  /** Seconds of flood before the window opens (default 0.5). */
  warmup?: number;
  queueSize?: number;
  vhostPollUs?: number;
  /** Write the first frames seen at a capture point to a pcap file (default point guest-stack). */
  pcap?: NetPcapOptions;
  /** BPF attached to the machines (bpf-options.ts). */
  bpf?: ScenarioBpf;
  /** false: the guest's kernel has no SK_LOOKUP hook (the cover letters' 5.6.3 baseline; default: it has one). */
  skLookupHook?: boolean;
  /**
   * pktgen's destinations: the first address and port and how many of each, advancing per frame
   * (the guest's address and the kind's port by default). With a dispatcher binding (`bpf`) the
   * guest owns a prefix and one socket takes a whole range.
   */
  dst?: FloodDst;
}

export interface FloodDst { ip?: string; ipCount?: number; port?: number; portCount?: number }

/**
 * `--dst ADDR[+N][:PORT[+N]]` (IPv6 in brackets: `[fd00::2]+4:53`; `:PORT[+N]` alone keeps the
 * guest's address), e.g. `192.0.2.0+256:53` is every address of 192.0.2.0/24 on port 53.
 */
export function parseFloodDst(spec: string): FloodDst {
  const m = /^(?:(\[[0-9A-Fa-f:.]+\]|[0-9.]+)(?:\+(\d+))?)?(?::(\d+)(?:\+(\d+))?)?$/.exec(spec);
  if (m === null || spec === '') throw new RunError('EINVAL', `--dst ${spec}: ADDR[+N][:PORT[+N]], IPv6 in brackets ([fd00::2]+4:53)`);
  const out: FloodDst = {};
  if (m[1] !== undefined) out.ip = m[1].replace(/^\[|\]$/g, '');
  if (m[2] !== undefined) out.ipCount = Number(m[2]);
  if (m[3] !== undefined) out.port = Number(m[3]);
  if (m[4] !== undefined) out.portCount = Number(m[4]);
  return out;
}

export interface FloodResult {
  scenario: 'flood';
  kind: FloodKind;
  /** Millions per second: datagrams read at the socket (udp), SYN-ACKs sent (syn). */
  mpps: number;
  /** The counter behind mpps and its increase over the window. */
  metric: string;
  packets: number;
  seconds: number;
  /**
   * Frames eth0 received per second over the window: virtio_net's rx_packets (guest_rx_packets),
   * the device counter /proc/net/dev shows and `ifpps -d eth0` counts, as the cover letters measured.
   */
  rx_pps: number;
  /** The baseline beside the figure (Cloudflare's, Mpps). */
  goal_mpps: number;
  counters: Record<string, number>;
  window: Record<string, number>;
  accounting: Accounting;
  explain: RunExplain;
  /** The guest stack's own ledger of what eth0 delivered to it (see stackAccounting). */
  stack_accounting: StackAccounting;
  /** The guest stack's counters by nstat name (at the end) and its sockets (as the window closed). */
  stack: { nstat: Record<string, number>; sockets: StackReport['sockets']; ss: string };
  /** With --pcap: frames written to the file. */
  pcap?: { file: string; frames: number };
  /** With BPF attached: what each machine attached and the maps at the end. */
  bpf?: ScenarioBpfReport;
}

/**
 * What the guest stack did with every packet eth0 handed it, from the final counters. udp: each
 * was read by the sink, is still on the socket's queue, or was dropped (kfree_skb, by reason:
 * SOCKET_RCVBUFF when the queue was full). syn: each was answered with a cookie SYN-ACK
 * (TcpExtSyncookiesSent) or dropped; each SYN-ACK went onto the virtio tx ring or was dropped at
 * a full one (the device's tx_dropped).
 */
export interface StackAccounting {
  received: number;
  read?: number;
  queued?: number;
  answered?: number;
  /** SYN-ACKs: onto the tx ring, dropped there, or still waiting on the qdisc (the ring was full). */
  transmitted?: number;
  tx_dropped?: number;
  qdisc_queued?: number;
  /** kfree_skb by reason on the receive side. */
  dropped: Record<string, number>;
  balanced: boolean;
}

export function stackAccounting(kind: FloodKind, c: Record<string, number>): StackAccounting {
  const g = (k: string): number => c[`guest_${k}`] ?? 0;
  const received = g('stack_rx_packets');
  const txDropped = g('stack_tx_dropped');
  const dropped: Record<string, number> = {};
  for (const [k, v] of Object.entries(c)) {
    if (k.startsWith('guest_stack_skb_drop_') && k !== 'guest_stack_skb_drop_total') dropped[k.slice('guest_stack_skb_drop_'.length)] = v;
  }
  const rxDrops = g('stack_skb_drop_total') - txDropped;
  if (kind.startsWith('udp')) {
    const read = g('app_rx_packets'), queued = g('app_rcvq');
    return { received, read, queued, dropped, balanced: received === read + queued + g('stack_skb_drop_total') && txDropped === 0 };
  }
  const answered = g('app_syncookies_sent'), transmitted = g('tx_skb');
  if (dropped['QDISC_DROP'] !== undefined) dropped['QDISC_DROP'] -= txDropped;
  if (dropped['QDISC_DROP'] === 0) delete dropped['QDISC_DROP'];
  const qdisc = g('stack_qdisc_qlen');
  return {
    received, answered, transmitted, tx_dropped: txDropped, qdisc_queued: qdisc, dropped,
    balanced: received === answered + rxDrops && answered === transmitted + txDropped + qdisc,
  };
}

/** Bad options fail here, before any worker starts (RunError EINVAL). */
export function checkFlood(o: FloodOptions): void {
  if (!(FLOOD_KINDS as readonly string[]).includes(o.kind)) throw new RunError('EINVAL', `--kind ${String(o.kind)}: ${FLOOD_KINDS.join(', ')}`);
  if (o.duration === undefined) throw new RunError('EINVAL', '--duration: required');
  checkLimit('duration', o.duration);
  checkLimit('warmup', o.warmup);
  checkLimit('vhostPollUs', o.vhostPollUs);
  checkLimit('queueSize', o.queueSize);
  if (o.queueSize !== undefined && (o.queueSize & (o.queueSize - 1)) !== 0) throw new RunError('EINVAL', `queueSize ${o.queueSize}: a power of two`);
  // The flood gives only the guest a stack.
  checkNetPcap(o.pcap, false);
  checkScenarioBpf(o.bpf);
  if (o.skLookupHook === false && o.bpf?.guest?.some((s) => s.kind === 'sk_lookup' || s.kind === 'dispatcher')) {
    throw new RunError('EINVAL', 'a guest without the SK_LOOKUP hook cannot attach SK_LOOKUP programs');
  }
  if (o.bpf?.host !== undefined) throw new RunError('EINVAL', 'the flood gives only the guest a stack: no host attachments');
  if (o.dst !== undefined) {
    // pktgen's own checks (address family, ranges within 2^32 and 65,535), as a usage error.
    try {
      new PktgenTemplate(floodTemplate(o.kind, o.dst));
    } catch (e) {
      throw new RunError('EINVAL', `--dst: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** pktgen's template for a kind: one source address behind the NIC, 10k source ports, one destination (or `dst`'s ranges). */
export function floodTemplate(kind: FloodKind, dst?: FloodDst): PktgenTemplateSpec {
  const v6 = kind.endsWith('6');
  const syn = kind.startsWith('syn');
  return {
    proto: syn ? 'tcp-syn' : 'udp', family: v6 ? 6 : 4,
    srcMac: NET_ADDRS.floodMac, dstMac: NET_ADDRS.guestMac,
    srcIp: v6 ? NET_ADDRS.flood6 : NET_ADDRS.flood4, dstIp: v6 ? NET_ADDRS.guest6 : NET_ADDRS.guest4,
    srcPort: 1024, srcPortCount: FLOOD_SOURCE_PORTS,
    dstPort: syn ? NET_PORTS.synListener : NET_PORTS.udpSink,
    ...(syn ? {} : { payload: 0 }),
    ...(dst?.ip !== undefined ? { dstIp: dst.ip } : {}), ...(dst?.ipCount !== undefined ? { dstIpCount: dst.ipCount } : {}),
    ...(dst?.port !== undefined ? { dstPort: dst.port } : {}), ...(dst?.portCount !== undefined ? { dstPortCount: dst.portCount } : {}),
  };
}

export function guestFloodSetup(kind: FloodKind): Omit<StackSetupData, 'report'> {
  const syn = kind.startsWith('syn');
  return {
    role: syn ? 'syn-listener' : 'udp-sink', family: kind.endsWith('6') ? 6 : 4,
    addr4: NET_ADDRS.guest4, addr6: NET_ADDRS.guest6,
    neigh: [
      { family: 4, addr: NET_ADDRS.flood4, mac: NET_ADDRS.floodMac }, { family: 6, addr: NET_ADDRS.flood6, mac: NET_ADDRS.floodMac },
      { family: 4, addr: NET_ADDRS.host4, mac: NET_ADDRS.hostMac }, { family: 6, addr: NET_ADDRS.host6, mac: NET_ADDRS.hostMac },
    ],
    sysctls: syn ? { tcp_syncookies: 2 } : {},
    port: syn ? NET_PORTS.synListener : NET_PORTS.udpSink,
    backlog: 1024,
  };
}

export async function runFlood(o: FloodOptions): Promise<FloodResult> {
  checkFlood(o);
  const syn = o.kind.startsWith('syn');
  const cap = netCapture(o.pcap);
  // workerData: the captures' extra worker data (run-machines.ts spreads it into each worker's).
  const mo: MachinesRunOptions & { workerData?: NetCaptureWorkerData } = {
    duration: o.duration, warmup: o.warmup ?? 0.5, queueSize: o.queueSize, vhostPollUs: o.vhostPollUs,
    template: floodTemplate(o.kind, o.dst),
    guest: withBpf({ ...guestFloodSetup(o.kind), ...(o.skLookupHook === false ? { skLookupHook: false } : {}) }, 'guest', o.bpf),
    ...workerDataWith(cap?.workerData, o.bpf),
  };
  const r = await runMachines(mo);
  const pcap = cap !== undefined ? { file: cap.o.file, frames: cap.write() } : undefined;
  const metric = syn ? 'guest_app_syncookies_sent' : 'guest_app_rx_packets';
  const packets = r.window[metric] ?? 0;
  const nstat: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.counters)) if (k.startsWith('guest_nstat_')) nstat[k.slice('guest_nstat_'.length)] = v;
  const rep = r.stacks.guest;
  return {
    scenario: 'flood', kind: o.kind, mpps: packets / r.seconds / 1e6, metric, packets, seconds: r.seconds,
    rx_pps: (r.window['guest_rx_packets'] ?? 0) / r.seconds,
    goal_mpps: FLOOD_BASELINE_PPS[o.kind] / 1e6,
    counters: r.counters, window: r.window, accounting: r.accounting, explain: r.explain,
    stack_accounting: stackAccounting(o.kind, r.counters),
    stack: { nstat: Object.keys(nstat).length > 0 ? nstat : (rep?.nstat ?? {}), sockets: rep?.sockets ?? [], ss: rep?.ss ?? '' },
    ...(pcap !== undefined ? { pcap } : {}),
    ...bpfReport(o.bpf, r),
  };
}

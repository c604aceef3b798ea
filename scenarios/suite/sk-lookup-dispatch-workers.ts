// The sk-lookup suite's dispatch cells through the four workers: pktgen on the wire sends to
// every address of 192.0.2.0/24 on the service port, or to every port 1..65535 of 198.51.100.1,
// cycling the destination range frame by frame (pktgen-templates.ts dstIpCount / dstPortCount),
// through NIC -> br0 -> tap -> vhost -> virtio_net -> the guest's stack, where the dispatcher
// (dispatch.o on the guest's netns link, one binding -> label 'svc') steers each lookup to the
// label's one socket, bound to a port of its own (DISPATCH_SERVICES.socketPort) that no frame
// names: whatever reaches it came through the binding.
//   udp: 0-length datagrams; the socket is the discard sink, which reads each as it lands.
//   tcp: SYNs (the flood's template), the socket a listener under tcp_syncookies = 2 that never
//        accepts: each SYN steered to it is answered with a cookie SYN-ACK (out through the
//        guest's tx path to the wire). pktgen never ACKs, so no connection completes: the accepts
//        are the one-thread cells' (sk-lookup-dispatch.ts), whose client stack does handshakes.
//
// Per binding: what its lookups found (the program's metrics and the destination's own record,
// read from the guest's report as the window closed, in the same loop round as the nstat beside
// them), what the socket did with them (read / queued / dropped; SYN-ACKs sent / dropped); misses
// and errors by reason (the program's no_binding / missing_socket / err_*, the stack's drops by
// kfree_skb reason, the four workers' drops before the guest). Conservation: the workers' ledger,
// the guest stack's (run-flood.ts stackAccounting) and the program's (lookups = misses + assigned
// + errors; assigned = what the socket answered, holds or dropped). pktgen's one template covers
// the binding only, so the misses by reason are probed in the one-thread cells.
//
// Which destinations: a packet tap on the guest's eth0 (tcpdump's place, the run's guest-stack
// capture point) keeps the headers of the first frames the stack took, enough for two passes over
// the range; the distinct destinations among them, with every lookup assigned and every datagram
// read (the ledgers above), are the destinations that reached the socket. The counters alone say
// how many, not which: pktgen cycles the range, but the tap's full queue drops frames between.
import type { EngineName } from '../../bpf-vm/engines.ts';
import type { PktgenTemplateSpec } from '../../host/net/pktgen-templates.ts';
import { FrameCapture, type CapturedFrame } from '../../virtio/index.ts';
import { metricsBalanced, type DispatchMetrics } from '../dispatch/metrics.ts';
import { checkScenarioBpf, withBpf, type ScenarioBpf } from '../run/bpf-options.ts';
import { floodTemplate, guestFloodSetup, stackAccounting } from '../run/run-flood.ts';
import { runMachines } from '../run/run-machines.ts';
import { RunError } from '../run/run-error.ts';
import { NET_ADDRS } from '../stack/setup-data.ts';
import type { SuiteRunWithNotes } from './run-suite.ts';
import { DISPATCH_SERVICES, dispatchPlan, type DispatchCellPlan, type DispatchRow } from './sk-lookup-dispatch.ts';

/** The label every cell binds (its one socket: the guest's discard sink or its listener). */
const LABEL = 'svc';

const floodKind = (p: DispatchCellPlan): 'udp4' | 'syn4' => (p.protocol === 'udp' ? 'udp4' : 'syn4');

/** pktgen's template: the flood's source (one address, 10k ports), the binding's destinations as the range. */
export function dispatchTemplate(p: DispatchCellPlan): PktgenTemplateSpec {
  const base = floodTemplate(floodKind(p));
  if (p.shape === 'prefix') {
    const [net] = DISPATCH_SERVICES.prefix.split('/');
    return { ...base, dstIp: net!, dstIpCount: p.targets, dstPort: DISPATCH_SERVICES.prefixPort[p.protocol] };
  }
  return { ...base, dstIp: DISPATCH_SERVICES.address, dstPort: 1, dstPortCount: p.targets };
}

/** The guest's side: the dispatcher with the cell's binding, and the service prefixes as local routes. */
export function dispatchBpf(p: DispatchCellPlan, engine: EngineName): ScenarioBpf {
  const binding = p.shape === 'prefix'
    ? { protocol: p.protocol, prefix: DISPATCH_SERVICES.prefix, port: DISPATCH_SERVICES.prefixPort[p.protocol] }
    : { protocol: p.protocol, prefix: `${DISPATCH_SERVICES.address}/32`, port: 0 };
  return {
    engine,
    guest: [{ kind: 'dispatcher', label: LABEL, bindings: [binding] }],
    guestRoutes: { local: [DISPATCH_SERVICES.prefix, `${DISPATCH_SERVICES.address}/32`] },
  };
}

/** Ethernet, IPv4 without options, the ports: what the tap keeps of each frame. */
const CAPTURE_SNAPLEN = 14 + 20 + 4;

/** Frames the tap keeps: two passes over the range, twice that for TCP (its SYN-ACKs pass the tap too). */
export function captureFrames(p: DispatchCellPlan): number {
  return p.targets * 2 * (p.protocol === 'tcp' ? 2 : 1);
}

/**
 * The distinct destinations of the range among captured frames coming in to the guest (to its
 * MAC, IPv4, the cell's protocol), and how many such frames there were.
 */
export function destinationsSeen(frames: readonly CapturedFrame[], p: DispatchCellPlan, t: PktgenTemplateSpec): { frames: number; seen: number } {
  const mac = NET_ADDRS.guestMac.split(':').map((x) => parseInt(x, 16));
  const proto = p.protocol === 'udp' ? 17 : 6;
  const base = t.dstIp!.split('.').reduce((a, x) => a * 256 + Number(x), 0);
  const port0 = t.dstPort ?? 0;
  const hit = new Uint8Array(p.targets);
  let n = 0, seen = 0;
  for (const { data: f } of frames) {
    if (f.length < CAPTURE_SNAPLEN || mac.some((b, i) => f[i] !== b) || f[12] !== 0x08 || f[13] !== 0x00 || f[23] !== proto) continue;
    n++;
    const dst = ((f[30]! << 24) | (f[31]! << 16) | (f[32]! << 8) | f[33]!) >>> 0;
    const dport = (f[36]! << 8) | f[37]!;
    const i = p.shape === 'prefix' ? (dport === port0 ? dst - base : -1) : (dst === base ? dport - port0 : -1);
    if (i < 0 || i >= p.targets || hit[i] !== 0) continue;
    hit[i] = 1;
    seen++;
  }
  return { frames: n, seen };
}

const sum = (o: Readonly<Record<string, number>>): number => Object.values(o).reduce((a, b) => a + b, 0);

function dispatchErrors(m: DispatchMetrics): number {
  return m.err_einval + m.err_esocktnosupport + m.err_eprototype + m.err_eafnosupport + m.err_eexist + m.err_other + m.bad_destination;
}

/** One dispatch cell through the four workers, once. */
export async function runDispatchWorkerCell(row: DispatchRow, engine: EngineName, o: { duration: number; warmup: number }): Promise<SuiteRunWithNotes> {
  const p = dispatchPlan(row);
  const kind = floodKind(p);
  const udp = p.protocol === 'udp';
  const bpf = dispatchBpf(p, engine);
  checkScenarioBpf(bpf);
  const template = dispatchTemplate(p);
  const socketPort = DISPATCH_SERVICES.socketPort[p.protocol];
  const guest = withBpf({ ...guestFloodSetup(kind), port: socketPort }, 'guest', bpf);
  const cap = FrameCapture.create(captureFrames(p), CAPTURE_SNAPLEN);
  const r = await runMachines({ duration: o.duration, warmup: o.warmup, template, guest, workerData: { guest: { stackCapture: cap.share() } } });
  const dests = destinationsSeen(cap.frames(), p, template);

  const rep = r.stacks.guest;
  const d = rep?.bpf?.dispatcher;
  if (rep === undefined || d === undefined) throw new RunError('EIO', 'dispatch: the guest posted no report (the dispatcher\'s counters) as the window closed');
  const dm = d.metrics;
  const ns = rep.nstat;
  const dest = d.destinations.find((x) => x.label === LABEL && x.protocol === p.protocol && x.family === 4);
  // As the window closed (one loop round of the guest: the program's maps and the MIB together).
  // udp: read (InDatagrams counts at recvmsg), dropped at the socket (InErrors), the rest queued.
  // tcp: answered with a cookie SYN-ACK, or dropped by the listener (ListenDrops); none queued
  // (syncookies = 2 keeps no request socket).
  const reached = udp ? (ns['UdpInDatagrams'] ?? 0) : (ns['TcpExtSyncookiesSent'] ?? 0);
  const sockDrops = udp ? (ns['UdpInErrors'] ?? 0) : (ns['TcpExtListenDrops'] ?? 0);
  // Lookups that found no socket at all: udp NoPorts (ICMP port unreachable), tcp a RST (OutRsts).
  const noSocket = udp ? (ns['UdpNoPorts'] ?? 0) : (ns['TcpOutRsts'] ?? 0);
  const queued = dm.assigned - reached - sockDrops;
  const appSock = rep.sockets.find((s) => s.netid === p.protocol && s.local.endsWith(`:${socketPort}`));
  const errors = dispatchErrors(dm);

  const acc = r.accounting;
  const sa = stackAccounting(kind, r.counters);
  const w = r.window;
  const programBalanced = metricsBalanced(dm) && dm.lookups === dm.no_binding + dm.missing_socket + dm.assigned + errors;
  // Every frame was for the binding: each lookup was assigned to the one socket, which read it,
  // holds it or dropped it (answered the SYN or dropped it); none went on to the regular lookup
  // and found nothing (no ICMP port unreachable, no RST).
  const bindingBalanced = dest !== undefined && dest.cookie !== null && dest.lookups === dm.lookups && dest.missing_socket === 0 && dest.bad_socket === 0
    && dm.no_binding === 0 && dm.missing_socket === 0 && errors === 0 && noSocket === 0 && appSock !== undefined
    && (udp ? queued >= 0 && (queued > 0 || appSock.recv_q === 0) : queued === 0);
  // Which ledger did not close, said in the cell's notes (a run that does not balance says why).
  const open = Object.entries({
    'the four workers\' ledger': acc.balanced, 'the guest stack\'s ledger': sa.balanced, 'the program\'s metrics': programBalanced,
    'the binding\'s ledger (lookups assigned = answered + queued + dropped at the socket, no misses)': bindingBalanced,
  }).filter(([, ok]) => !ok).map(([name]) => name);
  const balanced = open.length === 0;

  const cpu: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.explain)) if (k.startsWith('cpu_') && typeof v === 'number' && Number.isFinite(v)) cpu[k.slice(4)] = v;
  const rxFrames = w['guest_rx_packets'] ?? 0;
  const guestCpu = cpu['guest'] ?? NaN;
  const dropped = sum(acc.dropped);
  const counters: Record<string, number> = {
    // The binding's ledger as the window closed.
    covered: dm.lookups, reached, queued, socket_drops: sockDrops,
    // The tap's first frames in: how many, and the distinct destinations of the range among them.
    tap_frames_in: dests.frames, destinations_seen: dests.seen,
    svc_lookups: dest?.lookups ?? 0, svc_missing_socket: dest?.missing_socket ?? 0, svc_bad_socket: dest?.bad_socket ?? 0,
    ...Object.fromEntries(Object.entries(dm).map(([k, v]) => [`dispatch_${k}`, v])),
    ...(udp
      ? { UdpInDatagrams: reached, UdpInErrors: sockDrops, UdpRcvbufErrors: ns['UdpRcvbufErrors'] ?? 0, UdpNoPorts: noSocket }
      : {
        TcpExtSyncookiesSent: reached, TcpExtListenDrops: sockDrops, TcpExtListenOverflows: ns['TcpExtListenOverflows'] ?? 0,
        TcpOutRsts: noSocket, TcpPassiveOpens: ns['TcpPassiveOpens'] ?? 0,
      }),
    // The window: frames eth0 received, what the socket read (udp) or answered (tcp).
    rx_frames: rxFrames, reached_window: w[udp ? 'guest_app_rx_packets' : 'guest_app_syncookies_sent'] ?? 0,
    // Run totals: the four workers' ledger and the guest stack's.
    total_generated: acc.generated, total_delivered: sum(acc.delivered), total_dropped: dropped, total_queued: sum(acc.queued),
    ...Object.fromEntries(Object.entries(acc.dropped).filter(([, v]) => v > 0).map(([k, v]) => [`total_drop_${k}`, v])),
    total_received: sa.received, ...(udp ? { total_read: sa.read ?? 0 } : { total_answered: sa.answered ?? 0, total_synack_tx: sa.transmitted ?? 0 }),
    ...Object.fromEntries(Object.entries(sa.dropped).map(([k, v]) => [`total_stack_drop_${k}`, v])),
  };
  const binding = p.shape === 'prefix'
    ? `${p.protocol} ${DISPATCH_SERVICES.prefix} port ${DISPATCH_SERVICES.prefixPort[p.protocol]}`
    : `${p.protocol} ${DISPATCH_SERVICES.address}/32 every port`;
  const sockText = udp ? `the discard sink on *:${socketPort}` : `a listener on *:${socketPort} that never accepts (tcp_syncookies = 2)`;
  return {
    value: dm.lookups > 0 ? reached / dm.lookups : NaN,
    seconds: r.seconds,
    balanced,
    counters,
    explain: {
      sockets_used: 1,
      // What a bind()-based setup would need for the same traffic: one socket per destination.
      sockets_bind_needs: p.targets,
      destinations: p.targets,
      destinations_seen_share: dests.seen / p.targets,
      // How many times pktgen went through the destination range in the run (warm-up included).
      range_passes: acc.generated / p.targets,
      // The same for the frames the guest's stack took: below 1, not every destination reached it.
      guest_range_passes: sa.received / p.targets,
      miss_no_binding: dm.no_binding,
      miss_missing_socket: dm.missing_socket,
      errors,
      reached_pps: (counters['reached_window'] ?? 0) / r.seconds,
      guest_us_per_frame: rxFrames > 0 ? (guestCpu * r.seconds * 1e6) / rxFrames : NaN,
      // Generated frames dropped before the guest (the tap's full queue): the guest set the rate.
      ledger_drop_share: acc.generated > 0 ? dropped / acc.generated : NaN,
    },
    cpu,
    notes: [
      ...(open.length > 0 ? [`not balanced: ${open.join('; ')}`] : []),
      // A guest starved of CPU may post its report before its first poll: nothing to divide by.
      ...(dm.lookups === 0 ? ['the guest had looked nothing up when the window closed (a starved guest: a longer --warmup lets it start)'] : []),
      'four workers: pktgen -> NIC -> br0 -> tap -> vhost -> virtio_net -> the guest\'s stack; pktgen cycles the destination range frame by frame',
      p.shape === 'prefix'
        ? `pktgen ${udp ? 'udp' : 'SYNs'} to ${template.dstIp} x${p.targets} port ${template.dstPort}; binding ${binding} -> one socket, ${sockText}`
        : `pktgen ${udp ? 'udp' : 'SYNs'} to ${template.dstIp} ports ${template.dstPort}-${template.dstPort! + p.targets - 1}; binding ${binding} -> one socket, ${sockText}`,
      udp
        ? 'datagrams read per datagram the guest looked up, counted as the window closed'
        : 'cookie SYN-ACKs sent per SYN the guest looked up, counted as the window closed; no accepts: pktgen never completes a handshake (the one-thread column accepts)',
      'misses by reason: probed in the one-thread column (pktgen\'s one template covers the binding)',
    ],
  };
}

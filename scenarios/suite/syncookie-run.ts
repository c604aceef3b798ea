// One run of the syncookie suite: netperf TCP_CRR from the host's stack (br0, 10.0.0.1 or fd00::1)
// to netserver on the guest (eth0, 10.0.0.2 or fd00::2), over IPv4 or IPv6 (netperf -6), optionally
// under pktgen's SYN flood from the wire (10.0.0.3 or fd00::3, 10,000 source ports) at the same
// listener, with the listener defended one of three ways (sockets.md §5, §6):
//   - syn-proxy: a stateless SYN proxy on the host (scenarios/sk/syn_proxy.o at the tap's tc egress)
//     answers every SYN to the guest's service with its own cookie; the guest's
//     tcp_custom_syncookie.o at eth0's tc ingress checks the forwarded ACK under the same secret
//     (the syncookie_keys map, written alike on both machines) and makes the connection with the
//     kfunc bpf_sk_assign_tcp_reqsk. The guest's listener never sees a SYN.
//   - syncookies=2: the listener answers every SYN with a classic cookie (cookie_v4_init_sequence),
//     checks the ACK (cookie_v4_check): no request sockets, the guest pays for every flood SYN.
//   - syncookies=0: no cookies: each SYN takes a request socket until the SYN queue is full, then
//     SYNs are dropped (ListenOverflows, ListenDrops, TCPReqQFullDrop), the client's among them.
//   - syn-proxy (key rotated): the proxy while the secret rotates: the guest already has the next
//     key and accepts the proxy's cookies under its previous one.
//
// Where the proxy sits: at the egress of the tap (the bridge's port toward the guest), for the
// wire's clients and the host's own alike. Its SYN-ACK goes back into the tap's receive path
// through the host worker's netif_rx backlog (host/net/netif-rx.ts), so the host's own SYN-ACK
// reaches its socket after tcp_connect() has sent the SYN, as in Linux.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';
import { runMachines, type MachinesRun } from '../run/run-machines.ts';
import { bpfReport, withBpf, workerDataWith, type ScenarioBpf, type ScenarioBpfReport } from '../run/bpf-options.ts';
import { floodTemplate } from '../run/run-flood.ts';
import { RunError } from '../run/run-error.ts';
import type { BpfAttachReport } from '../stack/bpf-attach.ts';
import { NET_ADDRS, NET_PORTS, type NeighSpec, type StackSetupData } from '../stack/setup-data.ts';
import { inet_pton4, inet_pton6 } from '../../net/core/inet-addr.ts';
import type { SuiteRun } from './types.ts';

export const SYN_PROXY_OBJECT = join(PACKAGE_ROOT, 'scenarios', 'sk', 'syn_proxy.o');
export const CUSTOM_SYNCOOKIE_OBJECT = join(PACKAGE_ROOT, 'scenarios', 'sk', 'tcp_custom_syncookie.o');

/**
 * The listener's defences: the suite's columns. 'syn-proxy (key rotated)' is the proxy caught in the
 * middle of a rotation: the guest has the new key already (slot 0) and the proxy's current one as
 * its previous (slot 1), as the rotation order goes (the servers first, then the proxy).
 */
export const SYNCOOKIE_DEFENCES = ['syn-proxy', 'syn-proxy (key rotated)', 'syncookies=2', 'syncookies=0'] as const;
export type SyncookieDefence = (typeof SYNCOOKIE_DEFENCES)[number];

const isProxy = (d: SyncookieDefence): boolean => d === 'syn-proxy' || d === 'syn-proxy (key rotated)';

/** syn_proxy.o's counters (syn_proxy_stats; README.md "syn_proxy"). */
export const PROXY_STAT = { SYN: 0, SYNACK_SENT: 1, SYN_DROPPED: 2, FORWARDED: 3, NOT_SERVICE: 4, NOT_TCP: 5, NR: 6 } as const;
/** tcp_custom_syncookie.o's counters (syncookie_stats). */
export const SC_STAT = {
  SYN: 0, SYNACK_SENT: 1, SYN_DROPPED: 2, ACK: 3, ACK_VALID: 4, ACK_PREVIOUS_KEY: 5, ACK_INVALID: 6,
  ASSIGNED: 7, KFUNC_EINVAL: 8, KFUNC_ENETUNREACH: 9, KFUNC_ENOMEM: 10, KFUNC_EOPNOTSUPP: 11, KFUNC_OTHER: 12, NOT_TCP_SOCK: 13,
} as const;

/** The guest listener's counters the suite reports (nstat names), over the whole run. */
export const LISTENER_STATE = [
  'TcpPassiveOpens', 'TcpExtSyncookiesSent', 'TcpExtSyncookiesRecv', 'TcpExtSyncookiesFailed',
  'TcpExtListenOverflows', 'TcpExtListenDrops', 'TcpExtTCPReqQFullDrop', 'TcpExtTCPReqQFullDoCookies',
] as const;

/** The client's and the listener's address family: netperf's -4 or -6, the flood's syn4 or syn6. */
export type SyncookieFamily = 4 | 6;

export interface SyncookieRunOptions {
  defence: SyncookieDefence;
  family: SyncookieFamily;
  /** pktgen's SYN flood at the listener during the run. */
  flood: boolean;
  /** Its rate, SYNs per second; none: as fast as the host worker generates them. */
  floodPps?: number;
  duration: number;
  warmup: number;
  engine: 'jit' | 'interp';
}

const u32le = (i: number): string => Buffer.from(new Uint32Array([i]).buffer).toString('hex');

/**
 * proxy_services' key for the guest's service (struct proxy_service): the family (4 or 6), a pad
 * byte, the port big-endian, then the address in network order, an IPv4 one in addr[0] and zeros.
 */
export function proxyServiceKey(family: SyncookieFamily, addr: string, port: number): string {
  const b = Buffer.alloc(20);
  b[0] = family;
  b.writeUInt16BE(port, 2);
  if (family === 4) b.writeUInt32BE(inet_pton4(addr), 4);
  else {
    const a = inet_pton6(addr);
    [a.w0, a.w1, a.w2, a.w3].forEach((w, i) => b.writeUInt32BE(w, 4 + 4 * i));
  }
  return b.toString('hex');
}

/**
 * The BPF of the syn-proxy columns: the proxy at the tap's egress, answering for the guest's
 * service in the run's family, and the cookie's ACK half in the guest, one secret in both key maps
 * (slot 0 the current key, slot 1 the previous one: fresh keys per run, as a rolling secret would
 * be). `rotated`: the guest is one rotation ahead (slot 0 a newer key, slot 1 the proxy's current one).
 */
export function synProxyBpf(engine: 'jit' | 'interp', rotated = false, family: SyncookieFamily = 4): ScenarioBpf {
  const [previous, current, next] = [0, 1, 2].map(() => randomBytes(16).toString('hex')) as [string, string, string];
  const keys = (k0: string, k1: string): { map: string; key: string; value: string }[] => [
    { map: 'syncookie_keys', key: u32le(0), value: k0 }, { map: 'syncookie_keys', key: u32le(1), value: k1 },
  ];
  const service = { map: 'proxy_services', key: proxyServiceKey(family, family === 4 ? NET_ADDRS.guest4 : NET_ADDRS.guest6, NET_PORTS.netperfData), value: u32le(1) };
  return {
    engine,
    guest: [{ kind: 'tc', direction: 'ingress', object: CUSTOM_SYNCOOKIE_OBJECT, maps: rotated ? keys(next, current) : keys(current, previous) }],
    hostTc: [{ dev: 'tap', direction: 'egress' as const, object: SYN_PROXY_OBJECT, maps: [...keys(current, previous), service] }],
  };
}

// Both families' entries on both machines: no ARP or ND in a run, whichever family it uses.
const NEIGH_HOST: NeighSpec[] = [{ family: 4, addr: NET_ADDRS.host4, mac: NET_ADDRS.hostMac }, { family: 6, addr: NET_ADDRS.host6, mac: NET_ADDRS.hostMac }];
const NEIGH_GUEST: NeighSpec[] = [{ family: 4, addr: NET_ADDRS.guest4, mac: NET_ADDRS.guestMac }, { family: 6, addr: NET_ADDRS.guest6, mac: NET_ADDRS.guestMac }];
const NEIGH_FLOOD: NeighSpec[] = [{ family: 4, addr: NET_ADDRS.flood4, mac: NET_ADDRS.floodMac }, { family: 6, addr: NET_ADDRS.flood6, mac: NET_ADDRS.floodMac }];

/** The two machines' setup: netperf TCP_CRR (1-byte request and response) on the host, netserver on the guest. */
export function syncookieMachines(defence: SyncookieDefence, family: SyncookieFamily = 4): { guest: Omit<StackSetupData, 'report'>; host: Omit<StackSetupData, 'report'> } {
  const np = { test: 'TCP_CRR' as const, size: 1, responseSize: 1 };
  const [host, guest] = family === 4 ? [NET_ADDRS.host4, NET_ADDRS.guest4] : [NET_ADDRS.host6, NET_ADDRS.guest6];
  // The kfunc's connections need tcp_syncookies on (cookie_v4_check, cookie_v6_check), not forced:
  // 1, the default. net.ipv4.tcp_syncookies governs IPv6 listeners too, as in Linux.
  const syncookies = defence === 'syncookies=2' ? 2 : defence === 'syncookies=0' ? 0 : 1;
  return {
    guest: {
      role: 'netserver', family, addr4: NET_ADDRS.guest4, addr6: NET_ADDRS.guest6, neigh: [...NEIGH_HOST, ...NEIGH_FLOOD],
      port: NET_PORTS.netperfData, netperf: { ...np, peer: host }, sysctls: { tcp_syncookies: syncookies },
    },
    host: {
      role: 'netperf', family, addr4: NET_ADDRS.host4, addr6: NET_ADDRS.host6, neigh: NEIGH_GUEST,
      port: NET_PORTS.netperfData, netperf: { ...np, peer: guest },
    },
  };
}

/** The u64 slots of an ARRAY map as a report dumps it (keys u32 LE), by index; 0 where absent. */
function slots(m: BpfAttachReport['maps'][string] | undefined, n: number): number[] {
  const out = new Array<number>(n).fill(0);
  for (const e of m?.entries ?? []) {
    const i = Buffer.from(e.key, 'hex').readUInt32LE(0);
    if (i < n) out[i] = Number(Buffer.from(e.value, 'hex').readBigUInt64LE(0));
  }
  return out;
}

/** Sums syn_proxy_stats over every hook the proxy is on (each attachment has its own maps). */
function proxyStats(b: ScenarioBpfReport | undefined): number[] {
  const sum = new Array<number>(PROXY_STAT.NR).fill(0);
  for (const [name, m] of Object.entries(b?.host_tc?.maps ?? {})) {
    if (name !== 'syn_proxy_stats' && !name.endsWith(':syn_proxy_stats')) continue;
    slots(m, PROXY_STAT.NR).forEach((v, i) => { sum[i]! += v; });
  }
  return sum;
}

/**
 * The run's counters. conn_* are over the measured window (the applications' live counters);
 * everything else from the start of the run: listener_* and guest_prog_* as the window closed (the
 * guest's report: nstat, sockets and maps from one poll), client_*, proxy_*, flood_generated and
 * wire_tx at the end (the final counters; the host's tc maps when it stopped).
 */
export function syncookieCounters(r: MachinesRun, b: ScenarioBpfReport | undefined): Record<string, number> {
  const c = r.counters, w = r.window;
  const out: Record<string, number> = {
    conn_completed: w['host_app_np_transactions'] ?? 0,
    conn_failed: w['host_app_np_send_errors'] ?? 0,
    // The client over the whole run: connections attempted (tcp_connect), completed, failed.
    client_active_opens: c['host_nstat_TcpActiveOpens'] ?? 0,
    client_completed: c['host_app_np_transactions'] ?? 0,
    client_failed: c['host_app_np_send_errors'] ?? 0,
    client_attempt_fails: c['host_nstat_TcpAttemptFails'] ?? 0,
    client_in_rsts: c['host_nstat_TcpEstabResets'] ?? 0,
    client_out_rsts: c['host_nstat_TcpOutRsts'] ?? 0,
    client_syn_retrans: c['host_nstat_TcpExtTCPSynRetrans'] ?? 0,
    // netperf's own count of connect()s and of failed connections (0 where the machine's setup does not publish them).
    client_connects: c['host_app_np_connects'] ?? 0,
    client_conn_errors: c['host_app_np_conn_errors'] ?? 0,
    flood_generated: c['pktgen_generated'] ?? 0,
    wire_tx: c['nic_tx_packets'] ?? 0,
    // Segments each stack took, and how often each worker's loop went to sleep (each sleep is a
    // wake-up later: the round trips a connection costs between the workers).
    guest_tcp_in_segs: c['guest_nstat_TcpInSegs'] ?? 0,
    host_tcp_in_segs: c['host_nstat_TcpInSegs'] ?? 0,
    host_idle_sleeps: c['host_idle_sleeps'] ?? 0,
    guest_loop_sleeps: c['guest_loop_sleeps'] ?? 0,
    vhost_sleeps: c['vhost_sleeps'] ?? 0,
  };
  // Where frames were dropped, by the workers' ledger (the tap's full ring, the guest's ...).
  for (const [name, v] of Object.entries(r.accounting.dropped)) if (v !== 0) out[`drop_${name}`] = v;
  // The listener's counters from the guest's report, which the same poll took with the program's
  // maps and the sockets (as the window closed): the three compare count for count.
  const nstat = r.stacks.guest?.nstat;
  for (const k of LISTENER_STATE) out[`listener_${k}`] = nstat !== undefined ? nstat[k] ?? 0 : c[`guest_nstat_${k}`] ?? 0;
  // ... and at the end of the run (the flood goes on until the workers stop).
  for (const k of LISTENER_STATE) out[`listener_end_${k}`] = c[`guest_nstat_${k}`] ?? 0;
  const socks = r.stacks.guest?.sockets ?? [];
  // Request sockets (SYN-RECV) of the listener as the window closed, and its accept queue.
  out['listener_request_socks'] = socks.filter((s) => s.state === 'SYN-RECV').length;
  const listener = socks.find((s) => s.state === 'LISTEN');
  out['listener_accept_queue'] = listener?.recv_q ?? 0;
  // ss's Send-Q of a listener: its backlog (sk_max_ack_backlog).
  out['listener_backlog'] = listener?.send_q ?? 0;
  if (b?.host_tc !== undefined) {
    const p = proxyStats(b);
    for (const [k, i] of Object.entries(PROXY_STAT)) if (k !== 'NR') out[`proxy_${k.toLowerCase()}`] = p[i]!;
    out['proxy_redirect_err'] = b.host_tc.hooks.reduce((a, h) => a + h.redirect_err, 0);
  }
  const g = b?.guest?.maps['syncookie_stats'];
  if (g !== undefined) {
    const s = slots(g, 14);
    for (const [k, i] of Object.entries(SC_STAT)) out[`guest_prog_${k.toLowerCase()}`] = s[i]!;
  }
  return out;
}

/**
 * Conservation, from the counters: every frame both ways (the workers' accounting); every
 * connection the client attempted (netperf's connect count, or TcpActiveOpens where the setup does
 * not publish it) completed, failed, or is the one in flight (netperf runs one connection at a
 * time); every SYN the proxy took answered or dropped; every ACK the guest's program checked valid
 * or invalid, every valid one a connection or a kfunc error.
 */
export function syncookieBalance(r: MachinesRun, k: Record<string, number>): { balanced: boolean; terms: string[] } {
  const terms: string[] = [];
  const a = r.accounting;
  if (!a.balanced) {
    const nz = (o: Record<string, number> | undefined): string => Object.entries(o ?? {}).filter(([, v]) => v !== 0).map(([n, v]) => `${n} ${v}`).join(', ') || 'none';
    terms.push(`frames: the workers' accounting does not balance (generated ${a.generated}, accounted ${a.accounted}; delivered ${nz(a.delivered)}; queued ${nz(a.queued)}; dropped ${nz(a.dropped)})`);
  }
  // netperf's connect() count when the setup publishes it, else the stack's tcp_connect count (TcpActiveOpens).
  const [attempts, what] = k['client_connects']! > 0 ? [k['client_connects']!, 'connects'] : [k['client_active_opens']!, 'ActiveOpens'];
  const failed = k['client_connects']! > 0 ? k['client_conn_errors']! : k['client_failed']!;
  const inFlight = attempts - k['client_completed']! - failed;
  if (inFlight < 0 || inFlight > 1) {
    terms.push(`connections: ${what} ${attempts} != completed ${k['client_completed']} + failed ${failed} + in flight (0 or 1)`);
  }
  if (k['proxy_syn'] !== undefined && k['proxy_syn'] !== k['proxy_synack_sent']! + k['proxy_syn_dropped']!) {
    terms.push(`proxy: SYNs ${k['proxy_syn']} != SYN-ACKs ${k['proxy_synack_sent']} + dropped ${k['proxy_syn_dropped']}`);
  }
  if (k['guest_prog_ack'] !== undefined) {
    if (k['guest_prog_ack'] !== k['guest_prog_ack_valid']! + k['guest_prog_ack_invalid']!) {
      terms.push(`guest program: ACKs ${k['guest_prog_ack']} != valid ${k['guest_prog_ack_valid']} + invalid ${k['guest_prog_ack_invalid']}`);
    }
    const kfuncErrors = k['guest_prog_kfunc_einval']! + k['guest_prog_kfunc_enetunreach']! + k['guest_prog_kfunc_enomem']! + k['guest_prog_kfunc_eopnotsupp']! + k['guest_prog_kfunc_other']!;
    if (k['guest_prog_ack_valid'] !== k['guest_prog_assigned']! + kfuncErrors) {
      terms.push(`guest program: valid ACKs ${k['guest_prog_ack_valid']} != assigned ${k['guest_prog_assigned']} + kfunc errors ${kfuncErrors}`);
    }
  }
  return { balanced: terms.length === 0, terms };
}

/** What explains the figure: CPU per thread, where the SYNs were answered, what a connection cost in segments and wake-ups. */
function syncookieExplain(r: MachinesRun, k: Record<string, number>): Record<string, number> {
  const e = r.explain as unknown as Record<string, number | null>;
  const num = (x: number | null | undefined): number => (typeof x === 'number' ? x : NaN);
  const secs = r.seconds;
  const opens = k['listener_TcpPassiveOpens']!;
  return {
    conn_per_sec: k['conn_completed']! / secs,
    conn_failed_per_sec: k['conn_failed']! / secs,
    cpu_guest: num(e['cpu_guest']), cpu_host: num(e['cpu_host']), cpu_vhost: num(e['cpu_vhost']),
    cpu_other: num(e['cpu_other']),
    // SYNs the listener answered with a cookie per connection it made (classic path; the proxy's: 0).
    listener_cookies_per_conn: opens > 0 ? k['listener_TcpExtSyncookiesSent']! / opens : NaN,
    proxy_synacks_per_conn: k['proxy_synack_sent'] !== undefined && opens > 0 ? k['proxy_synack_sent'] / opens : NaN,
    request_socks: k['listener_request_socks']!,
    // Per connection the client completed over the run: segments into the guest, loop sleeps.
    guest_segs_per_conn: k['client_completed']! > 0 ? k['guest_tcp_in_segs']! / k['client_completed']! : NaN,
    sleeps_per_conn: k['client_completed']! > 0 ? (k['host_idle_sleeps']! + k['guest_loop_sleeps']! + k['vhost_sleeps']!) / k['client_completed']! : NaN,
  };
}

function cpuOf(r: MachinesRun): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, v] of Object.entries(r.explain as unknown as Record<string, unknown>)) {
    if (!key.startsWith('cpu_') || typeof v !== 'number') continue;
    const t = key.slice(4);
    if (t === 'all' || t === 'other' || t === 'steal' || t === 'probe_ms') continue;
    out[t] = v;
  }
  return out;
}

/**
 * Whether the counters show the path the column names; a fact for the cell's notes when they do
 * not (the figure would then be another path's).
 */
export function pathNotes(defence: SyncookieDefence, k: Record<string, number>): string[] {
  const opens = k['listener_TcpPassiveOpens']!, sent = k['listener_TcpExtSyncookiesSent']!, recv = k['listener_TcpExtSyncookiesRecv']!;
  const out: string[] = [];
  switch (defence) {
    case 'syn-proxy':
    case 'syn-proxy (key rotated)': {
      // Mid-rotation every valid ACK is valid under the guest's previous key; otherwise under its current one.
      const prev = k['guest_prog_ack_previous_key'] ?? 0, valid = k['guest_prog_ack_valid'] ?? 0;
      if (defence === 'syn-proxy' ? prev !== 0 : prev !== valid) out.push(`path: ${prev} of ${valid} valid ACKs under the guest's previous key`);
      if (sent !== 0 || recv !== 0) out.push(`path: the listener made cookies itself (SyncookiesSent ${sent}, SyncookiesRecv ${recv}): some SYN passed the proxy`);
      if ((k['guest_prog_syn'] ?? 0) !== 0) out.push(`path: ${k['guest_prog_syn']} SYNs reached the guest's program past the proxy`);
      if ((k['guest_prog_assigned'] ?? 0) < opens) out.push(`path: ${opens} connections accepted but the kfunc made ${k['guest_prog_assigned'] ?? 0}`);
      break;
    }
    case 'syncookies=2':
      if (recv < opens) out.push(`path: ${opens} connections accepted, ${recv} through a cookie (SyncookiesRecv)`);
      break;
    case 'syncookies=0':
      if (sent !== 0 || recv !== 0) out.push(`path: cookies with tcp_syncookies=0 (SyncookiesSent ${sent}, SyncookiesRecv ${recv})`);
      break;
  }
  return out;
}

/** One run of one cell; RunError on bad options, the workers' own error when a run fails. */
export async function runSyncookie(o: SyncookieRunOptions): Promise<SuiteRun & { notes: string[] }> {
  if (!(SYNCOOKIE_DEFENCES as readonly string[]).includes(o.defence)) throw new RunError('EINVAL', `syncookie: defence ${String(o.defence)}: ${SYNCOOKIE_DEFENCES.join(', ')}`);
  if (o.engine !== 'jit' && o.engine !== 'interp') throw new RunError('EINVAL', `syncookie: engine ${String(o.engine)}: jit or interp`);
  if (o.family !== 4 && o.family !== 6) throw new RunError('EINVAL', `syncookie: family ${String(o.family)}: 4 or 6`);
  const bpf = isProxy(o.defence) ? synProxyBpf(o.engine, o.defence === 'syn-proxy (key rotated)', o.family) : undefined;
  const m = syncookieMachines(o.defence, o.family);
  const r = await runMachines({
    duration: o.duration, warmup: o.warmup,
    // The flood aims at netserver's listener (the data port), from the wire behind the NIC.
    ...(o.flood ? { template: { ...floodTemplate(o.family === 4 ? 'syn4' : 'syn6'), dstPort: NET_PORTS.netperfData } } : {}),
    ...(o.flood && o.floodPps !== undefined ? { pktgenRate: o.floodPps } : {}),
    guest: withBpf(m.guest, 'guest', bpf), host: withBpf(m.host, 'host', bpf),
    ...workerDataWith(undefined, bpf),
  });
  const b = bpfReport(bpf, r).bpf;
  const counters = syncookieCounters(r, b);
  const { balanced, terms } = syncookieBalance(r, counters);
  return {
    value: counters['conn_completed']! / r.seconds, seconds: r.seconds, balanced, counters,
    explain: syncookieExplain(r, counters), cpu: cpuOf(r), notes: [...terms.map((t) => `unbalanced: ${t}`), ...pathNotes(o.defence, counters)],
  };
}

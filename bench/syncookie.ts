// Connections per second, host client to guest server, through the three ways a listener can take
// a connection: the SYN queue (no cookies), the classic SYN cookie path (tcp_syncookies=2:
// cookie_v4_init_sequence on the SYN, cookie_v4_check on the ACK) and the custom cookie of a tc
// program at the guest's eth0 ingress (scenarios/sk/tcp_custom_syncookie.o: the SYN answered by
// the program, the ACK checked by it and turned into a request socket by bpf_sk_assign_tcp_reqsk;
// the listener never sees a SYN). netperf TCP_CRR measures them (a connection per transaction).
//
// Two measures, each in interleaved rounds so a slow moment of the machine hits every
// configuration alike:
//   - over the four workers (`vxo run netperf --test TCP_CRR`): what a user of vxo sees. One
//     connection at a time, as netperf runs, so the figure is bound by the round trips between
//     the workers more than by the work per connection;
//   - on one thread, two stacks joined by veth on a virtual clock (net/apps' netperf, as many
//     connections as the pacing lets it start): the CPU a connection costs both stacks and the
//     program together, which is where the paths differ.
// Measured and printed: nothing is tuned to reach a goal and nothing asserts on time.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runNetperf, type NetperfRunResult } from '../scenarios/run/run-netperf.ts';
import type { ScenarioBpf } from '../scenarios/run/bpf-options.ts';
import { BpfAttachments, type MapInit } from '../scenarios/stack/bpf-attach.ts';
import { loadObjectFile } from '../bpf-vm/prog/collection.ts';
import type { EngineName } from '../bpf-vm/engines.ts';
import { PACKAGE_ROOT } from '../scenarios/package-root.ts';
import { tcp_init } from '../net/ipv4/tcp.ts';
import { udp_init } from '../net/ipv4/udp.ts';
import { AF_INET, AF_INET6 } from '../net/core/socket-constants.ts';
import { NetServer } from '../net/apps/netserver.ts';
import { NSEC_PER_SEC } from '../net/core/clock.ts';
import { netperf, type NetperfResult } from '../net/apps/netperf.ts';
import { twoHosts, type TwoHosts } from '../test/net/support/topology.ts';
import { CookieHook } from '../test/net/tcp-reqsk-hook.ts';
import { SC } from '../test/support/sk-programs.ts';

/** The custom-cookie program (H3's object in scenarios/sk). */
export const SYNCOOKIE_OBJECT = join(PACKAGE_ROOT, 'scenarios', 'sk', 'tcp_custom_syncookie.o');

/** A fixed siphash key for the program's current-key slot (the map's slot 0), so runs are alike. */
const KEY_HEX = '000102030405060708090a0b0c0d0e0f';

/** The map writes the program wants before traffic: its key, when it has a key map. */
export function syncookieMapInits(object = SYNCOOKIE_OBJECT): MapInit[] {
  const coll = loadObjectFile(object);
  return coll.maps.has('syncookie_keys') ? [{ map: 'syncookie_keys', key: '00000000', value: KEY_HEX }] : [];
}

const unavailable = new Map<string, string | undefined>();

/** Why the custom-cookie rows cannot run (no object, or it does not load, verify or attach), or undefined. Asked once per object. */
export function syncookieUnavailable(object = SYNCOOKIE_OBJECT): string | undefined {
  if (unavailable.has(object)) return unavailable.get(object);
  let why: string | undefined;
  if (!existsSync(object)) why = `${object} is not built`;
  else {
    try {
      const h = rig();
      new BpfAttachments(h.b, 'interp').attach({ kind: 'tc', direction: 'ingress', object, maps: syncookieMapInits(object) }, h.devb, undefined);
    } catch (e) {
      why = (e as Error).message;
    }
  }
  unavailable.set(object, why);
  return why;
}

export type SyncookiePath = 'syn-queue' | 'syncookies=2' | 'custom-cookie';

export interface SyncookieRow {
  config: string;
  path: SyncookiePath;
  /** Median connections per second, and each round's. */
  connPerSec: number;
  rounds: number[];
  /** Whether every round's counters show the path taken (see pathTaken), with what they showed. */
  pathOk: boolean;
  evidence: string;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** A u64 slot of an ARRAY map as a BpfAttachReport dumps it (keys u32 LE), or undefined. */
function slotOf(entries: readonly { key: string; value: string }[] | undefined, i: number): number | undefined {
  const k = Buffer.alloc(4);
  k.writeUInt32LE(i);
  const e = entries?.find((x) => x.key === k.toString('hex'));
  return e === undefined ? undefined : Number(Buffer.from(e.value, 'hex').readBigUInt64LE(0));
}

function slot(r: NetperfRunResult, map: string, i: number): number | undefined {
  return slotOf(r.bpf?.guest?.maps[map]?.entries, i);
}

/**
 * Whether a worker run's counters say the connections took `path`: the SYN queue has no cookie
 * counter moving; syncookies=2 checks a cookie for every connection; the custom cookie leaves the
 * stack's cookie counters at zero while the program answered every SYN it took and assigned every
 * connection the listener accepted (its maps and the listener's counters are read in the same
 * instant, as the window closed), refusing no cookie.
 */
export function pathTaken(path: SyncookiePath, r: NetperfRunResult): { ok: boolean; evidence: string } {
  const c = r.listener?.counters;
  if (c === undefined) return { ok: false, evidence: 'no listener counters' };
  const opens = c.TcpPassiveOpens, sent = c.TcpExtSyncookiesSent, recv = c.TcpExtSyncookiesRecv;
  const base = `PassiveOpens ${opens}, SyncookiesSent ${sent}, SyncookiesRecv ${recv}`;
  switch (path) {
    case 'syn-queue':
      return { ok: opens > 0 && sent === 0 && recv === 0, evidence: base };
    case 'syncookies=2':
      return { ok: opens > 0 && recv === opens && sent >= recv, evidence: base };
    case 'custom-cookie': {
      const syn = slot(r, 'syncookie_stats', SC.SYN) ?? 0, synack = slot(r, 'syncookie_stats', SC.SYNACK_SENT) ?? 0;
      const invalid = slot(r, 'syncookie_stats', SC.ACK_INVALID) ?? 0, assigned = slot(r, 'syncookie_stats', SC.ASSIGNED) ?? 0;
      const prog = `program: SYNs ${syn}, SYN-ACKs ${synack}, assigned ${assigned}, invalid ACKs ${invalid}`;
      const ok = opens > 0 && sent === 0 && recv === 0 && c.TcpExtTCPReqQFullDoCookies === 0 && synack === syn && assigned === opens && invalid === 0;
      return { ok, evidence: `${base}; ${prog}` };
    }
  }
}

interface WorkerConfig {
  config: string;
  path: SyncookiePath;
  sysctls?: Record<string, number>;
  bpf?: ScenarioBpf;
}

function workerConfigs(family: 4 | 6, engines: readonly EngineName[], custom: boolean): WorkerConfig[] {
  const out: WorkerConfig[] = [];
  if (custom) {
    const maps = syncookieMapInits();
    for (const engine of engines) {
      out.push({
        config: `custom cookie (tc program, ${engine})`, path: 'custom-cookie',
        bpf: { engine, guest: [{ kind: 'tc', direction: 'ingress', object: SYNCOOKIE_OBJECT, maps }] },
      });
    }
  }
  out.push({ config: 'syncookies=2 (classic cookies)', path: 'syncookies=2', sysctls: { tcp_syncookies: 2 } });
  out.push({ config: `no cookies (SYN queue${family === 6 ? ', IPv6' : ''})`, path: 'syn-queue', sysctls: { tcp_syncookies: 0 } });
  return out;
}

export interface SyncookieBenchOptions {
  family?: 4 | 6;
  /** Worker runs: the measured window per run, seconds (default 2), and rounds (default 3). */
  duration?: number;
  rounds?: number;
  /** Engines for the custom-cookie rows (default jit). */
  engines?: readonly EngineName[];
}

/** Over the four workers: `vxo run netperf --test TCP_CRR` per configuration, interleaved rounds. */
export async function benchSyncookieWorkers(o: SyncookieBenchOptions = {}): Promise<{ rows: SyncookieRow[]; skipped?: string }> {
  const family = o.family ?? 4;
  const skipped = syncookieUnavailable();
  const configs = workerConfigs(family, o.engines ?? ['jit'], skipped === undefined);
  const runs = configs.map(() => [] as NetperfRunResult[]);
  for (let round = 0; round < (o.rounds ?? 3); round++) {
    for (const [i, c] of configs.entries()) {
      runs[i]!.push(await runNetperf({
        test: 'TCP_CRR', direction: 'host-to-guest', family, duration: o.duration ?? 2, warmup: 0.5,
        ...(c.sysctls !== undefined ? { sysctls: { guest: c.sysctls } } : {}), ...(c.bpf !== undefined ? { bpf: c.bpf } : {}),
      }));
    }
  }
  const rows = configs.map((c, i) => {
    const rs = runs[i]!;
    const checks = rs.map((r) => pathTaken(c.path, r));
    return {
      config: c.config, path: c.path, connPerSec: median(rs.map((r) => r.tps ?? 0)), rounds: rs.map((r) => r.tps ?? 0),
      pathOk: checks.every((x) => x.ok), evidence: checks[checks.length - 1]?.evidence ?? '',
    };
  });
  return { rows, ...(skipped !== undefined ? { skipped } : {}) };
}

/** Two stacks on veth (a: 10.0.0.1 / fd00::1, the client; b: 10.0.0.2 / fd00::2, the server). */
function rig(): TwoHosts {
  return twoHosts({ staticNeigh: true, init: (net) => { udp_init(net); tcp_init(net); } });
}

interface ThreadConfig {
  config: string;
  path: SyncookiePath;
  /** Configures the rig; returns what tells the path was taken (checked after the run, beside the stack's counters). */
  setup: (h: TwoHosts) => () => { ok: boolean; text: string };
}

function threadConfigs(engines: readonly EngineName[], custom: boolean): ThreadConfig[] {
  const out: ThreadConfig[] = [];
  if (custom) {
    const maps = syncookieMapInits();
    for (const engine of engines) {
      out.push({
        config: `custom cookie (tc program, ${engine})`, path: 'custom-cookie',
        setup: (h) => {
          const bpf = new BpfAttachments(h.b, engine);
          bpf.attach({ kind: 'tc', direction: 'ingress', object: SYNCOOKIE_OBJECT, maps }, h.devb, undefined);
          return () => {
            const assigned = slotOf(bpf.report().maps['syncookie_stats']?.entries, SC.ASSIGNED) ?? 0;
            return { ok: assigned === h.b.mib.tcp.PassiveOpens, text: `program assigned ${assigned}, SyncookiesSent ${h.b.mib.net.SyncookiesSent}` };
          };
        },
      });
    }
  }
  out.push({
    config: 'custom cookie (TypeScript hook: the stack\'s side alone)', path: 'custom-cookie',
    setup: (h) => {
      const hook = new CookieHook(h.devb);
      h.devb.tc_ingress.push(hook);
      return () => ({ ok: hook.assigned === h.b.mib.tcp.PassiveOpens, text: `hook assigned ${hook.assigned}, SyncookiesSent ${h.b.mib.net.SyncookiesSent}` });
    },
  });
  out.push({
    config: 'syncookies=2 (classic cookies)', path: 'syncookies=2',
    setup: (h) => {
      h.b.ipv4.sysctl_tcp_syncookies = 2;
      return () => ({ ok: true, text: `SyncookiesRecv ${h.b.mib.net.SyncookiesRecv}` });
    },
  });
  out.push({
    config: 'no cookies (SYN queue)', path: 'syn-queue',
    setup: (h) => {
      h.b.ipv4.sysctl_tcp_syncookies = 0;
      return () => ({ ok: true, text: `SyncookiesSent ${h.b.mib.net.SyncookiesSent}` });
    },
  });
  return out;
}

/** A configuration's two stacks, kept across its rounds (a program attached once, as in a long-running host). */
interface ThreadRig {
  h: TwoHosts;
  evidence: () => { ok: boolean; text: string };
}

/** TIME_WAIT lasts 60 s (TCP_TIMEWAIT_LEN): a round starts after the last one's have gone. */
const TIME_WAIT_NS = 61 * NSEC_PER_SEC;

/** One netperf TCP_CRR on a configuration's rig: connections per wall-clock second, and whether the path was the one meant. */
function threadRun(c: ThreadConfig, stacks: ThreadRig, family: 4 | 6, ms: number, perJiffy: number): { connPerSec: number; ok: boolean; evidence: string } {
  const { h } = stacks;
  const b = h.b.mib;
  const opens0 = b.tcp.PassiveOpens;
  const server = new NetServer(h.b, { family: family === 6 ? AF_INET6 : AF_INET });
  let result: NetperfResult | null = null;
  const t0 = process.hrtime.bigint();
  netperf(h.a, {
    test: 'TCP_CRR', family: family === 6 ? AF_INET6 : AF_INET, server, host: family === 6 ? h.b6 : h.b4,
    length_s: ms / 1000, per_jiffy: perJiffy, ondone: (r) => (result = r),
  });
  for (let i = 0; i < ms + 10 && result === null; i++) h.advance(1);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  server.close();
  h.clock.advance(TIME_WAIT_NS);
  h.pump();
  const r = result as NetperfResult | null;
  const n = r?.transactions ?? 0;
  const own = stacks.evidence();
  const ok = own.ok && n > 0 && b.tcp.PassiveOpens - opens0 >= n && (c.path === 'syncookies=2'
    ? b.net.SyncookiesRecv === b.tcp.PassiveOpens
    : b.net.SyncookiesSent === 0 && b.net.SyncookiesRecv === 0);
  return { connPerSec: n / secs, ok, evidence: `${n} connections; ${own.text}` };
}

/**
 * On one thread: netperf TCP_CRR between two stacks on veth, `perJiffy` connections started per
 * virtual millisecond for `ms` virtual milliseconds, timed by the wall clock. Each configuration
 * keeps its stacks (and its attached program, so the JIT's code stays warm) across rounds; the
 * virtual clock moves past TIME_WAIT between rounds. Interleaved rounds, median per configuration.
 */
export function benchSyncookieThread(o: { family?: 4 | 6; ms?: number; perJiffy?: number; rounds?: number; engines?: readonly EngineName[] } = {}): { rows: SyncookieRow[]; skipped?: string } {
  const family = o.family ?? 4;
  const skipped = syncookieUnavailable();
  const configs = threadConfigs(o.engines ?? ['jit', 'interp'], skipped === undefined);
  const rigs = configs.map((c): ThreadRig => {
    const h = rig();
    return { h, evidence: c.setup(h) };
  });
  const ms = o.ms ?? 200, perJiffy = o.perJiffy ?? 20;
  // Two passes to warm V8 (and the BPF JIT's generated code) on every path, not counted.
  for (let i = 0; i < 2; i++) for (const [k, c] of configs.entries()) threadRun(c, rigs[k]!, family, ms / 2, perJiffy);
  const res = configs.map(() => [] as { connPerSec: number; ok: boolean; evidence: string }[]);
  for (let round = 0; round < (o.rounds ?? 5); round++) {
    for (const [k, c] of configs.entries()) res[k]!.push(threadRun(c, rigs[k]!, family, ms, perJiffy));
  }
  const rows = configs.map((c, i) => {
    const rs = res[i]!;
    return {
      config: c.config, path: c.path, connPerSec: median(rs.map((r) => r.connPerSec)), rounds: rs.map((r) => r.connPerSec),
      pathOk: rs.every((r) => r.ok), evidence: rs[rs.length - 1]?.evidence ?? '',
    };
  });
  return { rows, ...(skipped !== undefined ? { skipped } : {}) };
}

/** The report's lines for rows: the figure, against the classic path, the rounds, the path check. */
export function syncookieLines(rows: readonly SyncookieRow[]): string[] {
  const classic = rows.find((r) => r.path === 'syncookies=2')?.connPerSec ?? 0;
  const width = Math.max(...rows.map((r) => r.config.length));
  return rows.map((r) => {
    const vs = classic > 0 && r.path !== 'syncookies=2' ? `  ${r.connPerSec >= classic ? '+' : ''}${(((r.connPerSec - classic) / classic) * 100).toFixed(1)}% vs syncookies=2` : '';
    return `  ${r.config.padEnd(width)} ${r.connPerSec.toFixed(0).padStart(7)} conn/s${vs}  (rounds ${r.rounds.map((x) => x.toFixed(0)).join(' ')}; path ${r.pathOk ? 'as meant' : 'NOT as meant'}: ${r.evidence})`;
  });
}

// The sk-lookup suite's lookup-cost rows: what the hook and the program cost per socket lookup in
// vxo, measured on one thread, the three kernels interleaved round by round (a slow moment of a
// shared machine hits all three alike), so the deltas come from the mechanism even when the floods'
// rates drown in the machine's noise. Each rig is a guest stack configured as the flood's
// (configureMachine), with the flood's one socket (a listener on 80, a UDP socket on 9) and the
// kernel of the column; the lookup is the one the flood's packets take (__inet_lookup_listener /
// inet6_lookup_listener for a SYN, __udp4_lib_lookup / __udp6_lib_lookup for a datagram), from
// the flood's 10k source ports.
import { SkLookupProgramRunner } from '../../bpf-vm/prog/sk-lookup-runner.ts';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { mapUpdateHex } from '../../bpf-vm/maps/update-hex.ts';
import type { EngineName } from '../../bpf-vm/engines.ts';
import { BootState } from '../../net/core/boot-state.ts';
import { register_netdevice } from '../../net/core/dev.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import { inet_pton4, inet_pton6 } from '../../net/core/inet-addr.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { netns_bpf_link_create, sk_lookup_hook_set } from '../../net/core/sk-lookup.ts';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { VethDevice } from '../../net/core/veth.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import { __inet_lookup_listener } from '../../net/ipv4/inet-hashtables.ts';
import { __udp4_lib_lookup } from '../../net/ipv4/udp-lookup.ts';
import { inet6_lookup_listener } from '../../net/ipv6/inet6-hashtables.ts';
import { __udp6_lib_lookup } from '../../net/ipv6/udp6-lookup.ts';
import { Socket } from '../../net/socket.ts';
import { check } from '../../net/apps/echo.ts';
import { configureMachine } from '../stack/machine-setup.ts';
import { NET_ADDRS, NET_PORTS } from '../stack/setup-data.ts';
import { FLOOD_SOURCE_PORTS, guestFloodSetup } from '../run/run-flood.ts';
import { RunError } from '../run/run-error.ts';
import { spawnWorkerAt } from '../run/spawn.ts';
import { SK_LOOKUP_CONFIGS, type SkLookupConfig, type SkLookupFlood } from './sk-lookup-published.ts';
import type { SuiteRunWithNotes } from './run-suite.ts';

/** What the isolated measurement's worker is given (its workerData). */
export interface LookupCostJob {
  flood: SkLookupFlood;
  config: SkLookupConfig;
  engine: EngineName;
  object: string;
  inits: { map: string; key: string; value: string }[];
}

/** runLookupCost in a worker of its own (sk-lookup-cost-worker.ts): a fresh isolate per measurement. */
export function runLookupCostIsolated(job: LookupCostJob): Promise<SuiteRunWithNotes> {
  return new Promise((resolve, reject) => {
    const w = spawnWorkerAt(new URL('./sk-lookup-cost-worker.ts', import.meta.url), { ...job }, [], 'lookup-cost');
    let settled = false;
    w.once('message', (m: { ok: true; run: SuiteRunWithNotes } | { ok: false; message: string }) => {
      settled = true;
      if (m.ok) resolve(m.run);
      else reject(new RunError('EIO', `lookup cost ${job.flood}/${job.config}: ${m.message}`));
      void w.terminate();
    });
    w.once('error', (e) => {
      if (!settled) reject(new RunError('EIO', `lookup cost ${job.flood}/${job.config}: worker failed: ${e.message}`, { cause: e }));
    });
    w.once('exit', (code) => {
      if (!settled) reject(new RunError('EIO', `lookup cost ${job.flood}/${job.config}: worker exited (${code}) without a result`));
    });
  });
}

/**
 * Lookups per rig per round, and rounds. The figure is the fastest round: on a machine shared with
 * other work a round is only ever slowed (preempted, a neighbour's cache traffic), never sped up,
 * so short rounds and the minimum find the lookup's own cost; the median is kept beside it.
 */
export const COST_LOOKUPS = 5_000;
export const COST_ROUNDS = 31;

interface Rig {
  config: SkLookupConfig;
  net: Net;
  /** One lookup from source port `sport`: the socket found (or undefined). */
  lookup(sport: number): unknown;
  expected: unknown;
  /** The program's run counter (lpm200), read as bench_counters slot 0. */
  runs(): number;
}

function rig(flood: SkLookupFlood, config: SkLookupConfig, engine: EngineName, object: string, inits: readonly { map: string; key: string; value: string }[]): Rig {
  const net = new Net(new BootState({ clock: new VirtualClock(), seed: 1 }), { hash_mix: 0 });
  const dev = new VethDevice('eth0', Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56));
  register_netdevice(net, dev);
  const v6 = flood.endsWith('6');
  const tcp = flood.startsWith('tcp');
  configureMachine(net, dev, { ...guestFloodSetup(tcp ? (v6 ? 'syn6' : 'syn4') : v6 ? 'udp6' : 'udp4') });
  if (config === 'no-hook') check(sk_lookup_hook_set(net, false), 'sk_lookup_hook_set');
  const s = Socket.create(net, v6 ? AF_INET6 : AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM);
  if (typeof s === 'number') throw new RunError('EIO', `lookup cost: socket: errno ${-s}`);
  const port = tcp ? NET_PORTS.synListener : NET_PORTS.udpSink;
  check(s.bind(v6 ? { family: AF_INET6, addr: inet_pton6('::'), port } : { family: AF_INET, addr: 0, port }), 'bind');
  if (tcp) check(s.listen(1024), 'listen');
  let runs = (): number => 0;
  if (config === 'lpm200') {
    const coll = loadObjectFile(object);
    for (const i of inits) mapUpdateHex(coll.maps.get(i.map)!, i.key, i.value);
    const counters = coll.maps.get('bench_counters')!;
    const link = netns_bpf_link_create(net, new SkLookupProgramRunner(coll.program(), { netHost: net_bpf_host(net), engine }));
    if (typeof link === 'number') throw new RunError('EIO', `lookup cost: sk_lookup link: errno ${-link}`);
    runs = () => {
      const v = counters.lookup(new Uint8Array(4));
      return v === undefined ? 0 : Number(new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true));
    };
  }
  const h = net.ipv4.tcp_hashinfo, t = net.ipv4.udp_table;
  const s4 = inet_pton4(NET_ADDRS.flood4), d4 = inet_pton4(NET_ADDRS.guest4);
  const s6 = inet_pton6(NET_ADDRS.flood6), d6 = inet_pton6(NET_ADDRS.guest6);
  const ifindex = dev.ifindex;
  const lookup = tcp
    ? v6
      ? (sp: number): unknown => inet6_lookup_listener(net, h, null, 20, s6, sp, d6, port, ifindex, 0)
      : (sp: number): unknown => __inet_lookup_listener(net, h, null, 20, s4, sp, d4, port, ifindex, 0)
    : v6
      ? (sp: number): unknown => __udp6_lib_lookup(net, t, s6, sp, d6, port, ifindex, 0, null)
      : (sp: number): unknown => __udp4_lib_lookup(net, t, s4, sp, d4, port, ifindex, 0, null);
  return { config, net, lookup, expected: s.sk, runs };
}

/**
 * Measures the three kernels' lookups for one flood, interleaved, and returns the run for
 * `config`: ns per lookup (fastest round), balanced when every lookup found the flood's socket and
 * the program ran once per lookup in lpm200 (never elsewhere).
 */
export function runLookupCost(
  flood: SkLookupFlood, config: SkLookupConfig, engine: EngineName, object: string, inits: readonly { map: string; key: string; value: string }[],
): SuiteRunWithNotes {
  const t0 = performance.now();
  const rigs = SK_LOOKUP_CONFIGS.map((c) => rig(flood, c, engine, object, inits));
  const rounds: number[][] = rigs.map(() => []);
  const found = rigs.map(() => 0);
  let sport = 0;
  const pass = (r: Rig, i: number, n: number): void => {
    let hits = 0;
    for (let k = 0; k < n; k++) {
      if (r.lookup(1024 + (sport++ % FLOOD_SOURCE_PORTS)) === r.expected) hits++;
    }
    found[i]! += hits;
  };
  // Warm-up: every rig's lookup compiled before the first timed round.
  rigs.forEach((r, i) => pass(r, i, COST_LOOKUPS / 4));
  // Odd rounds run the rigs in reverse: whatever a rig leaves behind (garbage, a deoptimisation)
  // falls on each of the others in turn.
  for (let round = 0; round < COST_ROUNDS; round++) {
    for (let j = 0; j < rigs.length; j++) {
      const i = round & 1 ? rigs.length - 1 - j : j;
      const a = process.hrtime.bigint();
      pass(rigs[i]!, i, COST_LOOKUPS);
      rounds[i]!.push(Number(process.hrtime.bigint() - a) / COST_LOOKUPS);
    }
  }
  const total = COST_LOOKUPS / 4 + COST_ROUNDS * COST_LOOKUPS;
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const ns = rigs.map((_, i) => Math.min(...rounds[i]!));
  const med = rigs.map((_, i) => median(rounds[i]!));
  const me = SK_LOOKUP_CONFIGS.indexOf(config);
  const runs = rigs.map((r) => r.runs());
  const balanced = found.every((f) => f === total) && runs.every((n, i) => n === (rigs[i]!.config === 'lpm200' ? total : 0));
  return {
    value: ns[me]!,
    seconds: (performance.now() - t0) / 1e3,
    balanced,
    counters: { lookups: total, found: found[me]!, prog_runs: runs[me]!, ...Object.fromEntries(SK_LOOKUP_CONFIGS.map((c, i) => [`ns_${c}`, ns[i]!])) },
    explain: {
      // Against the kernel without the hook, measured in the same interleaved rounds.
      ns_over_no_hook: ns[me]! - ns[0]!,
      ns_median_round: med[me]!,
      ns_max_round: Math.max(...rounds[me]!),
    },
    notes: [`one thread, ${COST_ROUNDS} interleaved rounds (alternating order) of ${COST_LOOKUPS.toLocaleString('en-US')} lookups per kernel, fastest round; the lookup a ${flood.startsWith('tcp') ? 'SYN' : 'datagram'} of the flood takes`],
  };
}

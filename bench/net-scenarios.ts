// The network stacks in `npm run bench` (issue 15): the two floods of the sk_lookup cover letters
// into the guest's stack over the four workers (UDP datagrams read at one socket; SYN-ACKs from
// one listener with syncookies=2), each beside Cloudflare's baseline, and TCP_STREAM host to
// guest with the CPU table that says which thread held it back. Measured and printed: nothing is
// tuned to reach a goal and nothing asserts on time.
import { runFlood, type FloodKind } from '../scenarios/run/run-flood.ts';
import { runNetperf } from '../scenarios/run/run-netperf.ts';
import { threadSummary } from '../scenarios/report/cpu.ts';

export async function benchFloods(kinds: readonly FloodKind[] = ['udp4', 'syn4'], duration = 2, repeat = 3): Promise<string[]> {
  const lines: string[] = [];
  for (const kind of kinds) {
    const runs: number[] = [];
    let last: Awaited<ReturnType<typeof runFlood>> | undefined;
    for (let i = 0; i < repeat; i++) {
      last = await runFlood({ kind, duration, warmup: 0.5 });
      runs.push(last.mpps);
    }
    const med = [...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
    const what = kind.startsWith('udp') ? 'datagrams read at the socket' : 'SYN-ACKs sent';
    const goal = last!.goal_mpps;
    lines.push(`  flood ${kind}: ${med.toFixed(3)} Mpps ${what}  (goal >= ${goal.toFixed(2)} Mpps, Cloudflare's ${kind} baseline on 24 cores: ${med >= goal ? 'met' : 'not met'}; runs ${runs.map((x) => x.toFixed(3)).join(' ')})`);
    lines.push(`    offered by pktgen ${((last!.window['pktgen_generated'] ?? 0) / last!.seconds / 1e6).toFixed(3)} Mpps, tap ring full drops ${((last!.window['tapx_drop_full_ring'] ?? 0) / last!.seconds / 1e6).toFixed(3)} Mpps; balanced: ${last!.accounting.balanced && last!.stack_accounting.balanced}`);
    const cpu = threadSummary(last!.explain);
    if (cpu !== undefined) lines.push(`    cpu: ${cpu}`);
  }
  return lines;
}

export async function benchTcpStream(duration = 2): Promise<string[]> {
  const r = await runNetperf({ test: 'TCP_STREAM', direction: 'host-to-guest', duration, warmup: 0.5 });
  const lines = [`  TCP_STREAM host to guest, -m ${r.size}: ${(r.mbps ?? 0).toFixed(1)} Mbit/s (the RFC's table: ${r.rfc ?? 'n/a'}); balanced: ${r.accounting.balanced}`];
  const cpu = threadSummary(r.explain);
  if (cpu !== undefined) lines.push(`    cpu: ${cpu}`);
  // What each side's thread spent its share on: the busiest is the limit.
  const e = r.explain;
  const busiest = ['host', 'vhost', 'guest', 'qemu'].map((t) => ({ t, v: e[`cpu_${t}`] ?? 0 })).sort((a, b) => b.v - a.v)[0]!;
  lines.push(`    the busiest thread: ${busiest.t} (${(busiest.v * 100).toFixed(0)}% of a core); other processes took ${((e['cpu_other'] ?? 0) * 100).toFixed(0)}% of a core`);
  lines.push(`    segments: host TcpOutSegs ${r.stacks.host.nstat['TcpOutSegs'] ?? 0}, TcpRetransSegs ${r.stacks.host.nstat['TcpRetransSegs'] ?? 0}; guest TcpInSegs ${r.stacks.guest.nstat['TcpInSegs'] ?? 0}`);
  return lines;
}

// The data path in `npm run bench`: Case 1 offload against native for xdp1 and xdp2 (issue 6),
// and a short version of the RFC's table (issue 7), each cell the median of a few short runs.
import { runCase } from '../scenarios/run/run-case.ts';
import { runTable } from '../scenarios/run/table.ts';
import { renderTextTable } from '../scenarios/report/index.ts';

export async function benchOffloadVsNative(duration = 1.5, repeat = 3): Promise<string[]> {
  const lines: string[] = [];
  for (const prog of ['xdp1', 'xdp2'] as const) {
    const med: Record<string, number> = {};
    for (const mode of ['native', 'offload'] as const) {
      const runs: { mpps: number; probe: number }[] = [];
      for (let i = 0; i < repeat; i++) {
        const r = await runCase({ case: 1, prog, mode, duration, warmup: 0.5 });
        runs.push({ mpps: r.mpps, probe: r.explain['probe_us_host'] ?? NaN });
      }
      const xs = runs.map((r) => r.mpps).sort((a, b) => a - b);
      med[mode] = xs[Math.floor(xs.length / 2)]!;
      // The host thread's CPU probe beside each run: on a shared machine a slow run is often a slowed CPU.
      const each = runs.map((r) => `${r.mpps.toFixed(2)} (probe ${r.probe.toFixed(0)} us)`).join(', ');
      lines.push(`  case 1 ${prog} ${mode.padEnd(7)} ${med[mode]!.toFixed(2)} Mpps  (runs ${each})`);
    }
    lines.push(`  case 1 ${prog} offload/native ${(med['offload']! / med['native']!).toFixed(2)}x`);
  }
  return lines;
}

export async function benchShortTable(): Promise<string> {
  const report = await runTable({
    duration: 1, warmup: 0.5, repeat: 1, vhostPollUs: 0, engine: 'jit', ratePps: undefined, lineRate: null, pktSize: 60, flows: 1, progress: false,
  });
  return renderTextTable(report, { color: false });
}

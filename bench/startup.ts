// Start-up time of the vxo command beside a bare `node -e 0`, in one run: the conformance suite
// and scripts start vxo once per program, so its start-up is most of their time. Each command runs
// `rounds` times, interleaved so a change in the machine's speed touches them all alike.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { udp64 } from '../test/support/packets.ts';
import { REPO_ROOT } from '../test/support/vm.ts';
import { median } from '../scenarios/report/median.ts';

export interface StartupRow {
  name: string;
  ms: number;
  /** Times `node -e 0`. */
  ratio: number;
  /** The bound on the ratio, where it sets one. */
  target: number | undefined;
}

interface Cmd { name: string; args: string[]; input?: string | Uint8Array; target?: number }

function timeOnce(c: Cmd): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, c.args, { cwd: REPO_ROOT, input: c.input, stdio: ['pipe', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`bench startup: ${c.name} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

export function benchStartup(rounds = 9): StartupRow[] {
  const vxo = join(REPO_ROOT, 'bin/vxo.js');
  const xdp1 = join(REPO_ROOT, 'scenarios/xdp/xdp1.o');
  const cmds: Cmd[] = [
    { name: 'node -e 0', args: ['-e', '0'] },
    { name: 'vxo --help', args: [vxo, '--help'], target: 3 },
    { name: 'vxo conformance-plugin', args: [vxo, 'conformance-plugin', '00 01'], input: 'b7000000010000009500000000000000', target: 3 },
    { name: 'vxo prog verify xdp1.o', args: [vxo, 'prog', 'verify', xdp1], target: 5 },
    { name: 'vxo prog run xdp1.o (1 run)', args: [vxo, 'prog', 'run', xdp1, '--data-in', '-'], input: udp64() },
  ];
  const samples = cmds.map(() => [] as number[]);
  for (const c of cmds) timeOnce(c); // the page cache and V8's code cache, as a user's second call has them
  for (let r = 0; r < rounds; r++) cmds.forEach((c, i) => samples[i]!.push(timeOnce(c)));
  const base = median(samples[0]!);
  return cmds.map((c, i) => {
    const ms = median(samples[i]!);
    return { name: c.name, ms, ratio: ms / base, target: c.target };
  });
}

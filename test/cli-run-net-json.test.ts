// `vxo run flood --json` as a user runs it (bin/vxo.js: the build, which `npm test` makes first; from
// the sources under tsx, the CLI and its four workers spent about 4 s of CPU compiling TypeScript):
// the documented fields (mpps, the goal, both ledgers, the stack's counters by nstat name and its sockets).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './support/vm.ts';

function vxo(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/vxo.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 90_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test.serial('vxo run flood --kind udp4 --json: mpps, the goal, the stack counters and sockets, balanced', (t) => {
  const r = vxo(['run', 'flood', '--kind', 'udp4', '--duration', '0.3', '--warmup', '0.2', '--json']);
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, unknown> & {
    accounting: { balanced: boolean }; stack_accounting: { balanced: boolean }; stack: { nstat: Record<string, number>; sockets: unknown[] };
    counters: Record<string, number>;
  };
  for (const k of ['scenario', 'kind', 'mpps', 'goal_mpps', 'metric', 'packets', 'seconds', 'counters', 'window', 'accounting', 'stack_accounting', 'explain', 'stack']) t.true(k in j, k);
  t.is(j['scenario'], 'flood');
  t.is(typeof j['mpps'], 'number');
  t.true(j.accounting.balanced);
  t.true(j.stack_accounting.balanced);
  t.true((j.stack.nstat['UdpInDatagrams'] ?? 0) > 0);
  t.is(j.stack.sockets.length, 1);
  t.true((j.counters['guest_app_rx_packets'] ?? 0) > 0);
});

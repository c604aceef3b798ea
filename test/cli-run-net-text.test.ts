// `vxo run netperf` as a user runs it (bin/vxo.js: the build, which `npm test` makes first; from the
// sources under tsx, the CLI and its four workers spent about 4 s of CPU compiling TypeScript): the
// text report's parts (netperf's lines, the figure beside the RFC's, the CPU line, the ledger, nstat, ss),
// on vhost's path before the offload RFC (--vhost-rx ptr_ring), which the report names from the counter.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './support/vm.ts';

function vxo(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/vxo.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 90_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test.serial('vxo run netperf --test TCP_RR --vhost-rx ptr_ring: netperf\'s report lines, the CPU line, both stacks, the path vhost took', (t) => {
  const r = vxo(['run', 'netperf', '--test', 'TCP_RR', '--duration', '0.3', '--warmup', '0.3', '--vhost-rx', 'ptr_ring']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^MIGRATED TCP REQUEST\/RESPONSE TEST from 10\.0\.0\.1 .* to 10\.0\.0\.2/);
  t.regex(r.stdout, /Trans\.\nSend {3}Recv/);
  t.regex(r.stdout, /netperf TCP_RR -r 1,1: [\d.]+ transactions\/s; the RFC's table: 12918/);
  t.regex(r.stdout, /cpu, share of one core: host/);
  t.regex(r.stdout, /accounting: generated \d+ = accounted \d+: balanced/);
  t.regex(r.stdout, /host stack counters \(nstat\):\n {2}IpInReceives/);
  t.regex(r.stdout, /guest sockets:\n {2}Netid/);
  t.regex(r.stdout, /\nvhost handle_rx: ptr_ring \(before the offload RFC: .*\): \d+ batches from the ring \([\d.]+ frames each\), \d+ tap recvmsg calls \(one per frame\)/);
});

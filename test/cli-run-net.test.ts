// `vxo run flood` and `vxo run netperf` as a user runs them (bin/vxo.js: the build, which `npm test`
// makes first; under tsx each spawn spent about 1 s of CPU compiling the CLI): bad options refused
// with exit code 2 before any worker starts (the runs: cli-run-net-json.test.ts).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './support/vm.ts';

function vxo(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/vxo.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 90_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('bad flood and netperf options exit 2 with the accepted values, before any worker starts', (t) => {
  const cases: [string[], RegExp][] = [
    [['run', 'flood', '--kind', 'icmp4'], /--kind icmp4: syn4, syn6, udp4, udp6/],
    [['run', 'netperf', '--test', 'SCTP_RR'], /--test SCTP_RR: UDP_STREAM, TCP_STREAM, UDP_RR, TCP_RR/],
    [['run', 'netperf', '--test', 'UDP_STREAM', '--size', '1473'], /--size 1473: must be an integer from 1 to 1472 for UDP_STREAM/],
    [['run', 'netperf', '--direction', 'up'], /--direction up: host-to-guest or guest-to-host/],
  ];
  for (const [args, re] of cases) {
    const r = vxo(args);
    t.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, re);
    t.is(r.stdout, '');
  }
});


// `vxo run flood` and `vxo run netperf` as a user runs them (bin/vxo.js: the build, which `npm test`
// makes first; under tsx each spawn spent about 1 s of CPU compiling the CLI): bad options refused
// with exit code 2 before any worker starts (the runs: cli-run-net-json.test.ts).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './support/vm.ts';
import { exitCodeFor } from '../scenarios/cli/cli.ts';
import { isRunFailure, RunError } from '../scenarios/run/run-error.ts';
import { WorkerFailed } from '../scenarios/run/worker-failed.ts';
import { vhostRxText } from '../scenarios/run/run-netperf.ts';

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
    [['run', 'netperf', '--vhost-rx', 'peek'], /--vhost-rx "peek": ptr_ring \(before the offload RFC: .*\) or tap_recvmsg \(the RFC's patches 5-6: /],
    [['run', 'flood', '--kind', 'udp4', '--vhost-rx', 'ptr_ring'], /--vhost-rx ptr_ring: netperf only/],
  ];
  for (const [args, re] of cases) {
    const r = vxo(args);
    t.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, re);
    t.is(r.stdout, '');
  }
});

test('a run that could not start exits 2 (RunError EINVAL, ENOENT); one that started and failed exits 1 (EIO, a worker that died)', (t) => {
  t.is(exitCodeFor(new RunError('EINVAL', 'x')), 2);
  t.is(exitCodeFor(new RunError('ENOENT', 'x')), 2);
  t.false(isRunFailure(new RunError('EINVAL', 'x')));
  t.is(exitCodeFor(new RunError('EIO', 'x')), 1);
  t.true(isRunFailure(new RunError('EIO', 'x')));
  t.is(exitCodeFor(new WorkerFailed('vhost', new Error('x'))), 1);
  t.true(isRunFailure(new WorkerFailed('vhost', new Error('x'))));
});

test('the report names the path vhost took, with its counters, and an offload QEMU refused on it', (t) => {
  const before = vhostRxText({
    vhost_rx: 'ptr_ring', counters: { qemu_tun_set_offload_refused: 1 },
    window: { vhost_rx_batches: 10, vhost_rx_packets: 40, vhost_rx_recvmsg: 40, vhost_rx_empty_polls: 3 },
    bpf: { guest_xdp: { object: 'xdp1.o', mode: 'native', offload_refused: 'eth0: SET_OFFLOAD: the device refused it (EOPNOTSUPP)', maps: {} } },
  });
  t.deepEqual(before, [
    "vhost handle_rx: ptr_ring (before the offload RFC: vhost consumes the tap's ptr_ring itself, in batches): 10 batches from the ring (4.0 frames each), 40 tap recvmsg calls (one per frame), 3 looks into an empty tap",
    "  QEMU refused 1 xdp offload (no TUNSETOFFLOADEDXDP on this host's tun): the guest runs the program in its driver",
  ]);
  const after = vhostRxText({ vhost_rx: 'tap_recvmsg', counters: {}, window: { vhost_rx_batches: 10, vhost_rx_packets: 40, vhost_rx_recvmsg: 10 } });
  t.deepEqual(after, ["vhost handle_rx: tap_recvmsg (the RFC's patches 5-6: the tap's recvmsg hands vhost a batch, where an offloaded program runs): 10 tap recvmsg calls (4.0 frames each), 0 looks into an empty tap"]);
});

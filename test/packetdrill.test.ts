// Every script in test/packetdrill/ against the guest stack on the virtual clock (some also over
// IPv6 and IPv4-mapped IPv6), the runner's reports for scripts that fail or cannot run, and the
// `vxo packetdrill` command's output and exit codes.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScriptText, type ScriptResult } from '../scenarios/packetdrill/runner.ts';
import type { CliOption } from '../scenarios/packetdrill/config.ts';
import { REPO_ROOT } from './support/vm.ts';

const DIR = join(REPO_ROOT, 'test', 'packetdrill');

/**
 * Scripts that fail because of a bug in the stack (not in the runner or the script), with the
 * bug. They stay, marked test.failing, so the fix shows up as "passed unexpectedly".
 */
const KNOWN_FAILURES: Record<string, string> = {};

async function run(file: string, options: CliOption[] = []): Promise<ScriptResult> {
  return runScriptText(file, readFileSync(join(DIR, file), 'utf8'), { options });
}

// Every script runs three ways, as the kernel selftests' runner runs its scripts: IPv4, IPv6
// (with a 1520-byte MTU, which keeps the scripts' MSS at 1460) and AF_INET6 sockets on IPv4.
const variants: [string, CliOption[]][] = [
  ['', []],
  [' (ipv6)', [{ name: 'ip_version', value: 'ipv6' }, { name: 'mtu', value: '1520' }]],
  [' (ipv4-mapped-ipv6)', [{ name: 'ip_version', value: 'ipv4-mapped-ipv6' }]],
];

for (const file of readdirSync(DIR).filter((f) => f.endsWith('.pkt')).sort()) {
  // A script that names its IP version (what differs between families, like msstab) runs as written.
  const own = /^--ip_version=/m.test(readFileSync(join(DIR, file), 'utf8'));
  for (const [suffix, options] of own ? variants.slice(0, 1) : variants) {
    const name = `${file}${suffix}`;
    const known = KNOWN_FAILURES[name] ?? KNOWN_FAILURES[file];
    (known === undefined ? test : test.failing)(name, async (t) => {
      const r = await run(file, options);
      t.is(r.status, 'pass', r.message);
    });
  }
}

test('the SYN cookie script really runs on cookies: the counters say so', async (t) => {
  const r = await run('tcp_syncookies.pkt');
  t.is(r.status, 'pass', r.message);
  t.like(r.nstat, { TcpExtSyncookiesSent: 1, TcpExtSyncookiesRecv: 1, TcpPassiveOpens: 1 });
  t.is(r.nstat.TcpExtSyncookiesFailed, undefined);
});

async function runText(src: string): Promise<ScriptResult> {
  return runScriptText('t.pkt', src);
}

const UDP_HEAD = '0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3\n+0 bind(3, ..., ...) = 0\n+0 connect(3, ..., ...) = 0\n';

test('a wrong result is reported with the line and both values', async (t) => {
  const r = await runText(`${UDP_HEAD}+0 < udp (100)\n+0 recv(3, ..., 1000, 0) = 99\n`);
  t.is(r.status, 'fail');
  t.is(r.line, 5);
  t.is(r.message, 't.pkt:5: runtime error in recv call: Expected result 99 but got 100');
});

test('a wrong errno is named', async (t) => {
  const r = await runText(`${UDP_HEAD}+0 recv(3, ..., 1000, MSG_DONTWAIT) = -1 ECONNREFUSED (Connection refused)\n`);
  t.is(r.status, 'fail');
  t.regex(r.message!, /Expected errno 111 \(ECONNREFUSED: Connection refused\) but got 11 \(EAGAIN: Resource temporarily unavailable\)/);
});

test('an expected packet that never comes is reported with the script packet', async (t) => {
  const r = await runText(`${UDP_HEAD}+.1 > udp (10)\n`);
  t.is(r.status, 'fail');
  t.is(r.line, 4);
  t.regex(r.message!, /expected outbound packet at 0\.100000 sec but the socket under test sent nothing by 0\.112500 sec\nscript packet: {2}0\.100000 udp \(10\)/);
});

test('a different packet is reported field by field, script packet beside actual packet', async (t) => {
  const r = await runText(`${UDP_HEAD}+0 write(3, ..., 10) = 10\n+0 > udp (11)\n`);
  t.is(r.status, 'fail');
  t.is(r.line, 5);
  t.is(r.message, 't.pkt:5: error handling packet: live packet field udp_len: expected: 19 (0x13) vs actual: 18 (0x12)\nscript packet:  0.000000 udp (11)\nactual packet:  0.000000 udp (10)');
});

test('a packet at the wrong time is a timing error with the tolerance', async (t) => {
  const r = await runText(`${UDP_HEAD}+.1 write(3, ..., 10) = 10\n+.5 > udp (10)\n`);
  t.is(r.status, 'fail');
  t.regex(r.message!, /timing error: expected outbound packet at 0\.600000 sec but happened at 0\.100000 sec; tolerance 0\.062500 sec/);
});

test('a TCP segment that differs is reported with the field and both segments in script numbers', async (t) => {
  const r = await runText(`0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 32792 <mss 1000,nop,nop,sackOK,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>
+.1 < . 1:1(0) ack 1 win 257
+0 accept(3, ..., ...) = 4
+0 < P. 1:1001(1000) ack 1 win 257
+0 > . 1:1(0) ack 1002
`);
  t.is(r.status, 'fail');
  t.is(r.line, 9);
  t.regex(r.message!, /^t\.pkt:9: error handling packet: live packet field tcp_ack_seq: expected: 1002 \(0x3ea\) vs actual: 1001 \(0x3e9\)\nscript packet: {2}0\.100000 \. 1:1\(0\) ack 1002\nactual packet: {2}0\.100000 \. 1:1\(0\) ack 1001 win \d+$/);
});

test('a blocking call the script does not mark as blocking fails after waiting', async (t) => {
  const r = await runText(`${UDP_HEAD}+0 read(3, ..., 1000) = 10\n`);
  t.is(r.status, 'fail');
  t.regex(r.message!, /the call blocked \(the socket is blocking\) and had not returned 600 s later/);
});

test('scripts that cannot run are errors naming line, column and construct', async (t) => {
  const cases: [string, RegExp][] = [
    ['`./defaults.sh`\n0 close(3) = -1 EBADF (Bad file descriptor)\n', /^t\.pkt:1:1: error: shell command `\.\/defaults\.sh` is not run: vxo runs no shell/],
    ['0 close(3) = -1 EBADF (x)\n+1 `ip link set tun0 mtu 1280`\n', /^t\.pkt:2:1: error: shell command `ip link set tun0 mtu 1280` is not run/],
    ['0 close(3) = -1 EBADF (x)\n+0 `sysctl -q net.ipv4.tcp_fastopen=3`\n', /^t\.pkt:2:1: error: sysctl net\.ipv4\.tcp_fastopen: vxo has no such sysctl/],
    ['0 epoll_create(1) = 3\n', /^t\.pkt:1:3: error: unsupported system call epoll_create\(\)/],
    ['0 socket(..., SOCK_SEQPACKET, IPPROTO_TCP) = 3\n', /^t\.pkt:1:15: error: unknown symbol SOCK_SEQPACKET/],
    ['0 close(3) = -1 EBADF (x)\n+0 socket(..., SOCK_STREAM, IPPROTO_SCTP) = 3\n', /^t\.pkt:2:29: error: unknown symbol IPPROTO_SCTP/],
    ['0 close(3) = -1 EWHATEVER\n', /^t\.pkt:1:17: error: unknown errno EWHATEVER/],
    ['1 close(3) = 0\n', /^t\.pkt:1:1: error: first event should be at time 0/],
    ['0 close(3) = -1 EBADF (Bad file descriptor)\n0.2 close(3) = -1 EBADF (x)\n0.1 close(3) = -1 EBADF (x)\n', /^t\.pkt:3:1: error: time goes backward in script from 200000 usec to 100000 usec/],
    ['--wire_client\n0 close(3) = 0\n', /^t\.pkt:1:1: error: --wire_client: unknown or unsupported option/],
    ['0 < S 0:0(0) win 1 <FO>\n', /^t\.pkt:1:21: error: unsupported construct: TCP Fast Open option FO/],
  ];
  for (const [src, re] of cases) {
    const r = await runText(src);
    t.is(r.status, 'error', src);
    t.regex(r.message!, re, src);
    t.is(r.events_run, 0, `${src}: nothing runs before the error`);
  }
});

test('--define symbols stand for numbers and symbols in system calls', async (t) => {
  const r = await runScriptText('t.pkt', '--define=LEVEL=SOL_SOCKET\n0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3\n+0 setsockopt(3, LEVEL, SO_RCVBUF, [N], 4) = 0\n+0 close(3) = 0\n',
    { options: [{ name: 'define', value: 'N=65536' }] });
  t.is(r.status, 'pass', r.message);
});

test('close of an fd the script never opened gives EBADF, as the kernel does', async (t) => {
  const r = await runText('0 close(7) = -1 EBADF (Bad file descriptor)\n');
  t.is(r.status, 'pass', r.message);
});

const tmp = mkdtempSync(join(tmpdir(), 'vxo-pd-'));
/** bin/vxo.js: the build, which `npm test` makes first; under tsx each run cost about 1 s of CPU compiling the CLI. */
function vxo(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/vxo.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('vxo packetdrill: exit 0 when every script passes, 1 on a failure, 2 when one cannot run', (t) => {
  const ok = join(DIR, 'udp_basic.pkt');
  const bad = join(tmp, 'bad.pkt');
  writeFileSync(bad, `${UDP_HEAD}+0 < udp (100)\n+0 recv(3, ..., 1000, 0) = 99\n`);
  const broken = join(tmp, 'broken.pkt');
  writeFileSync(broken, '0 > S 0:5(0)\n');
  const pass = vxo(['packetdrill', ok, '--verbose']);
  t.is(pass.status, 0, pass.stderr);
  t.regex(pass.stdout, /udp_basic\.pkt: pass \(11 events\)/);
  t.regex(pass.stdout, /inbound injected packet: {2}0\.000000 udp \(100\)\n/);
  t.regex(pass.stdout, /outbound sniffed packet: {2}0\.100000 udp \(10\)\n/);
  const json = vxo(['packetdrill', ok, bad, '--json', '--', '--ip_version=ipv6']);
  t.is(json.status, 1);
  const j = JSON.parse(json.stdout) as { passed: number; failed: number; scripts: { file: string; status: string; line?: number; message?: string }[] };
  t.is(j.passed, 1);
  t.is(j.failed, 1);
  t.like(j.scripts[1], { status: 'fail', line: 5, message: `${bad}:5: runtime error in recv call: Expected result 99 but got 100` });
  const err = vxo(['packetdrill', ok, bad, broken]);
  t.is(err.status, 2);
  t.regex(err.stdout, /bad\.pkt:5: runtime error in recv call: Expected result 99 but got 100\n.*bad\.pkt: FAIL\n/);
  t.regex(err.stdout, /broken\.pkt:1:9: error: inconsistent TCP sequence numbers and payload size: 0:5\(0\)\n.*broken\.pkt: ERROR\n1 passed, 1 failed, 1 could not run/);
});

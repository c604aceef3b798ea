// The command line as a user runs it: output formats, JSON shape, exit codes.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../bpf-vm/hex.ts';
import { udp64 } from './support/packets.ts';
import { REPO_ROOT, XDP_DIR } from './support/vm.ts';

const dir = mkdtempSync(join(tmpdir(), 'vxo-cli-'));
const pkt = join(dir, 'udp64.bin');
writeFileSync(pkt, udp64());

function vxo(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/vxo.js'), ...args], { input, encoding: 'utf8', cwd: REPO_ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('prog run prints bpftool\'s line', (t) => {
  const r = vxo(['prog', 'run', `${XDP_DIR}xdp1.o`, '--data-in', pkt, '--repeat', '1000']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout.trim(), /^Return value: 1, duration \(average\): \d+ns$/);
});

test('prog run --json has the documented shape, every ARRAY slot, and the counts', (t) => {
  const out = join(dir, 'out.bin');
  const r = vxo(['prog', 'run', `${XDP_DIR}xdp2.o`, '--data-in', pkt, '--data-out', out, '--repeat', '3', '--json']);
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { retval: number; duration_ns: number; repeat: number; data_out: string; trace: string[]; maps: Record<string, { key: string; value: string }[]> };
  t.deepEqual(Object.keys(j), ['retval', 'duration_ns', 'repeat', 'data_out', 'trace', 'maps']);
  t.deepEqual(j.trace, [], 'xdp2 prints nothing');
  t.is(j.retval, 3);
  t.is(j.repeat, 3);
  t.true(Number.isInteger(j.duration_ns));
  // Three swaps leave the MACs swapped once.
  const f = udp64();
  const swapped = Uint8Array.from([...f.subarray(6, 12), ...f.subarray(0, 6), ...f.subarray(12)]);
  t.is(j.data_out, toHex(swapped));
  t.deepEqual(readFileSync(out), Buffer.from(swapped));
  const rx = j.maps.rxcnt!;
  t.is(rx.length, 256);
  t.deepEqual(rx[17], { key: '11000000', value: '0300000000000000' });
  t.is(rx.filter((e) => e.value !== '0000000000000000').length, 1);
});

test('prog dump lists maps and disassembles in the kernel\'s syntax', (t) => {
  const r = vxo(['prog', 'dump', `${XDP_DIR}xdp1.o`]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /fd 3: array {2}name rxcnt {2}key 4B {2}value 8B {2}max_entries 256/);
  t.regex(r.stdout, /xdp1: section xdp, type xdp, 57 insns/);
  t.regex(r.stdout, / {4}0: \(61\) r2 = \*\(u32 \*\)\(r1 \+ 4\)/);
  t.regex(r.stdout, /call bpf_map_lookup_elem#1/);
  t.regex(r.stdout, /lock \*\(u64 \*\)\(r0 \+ 0\) \+= r1/);
  t.regex(r.stdout, /r1 = map\[rxcnt\]/);
});

test('usage and load errors exit 2 with a message; runtime faults exit 1', (t) => {
  const missing = vxo(['prog', 'run', join(dir, 'nope.o'), '--data-in', pkt]);
  t.is(missing.status, 2);
  t.regex(missing.stderr, /cannot read .*nope\.o/);
  const notElf = vxo(['prog', 'dump', pkt]);
  t.is(notElf.status, 2);
  t.regex(notElf.stderr, /ELF/);
  const badRepeat = vxo(['prog', 'run', `${XDP_DIR}xdp1.o`, '--data-in', pkt, '--repeat', 'x']);
  t.is(badRepeat.status, 2);
  t.regex(badRepeat.stderr, /--repeat must be an integer from 1 to 4294967295/);
  const noData = vxo(['prog', 'run', `${XDP_DIR}xdp1.o`]);
  t.is(noData.status, 2);
  const runt = join(dir, 'runt.bin');
  writeFileSync(runt, new Uint8Array(10));
  const short = vxo(['prog', 'run', `${XDP_DIR}xdp1.o`, '--data-in', runt]);
  t.is(short.status, 2);
  t.regex(short.stderr, /data_in of 10 bytes/);
  const section = vxo(['prog', 'run', `${XDP_DIR}xdp1.o`, '--data-in', pkt, '--section', 'nothing']);
  t.is(section.status, 2);
  t.regex(section.stderr, /no program or section named 'nothing' \(have: xdp1 \[xdp\]\)/);
});

test('conformance-plugin: program hex on stdin, memory as argument, r0 in hex', (t) => {
  // ldxb r0, [r1+2]; exit
  const ok = vxo(['conformance-plugin', '00 01 0a'], '7110020000000000 9500000000000000');
  t.is(ok.status, 0, ok.stderr);
  t.is(ok.stdout, 'a\n');
  // lddw r0, -1; exit: the full 64-bit r0
  const wide = vxo(['conformance-plugin'], '18000000ffffffff00000000ffffffff9500000000000000');
  t.is(wide.stdout, 'ffffffffffffffff\n');
  const fault = vxo(['conformance-plugin', '00'], '7110080000000000 9500000000000000');
  t.not(fault.status, 0);
  t.regex(fault.stderr, /invalid memory access/);
  const bad = vxo(['conformance-plugin'], 'zz');
  t.not(bad.status, 0);
  t.regex(bad.stderr, /not hex/);
});

test('npm start without a command prints the help', (t) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scenarios/cli/main.ts')], { encoding: 'utf8', cwd: REPO_ROOT });
  t.is(r.status, 0);
  t.regex(r.stdout, /Usage: vxo/);
  t.regex(r.stdout, /prog/);
});

test('--version, help [command], unknown commands, and a bare group prints its help', (t) => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const v = vxo(['--version']);
  t.is(v.status, 0);
  t.is(v.stdout.trim(), pkg.version);
  const help = vxo(['help', 'prog']);
  t.is(help.status, 0, help.stderr);
  t.regex(help.stdout, /Usage: vxo prog/);
  t.regex(help.stdout, /verify/);
  const runHelp = vxo(['help', 'run']);
  t.regex(runHelp.stdout, /--pcap-at <point>/);
  const bare = vxo(['prog']);
  t.is(bare.status, 0, 'bpftool-like: the group alone shows its commands');
  t.regex(bare.stdout, /Usage: vxo prog/);
  t.regex(bare.stdout, /jit-dump/);
  const unknown = vxo(['frobnicate']);
  t.is(unknown.status, 2);
  t.regex(unknown.stderr, /unknown command 'frobnicate'/);
  const unknownSub = vxo(['prog', 'frobnicate']);
  t.is(unknownSub.status, 2);
  t.regex(unknownSub.stderr, /unknown command 'frobnicate'/);
});

test('prog verify prints the log and the processed line; exit 0 when accepted', (t) => {
  const r = vxo(['prog', 'verify', `${XDP_DIR}xdp1.o`]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /processed \d+ insns \(limit 1000000\)/);
  const r2 = vxo(['prog', 'verify', `${XDP_DIR}xdp1.o`, '--log-level', '2']);
  t.is(r2.status, 0, r2.stderr);
  t.true(r2.stdout.split('\n').length > r.stdout.split('\n').length, 'level 2 prints every instruction');
  t.is(vxo(['prog', 'verify', `${XDP_DIR}xdp1.o`, '--log-level', '8']).status, 2);
});

test('a rejected program: verify exits 1, run refuses it unless --no-verify', (t) => {
  // Reads a byte of the packet without checking it against data_end.
  const obj = join(REPO_ROOT, 'test/fixtures/cli/pkt_unchecked.o');
  const v = vxo(['prog', 'verify', obj]);
  t.is(v.status, 1);
  t.regex(v.stdout, /invalid access to packet/);
  const run = vxo(['prog', 'run', obj, '--data-in', pkt]);
  t.is(run.status, 1);
  t.regex(run.stderr, /verifier rejected/);
  const forced = vxo(['prog', 'run', obj, '--data-in', pkt, '--no-verify']);
  t.is(forced.status, 0, forced.stderr);
  t.regex(forced.stdout, /^Return value: 2,/);
  t.is(vxo(['prog', 'jit-dump', obj]).status, 1, 'a rejected program is never JIT-compiled');
});

test('prog jit-dump prints the generated JavaScript; --engine chooses the engine', (t) => {
  const r = vxo(['prog', 'jit-dump', `${XDP_DIR}xdp1.o`]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^\/\/ vxo JIT: 57 insns, structured control flow, verified/);
  t.regex(r.stdout, /function f0\(/);
  for (const engine of ['interp', 'jit']) {
    const run = vxo(['prog', 'run', `${XDP_DIR}xdp2.o`, '--data-in', pkt, '--engine', engine, '--json']);
    t.is(run.status, 0, run.stderr);
    t.is((JSON.parse(run.stdout) as { retval: number }).retval, 3);
  }
  t.is(vxo(['prog', 'run', `${XDP_DIR}xdp2.o`, '--data-in', pkt, '--engine', 'x']).status, 2);
});

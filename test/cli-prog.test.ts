// `vxo prog ...` as bpftool users use it: bpf_trace_printk output, `-` for standard input and
// output, --ctx-in/--ctx-out, objects with maps only, named refusals, faults and --no-verify.
// Where bpftool on a real kernel prints something, the expected text is what it printed (Linux
// 6.18, bpftool 7.1, the same fixture and input).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeXdpMd } from '../bpf-vm/prog/xdp-md.ts';
import { udp64 } from './support/packets.ts';
import { REPO_ROOT, XDP_DIR } from './support/vm.ts';

const dir = mkdtempSync(join(tmpdir(), 'vxo-cli-prog-'));
const FIX = join(REPO_ROOT, 'test/fixtures/cli');
const pkt = join(dir, 'udp64.bin');
writeFileSync(pkt, udp64());

interface Run { status: number | null; stdout: string; stderr: string; pid: number }

function vxo(args: string[], input?: string | Uint8Array): Run {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/vxo.js'), ...args], { input, encoding: 'utf8', cwd: REPO_ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, pid: r.pid ?? 0 };
}

/** trace_pipe's line: comm right-aligned in 16, -pid left-aligned in 7, [cpu], flags, secs.usecs. */
function traceLine(pid: number, text: string): RegExp {
  const esc = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^ {13}vxo-${String(pid).padEnd(7)} \\[000\\] b\\.\\.11 +\\d+\\.\\d{6}: bpf_trace_printk: ${esc}$`);
}

// The frame bpftool was given: broadcast, from 02:00:00:00:00:01, IPv4, zero payload, 64 bytes;
// with 8 bytes of metadata (0xaa) in front and a ctx_in of data 8, data_end 72, ingress lo.
const kernelFrame = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 8, 0, ...new Uint8Array(50)]);
const metaPkt = join(dir, 'meta72.bin');
writeFileSync(metaPkt, Uint8Array.from([...new Uint8Array(8).fill(0xaa), ...kernelFrame]));
const ctxIn = join(dir, 'ctx.bin');
writeFileSync(ctxIn, encodeXdpMd({ data: 8, dataEnd: 72, dataMeta: 0, ingressIfindex: 1, rxQueueIndex: 0, egressIfindex: 0 }));

for (const engine of ['jit', 'interp']) {
  test(`prog run --engine ${engine}: bpf_trace_printk lines on stderr, as trace_pipe shows them`, (t) => {
    const r = vxo(['prog', 'run', join(FIX, 'trace_printk.o'), '--data-in', pkt, '--engine', engine, '--repeat', '2']);
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, /^Return value: 2, duration \(average\): \d+ns\n$/);
    const lines = r.stderr.trimEnd().split('\n');
    t.is(lines.length, 4, r.stderr);
    for (const [i, l] of lines.entries()) {
      t.regex(l, traceLine(r.pid, i % 2 === 0 ? 'vxo: frame of 60 bytes' : 'vxo: ethertype 0x0800, rx queue 0'));
    }
    const secs = lines.map((l) => Number(/(\d+\.\d{6}):/.exec(l)![1]));
    t.deepEqual([...secs].sort((a, b) => a - b), secs, 'timestamps do not go back');
  });
}

test('prog run --json: the lines in "trace", stdout one JSON document, stderr empty', (t) => {
  const r = vxo(['prog', 'run', join(FIX, 'trace_printk.o'), '--data-in', pkt, '--json']);
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, '');
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  t.deepEqual(Object.keys(j), ['retval', 'duration_ns', 'repeat', 'data_out', 'trace', 'maps']);
  t.deepEqual(j['trace'], ['vxo: frame of 60 bytes', 'vxo: ethertype 0x0800, rx queue 0']);
});

test('prog run --trace FILE, --trace -, --no-trace; --trace - with --json is a usage error', (t) => {
  const obj = join(FIX, 'trace_printk.o');
  const file = join(dir, 'trace.txt');
  const toFile = vxo(['prog', 'run', obj, '--data-in', pkt, '--trace', file]);
  t.is(toFile.status, 0, toFile.stderr);
  t.is(toFile.stderr, '');
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  t.regex(lines[0]!, traceLine(toFile.pid, 'vxo: frame of 60 bytes'));
  t.is(lines.length, 2);
  const withJson = vxo(['prog', 'run', obj, '--data-in', pkt, '--trace', file, '--json']);
  t.is(withJson.status, 0, withJson.stderr);
  t.is((JSON.parse(withJson.stdout) as { trace: string[] }).trace.length, 2, 'the JSON keeps them too');
  t.is(readFileSync(file, 'utf8').trimEnd().split('\n').length, 2);
  const toStdout = vxo(['prog', 'run', obj, '--data-in', pkt, '--trace', '-']);
  t.is(toStdout.stderr, '');
  const out = toStdout.stdout.trimEnd().split('\n');
  t.regex(out[0]!, traceLine(toStdout.pid, 'vxo: frame of 60 bytes'));
  t.regex(out[2]!, /^Return value: 2, duration: \d+ns$/, 'the lines come before the result');
  const none = vxo(['prog', 'run', obj, '--data-in', pkt, '--no-trace']);
  t.is(none.stderr, '');
  t.regex(none.stdout, /^Return value: 2, duration: \d+ns\n$/);
  const clash = vxo(['prog', 'run', obj, '--data-in', pkt, '--trace', '-', '--json']);
  t.is(clash.status, 2);
  t.regex(clash.stderr, /--trace - cannot be used with --json/);
  const noDir = vxo(['prog', 'run', obj, '--data-in', pkt, '--trace', join(dir, 'no/such/dir/t.txt')]);
  t.is(noDir.status, 2);
  t.regex(noDir.stderr, /cannot write --trace/);
});

test('prog run --ctx-in/--ctx-out and --data-out -: the same dumps, values and lines as bpftool on Linux', (t) => {
  const r = vxo(['prog', 'run', join(FIX, 'xdp_meta.o'), '--data-in', metaPkt, '--data-out', '-', '--ctx-in', ctxIn, '--ctx-out', '-', '--no-trace']);
  t.is(r.status, 0, r.stderr);
  // bpftool prog run pinned ... data_in meta72.bin data_out - ctx_in ctx.bin ctx_out - (Linux 6.18.44).
  const kernel = [
    '0000000\taaaa aaaa aaaa aaaa ffff 0200 0000 0001 | ........ ........',
    '0000010\t0800 0000 0000 0000 0000 0000 0000 0000 | ........ ........',
    '0000020\t0000 0000 0000 0000 0000 0000 0000 0000 | ........ ........',
    '0000030\t0000 0000 0000 0000 0000 0000 0000 0000 | ........ ........',
    '0000040\t0000 0000                               | ....',
    '0000000\t0800 0000 4400 0000 0000 0000 0100 0000 | ....D... ........',
    '0000010\t0000 0000 0000 0000                     | ........ ',
  ];
  const out = r.stdout.split('\n');
  t.deepEqual(out.slice(0, kernel.length), kernel);
  t.regex(out[kernel.length]!, /^Return value: 2, duration: \d+ns$/);
  // bpftool -j: "data_out":[170,...],"ctx_out":[8,0,0,0,68,...]; the kernel's trace lines.
  const j = JSON.parse(vxo(['prog', 'run', join(FIX, 'xdp_meta.o'), '--data-in', metaPkt, '--data-out', '-', '--ctx-in', ctxIn, '--ctx-out', '-', '--json']).stdout) as Record<string, unknown>;
  t.deepEqual(Object.keys(j), ['retval', 'duration_ns', 'repeat', 'data_out', 'ctx_out', 'trace', 'maps']);
  t.is(j['data_out'], `${'aa'.repeat(8)}ffff020000000001${'0800'}${'00'.repeat(50)}`);
  t.is(j['ctx_out'], '080000004400000000000000010000000000000000000000');
  t.deepEqual(j['trace'], ['meta 8 word 0xaaaaaaaa', 'ifindex 1 queue 0']);
  // To files: the 24 bytes of ctx_out, and data_out from data_meta.
  const ctxOut = join(dir, 'ctx-out.bin');
  const dataOut = join(dir, 'data-out.bin');
  t.is(vxo(['prog', 'run', join(FIX, 'xdp_meta.o'), '--data-in', metaPkt, '--ctx-in', ctxIn, '--ctx-out', ctxOut, '--data-out', dataOut]).status, 0);
  t.deepEqual([...readFileSync(ctxOut)], [8, 0, 0, 0, 68, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  t.is(readFileSync(dataOut).length, 68);
});

test('prog run --data-in - and --ctx-in - read standard input, but not both', (t) => {
  const r = vxo(['prog', 'run', `${XDP_DIR}xdp2.o`, '--data-in', '-', '--json'], udp64());
  t.is(r.status, 0, r.stderr);
  t.is((JSON.parse(r.stdout) as { retval: number }).retval, 3);
  const c = vxo(['prog', 'run', join(FIX, 'xdp_meta.o'), '--data-in', metaPkt, '--ctx-in', '-', '--ctx-out', '-', '--no-trace'], readFileSync(ctxIn));
  t.is(c.status, 0, c.stderr);
  t.regex(c.stdout, /^0000000\t0800 0000 4400 0000/m);
  const both = vxo(['prog', 'run', `${XDP_DIR}xdp2.o`, '--data-in', '-', '--ctx-in', '-'], udp64());
  t.is(both.status, 2);
  t.regex(both.stderr, /--data-in and --ctx-in cannot both read standard input/);
});

test('prog run: a ctx_in the kernel refuses is a clear error, exit 2', (t) => {
  const cases: [Parameters<typeof encodeXdpMd>[0], RegExp][] = [
    [{ data: 0, dataEnd: 60, dataMeta: 4, ingressIfindex: 0, rxQueueIndex: 0, egressIfindex: 0 }, /ctx_in: data_meta 4 must be 0/],
    [{ data: 0, dataEnd: 56, dataMeta: 0, ingressIfindex: 0, rxQueueIndex: 0, egressIfindex: 0 }, /ctx_in: data_end 56 must be the length of data_in \(60\)/],
    [{ data: 0, dataEnd: 60, dataMeta: 0, ingressIfindex: 7, rxQueueIndex: 0, egressIfindex: 0 }, /ctx_in: ingress_ifindex 7: no such device/],
    [{ data: 0, dataEnd: 60, dataMeta: 0, ingressIfindex: 1, rxQueueIndex: 3, egressIfindex: 0 }, /ctx_in: rx_queue_index 3: lo has 1 receive queue/],
  ];
  for (const [m, re] of cases) {
    const f = join(dir, 'bad-ctx.bin');
    writeFileSync(f, encodeXdpMd(m));
    const r = vxo(['prog', 'run', `${XDP_DIR}xdp1.o`, '--data-in', pkt, '--ctx-in', f]);
    t.is(r.status, 2, r.stderr);
    t.regex(r.stderr, re);
  }
});

test('an object with maps and no programs: dump prints the maps, verify and run have nothing to do (exit 2)', (t) => {
  const obj = join(FIX, 'maps_only.o');
  const d = vxo(['prog', 'dump', obj]);
  t.is(d.status, 0, d.stderr);
  t.is(d.stdout, [
    'maps:',
    '  fd 3: array  name counters  key 4B  value 8B  max_entries 16  flags 0x0',
    '  fd 4: hash  name flows  key 4B  value 4B  max_entries 1024  flags 0x0',
    '',
    'programs:',
    '  (none)',
    '',
  ].join('\n'));
  const v = vxo(['prog', 'verify', obj]);
  t.is(v.status, 2);
  t.is(v.stdout, '');
  t.regex(v.stderr, /^Error: .*maps_only\.o: nothing to verify: the object has no programs \(maps: counters, flows\)\n$/);
  const r = vxo(['prog', 'run', obj, '--data-in', pkt]);
  t.is(r.status, 2);
  t.regex(r.stderr, /nothing to run/);
});

test('unsupported map types and helpers are named', (t) => {
  const queue = vxo(['prog', 'dump', join(FIX, 'queue_map.o')]);
  t.is(queue.status, 2);
  t.regex(queue.stderr, /map 'pending': QUEUE \(22\) is not supported by vxo/);
  const obj = join(FIX, 'xdp_buff_len.o');
  const v = vxo(['prog', 'verify', obj]);
  t.is(v.status, 1);
  t.regex(v.stdout, /\(85\) call bpf_xdp_get_buff_len#188\nhelper bpf_xdp_get_buff_len#188 is not implemented by vxo\n/);
  t.regex(v.stderr, /Error: verifier rejected xdp_buff_len: helper bpf_xdp_get_buff_len#188 is not implemented by vxo/);
  t.regex(vxo(['prog', 'dump', obj]).stdout, /call bpf_xdp_get_buff_len#188/);
  const run = vxo(['prog', 'run', obj, '--data-in', pkt]);
  t.is(run.status, 1);
  t.notRegex(run.stderr, /--no-verify runs it anyway/, 'vxo could not run it unverified either');
  const forced = vxo(['prog', 'run', obj, '--data-in', pkt, '--no-verify']);
  t.is(forced.status, 2);
  t.regex(forced.stderr, /Error: insn \d+: helper bpf_xdp_get_buff_len#188 is not implemented by vxo/);
});

test('the newer map types and helpers run: LRU_HASH, LPM_TRIE, DEVMAP_HASH dumps; bpf_xdp_load_bytes', (t) => {
  const lru = vxo(['prog', 'run', join(FIX, 'lru_map.o'), '--data-in', pkt, '--json']);
  t.is(lru.status, 0, lru.stderr);
  t.deepEqual(JSON.parse(lru.stdout).maps.seen, [], 'the lookup missed and the program inserts nothing');
  const lb = vxo(['prog', 'run', join(FIX, 'xdp_load_bytes.o'), '--data-in', pkt, '--json']);
  t.is(lb.status, 0, lb.stderr);
  t.is(JSON.parse(lb.stdout).retval, 2, 'EtherType 0x0800 read through bpf_xdp_load_bytes: XDP_PASS');
  const dump = vxo(['prog', 'dump', join(REPO_ROOT, 'test/corpus/c/lpm_route.o')]);
  t.is(dump.status, 0, dump.stderr);
  t.regex(dump.stdout, /lpm_trie {2}name routes {2}key 8B {2}value 4B {2}max_entries 16 {2}flags 0x1/);
  t.regex(dump.stdout, /lru_hash {2}name sources/);
  t.regex(dump.stdout, /devmap_hash {2}name ports/);
  t.regex(dump.stdout, /call bpf_xdp_load_bytes#189/);
  t.regex(dump.stdout, /call bpf_jiffies64#118/);
});

for (const engine of ['interp', 'jit']) {
  test(`prog run --no-verify --engine ${engine}: a fault names the address accessed (r1 + 200), exit 1`, (t) => {
    const r = vxo(['prog', 'run', join(FIX, 'pkt_oob.o'), '--data-in', pkt, '--no-verify', '--engine', engine]);
    t.is(r.status, 1);
    t.regex(r.stderr, /\nError: pc 1: invalid memory access: read of 1 bytes at r1\+200 = 0xffff0001000001c8 \(packet, valid 256\.\.316\)\n$/);
  });
}

test('prog run --no-verify on a rejected program: the rejection is a warning with the log, then it runs', (t) => {
  const r = vxo(['prog', 'run', join(FIX, 'pkt_unchecked.o'), '--data-in', pkt, '--no-verify']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^Return value: 2, duration: \d+ns\n$/);
  t.notRegex(r.stderr, /Error/);
  const lines = r.stderr.split('\n');
  t.is(lines[0], 'Warning: verifier rejected pkt_unchecked: invalid access to packet, off=0 size=1, R1(id=0,off=0,r=0); running it unverified (--no-verify)');
  t.is(lines[1], '-- BEGIN VERIFIER LOG --');
  t.true(lines.includes('invalid access to packet, off=0 size=1, R1(id=0,off=0,r=0)'));
  t.regex(r.stderr, /processed \d+ insns \(limit 1000000\)[^\n]*\n-- END VERIFIER LOG --\n$/);
  const accepted = vxo(['prog', 'run', `${XDP_DIR}xdp1.o`, '--data-in', pkt, '--no-verify']);
  t.is(accepted.stderr, '', 'nothing to warn about');
});

test('prog run: the lines a faulting program printed come before its error; with --json too', (t) => {
  const obj = join(FIX, 'trace_fault.o');
  const r = vxo(['prog', 'run', obj, '--data-in', pkt, '--no-verify']);
  t.is(r.status, 1);
  const lines = r.stderr.trimEnd().split('\n');
  t.regex(lines.at(-2)!, traceLine(r.pid, 'reading byte 200'));
  t.regex(lines.at(-1)!, /^Error: pc \d+: invalid memory access: read of 1 bytes at r\d\+200 = 0xffff0001000001c8/);
  // With --json there is no JSON to carry them: they go to stderr rather than nowhere.
  const j = vxo(['prog', 'run', obj, '--data-in', pkt, '--no-verify', '--json']);
  t.is(j.status, 1);
  t.is(j.stdout, '');
  t.regex(j.stderr.trimEnd().split('\n').at(-2)!, traceLine(j.pid, 'reading byte 200'));
});

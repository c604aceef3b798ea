// `vxo run` and `vxo table` as a user runs them: the documented JSON shapes, the HTML report, the
// pcap capture (read back by tcpdump where installed, by our own reader otherwise), exit codes,
// what is refused before any worker starts, --section, --trace, pcapng replay, table --prog.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPcapFile } from '../host/net/index.ts';
import { checkTableJson } from '../scenarios/report/index.ts';
import { padTo, tcp4Frame, udp4Frame } from './support/packets.ts';
import { PcapngBuilder } from './support/pcapng.ts';
import { REPO_ROOT } from './support/vm.ts';

const dir = mkdtempSync(join(tmpdir(), 'vxo-run-'));

function vxo(args: string[]): { status: number | null; stdout: string; stderr: string; ms: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/vxo.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 90_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

const TRACE_O = 'test/fixtures/trace/trace.o';
const SHORT = ['--duration', '0.2', '--warmup', '0'];

test.serial('vxo run --json has the documented shape and a balanced account', (t) => {
  const r = vxo(['run', 'case1', '--prog', 'xdp1', '--mode', 'offload', '--duration', '0.3', '--warmup', '0.1', '--json']);
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, unknown> & { accounting: Record<string, unknown>; counters: Record<string, number> };
  for (const k of ['scenario', 'prog', 'mode', 'mpps', 'packets', 'seconds', 'counters', 'accounting']) t.true(k in j, k);
  t.is(j['scenario'], 'case1');
  t.is(j['prog'], 'xdp1');
  t.is(j['mode'], 'offload');
  t.true((j['mpps'] as number) > 0);
  t.is(typeof j.accounting['generated'], 'number');
  t.is(j.accounting['generated'], j.accounting['accounted']);
  t.true(j.accounting['balanced']);
  t.true(j.counters['tap_xdp_drop']! > 0, 'the offloaded xdp1 dropped on the tap');
  t.is(j.counters['guest_rx_frames'], 0, 'nothing crossed into the guest');
});

test.serial('vxo run --pcap writes a capture that tcpdump (or our reader) opens', (t) => {
  const file = join(dir, 'tap.pcap');
  const r = vxo(['run', 'case2', '--prog', 'xdp2', '--duration', '0.2', '--warmup', '0.1', '--pcap', file, '--pcap-at', 'tap', '--pcap-count', '20']);
  t.is(r.status, 0, r.stderr);
  const pcap = readPcapFile(file);
  t.is(pcap.packets.length, 20);
  for (const p of pcap.packets) {
    t.is(p.data.length, 60);
    t.is(p.data[23], 17, 'IPv4 UDP');
  }
  const td = spawnSync('tcpdump', ['-nn', '-r', file], { encoding: 'utf8' });
  if (td.error) t.log(`tcpdump not installed (${td.error.message}): checked with our reader only`);
  else {
    t.is(td.status, 0, td.stderr);
    t.is(td.stdout.trim().split('\n').length, 20);
    t.regex(td.stdout, /IP 10\.0\.0\.1\.9 > 10\.0\.0\.2\.9: UDP/);
  }
});

test.serial('vxo run refuses a bad scenario, mode or capture point with exit 2', (t) => {
  t.is(vxo(['run', 'case3']).status, 2);
  t.is(vxo(['run', 'case1', '--mode', 'hw']).status, 2);
  t.is(vxo(['run', 'case1', '--pcap', join(dir, 'x.pcap'), '--pcap-at', 'wire']).status, 2);
  t.is(vxo(['run', 'case1', '--prog', join(dir, 'missing.o')]).status, 2);
});

test.serial('vxo table --json and --html for a subset of cells', (t) => {
  const json = join(dir, 't.json');
  const html = join(dir, 't.html');
  const r = vxo(['table', '--cells', '1/xdp1/native,1/xdp1/offload', '--duration', '0.3', '--warmup', '0.1', '--repeat', '1', '--json', json, '--html', html]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /redirected into tap/);
  const j = JSON.parse(readFileSync(json, 'utf8')) as { cells: { mpps: number; paper_mpps: number }[]; verdict: { status: string }; shared_machine: boolean };
  t.deepEqual(checkTableJson(j), []);
  t.is(j.cells.length, 2);
  for (const c of j.cells) t.true(c.mpps > 0);
  // Half the table: the verdict is there, incomplete; the flag says whether the machine was shared.
  t.is(j.verdict.status, 'incomplete');
  t.is(typeof j.shared_machine, 'boolean');
  t.is(r.stdout.startsWith('SHARED MACHINE'), j.shared_machine, 'the banner, first, exactly when the flag is set');
  // stderr is not a terminal here: plain progress lines, no bar.
  t.regex(r.stderr, /^vxo table: 2 cells x 1 run, starting with 1\/xdp1\/native\n/);
  t.regex(r.stderr, /vxo table: run 2\/2 done \(cell 2\/2 1\/xdp1\/offload, run 1\/1\): \d+\.\d\d Mpps, \d+:\d\d elapsed\n$/);
  t.false(r.stderr.includes('\x1b'), 'no escape codes in a log');
  const h = readFileSync(html, 'utf8');
  t.true((h.match(/<svg/g) ?? []).length >= 2, 'the charts are inline SVG');
  t.false(/(src|href)=["']https?:/.test(h), 'opens offline');
});

// --- refused before any worker starts ----------------------------------------------------------

test('bad options fail at once with exit 2, the range in the message, and nothing written', (t) => {
  const notPcap = join(dir, 'not.pcap');
  writeFileSync(notPcap, 'not a capture');
  const cases: [string[], RegExp][] = [
    [['run', 'case1', '--pkt-size', '100000'], /^Error: --pkt-size 100000: must be an integer from 60 to 1514 \(frame bytes without FCS/],
    [['run', 'case1', '--flows', '1000000000'], /^Error: --flows 1000000000: must be an integer from 1 to 65536/],
    [['run', 'case1', '--pcap', join(dir, 'c.pcap'), '--pcap-count', '1e12'], /^Error: --pcap-count 1000000000000: must be an integer from 1 to 100000/],
    [['run', 'case1', '--replay', join(dir, 'missing.pcap')], /^Error: --replay .*missing\.pcap: cannot read/],
    [['run', 'case1', '--replay', notPcap], /^Error: --replay .*not\.pcap: not a capture pktgen can replay \(pcap at byte 0: /],
    [['run', 'case1', '--flows', '1.5'], /^Error: --flows 1\.5: must be an integer/],
    [['run', 'case1', '--duration', 'two'], /^Error: --duration "two": not a number/],
    [['run', 'case1', '--vhost-poll-us', ''], /^Error: --vhost-poll-us "": not a number/],
    [['run', 'case1', '--pcap', join(dir, 'no/such/dir/c.pcap')], /^Error: --pcap .*c\.pcap: no directory /],
    [['run', 'case1', '--prog', TRACE_O, '--section', 'nope'], /^Error: --section nope: no program or section of that name in test\/fixtures\/trace\/trace\.o \(it has: xdp_trace_drop/],
    [['table', '--cells', ''], /^Error: --cells "": names no cell/],
    [['table', '--repeat', '0'], /^Error: --repeat 0: must be an integer from 1 to 100/],
    [['table', '--repeat', '1e9'], /^Error: --repeat 1000000000: /],
    [['table', '--repeat', '2.5'], /^Error: --repeat 2\.5: /],
    [['table', '--json', join(dir, 'no/such/dir/t.json')], /^Error: --json .*t\.json: no directory /],
    [['table', '--html', dir], /^Error: --html .*: exists and is not a regular file/],
  ];
  for (const [args, message] of cases) {
    const r = vxo(args);
    t.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, message, args.join(' '));
    t.is(r.stdout, '', args.join(' '));
  }
  t.false(existsSync(join(dir, 'c.pcap')), 'no capture file was created');
});

// --- one JSON document, the offload inside it --------------------------------------------------

test.serial('vxo run --json --show-offload: one JSON document, the offload dump under "offload"', (t) => {
  const r = vxo(['run', 'case1', '--prog', 'xdp1', '--mode', 'offload', ...SHORT, '--json', '--show-offload']);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trimEnd().split('\n').length, 1, 'one line: nothing after the document');
  const j = JSON.parse(r.stdout) as { offload: { program: { name: string; insnCount: number }; maps: { name: string; entries: { key: string; value: string }[] }[]; usage: { maps: number } } };
  t.is(j.offload.program.name, 'xdp1');
  t.true(j.offload.program.insnCount > 0);
  const rxcnt = j.offload.maps.find((m) => m.name === 'rxcnt');
  t.is(rxcnt?.entries.length, 256, 'every slot of the ARRAY');
  // UDP (17): the frames xdp1 counted on the tap, as hex of the bytes in memory order.
  t.is(rxcnt?.entries[17]?.key, '11000000');
  t.regex(rxcnt?.entries[17]?.value ?? '', /^[0-9a-f]{16}$/);
  t.not(rxcnt?.entries[17]?.value, '0000000000000000');
  t.is(j.offload.usage.maps, j.offload.maps.length);
});

// --- --section, --trace, pcapng -----------------------------------------------------------------

test.serial('vxo run --section picks the program; --trace prints its bpf_trace_printk lines on stderr, bounded', (t) => {
  const r = vxo(['run', 'case1', '--prog', TRACE_O, '--section', 'xdp_trace_drop', ...SHORT, '--trace', '--json']);
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { prog: string; section: string; counters: Record<string, number> };
  t.is(j.section, 'xdp_trace_drop');
  t.true(j.counters['guest_rx_xdp_drops']! > 0, 'the tracing program ran and dropped');
  const lines = r.stderr.split('\n').filter((l) => l.includes('bpf_trace_printk: '));
  t.true(lines.length > 0, r.stderr.slice(0, 2000));
  for (const l of lines) t.regex(l, /^ +guest-\d+ +\[000\] \.\.\.\.\. +\d+\.\d{6}: bpf_trace_printk: vxo-trace len=60$/);
  // Bounded: at most 100 lines a second from the guest over the whole process's life; the rest counted.
  t.true(lines.length <= 100 * Math.ceil(r.ms / 1000 + 1), `${lines.length} lines in ${r.ms.toFixed(0)} ms`);
  const suppressed = r.stderr.split('\n').filter((l) => / vxo: \d+ bpf_trace_printk lines? suppressed \(at most 100 a second per worker\)$/.test(l));
  const total = suppressed.reduce((n, l) => n + Number(/vxo: (\d+)/.exec(l)![1]), 0);
  t.is(lines.length + total, j.counters['guest_rx_xdp_packets'] ?? -1, 'every call is either printed or counted');

  // The other program of the same object, without --trace: it passes everything and stderr is quiet.
  const q = vxo(['run', 'case1', '--prog', TRACE_O, '--section', 'xdp_quiet_pass', ...SHORT, '--json']);
  t.is(q.status, 0, q.stderr);
  const k = JSON.parse(q.stdout) as { section: string; counters: Record<string, number> };
  t.is(k.section, 'xdp_quiet_pass');
  t.is(k.counters['guest_rx_xdp_drops'], 0);
  t.true(k.counters['guest_rx_packets']! > 0, 'XDP_PASS: up the guest stack');
  t.false(q.stderr.includes('bpf_trace_printk'));
});

test.serial('vxo run --replay reads pcapng (dumpcap\'s default format) as well as pcap', (t) => {
  const file = join(dir, 'mix.pcapng');
  const ng = new PcapngBuilder(false).shb().idb(1, 0, [[9, Uint8Array.of(9)]]);
  [padTo(udp4Frame()), padTo(tcp4Frame())].forEach((f, i) => ng.epb(0, BigInt(i) * 1000n, f));
  ng.spb(padTo(udp4Frame()));
  writeFileSync(file, ng.bytes());
  const r = vxo(['run', 'case2', '--replay', file, ...SHORT, '--json']);
  t.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { accounting: { generated: number; balanced: boolean } };
  t.true(j.accounting.generated > 0);
  t.true(j.accounting.balanced);
});

// --- table --prog --------------------------------------------------------------------------------

test.serial('vxo table --prog: the user\'s program in place of xdp1/xdp2, no RFC figures, said so', (t) => {
  const json = join(dir, 'user.json');
  const r = vxo(['table', '--prog', TRACE_O, '--section', 'xdp_quiet_pass', '--cells', '1/user/native', '--repeat', '1', ...SHORT, '--json', json]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /your program \(test\/fixtures\/trace\/trace\.o, section xdp_quiet_pass\), no RFC figure to compare with/);
  t.regex(r.stdout, /1 redirected into tap +│ test\/fixtures\/trace\/trace\.o, section xdp_quiet_pass +│ +\d+\.\d\d │ +n\/a │ +n\/a │ +n\/a │ +n\/a │/);
  t.true(r.stdout.includes('the RFC has no figure for it'));
  t.false(r.stdout.includes('Shape '));
  const j = JSON.parse(readFileSync(json, 'utf8')) as { program: unknown; verdict: unknown; cells: { prog: string; paper_mpps: unknown; mpps: number }[] };
  t.deepEqual(checkTableJson(j), []);
  t.deepEqual(j.program, { object: TRACE_O, section: 'xdp_quiet_pass' });
  t.is(j.verdict, null);
  t.like(j.cells[0], { prog: 'user', paper_mpps: null });
  t.true(j.cells[0]!.mpps > 0);
});

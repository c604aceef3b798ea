// What a run refuses before any worker starts (RunError EINVAL/ENOENT, exit 2 on the command line):
// every number against its range, the program and section, the capture to replay, the files the
// run will write. None of these tests starts a worker: a check that let a value through would
// start one, and the failure would then be a WorkerFailed, not a RunError.
import test from 'ava';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePcap } from '../../host/net/index.ts';
import { describeLimit, RUN_LIMITS } from '../../scenarios/run/limits.ts';
import { checkOutputPath } from '../../scenarios/run/output-path.ts';
import { resolveProgram } from '../../scenarios/run/programs.ts';
import { checkRunCase, runCase, type RunCaseOptions } from '../../scenarios/run/run-case.ts';
import { RunError } from '../../scenarios/run/run-error.ts';
import { checkTable, runTable, selectCells, type TableRunOptions } from '../../scenarios/run/table.ts';
import { padTo, udp4Frame } from '../support/packets.ts';
import { REPO_ROOT } from '../support/vm.ts';

const dir = mkdtempSync(join(tmpdir(), 'vxo-checks-'));
const TRACE_O = join(REPO_ROOT, 'test/fixtures/trace/trace.o');
const MULTI_O = join(REPO_ROOT, 'test/fixtures/elf/multi.o');

const base: RunCaseOptions = { case: 1, prog: 'xdp1', mode: 'native', duration: 0.2, warmup: 0 };

async function refused(t: import('ava').ExecutionContext, o: Partial<RunCaseOptions>, code: 'EINVAL' | 'ENOENT', message: RegExp): Promise<void> {
  const opts = { ...base, ...o } as RunCaseOptions;
  const e = t.throws(() => checkRunCase(opts), { instanceOf: RunError });
  t.is(e?.code, code, e?.message);
  t.regex(e?.message ?? '', message);
  // runCase itself refuses the same way: it runs checkRunCase before it creates anything.
  const e2 = await t.throwsAsync(runCase(opts), { instanceOf: RunError });
  t.is(e2?.message, e?.message);
}

test('numbers out of range, with the range in the message', async (t) => {
  await refused(t, { pktSize: 100000 }, 'EINVAL', /^--pkt-size 100000: must be an integer from 60 to 1514 \(frame bytes without FCS/);
  await refused(t, { pktSize: 59 }, 'EINVAL', /^--pkt-size 59: /);
  await refused(t, { pktSize: 64.5 }, 'EINVAL', /^--pkt-size 64.5: must be an integer/);
  await refused(t, { flows: 1_000_000_000 }, 'EINVAL', /^--flows 1000000000: must be an integer from 1 to 65536/);
  await refused(t, { flows: 0 }, 'EINVAL', /^--flows 0: /);
  await refused(t, { flows: 2.5 }, 'EINVAL', /^--flows 2.5: /);
  await refused(t, { duration: 0 }, 'EINVAL', /^--duration 0: must be a number above 0 to 86400/);
  await refused(t, { duration: NaN }, 'EINVAL', /^--duration NaN: /);
  await refused(t, { duration: 1e9 }, 'EINVAL', /^--duration 1000000000: /);
  await refused(t, { warmup: -1 }, 'EINVAL', /^--warmup -1: /);
  await refused(t, { vhostPollUs: 0.5 }, 'EINVAL', /^--vhost-poll-us 0.5: must be an integer from 0 to 1000000/);
  await refused(t, { ratePps: 0 }, 'EINVAL', /^--line-rate 0: /);
  await refused(t, { count: -1 }, 'EINVAL', /^count -1: /);
  await refused(t, { queueSize: 100 }, 'EINVAL', /^queueSize 100: must be a power of two/);
  await refused(t, { engine: 'llvm' as never }, 'EINVAL', /^--engine llvm: jit or interp/);
  await refused(t, { mode: 'hw' as never }, 'EINVAL', /^--mode hw: native or offload/);
  await refused(t, { case: 3 as never }, 'EINVAL', /^case 3: 1 or 2/);
});

test('the capture: count, point and file', async (t) => {
  const file = join(dir, 'cap.pcap');
  await refused(t, { pcap: { file, at: 'tap', count: 1e12 } }, 'EINVAL', /^--pcap-count 1000000000000: must be an integer from 1 to 100000 \(frames to capture, each a 2 KiB slot/);
  await refused(t, { pcap: { file, at: 'tap', count: 0 } }, 'EINVAL', /^--pcap-count 0: /);
  await refused(t, { pcap: { file, at: 'wire' as never } }, 'EINVAL', /^--pcap-at wire: nic, tap or guest/);
  await refused(t, { pcap: { file: join(dir, 'no/such/dir/cap.pcap'), at: 'tap' } }, 'ENOENT', /^--pcap .*cap\.pcap: no directory .*no\/such\/dir$/);
  await refused(t, { pcap: { file: dir, at: 'tap' } }, 'EINVAL', /: exists and is not a regular file$/);
});

test('--replay: missing, not a capture, empty, a frame pktgen cannot send', async (t) => {
  await refused(t, { replayPcap: join(dir, 'missing.pcap') }, 'ENOENT', /^--replay .*missing\.pcap: cannot read/);
  const notPcap = join(dir, 'not.pcap');
  writeFileSync(notPcap, 'hello, world\n');
  await refused(t, { replayPcap: notPcap }, 'EINVAL', /^--replay .*not\.pcap: not a capture pktgen can replay \(pcap at byte 0: magic 0x6c6c6568/);
  const empty = join(dir, 'empty.pcap');
  writeFileSync(empty, writePcap([]));
  await refused(t, { replayPcap: empty }, 'EINVAL', /: the pcap file holds no packets$/);
  const huge = join(dir, 'jumbo.pcap');
  writeFileSync(huge, writePcap([{ data: padTo(udp4Frame()) }, { data: new Uint8Array(9000) }]));
  await refused(t, { replayPcap: huge }, 'EINVAL', /: packet 1 has 9000 bytes; pktgen replays frames of 14 to 1518 bytes/);
});

test('the program and its section', async (t) => {
  await refused(t, { prog: join(dir, 'missing.o') }, 'ENOENT', /^--prog .*missing\.o: not xdp1, xdp2 or an object file that exists/);
  const notElf = join(dir, 'not.o');
  writeFileSync(notElf, 'not an ELF');
  await refused(t, { prog: notElf }, 'EINVAL', /^--prog .*not\.o: not a BPF object vxo can load/);
  await refused(t, { prog: TRACE_O, section: 'nope' }, 'ENOENT', /^--section nope: no program or section of that name in .*trace\.o \(it has: xdp_trace_drop \(section xdp\), xdp_quiet_pass \(section xdp\)\)/);
  await refused(t, { prog: MULTI_O, section: 'tc_ok' }, 'EINVAL', /^--section tc_ok: tc_ok \(section tc\) is not an XDP program/);
  await refused(t, { prog: 'xdp1', section: '' }, 'EINVAL', /^--section: an empty name/);
  // What passes: a function name, a section name (its first program), the default.
  t.like(resolveProgram(TRACE_O, 'xdp_quiet_pass'), { object: TRACE_O, section: 'xdp_quiet_pass', bench: undefined });
  t.like(resolveProgram(MULTI_O, 'xdp/redirect'), { section: 'xdp/redirect' });
  t.like(resolveProgram('xdp1'), { label: 'xdp1', section: undefined, bench: 'xdp1' });
  t.like(resolveProgram('xdp2', 'xdp2'), { bench: 'xdp2' }, 'xdp2 named by its own function is still the benchmark program');
});

const table: TableRunOptions = {
  duration: 0.2, warmup: 0, repeat: 1, vhostPollUs: 0, engine: 'jit', ratePps: undefined, lineRate: null, pktSize: 60, flows: 1, progress: false,
};

async function tableRefused(t: import('ava').ExecutionContext, o: Partial<TableRunOptions>, code: 'EINVAL' | 'ENOENT', message: RegExp): Promise<void> {
  const opts = { ...table, ...o };
  const e = t.throws(() => checkTable(opts), { instanceOf: RunError });
  t.is(e?.code, code, e?.message);
  t.regex(e?.message ?? '', message);
  await t.throwsAsync(runTable(opts), { instanceOf: RunError, message: e?.message });
}

test('vxo table: --repeat, --cells, --prog and --section before the first run', async (t) => {
  for (const repeat of [0, 1e9, 1.5, NaN, -3]) {
    await tableRefused(t, { repeat }, 'EINVAL', new RegExp(`^--repeat ${String(repeat)}: must be an integer from 1 to 100 \\(runs per cell\\)`));
  }
  await tableRefused(t, { cells: '' }, 'EINVAL', /^--cells "": names no cell \(e\.g\. 1\/xdp1\/offload\)/);
  await tableRefused(t, { cells: ' , ' }, 'EINVAL', /^--cells " , ": names no cell/);
  await tableRefused(t, { cells: '1/xdp3/native' }, 'EINVAL', /^--cells: unknown cell\(s\) 1\/xdp3\/native/);
  await tableRefused(t, { pktSize: 100000 }, 'EINVAL', /^--pkt-size 100000: /);
  await tableRefused(t, { section: 'xdp_drop' }, 'EINVAL', /^--section: only with --prog OBJ/);
  await tableRefused(t, { prog: join(dir, 'missing.o') }, 'ENOENT', /^--prog .*missing\.o: /);
  await tableRefused(t, { prog: 'xdp2' }, 'EINVAL', /^--prog xdp2: the table runs xdp1 and xdp2 already/);
  await tableRefused(t, { prog: TRACE_O, section: 'nope' }, 'ENOENT', /^--section nope: /);
  await tableRefused(t, { prog: TRACE_O, cells: '1/xdp1/native' }, 'EINVAL', /^--cells: unknown cell\(s\) 1\/xdp1\/native \(e\.g\. 1\/user\/offload\)/);
  // The user's program: four cells named 'user'.
  t.deepEqual(checkTable({ ...table, prog: TRACE_O, section: 'xdp_quiet_pass' }).program, { object: TRACE_O, section: 'xdp_quiet_pass' });
  t.deepEqual(selectCells(undefined, ['user']).map((k) => `${k.case}/${k.prog}/${k.mode}`), ['1/user/native', '1/user/offload', '2/user/native', '2/user/offload']);
  t.is(selectCells(undefined).length, 8);
});

test('output files: a missing directory, a directory, an unwritable place; nothing created or truncated', (t) => {
  const keep = join(dir, 'keep.json');
  writeFileSync(keep, 'precious');
  checkOutputPath(keep, '--json');
  t.is(readFileSync(keep, 'utf8'), 'precious', 'an existing file is left as it is');
  const fresh = join(dir, 'fresh.json');
  checkOutputPath(fresh, '--json');
  t.throws(() => readFileSync(fresh, 'utf8'), undefined, 'nothing is created');
  t.like(t.throws(() => checkOutputPath(join(dir, 'nope', 'x.json'), '--json'), { instanceOf: RunError }), { code: 'ENOENT' });
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  t.like(t.throws(() => checkOutputPath(sub, '--html'), { instanceOf: RunError }), { code: 'EINVAL', message: `--html ${sub}: exists and is not a regular file` });
  t.like(t.throws(() => checkOutputPath(join(keep, 'x.json'), '--json'), { instanceOf: RunError }), { code: 'EINVAL' });
  t.like(t.throws(() => checkOutputPath('', '--json'), { instanceOf: RunError }), { code: 'EINVAL' });
  // A directory without write permission: root writes there anyway, so only checked when it cannot.
  const ro = join(dir, 'read-only');
  mkdirSync(ro, { mode: 0o555 });
  let writable = true;
  try { accessSync(ro, constants.W_OK); } catch { writable = false; }
  if (writable) t.log('running as root: a read-only directory is writable, not checked');
  else t.like(t.throws(() => checkOutputPath(join(ro, 'x.json'), '--json'), { instanceOf: RunError }), { code: 'EINVAL', message: /cannot create files in .*read-only \(EACCES\)$/ });
});

test('every limit is described with its range', (t) => {
  t.is(describeLimit(RUN_LIMITS.pktSize), 'an integer from 60 to 1514 (frame bytes without FCS, pktgen\'s pkt_size)');
  t.is(describeLimit(RUN_LIMITS.duration), 'a number above 0 to 86400 (seconds of measured window)');
});

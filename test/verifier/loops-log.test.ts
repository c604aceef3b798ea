// Loops and the verifier log's levels: an infinite loop found as the kernel finds it (the loop
// head's state equal to the previous iteration's, the counter imprecise), a long finite loop
// refused at the budget with a bounded log, level 1 of an accepted program (the closing line
// alone), level 4 (statistics) and BTF line info in the log.
import test from 'ava';
import { join } from 'node:path';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { bpfProgTestRun } from '../../bpf-vm/prog/test-run.ts';
import { verifyProgram, VerifierError, type VerifierLogLevel } from '../../bpf-vm/verifier/index.ts';
import { udp64 } from '../support/packets.ts';
import { REPO_ROOT } from '../support/vm.ts';
import { caseProgram } from './support.ts';

const FIX = join(REPO_ROOT, 'test/fixtures/verifier-log');
const load = (path: string): Program => loadObjectFile(path).program();
const infiniteLoop = (): Program => load(join(FIX, 'infinite_loop.o'));
const longLoop = (): Program => load(join(FIX, 'long_loop.o'));
const xdp1 = (): Program => load(join(REPO_ROOT, 'scenarios/xdp/xdp1.o'));

const CLOSING = /^processed \d+ insns \(limit 1000000\) max_states_per_insn \d+ total_states \d+ peak_states \d+ mark_read 0$/;
const STATE = 'R1=scalar(smin=smin32=0,smax=umax=umax32=0x7fffffff,var_off=(0x0; 0x7fffffff)) R2=0 R10=fp0 fp-8=mmmm????';

function reject(p: Program, logLevel: VerifierLogLevel, logSize?: number): VerifierError {
  try {
    verifyProgram(p, logSize === undefined ? { logLevel } : { logLevel, logSize });
  } catch (e) {
    if (e instanceof VerifierError) return e;
    throw e;
  }
  throw new Error(`${p.name} was accepted`);
}

test('while (i >= 0) i++ with a volatile i: the kernel\'s infinite loop, found after a few dozen instructions', (t) => {
  const e = reject(infiniteLoop(), 1);
  t.is(e.code, 'EINVAL');
  t.is(e.message, 'infinite loop detected at insn 6');
  // The kernel (6.18) processes 32 instructions; walking the budget would be 1000001.
  t.is(e.processed, 32);
  t.true(e.log.endsWith(`; i++; @ infinite_loop.c:15\ninfinite loop detected at insn 6\ncur state: ${STATE}\nold state: ${STATE}\n` +
    'processed 32 insns (limit 1000000) max_states_per_insn 1 total_states 2 peak_states 2 mark_read 0\n'), e.log);
  // A 4-byte store at fp-4 is not a spill (the kernel spills only at a slot's start): data bytes.
  t.true(e.log.includes('8: (63) *(u32 *)(r10 -4) = r1         ; R1=1 R10=fp0 fp-8=mmmm????\n'));
  t.is(reject(infiniteLoop(), 0).processed, 32);
});

test('a loop of two million iterations: refused at the budget, the level 1 log bounded by logSize', (t) => {
  const e = reject(longLoop(), 1, 64 * 1024);
  t.is(e.code, 'E2BIG');
  t.is(e.message, 'BPF program is too large. Processed 1000001 insn');
  t.is(e.processed, 1000001);
  t.true(e.log.length <= 64 * 1024, `${e.log.length} bytes`);
  // The tail is kept: the last instructions of the path, the error and the closing line.
  const lines = e.log.trimEnd().split('\n');
  t.is(lines.at(-2), 'BPF program is too large. Processed 1000001 insn');
  t.regex(lines.at(-1)!, CLOSING);
  t.regex(lines.at(-3)!, /^\d+: \(\w\w\) /);
});

test('the long loop ends: both engines run its two million iterations unverified', (t) => {
  for (const engine of ['interp', 'jit'] as const) {
    const r = bpfProgTestRun(longLoop(), { dataIn: udp64(), engine, verify: false });
    // sum of 0..1999999 (mod 2^32) is even: XDP_PASS.
    t.is(r.retval, 2, engine);
  }
});

test('level 1 of an accepted program is the kernel\'s closing line alone; level 0 is empty', (t) => {
  const r = verifyProgram(xdp1(), { logLevel: 1 });
  t.is(r.log, 'processed 157 insns (limit 1000000) max_states_per_insn 2 total_states 14 peak_states 14 mark_read 0\n');
  t.is(verifyProgram(xdp1(), { logLevel: 0 }).log, '');
  const tiny = verifyProgram(caseProgram({ src: 'mov %r0, 2\nexit' }), { logLevel: 1 });
  t.is(tiny.log, 'processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n');
});

test('level 4 (BPF_LOG_STATS): verification time, stack depth, the closing line; 5 and 6 combine', (t) => {
  for (const level of [4, 5] as const) {
    const lines = verifyProgram(xdp1(), { logLevel: level }).log.trimEnd().split('\n');
    t.is(lines.length, 3, `level ${level}`);
    t.regex(lines[0]!, /^verification time \d+ usec$/);
    t.is(lines[1], 'stack depth 8');
    t.regex(lines[2]!, CLOSING);
  }
  const six = verifyProgram(xdp1(), { logLevel: 6 }).log.trimEnd().split('\n');
  t.is(six[0], '0: R1=ctx() R10=fp0');
  t.regex(six.at(-3)!, /^verification time \d+ usec$/);
  t.is(six.at(-2), 'stack depth 8');
  // A rejection at level 4: the error, then the statistics (no instructions).
  const e = reject(caseProgram({ src: 'ldxw %r2, [%r1+0]\nldxb %r0, [%r2+0]\nexit' }), 4);
  const el = e.log.trimEnd().split('\n');
  t.is(el[0], 'invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)');
  t.is(el[1], 'R2 offset is outside of the packet');
  t.regex(el[2]!, /^verification time \d+ usec$/);
  t.is(el[3], 'stack depth 0');
  t.regex(el[4]!, CLOSING);
  // Subprograms: one depth each, joined with '+'.
  const sub = caseProgram({ src: 'stw [%r10-8], 0\ncall f\nmov %r0, 2\nexit\nf:\nstdw [%r10-16], 0\nmov %r0, 0\nexit' });
  t.true(verifyProgram(sub, { logLevel: 4 }).log.includes('\nstack depth 8+16\n'));
});

test('BTF line info: level 2 prints each source line before the instructions it starts, as the kernel', (t) => {
  const log = verifyProgram(xdp1(), { logLevel: 2 }).log;
  t.true(log.startsWith('0: R1=ctx() R10=fp0\n; void *data_end = (void *)(long)ctx->data_end; @ xdp1.c:22\n0: (61) r2 = *(u32 *)(r1 +4)'));
  t.true(log.includes('\n; void *data = (void *)(long)ctx->data; @ xdp1.c:23\n1: (61) r1 = *(u32 *)(r1 +0)'));
  // Two records of one line (different columns) print once: 2-4 are all proto_parse.h:47.
  t.true(log.includes('\n; if (data + off > data_end) @ proto_parse.h:47\n2: (bf) r3 = r1                       ; R1=pkt(r=0) R3=pkt(r=0)\n3: (07) r3 += 14'));
  t.true(log.includes('\n; p = eth->h_proto; @ proto_parse.h:49\n5: (71) r3 = *(u8 *)(r1 +12)'));
  // A hand-assembled program has no line info, and no ';' lines.
  t.notRegex(verifyProgram(caseProgram({ src: 'mov %r0, 2\nexit' }), { logLevel: 2 }).log, /^; /m);
});

test('line info is read from .BTF.ext and moved with the functions a program links', (t) => {
  const p = xdp1();
  t.truthy(p.lineInfo);
  const first = p.lineInfo![0]!;
  t.deepEqual(first, { insn: 0, fileName: './xdp1.c', line: '\tvoid *data_end = (void *)(long)ctx->data_end;', lineNum: 22, lineCol: 38 });
  const insns = p.lineInfo!.map((l) => l.insn);
  t.deepEqual(insns, [...insns].sort((a, b) => a - b));
  t.true(insns.every((i) => i < p.insns.length));
  // A subprogram from .text: its records land where it was appended.
  const sub = loadObjectFile(join(REPO_ROOT, 'test/corpus/c/subprog.o')).program();
  if (sub.funcs.length > 1) {
    const start = sub.funcs[1]!.start;
    t.true(sub.lineInfo!.some((l) => l.insn === start), 'a record at the subprogram\'s first slot');
  } else t.pass();
});

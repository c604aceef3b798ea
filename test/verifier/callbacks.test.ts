// bpf_loop and bpf_for_each_map_elem (issue 14): callbacks verified as subprogram frames, run by both
// engines. Processed counts and messages are the kernel's (6.18, recorded from test/kernel/callbacks-kernel.test.ts);
// return values are what BPF_PROG_TEST_RUN gave on the kernel for the same frames.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { bpfProgTestRun } from '../../bpf-vm/prog/test-run.ts';
import { verifyProgram, VerifierError } from '../../bpf-vm/verifier/index.ts';
import { BPF_PSEUDO_LD } from '../../bpf-vm/isa/opcodes.ts';
import { CALLBACK_PROGRAMS, CALLBACK_REFUSED } from './callbacks-cases.ts';

const DIR = fileURLToPath(new URL('../fixtures/callbacks/', import.meta.url));
const REFUSED = fileURLToPath(new URL('../fixtures/callbacks-refused/', import.meta.url));
const frame = (n: number): Uint8Array => new Uint8Array(n).map((_, i) => i + 1);

test('the ELF loader turns a function address into ld_imm64 BPF_PSEUDO_FUNC with the distance to the callback', (t) => {
  const p = loadObjectFile(`${DIR}loop_sum.o`).program('loop_sum');
  const pc = p.insns.findIndex((i) => i.code === 0x18 && i.src === BPF_PSEUDO_LD.BPF_PSEUDO_FUNC);
  t.true(pc >= 0);
  const target = pc + 1 + p.insns[pc]!.imm;
  t.is(p.insns[pc + 1]!.imm, 0);
  t.true(p.funcs.some((f) => f.start === target && f.name === 'sum_byte'), JSON.stringify(p.funcs));
});

for (const c of CALLBACK_PROGRAMS) {
  test(`${c.prog}: accepted, processed count, same return values on both engines as the kernel`, (t) => {
    const v = verifyProgram(loadObjectFile(`${DIR}${c.obj}.o`).program(c.prog));
    t.is(v.stats.processed, c.vxoProcessed ?? c.processed);
    for (const engine of ENGINES) {
      for (const [n, want] of [[60, c.ret60], [20, c.ret20]] as const) {
        const r = bpfProgTestRun(loadObjectFile(`${DIR}${c.obj}.o`).program(c.prog), { dataIn: frame(n), engine });
        t.is(r.retval, want, `${engine}, ${n} bytes`);
      }
    }
  });
}

for (const c of CALLBACK_REFUSED) {
  test(`${c.obj}: refused with the kernel's '${c.message}'`, (t) => {
    const e = t.throws(() => verifyProgram(loadObjectFile(`${REFUSED}${c.obj}.o`).program(), { logLevel: 1 }), { instanceOf: VerifierError })!;
    t.is(e.message, c.message);
    t.is(e.processed, c.processed);
  });
}

test('level 2 log: the callback frame as the kernel prints it', (t) => {
  const log = verifyProgram(loadObjectFile(`${DIR}loop_sum.o`).program('loop_sum'), { logLevel: 2 }).log;
  for (const line of [
    '10: (18) r2 = 0xb                     ; R2=func()',
    '13: (85) call bpf_loop#181',
    '14: R0=scalar() R10=fp0 fp-8=????0000 fp-16=00000000 fp-24=pkt_end() fp-32=pkt(r=0)',
    'from 13 to 22: frame1: R1=scalar() R2=fp[0]-32 R10=fp0 cb',
    '23: (79) r3 = *(u64 *)(r2 +0)         ; frame1: R2=fp[0]-32 R3=pkt(r=0) cb',
    'to caller at 13:',
    'from 38 to 13: safe',
  ]) t.true(log.split('\n').includes(line), line);
});

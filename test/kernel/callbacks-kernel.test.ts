// bpf_loop and bpf_for_each_map_elem against the kernel (npm run test:kernel): each fixture's verdict,
// processed count and BPF_PROG_TEST_RUN return values, and the refusals' messages, beside vxo's
// (both engines). The per-CPU array program is verified by the kernel but not run: the harness
// does not dump per-CPU maps.
import { fileURLToPath } from 'node:url';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { bpfProgTestRun } from '../../bpf-vm/prog/test-run.ts';
import { verifyProgram, VerifierError } from '../../bpf-vm/verifier/index.ts';
import { kernelTestRun, kernelVerify } from '../support/kernel.ts';
import { kernelTest } from '../support/kernel-test.ts';
import { CALLBACK_PROGRAMS, CALLBACK_REFUSED, LOOP_SUM_LOG_LINES } from '../verifier/callbacks-cases.ts';

const DIR = fileURLToPath(new URL('../fixtures/callbacks/', import.meta.url));
const REFUSED = fileURLToPath(new URL('../fixtures/callbacks-refused/', import.meta.url));
const frame = (n: number): Uint8Array => new Uint8Array(n).map((_, i) => i + 1);

for (const obj of [...new Set(CALLBACK_PROGRAMS.map((c) => c.obj))]) {
  kernelTest(`${obj}: the kernel accepts every program with the processed counts vxo records`, (t) => {
    const k = kernelVerify(`${DIR}${obj}.o`);
    t.true(k.accepted, k.log.split('\n').slice(-5).join('\n'));
    const progs = CALLBACK_PROGRAMS.filter((c) => c.obj === obj);
    const counts = k.processedByProgram ?? [];
    for (const c of progs) t.true(counts.includes(c.processed), `${c.prog}: ${c.processed} not in ${counts.join(',')}`);
  });
}

for (const c of CALLBACK_PROGRAMS.filter((x) => x.obj !== 'for_each_percpu')) {
  kernelTest(`${c.prog}: same return values as the kernel's test run on both engines`, (t) => {
    const obj = `${DIR}${c.obj}.o`;
    for (const n of [60, 20]) {
      const kr = kernelTestRun(obj, { program: c.prog, dataIn: frame(n) });
      for (const engine of ENGINES) {
        t.is(bpfProgTestRun(loadObjectFile(obj).program(c.prog), { dataIn: frame(n), engine }).retval, kr.retval, `${engine}, ${n} bytes`);
      }
    }
  });
}

for (const c of CALLBACK_REFUSED) {
  kernelTest(`${c.obj}: the kernel and vxo refuse it with '${c.message}' after the same instructions`, (t) => {
    const k = kernelVerify(`${REFUSED}${c.obj}.o`);
    t.false(k.accepted);
    t.true(k.log.includes(`\n${c.message}\n`), k.log.split('\n').slice(-8).join('\n'));
    t.is(k.processed, c.processed);
    const e = t.throws(() => verifyProgram(loadObjectFile(`${REFUSED}${c.obj}.o`).program(), { logLevel: 1 }), { instanceOf: VerifierError })!;
    t.is(e.message, c.message);
  });
}

kernelTest('raw instructions taking a function address: missing btf func_info in both, after the same instructions', async (t) => {
  const { assemble } = await import('../../bpf-vm/asm/assembler.ts');
  const { kernelVerifyInsns } = await import('../support/kernel.ts');
  const { RAW_CALLBACK_PROGRAM } = await import('../verifier/callbacks-cases.ts');
  const k = kernelVerifyInsns(assemble(RAW_CALLBACK_PROGRAM));
  t.false(k.accepted);
  t.is(k.errno, 'EINVAL');
  t.true(k.log.includes('\nmissing btf func_info\n'), k.log);
  t.is(k.processed, 2);
});

kernelTest('loop_sum\'s level-2 log: the callback frame\'s lines vxo prints are in the kernel\'s log', (t) => {
  const k = kernelVerify(`${DIR}loop_sum.o`);
  const lines = new Set(k.log.split('\n'));
  const vxo = new Set(verifyProgram(loadObjectFile(`${DIR}loop_sum.o`).program('loop_sum'), { logLevel: 2 }).log.split('\n'));
  for (const l of LOOP_SUM_LOG_LINES) {
    t.true(lines.has(l), `kernel: ${l}`);
    t.true(vxo.has(l), `vxo: ${l}`);
  }
});

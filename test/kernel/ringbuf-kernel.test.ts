// RINGBUF against the kernel (npm run test:kernel): the fixtures' verdicts, processed-instruction
// counts and BPF_PROG_TEST_RUN return values, and the hand-assembled rejections' messages. The
// kernel's records cannot be read through bpftool (they are mmap'ed), so what a run wrote is
// compared through the return values: bytes the ring holds (bpf_ringbuf_query) and records that fit.
import { fileURLToPath } from 'node:url';
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { bpfProgTestRun } from '../../bpf-vm/prog/test-run.ts';
import { verifyProgram } from '../../bpf-vm/verifier/index.ts';
import { kernelTestRun, kernelVerify, kernelVerifyInsns } from '../support/kernel.ts';
import { kernelTest } from '../support/kernel-test.ts';
import { RINGBUF_REJECTS } from '../ringbuf/cases.ts';

const DIR = fileURLToPath(new URL('../fixtures/ringbuf/', import.meta.url));
const frame = (): Uint8Array => new Uint8Array(60).map((_, i) => i + 1);

for (const f of ['ringbuf_events', 'ringbuf_fill']) {
  kernelTest(`${f}: same verdict, processed count and return values as the kernel`, (t) => {
    const obj = `${DIR}${f}.o`;
    const k = kernelVerify(obj);
    t.true(k.accepted);
    const v = verifyProgram(loadObjectFile(obj).program(), { logLevel: 0 });
    t.is(v.stats.processed, k.processed ?? -1);
    for (const repeat of [1, 2]) {
      const kr = kernelTestRun(obj, { dataIn: frame(), repeat });
      for (const engine of ENGINES) {
        const prog = loadObjectFile(obj).program();
        let retval = 0;
        for (let i = 0; i < repeat; i++) retval = bpfProgTestRun(prog, { dataIn: frame(), engine }).retval;
        t.is(retval, kr.retval, `${engine}, repeat ${repeat}`);
      }
    }
  });
}

for (const c of RINGBUF_REJECTS) {
  kernelTest(`the kernel rejects ${c.name} with '${c.expect}'`, (t) => {
    const ids: Record<string, number> = { rb: 3, arr: 4 };
    const insns = assemble(c.asm, { mapId: (name) => ids[name] });
    const k = kernelVerifyInsns(insns, {
      maps: [
        { type: 27, keySize: 0, valueSize: 0, maxEntries: 4096 },
        { type: 2, keySize: 4, valueSize: 8, maxEntries: 1 },
      ],
    });
    t.false(k.accepted);
    t.true(k.log.includes(c.expect), k.log.split('\n').slice(-6).join('\n'));
  });
}

// Per-instruction semantics: every case of test/corpus/asm on every engine.
import test from 'ava';
import { ENGINES } from '../bpf-vm/engines.ts';
import { assemble } from '../bpf-vm/asm/assembler.ts';
import { runPlain } from '../bpf-vm/prog/plain-run.ts';
import { BpfError } from '../bpf-vm/errors.ts';
import { loadAsmCorpus } from './corpus/asm/corpus.ts';

const cases = loadAsmCorpus();
const hex = (v: bigint): string => `0x${v.toString(16)}`;

test('asm corpus: every file parses and the corpus is complete', (t) => {
  t.true(cases.length >= 200, `only ${cases.length} cases`);
  for (const c of cases) t.true((c.result === undefined) !== (c.error === undefined), c.name);
});

for (const engine of ENGINES) {
  for (const c of cases) {
    test(`${engine}: ${c.name}`, async (t) => {
      const insns = c.raw ?? assemble(c.asm);
      // A fresh copy for every run: programs store into their input memory.
      const mem = c.mem.slice();
      let r0: bigint;
      try {
        r0 = await runPlain(insns, mem, { engine });
      } catch (err) {
        if (c.error === undefined) throw err;
        t.true(err instanceof BpfError, `expected a BpfError, got ${String(err)}`);
        const message = err instanceof Error ? err.message : String(err);
        t.true(message.includes(c.error), `expected an error containing "${c.error}", got "${message}"`);
        return;
      }
      if (c.error !== undefined) {
        t.fail(`expected an error containing "${c.error}", but r0 = ${hex(r0)}`);
      } else if (c.result !== undefined) {
        t.is(hex(r0), hex(c.result));
      }
    });
  }
}

// test/verifier-selftests against the kernel (npm run test:kernel): the kernel must do what each
// program's annotations say (so that they state the kernel's behaviour), and vxo is compared with
// the kernel program by program. The figures (agreement, "vxo accepts what the kernel rejects",
// "vxo rejects what the kernel accepts") are logged; soundness disagreements must be none.
import { join } from 'node:path';
import { kernelTestRun, kernelVerify } from '../support/kernel.ts';
import { kernelTest } from '../support/kernel-test.ts';
import {
  compareWithKernel, DELIBERATE, disagreements, SELFTEST_DIR, SELFTEST_FRAME, selftestPrograms, vxoOutcome, type Verdict,
} from '../verifier-selftests/annotations.ts';

const programs = selftestPrograms();

kernelTest('verifier selftests: the kernel agrees with every annotation, vxo with the kernel (soundness: no exception)', (t) => {
  const byVerdict: Record<Verdict, string[]> = { agree: [], unsound: [], strict: [], other: [] };
  for (const e of programs) {
    const obj = join(SELFTEST_DIR, `${e.file}.o`);
    const k = kernelVerify(obj);
    const retval = k.accepted && e.retval !== undefined && e.section.startsWith('xdp') ? kernelTestRun(obj, { dataIn: SELFTEST_FRAME }).retval : undefined;
    const kd = disagreements(e, { accepted: k.accepted, log: k.log, retvals: retval === undefined ? {} : { interp: retval } });
    t.deepEqual(kd, [], `${e.program}: the kernel departs from its annotations`);
    const v = compareWithKernel(vxoOutcome(e), { accepted: k.accepted, log: k.log, retval }, e);
    byVerdict[v].push(e.program);
  }
  t.log(`${byVerdict.agree.length}/${programs.length} agree with the kernel`);
  t.log(`vxo accepts what the kernel rejects (soundness): ${byVerdict.unsound.join(', ') || 'none'}`);
  t.log(`vxo rejects what the kernel accepts: ${byVerdict.strict.map((p) => `${p} (${DELIBERATE[p] ?? 'not deliberate'})`).join('; ') || 'none'}`);
  t.log(`same verdict, other message or return value: ${byVerdict.other.join(', ') || 'none'}`);
  t.deepEqual(byVerdict.unsound, []);
  t.deepEqual(byVerdict.strict.filter((p) => DELIBERATE[p] === undefined), []);
  t.deepEqual(byVerdict.other, []);
});

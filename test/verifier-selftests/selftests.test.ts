// The annotated verifier tests of this directory against vxo: each program's verdict, messages and
// test-run return value (both engines) as its annotations say, except where vxo departs from the
// kernel on purpose (DELIBERATE). The same programs against the kernel: test/kernel/verifier-selftests-kernel.test.ts.
import test from 'ava';
import { DELIBERATE, disagreements, selftestPrograms, vxoOutcome } from './annotations.ts';

const programs = selftestPrograms();

test('the runner finds the annotated programs', (t) => {
  t.true(programs.length >= 8);
  t.true(programs.every((e) => e.success !== undefined), 'every program says __success or __failure');
});

for (const e of programs) {
  test(`${e.program}: vxo does what the annotations say`, (t) => {
    const d = disagreements(e, vxoOutcome(e));
    const why = DELIBERATE[e.program];
    if (why !== undefined) t.true(d.length > 0, `a deliberate difference that no longer shows: ${why}`);
    else t.deepEqual(d, []);
  });
}

// Stack states and pruning as 6.18's (prune-parity-cases.ts; the live kernel is asked by
// test/kernel/prune-parity-kernel.test.ts): stores into a slot holding a spill, fills from the
// middle of one, narrowing spills, spilled zeros; a callback's visits that converge; and the
// processed counts of the scenario programs, which pruning keeps near the kernel's.
import test from 'ava';
import { join } from 'node:path';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { verifyProgram } from '../../bpf-vm/verifier/index.ts';
import { REPO_ROOT } from '../support/vm.ts';
import { SCENARIO_COUNTS, STACK_CASES } from './prune-parity-cases.ts';
import { caseProgram } from './support.ts';

for (const c of STACK_CASES) {
  test(`the kernel's stack state: ${c.name}`, (t) => {
    const log = verifyProgram(caseProgram({ src: c.src }), { logLevel: 2 }).log.split('\n');
    for (const line of c.lines) t.true(log.includes(line), line);
  });
}

test('a callback running bpf_loop itself: the kernel\'s processed count (each exit of the inner callback converges)', (t) => {
  const p = loadObjectFile(join(REPO_ROOT, 'test/fixtures/callbacks/loop_sum.o')).program('loop_in_loop');
  t.is(verifyProgram(p).stats.processed, 43);
});

for (const c of SCENARIO_COUNTS.filter((s) => s.slow !== true)) {
  test(`${c.obj}: ${c.vxo} processed instructions, ${c.vxoStates} states (the kernel: ${c.kernel}, ${c.kernelStates})`, (t) => {
    const prog = loadObjectFile(join(REPO_ROOT, c.obj)).program();
    const s = verifyProgram(prog).stats;
    t.is(s.processed, c.vxo);
    t.is(s.totalStates, c.vxoStates);
  });
}

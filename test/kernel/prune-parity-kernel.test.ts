// vxo's stack states and processed counts beside the live kernel's (npm run test:kernel): the
// stack-state programs of test/verifier/prune-parity-cases.ts print the same states in both level-2
// logs, and each scenario program is accepted by both, vxo processing the instructions its case
// pins, at most 1.5 times the kernel's count (syn_proxy.o: 2.1). Where the kernel cannot be asked
// each test logs why and passes.
import { join } from 'node:path';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { verifyProgram } from '../../bpf-vm/verifier/index.ts';
import { kernelVerify, kernelVerifyInsns } from '../support/kernel.ts';
import { kernelTest } from '../support/kernel-test.ts';
import { REPO_ROOT } from '../support/vm.ts';
import { SCENARIO_COUNTS, STACK_CASES } from '../verifier/prune-parity-cases.ts';
import { caseProgram } from '../verifier/support.ts';

for (const c of STACK_CASES) {
  kernelTest(`the kernel prints the same stack state: ${c.name}`, (t) => {
    const p = caseProgram({ src: c.src });
    const k = kernelVerifyInsns(p.insns, { logLevel: 2 });
    t.true(k.accepted, k.log);
    const lines = k.log.split('\n');
    for (const line of c.kernelLines ?? c.lines) t.true(lines.includes(line), line);
  });
}

const CLOSING = /^processed (\d+) insns \(limit \d+\) max_states_per_insn (\d+) total_states (\d+)/m;

for (const c of SCENARIO_COUNTS) {
  kernelTest(`${c.obj}: accepted by both, vxo's processed count near the kernel's`, (t) => {
    const path = join(REPO_ROOT, c.obj);
    const k = kernelVerify(path);
    t.true(k.accepted, k.log.slice(-2000));
    const m = CLOSING.exec(k.log.slice(k.log.lastIndexOf('\nprocessed ') + 1));
    const v = verifyProgram(loadObjectFile(path).program()).stats;
    t.log(`processed: kernel ${k.processed}, vxo ${v.processed}; states: kernel ${m?.[3] ?? '?'}, vxo ${v.totalStates}; max per insn: kernel ${m?.[2] ?? '?'}, vxo ${v.maxStatesPerInsn}`);
    t.is(v.processed, c.vxo);
    t.true(v.processed <= (k.processed ?? 0) * (c.maxRatio ?? 1.5), `vxo ${v.processed}, kernel ${k.processed}`);
  });
}

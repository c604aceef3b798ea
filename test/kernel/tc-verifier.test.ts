// The __sk_buff access table of test/bpf/tc-cases.ts against the running kernel's verifier
// (npm run test:kernel): the same verdict for every access, and the same message for a refusal.
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import { kernelTest } from '../support/kernel-test.ts';
import { kernelVerifyInsns } from '../support/kernel.ts';
import { CTX_CASES, ctxCaseSource, skbProgram } from '../bpf/tc-cases.ts';

for (const c of CTX_CASES) {
  kernelTest(`kernel, ${c.kind}: ${c.access.replace(/\n/g, '; ')} ${c.msg === undefined ? 'accepted' : `refused: ${c.msg}`}`, (t) => {
    const prog = skbProgram(ctxCaseSource(c), c.kind);
    const progType = c.kind === 'tc' ? BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS : BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER;
    const k = kernelVerifyInsns(prog.insns, { progType });
    t.is(k.accepted, c.msg === undefined, k.log);
    if (c.msg !== undefined) t.true(k.log.includes(c.msg), k.log);
  });
}

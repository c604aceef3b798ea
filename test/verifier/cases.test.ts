// Focused verdicts: each unsafe program is rejected with the kernel's message and errno, each safe
// one (including the tricky shapes: operand orders, spilled copies, metadata, loops) is accepted.
import test from 'ava';
import { verifyProgram, VerifierError } from '../../bpf-vm/verifier/index.ts';
import { ACCEPT_CASES, REJECT_CASES } from './cases.ts';
import { caseProgram } from './support.ts';

for (const c of REJECT_CASES) {
  test(`rejects: ${c.name}`, (t) => {
    const err = t.throws(() => verifyProgram(caseProgram(c), { maxProcessed: c.maxProcessed, logLevel: 1 }), { instanceOf: VerifierError });
    t.is(err?.message, c.msg ?? "");
    t.is(err?.code, c.code ?? 'EACCES');
    // The log ends with the message (and any explanation) and the closing statistics line.
    t.true(err?.log.includes(`${c.msg}\n`));
    t.regex(err?.log ?? '', /processed \d+ insns \(limit \d+\) max_states_per_insn \d+ total_states \d+ peak_states \d+ mark_read 0\n$/);
  });
}

for (const c of ACCEPT_CASES) {
  test(`accepts: ${c.name}`, (t) => {
    const r = verifyProgram(caseProgram(c));
    t.true(r.stats.processed > 0);
  });
}

test('a privileged kernel reads unwritten stack; allowUninitStack does the same', (t) => {
  const c = REJECT_CASES.find((x) => x.name === 'stack read before any write')!;
  t.notThrows(() => verifyProgram(caseProgram(c), { allowUninitStack: true }));
});

test('a pointer is never returned; without pointer leaks it may not be stored into a map either', (t) => {
  const ret = t.throws(() => verifyProgram(caseProgram({ src: 'mov %r0, %r1\nexit' })), { instanceOf: VerifierError });
  t.is(ret?.message, 'R0 leaks addr as return value');
  const leak = ACCEPT_CASES.find((x) => x.name === 'pointer leak into a map (privileged)')!;
  const map = t.throws(() => verifyProgram(caseProgram(leak), { allowPtrLeaks: false }), { instanceOf: VerifierError });
  t.is(map?.message, 'R10 leaks addr into map');
});

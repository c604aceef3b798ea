// The rejection corpus (test/verifier-corpus/README.md) against vxo's verifier: every program the
// kernel rejects, vxo must reject too, with the kernel's key phrase in its message or log.
import test from 'ava';
import { VerifierError } from '../bpf-vm/verifier/api.ts';
import { verifyProgram } from '../bpf-vm/verifier/index.ts';
import { loadUnsafeCorpus, type UnsafeCase } from './verifier-corpus/corpus.ts';

const cases = loadUnsafeCorpus();

/** The rejection, or a description of what happened instead. */
/**
 * Programs that never finish verifying are refused at the budget whatever it is: a tenth of the
 * kernel's 1M instructions gives the same refusal ('BPF program is too large') in a tenth of the
 * time (a million instructions is ~10 s of vxo's verifier per case).
 */
const budgetFor = (c: UnsafeCase): number | undefined => (c.expect.startsWith('BPF program is too large') ? 100_000 : undefined);

function reject(c: UnsafeCase, logLevel: 0 | 1): VerifierError | string {
  try {
    const max = budgetFor(c);
    const r = verifyProgram(c.program(), { logLevel, ...(max !== undefined ? { maxProcessed: max } : {}) });
    return `accepted (processed ${r.stats.processed} insns)`;
  } catch (e) {
    if (e instanceof VerifierError) return e;
    return `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} instead of a VerifierError`;
  }
}

for (const c of cases) {
  test(`${c.category}: ${c.name} is rejected with '${c.expect}'`, (t) => {
    // Log level 0 first: programs that run the verifier to its 1M-instruction budget would log a
    // million lines at level 1. The log is consulted only when the message lacks the phrase.
    let e = reject(c, 0);
    if (typeof e === 'string') return t.fail(`${c.name}: ${e}; the kernel: ${c.kernel?.errno} ${c.kernel?.lines[0] ?? ''}`);
    if (e.message.includes(c.expect)) return t.pass();
    if (c.category !== 'size' && c.category !== 'loop') {
      const withLog = reject(c, 1);
      if (typeof withLog === 'string') return t.fail(`${c.name}: rejected at log level 0 but ${withLog} at level 1`);
      e = withLog;
      if (e.message.includes(c.expect) || e.log.includes(c.expect)) return t.pass();
    }
    const logTail = e.log.split('\n').slice(-8).join('\n');
    return t.fail(`${c.name}: rejected (${e.code}, pc ${e.pc}) with '${e.message}', which lacks '${c.expect}'\n` +
      `the kernel said: ${c.kernel?.lines.join(' / ') ?? '(not recorded)'}\nvxo log tail:\n${logTail}`);
  });
}

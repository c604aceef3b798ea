// The verifier's __sk_buff rules for tc and socket filters (verifier/ctx-skb.ts): the table of
// tc-cases.ts (the kernel's verdicts, checked against Linux by test/kernel/tc-verifier.test.ts),
// and every accepted access run on both engines without a fault (the run-time must answer all).
import test from 'ava';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { VerifierError } from '../../bpf-vm/verifier/api.ts';
import { verifyProgram } from '../../bpf-vm/verifier/index.ts';
import { bpfProgTestRunSkb } from '../../bpf-vm/prog/test-run-skb.ts';
import { udp4Frame } from '../support/packets.ts';
import { CTX_CASES, ctxCaseSource, skbProgram } from './tc-cases.ts';

for (const c of CTX_CASES) {
  test(`${c.kind}: ${c.access.replace(/\n/g, '; ')} ${c.msg === undefined ? 'is accepted and runs' : `is refused: ${c.msg}`}`, (t) => {
    const prog = skbProgram(ctxCaseSource(c), c.kind);
    if (c.msg !== undefined) {
      const e = t.throws(() => verifyProgram(prog), { instanceOf: VerifierError });
      t.true(e!.message.includes(c.msg), e!.message);
      return;
    }
    t.notThrows(() => verifyProgram(prog));
    for (const engine of ENGINES) {
      t.is(bpfProgTestRunSkb(prog, { dataIn: udp4Frame(), engine }).retval, 0, engine);
    }
  });
}

test('skb->sk is a sock_common_or_null: it must be checked for NULL before a load through it', (t) => {
  const unchecked = skbProgram('ldxdw %r2, [%r1+168]\nldxw %r0, [%r2+4]\nexit', 'tc');
  const e = t.throws(() => verifyProgram(unchecked), { instanceOf: VerifierError });
  t.regex(e!.message, /invalid mem access 'sock_common_or_null'/);
  const checked = skbProgram('ldxdw %r2, [%r1+168]\nmov %r0, 0\njeq %r2, 0, +1\nldxw %r0, [%r2+4]\nexit', 'tc');
  t.notThrows(() => verifyProgram(checked));
  for (const engine of ENGINES) t.is(bpfProgTestRunSkb(checked, { dataIn: udp4Frame(), engine }).retval, 0, `${engine}: no host, no socket: NULL`);
});

test('packet pointers from data/data_end need a bounds check; data_meta is tc only', (t) => {
  const unchecked = skbProgram('ldxw %r2, [%r1+76]\nldxb %r0, [%r2+0]\nexit', 'tc');
  t.throws(() => verifyProgram(unchecked), { instanceOf: VerifierError, message: /invalid access to packet/ });
  const meta = skbProgram('ldxw %r2, [%r1+140]\nldxw %r3, [%r1+76]\nmov %r0, %r3\nsub %r0, %r2\nexit', 'tc');
  for (const engine of ENGINES) t.is(bpfProgTestRunSkb(meta, { dataIn: udp4Frame(), engine }).retval, 0, `${engine}: no metadata: data_meta == data`);
});

// Socket pointers in vxo's verifier (cases in sock-cases.ts, each checked against Linux by
// test/kernel/sk-lookup-sock-verifier.test.ts): accepted programs, refusals with the kernel's
// message and errno, and the log's spelling of the socket types.
import test from 'ava';
import { verifyProgram, VerifierError } from '../../bpf-vm/verifier/index.ts';
import { SOCK_ACCEPT, SOCK_REJECT } from './sock-cases.ts';
import { caseProgram } from './support.ts';

for (const c of SOCK_ACCEPT) {
  test(`accepts: ${c.name}`, (t) => {
    t.notThrows(() => verifyProgram(caseProgram(c)));
  });
}

for (const c of SOCK_REJECT) {
  test(`refuses: ${c.name}`, (t) => {
    const e = t.throws(() => verifyProgram(caseProgram(c), { logLevel: 1 }), { instanceOf: VerifierError })!;
    t.is(e.message, c.msg ?? '');
    t.is(e.code, c.code ?? 'EACCES');
    t.true(e.log.includes(`\n${c.msg}\n`), e.log.split('\n').slice(-6).join('\n'));
  });
}

test('the log prints the socket types and their ids as the kernel does', (t) => {
  const c = SOCK_ACCEPT.find((x) => x.name.startsWith('tc: sk_fullsock'))!;
  const log = verifyProgram(caseProgram(c), { logLevel: 2 }).log;
  // The acquired reference's id replaces the nullable one's (check_helper_call), casts get their own.
  t.regex(log, /R0_?w?=sock_common_or_null\(id=2,ref_obj_id=2\)/);
  t.regex(log, /R0_?w?=sock_or_null\(id=3,ref_obj_id=2\)/);
  t.regex(log, /R0_?w?=tcp_sock_or_null\(id=4,ref_obj_id=2\)/);
  t.regex(log, /R0=tcp_sock\(ref_obj_id=2\)/);
  const m = SOCK_ACCEPT.find((x) => x.name.startsWith('sockmap lookup'))!;
  const mlog = verifyProgram(caseProgram(m), { logLevel: 2 }).log;
  t.regex(mlog, /call bpf_map_lookup_elem#1 +; R0_?w?=sock_or_null\(id=2,ref_obj_id=2\) refs=2/, mlog);
  t.regex(mlog, /R0=sock\(ref_obj_id=2\)/);
});

test('a sockmap update or delete is refused where may_update_sockmap says no', (t) => {
  // No program type vxo runs is such a place; a kprobe-typed program shows the kernel's two lines.
  const src = 'mov %r1, 0\nstxw [%r10-4], %r1\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map_by_fd(sm)\ncall 3\nmov %r0, 0\nexit';
  const c = { src, maps: { sm: [15, 4, 8, 4, 0] as [number, number, number, number, number] }, type: 2 };
  const e = t.throws(() => verifyProgram(caseProgram(c), { logLevel: 1 }), { instanceOf: VerifierError })!;
  t.regex(e.log, /cannot update sockmap in this context\ncannot pass map_type 15 into func bpf_map_delete_elem#3\n/);
});

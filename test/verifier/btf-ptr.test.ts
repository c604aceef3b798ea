// BTF-typed pointers and kfunc calls in vxo's verifier (cases in btf-ptr-cases.ts, each checked
// against Linux by test/kernel/btf-verifier-kernel.test.ts): verdicts and messages, the log's
// spelling of the new register types, the facts and btfReads the run time reads, GPL-only rules.
import test from 'ava';
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { kernelBtf } from '../../bpf-vm/btf/kernel-btf.ts';
import { FdTable } from '../../bpf-vm/prog/fd-table.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import type { ProgType } from '../../bpf-vm/prog/types.ts';
import { verifyProgram, VerifierError } from '../../bpf-vm/verifier/index.ts';
import { BTF_ACCEPT, BTF_REJECT, SCHED_CLS, vxoLayout, type BtfCase } from './btf-ptr-cases.ts';

const L = vxoLayout();
const prog = (src: string, type = SCHED_CLS, license = 'GPL'): Program =>
  ({ name: 'case', section: 'tc', type: type as ProgType, insns: assemble(src), funcs: [], license, fds: new FdTable() });
const caseProg = (c: BtfCase): Program => prog(c.src(L), c.type);
const find = (name: string): BtfCase => [...BTF_ACCEPT, ...BTF_REJECT].find((c) => c.name.startsWith(name))!;
const tcpSock = kernelBtf().struct('tcp_sock')!;

for (const c of BTF_ACCEPT) {
  test(`accepts: ${c.name}`, (t) => {
    t.notThrows(() => verifyProgram(caseProg(c)));
  });
}

for (const c of BTF_REJECT) {
  test(`refuses: ${c.name}`, (t) => {
    const e = t.throws(() => verifyProgram(caseProg(c), { logLevel: 1 }), { instanceOf: VerifierError })!;
    const msg = c.msg!(L);
    t.is(e.message, msg);
    t.is(e.code, c.code ?? 'EACCES');
    t.true(`\n${e.log}`.includes(`\n${msg}\n${c.extra !== undefined ? `${c.extra}\n` : ''}`), e.log.split('\n').slice(-6).join('\n'));
  });
}

test('the log spells BTF pointers as the kernel: modifiers, struct, ids; kfunc calls by name', (t) => {
  const cast = verifyProgram(caseProg(find('bpf_sk_assign_tcp_reqsk with a referenced')), { logLevel: 2 }).log;
  t.regex(cast, /call bpf_skc_to_tcp_sock#137 +; R0=ptr_or_null_tcp_sock\(id=3,ref_obj_id=2\) refs=2\n/);
  t.regex(cast, /if r0 == 0x0 goto pc\+\d+ +; R0=ptr_tcp_sock\(ref_obj_id=2\) refs=2\n/);
  t.regex(cast, new RegExp(`call bpf_sk_assign_tcp_reqsk#${L.kfunc('bpf_sk_assign_tcp_reqsk')} +; R0=scalar\\(\\) fp-24=\\?\\?\\?\\?mmmm fp-32=mmmmmmmm fp-40=mmmmmmmm refs=2\\n`));
  const ctx = verifyProgram(caseProg(find('bpf_cast_to_kern_ctx')), { logLevel: 2 }).log;
  t.regex(ctx, /call bpf_cast_to_kern_ctx#\d+ +; R0=trusted_ptr_sk_buff\(\)\n/);
  t.regex(ctx, /R2=rcu_ptr_or_null_sock\(id=1\)/);
  t.regex(ctx, /if r2 == 0x0 goto pc\+\d+ +; R2=rcu_ptr_sock\(\)\n/);
  const member = verifyProgram(caseProg(find('a pointer member read')), { logLevel: 2 }).log;
  t.regex(member, /R2=untrusted_ptr_ipv6_pinfo\(\)/);
  // vxo only declares struct net: a pointer to it is untrusted read-only memory (the kernel: untrusted_ptr_net).
  const net = verifyProgram(prog(`${find('skc_to_tcp_sock of ctx->sk').src(L).replace(/ldxw .*\n/, `ldxdw %r2, [%r8+${L.off('sock_common', 'skc_net')}]\nldxw %r1, [%r2+100]\n`)}`), { logLevel: 2 }).log;
  t.regex(net, /R2=rdonly_untrusted_mem\(sz=0\)/);
});

test('facts: loads through a BTF pointer are btf loads of their struct; btfReads lists each field once', (t) => {
  const c = find('skc_to_tcp_sock: sock_common');
  // The same loads twice: btfReads stays deduplicated.
  const src = c.src(L).replace(/(ldxb[^\n]*\n)/, '$1$1');
  const p = prog(src);
  const r = verifyProgram(p);
  const loads = p.insns.map((ins, pc) => ({ ins, pc })).filter(({ ins }) => (ins.code & 7) === 1 && ins.src === 8);
  t.true(loads.length >= 5);
  for (const { pc } of loads) t.deepEqual(r.facts[pc]?.mem, { kind: 'btf', btfId: tcpSock.id }, `pc ${pc}`);
  const reads = [...r.btfReads].sort((a, b) => a.off - b.off);
  const want = [
    { off: L.off('sock_common', 'skc_addrpair'), size: 8 }, { off: L.off('sock_common', 'skc_num'), size: 2 },
    { off: L.off('sock_common', 'skc_state'), size: 1 }, { off: L.off('tcp_sock', 'rcv_nxt'), size: 4 },
    { off: L.off('tcp_sock', 'snd_cwnd'), size: 4 },
  ].map((x) => ({ structId: tcpSock.id, ...x })).sort((a, b) => a.off - b.off);
  t.deepEqual(reads, want);
  // A pointer member is read as 8 bytes of its struct; the load through it names the pointee.
  const m = prog(find('a pointer member read').src(L));
  const mr = verifyProgram(m);
  t.true(mr.btfReads.some((x) => x.structId === tcpSock.id && x.off === L.off('inet_sock', 'pinet6') && x.size === 8));
  const pinfo = kernelBtf().struct('ipv6_pinfo')!.id;
  t.true(mr.btfReads.some((x) => x.structId === pinfo && x.off === L.off('ipv6_pinfo', 'saddr') && x.size === 4));
  const pc = m.insns.findIndex((ins) => (ins.code & 7) === 1 && ins.src === 2);
  t.deepEqual(mr.facts[pc]?.mem, { kind: 'btf', btfId: pinfo });
});

test('a program that is not GPL may neither read kernel structs nor call kfuncs', (t) => {
  const read = find('skc_to_tcp_sock: sock_common');
  const e1 = t.throws(() => verifyProgram(prog(read.src(L), SCHED_CLS, 'Proprietary')), { instanceOf: VerifierError })!;
  t.is(e1.message, "Cannot access kernel 'struct tcp_sock' from non-GPL compatible program");
  t.is(e1.code, 'EINVAL');
  const call = find('bpf_sk_assign_tcp_reqsk with a referenced');
  const e2 = t.throws(() => verifyProgram(prog(call.src(L), SCHED_CLS, 'BSD')), { instanceOf: VerifierError })!;
  t.is(e2.message, 'cannot call kernel function from non-GPL compatible program');
  t.is(e2.code, 'EINVAL');
  // Dual licenses with the GPL are GPL-compatible.
  t.notThrows(() => verifyProgram(prog(call.src(L), SCHED_CLS, 'Dual BSD/GPL')));
});

test('the kfunc check happens before the walk, for unreachable calls too (add_kfunc_call)', (t) => {
  const e = t.throws(() => verifyProgram(prog('mov %r0, 0\nexit\ncall runtime 1\nexit')), { instanceOf: VerifierError })!;
  t.is(e.message, 'kernel btf_id 1 is not a function');
});

test('a join of BTF pointers of different structs: each path is checked with its own struct', (t) => {
  // r2 is a tcp_sock on the path walked first and skb->sk (an RCU sock) on the other; the join reads
  // 4 bytes at an offset valid in tcp_sock only: pruning the second path against the first would
  // hide the error.
  const big = L.off('tcp_sock', 'snd_cwnd');
  const src = `mov %r6, %r1
call runtime ${L.kfunc('bpf_cast_to_kern_ctx')}
mov %r9, %r0
ldxw %r1, [%r6+0]
jne %r1, 0, rcu
ldxdw %r1, [%r6+168]
jeq %r1, 0, done
call 137
jeq %r0, 0, done
mov %r2, %r0
ldxw %r3, [%r6+4]
jeq %r3, 9, done
ldxw %r4, [%r6+8]
jeq %r4, 9, done
ja join
rcu:
ldxdw %r2, [%r9+${L.off('sk_buff', 'sk')}]
jeq %r2, 0, done
join:
ldxw %r1, [%r2+${big}]
done:
mov %r0, 0
exit`;
  const e = t.throws(() => verifyProgram(prog(src), { logLevel: 2 }), { instanceOf: VerifierError })!;
  t.is(e.message, `access beyond struct sock at off ${big} size 4`);
});

test('core_sk.o (C against vxo\'s vmlinux.h: CO-RE reads through bpf_skc_to_tcp_sock, the kfunc) verifies', async (t) => {
  const { loadObjectFile } = await import('../../bpf-vm/prog/collection.ts');
  const p = loadObjectFile(new URL('../fixtures/btf/core_sk.o', import.meta.url).pathname).program();
  const r = verifyProgram(p, { logLevel: 2 });
  t.regex(r.log, /call bpf_sk_assign_tcp_reqsk#173 +; R0=scalar\(\)/);
  // skc_state, skc_num and the CO-RE reads of tcp_sock fields: loads of tcp_sock, each once.
  t.true(r.btfReads.length >= 3);
  t.true(r.btfReads.every((x) => x.structId === tcpSock.id));
  t.deepEqual(r.btfReads.find((x) => x.off === L.off('sock_common', 'skc_state')), { structId: tcpSock.id, off: L.off('sock_common', 'skc_state'), size: 1 });
});

test('a load reached with pointers to two structs is a btf (PROBE_MEM) load naming no struct', (t) => {
  const src = `mov %r6, %r1
call runtime ${L.kfunc('bpf_cast_to_kern_ctx')}
mov %r9, %r0
ldxw %r1, [%r6+0]
jne %r1, 0, rcu
ldxdw %r1, [%r6+168]
jeq %r1, 0, done
call 137
jeq %r0, 0, done
mov %r2, %r0
ja join
rcu:
ldxdw %r2, [%r9+${L.off('sk_buff', 'sk')}]
jeq %r2, 0, done
join:
ldxh %r1, [%r2+${L.off('sock_common', 'skc_family')}]
done:
mov %r0, 0
exit`;
  const p = prog(src);
  const r = verifyProgram(p);
  const pc = p.insns.findIndex((ins) => ins.code === 0x69 && ins.src === 2);
  t.deepEqual(r.facts[pc]?.mem, { kind: 'btf' });
  const sock = kernelBtf().struct('sock')!.id;
  t.true(r.btfReads.some((x) => x.structId === sock && x.off === L.off('sock_common', 'skc_family')));
  t.true(r.btfReads.some((x) => x.structId === tcpSock.id && x.off === L.off('sock_common', 'skc_family')));
});

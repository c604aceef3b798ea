// The verifier's outputs beyond the verdict: the kernel-format log at each level, the statistics,
// and the per-instruction facts the JIT consumes.
import test from 'ava';
import { join } from 'node:path';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { verifyProgram, VerifierError } from '../../bpf-vm/verifier/index.ts';
import { REPO_ROOT } from '../support/vm.ts';
import { caseProgram } from './support.ts';

const xdp1 = (): ReturnType<ReturnType<typeof loadObjectFile>['program']> => loadObjectFile(join(REPO_ROOT, 'scenarios/xdp/xdp1.o')).program();

const BRANCHY = {
  src: `ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, bad
ldxb %r0, [%r2+13]
mov %r0, 2
exit
bad:
ldxb %r0, [%r2+0]
exit`,
};

test('level 2 prints every instruction with the registers it touched, as the kernel does', (t) => {
  const r = verifyProgram(xdp1(), { logLevel: 2 });
  const lines = r.log.split('\n');
  t.is(lines[0], '0: R1=ctx() R10=fp0');
  // xdp1.o is built with -g: each source line comes before the instructions it starts (BTF line info).
  t.is(lines[1], '; void *data_end = (void *)(long)ctx->data_end; @ xdp1.c:22');
  t.is(lines[2], '0: (61) r2 = *(u32 *)(r1 +4)          ; R1=ctx() R2=pkt_end()');
  t.is(lines[3], '; void *data = (void *)(long)ctx->data; @ xdp1.c:23');
  t.is(lines[4], '1: (61) r1 = *(u32 *)(r1 +0)          ; R1=pkt(r=0)');
  t.true(lines.includes('4: (2d) if r3 > r2 goto pc+50         ; R2=pkt_end() R3=pkt(off=14,r=14)'));
  t.true(lines.includes('5: (71) r3 = *(u8 *)(r1 +12)          ; R1=pkt(r=14) R3=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))'));
  t.true(lines.includes('51: (85) call bpf_map_lookup_elem#1   ; R0=map_value_or_null(id=2,map=rxcnt,ks=4,vs=8)'));
  t.true(lines.includes('54: (db) lock *(u64 *)(r0 +0) += r1   ; R0=map_value(map=rxcnt,ks=4,vs=8) R1=1'));
  t.true(r.log.includes('\nfrom 52 to 55: safe\n'));
  t.regex(r.log, /\nprocessed 157 insns \(limit 1000000\) max_states_per_insn \d+ total_states \d+ peak_states \d+ mark_read 0\n$/);
});

test('level 1 keeps only the path to the error', (t) => {
  const err = t.throws(() => verifyProgram(caseProgram(BRANCHY), { logLevel: 1 }), { instanceOf: VerifierError })!;
  t.is(err.message, 'invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)');
  t.is(err.code, 'EACCES');
  t.is(err.pc, 8);
  t.is(err.processed, 9);
  // The fall-through path finished safely, so its instructions were cut from the log.
  t.false(err.log.includes('5: (71)'));
  t.true(err.log.includes('4: (2d) if r4 > r3 goto pc+3          ; R3=pkt_end() R4=pkt(off=14,r=14)\n'));
  t.true(err.log.includes('\nfrom 4 to 8: R1=ctx() R2=pkt(r=0) R3=pkt_end() R4=pkt(off=14,r=0) R10=fp0\n'));
  t.true(err.log.endsWith('8: (71) r0 = *(u8 *)(r2 +0)\ninvalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)\n' +
    'R2 offset is outside of the packet\nprocessed 9 insns (limit 1000000) max_states_per_insn 1 total_states 1 peak_states 1 mark_read 0\n'));
  const all = t.throws(() => verifyProgram(caseProgram(BRANCHY), { logLevel: 2 }), { instanceOf: VerifierError })!;
  t.true(all.log.includes('5: (71) r0 = *(u8 *)(r2 +13)'));
});

test('level 0 logs nothing on success and the error with the statistics on rejection', (t) => {
  t.is(verifyProgram(xdp1()).log, '');
  const err = t.throws(() => verifyProgram(caseProgram(BRANCHY)), { instanceOf: VerifierError })!;
  t.is(err.log, 'invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)\nR2 offset is outside of the packet\n' +
    'processed 9 insns (limit 1000000) max_states_per_insn 1 total_states 1 peak_states 1 mark_read 0\n');
});

test('structural errors become EINVAL rejections with the kernel wording', (t) => {
  const prog = caseProgram({ src: 'mov %r0, 0\nexit' });
  const bad = { ...prog, insns: [{ code: 0xff, dst: 0, src: 0, off: 0, imm: 0 }, ...prog.insns] };
  const err = t.throws(() => verifyProgram(bad), { instanceOf: VerifierError })!;
  t.is(err.code, 'EINVAL');
  t.is(err.message, 'unknown opcode ff');
  t.true(err.log.endsWith('processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n'));
  const badFd = caseProgram({ src: 'lddw %r1, map_by_fd(m)\nmov %r0, 0\nexit', maps: { m: [2, 4, 8, 1, 0] } });
  const noMap = { ...badFd, insns: badFd.insns.map((i, pc) => (pc === 0 ? { ...i, imm: 99 } : i)) };
  const e2 = t.throws(() => verifyProgram(noMap), { instanceOf: VerifierError })!;
  t.is(e2.message, 'fd 99 is not pointing to valid bpf_map');
  t.is(e2.code, 'EBADF');
});

test('statistics: processed, states and stack depth per subprogram', (t) => {
  const r = verifyProgram(xdp1());
  t.is(r.stats.processed, 157);
  t.true(r.stats.totalStates > 0);
  t.is(r.stats.peakStates, r.stats.totalStates);
  t.true(r.stats.maxStatesPerInsn >= 1);
  t.deepEqual(r.stats.stackDepth, [4]);
  const calls = verifyProgram(caseProgram({ src: 'stdw [%r10-16], 0\ncall local f\nexit\nf:\nstdw [%r10-40], 0\nmov %r0, 0\nexit' }));
  t.deepEqual(calls.stats.stackDepth, [16, 40]);
});

test('facts: base pointer kinds, constants and zero upper halves per instruction', (t) => {
  const r = verifyProgram(xdp1());
  const f = r.facts;
  t.deepEqual(f[0]?.mem, { kind: 'ctx' });
  t.deepEqual(f[5]?.mem, { kind: 'packet' });
  t.deepEqual(f[46]?.mem, { kind: 'stack' });
  t.deepEqual(f[54]?.mem, { kind: 'map_value', map: 0 });
  // r1 = 1 before the atomic add on every path; the ld_imm64's second slot has no facts.
  t.is(f[54]?.consts?.get(1), 1n);
  t.is(f[50], undefined);
  // r5 (the protocol, a byte) has a zero upper half when it is stored as the key.
  t.true(((f[46]?.upperZero ?? 0) & (1 << 5)) !== 0);
  // Facts only name registers that are read later: r3 is dead at the exit.
  t.is(f[56]?.consts?.get(3), undefined);
});

test('facts: constants that differ between paths are not reported', (t) => {
  const r = verifyProgram(caseProgram({
    src: 'call 7\nmov %r1, 4\njeq %r0, 0, +1\nmov %r1, 0\nmov %r2, 4\nstdw [%r10-16], 0\nstdw [%r10-8], 0\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r1\nadd %r3, %r2\nldxw %r0, [%r3+0]\nexit',
  }));
  t.is(r.facts[5]?.consts?.get(2), 4n);
  t.is(r.facts[5]?.consts?.get(1), undefined);
  t.is(r.facts[10]?.consts?.get(2), 4n);
});

test('facts leave out values that cannot matter (a pruned path may hold others)', (t) => {
  // r1 only flows into the packet: states differing in it are pruned against each other.
  const r = verifyProgram(caseProgram({
    src: `ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 8\njgt %r4, %r3, out\nmov %r1, 7\nstxb [%r2+0], %r1\nout:\nmov %r0, 2\nexit`,
  }));
  t.is(r.facts[6]?.consts?.get(1), undefined);
  t.deepEqual(r.facts[6]?.mem, { kind: 'packet' });
});

test('a memory instruction reached with different pointer kinds has no mem fact', (t) => {
  const r = verifyProgram(caseProgram({
    src: `ldxw %r6, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r6\nadd %r4, 8\njgt %r4, %r3, out\nstdw [%r10-8], 0\ncall 7\nmov %r1, %r10\nadd %r1, -8\njeq %r0, 0, +1\nmov %r1, %r6\nldxdw %r0, [%r1+0]\nmov %r0, 2\nexit\nout:\nmov %r0, 1\nexit`,
  }));
  t.is(r.facts[11]?.mem, undefined);
});

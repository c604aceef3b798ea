// Callbacks on both engines (issue 14): bpf_loop's callback entered from the helper in a frame above
// the caller's, in the JIT's structured and dispatch code alike, nested, and refused at run time
// when an unverified program passes something that is not a function.
import test from 'ava';
import { assemble } from '../bpf-vm/asm/assembler.ts';
import { ENGINES } from '../bpf-vm/engines.ts';
import { RuntimeFault } from '../bpf-vm/errors.ts';
import { loop } from '../bpf-vm/helpers/callbacks.ts';
import { jitSource } from '../bpf-vm/jit/dump.ts';
import { prepareProgram } from '../bpf-vm/prog/prepare.ts';
import { runPlain } from '../bpf-vm/prog/plain-run.ts';
import { BPF_PROG_TYPE } from '../bpf-vm/prog/types.ts';

const HELPERS = new Map([[loop.id, loop]]);

/** Sums the indices 0..9 into a u64 on the caller's stack: r0 = (iterations << 32) | sum. */
const SUM = `
mov %r1, 0
stxdw [%r10-8], %r1
mov %r1, 10
lddw %r2, code_addr(cb)
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
ldxdw %r1, [%r10-8]
lsh %r0, 32
or %r0, %r1
exit
cb:
ldxdw %r3, [%r2]
add %r3, %r1
stxdw [%r2], %r3
mov %r0, 0
exit`;

/** The same after an irreducible loop (the JIT's dispatch code), with r6 kept across the helper. */
const SUM_DISPATCH = `
mov %r6, 7
mov %r0, 0
ja mid
top:
add %r0, 1
mid:
add %r0, 2
jlt %r0, 10, top
${SUM.replace(/\nexit\ncb:/, '\nadd %r0, %r6\nexit\ncb:').replace('mov %r1, 0\nstxdw', 'mov %r1, 0\nmov %r6, 7\nstxdw')}`;

/** The callback runs bpf_loop itself (3 x 4 inner visits) and calls a subprogram. */
const NESTED = `
mov %r1, 0
stxdw [%r10-8], %r1
mov %r1, 3
lddw %r2, code_addr(outer)
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
ldxdw %r0, [%r10-8]
exit
outer:
mov %r6, %r2
mov %r1, 4
lddw %r2, code_addr(inner)
mov %r3, %r6
mov %r4, 0
call 181
mov %r0, 0
exit
inner:
mov %r6, %r2
call local bump
ldxdw %r3, [%r6]
add %r3, %r0
stxdw [%r6], %r3
mov %r0, 0
exit
bump:
mov %r0, 1
exit`;

const run = (src: string, engine: 'interp' | 'jit'): bigint => runPlain(assemble(src), new Uint8Array(0), { engine, helpers: HELPERS });

test('bpf_loop runs its callback on both engines: 10 iterations, the ctx on the caller\'s stack', (t) => {
  for (const engine of ENGINES) t.is(run(SUM, engine), (10n << 32n) | 45n, engine);
});

test('the JIT\'s dispatch code enters a callback too, and keeps the caller\'s r6 across it', (t) => {
  const prog = prepareProgram({ type: BPF_PROG_TYPE.BPF_PROG_TYPE_UNSPEC, insns: assemble(SUM_DISPATCH), helpers: HELPERS });
  t.true(jitSource(prog).includes('for (;;) switch (pc)'), 'dispatch mode');
  for (const engine of ENGINES) t.is(run(SUM_DISPATCH, engine), ((10n << 32n) | 45n) + 7n, engine);
});

test('a callback that runs bpf_loop and calls a subprogram', (t) => {
  for (const engine of ENGINES) t.is(run(NESTED, engine), 12n, engine);
});

test('an unverified program\'s number where the callback goes faults on both engines', (t) => {
  const src = 'mov %r1, 2\nmov %r2, 5\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit';
  for (const engine of ENGINES) {
    const e = t.throws(() => run(src, engine), { instanceOf: RuntimeFault });
    t.regex(e!.message, /is not a function pointer/, engine);
  }
});

test('bpf_loop refuses flags and more than 1 << 23 loops before calling back', (t) => {
  const prog = (n: number, flags: number): string => SUM.replace('mov %r1, 10', `mov %r1, ${n}`).replace('mov %r4, 0', `mov %r4, ${flags}`);
  for (const engine of ENGINES) {
    t.is(BigInt.asIntN(32, run(prog(10, 1), engine) >> 32n), -22n, `${engine}: -EINVAL in the high half`);
    t.is(run(prog(10, 1), engine) & 0xffffffffn, 0n, `${engine}: no visit`);
    t.is(run(prog((1 << 23) + 1, 0), engine) & 0xffffffffn, 0n, `${engine}: -E2BIG, no visit`);
  }
});

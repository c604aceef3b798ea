// The kernel's check_btf_func rule: a subprogram using LD_ABS/LD_IND or bpf_tail_call must return
// an int or an enum in its BTF prototype (a failing load, or a tail call that succeeds, ends it with
// a number in r0). vxo reads the return type from the object's BTF func_info records; the annotated
// fixtures test/verifier-selftests/ld_*_subprog.c cover the verdicts against the kernel.
import test from 'ava';
import { join } from 'node:path';
import { createEngine, ENGINES } from '../../bpf-vm/engines.ts';
import { helpersFor } from '../../bpf-vm/helpers/table.ts';
import { ExecEnv } from '../../bpf-vm/interp/env.ts';
import { Region, REGION_ID } from '../../bpf-vm/interp/regions.ts';
import { BPF_PSEUDO_CALL_KIND } from '../../bpf-vm/isa/opcodes.ts';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { prepareProgram } from '../../bpf-vm/prog/prepare.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { BPF_PROG_TYPE, type ProgType } from '../../bpf-vm/prog/types.ts';
import { verifyProgram, VerifierError } from '../../bpf-vm/verifier/index.ts';
import { SELFTEST_DIR } from '../verifier-selftests/annotations.ts';
import { caseProgram } from './support.ts';

const SOCKET = BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER;
const PROG_ARRAY = 3;
const fixture = (name: string): Program => loadObjectFile(join(SELFTEST_DIR, `${name}.o`)).program(name);

/** An assembled program whose subprograms (call targets) get func info with these return kinds. */
function withFuncs(src: string, scalarReturn: (boolean | undefined)[], maps?: Record<string, [number, number, number, number, number]>): Program {
  const p = caseProgram({ src, type: SOCKET, ...(maps ? { maps } : {}) });
  const starts = new Set<number>();
  p.insns.forEach((ins, pc) => { if (ins.code === 0x85 && ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_CALL) starts.add(pc + 1 + ins.imm); });
  const subs = [...starts].sort((a, b) => a - b).map((start, i) => {
    return { name: `f${i}`, start, ...(scalarReturn[i] === false ? { nonScalarReturn: true as const } : {}) };
  });
  return { ...p, funcs: [{ name: 'main', start: 0 }, ...subs] };
}

const LDABS_SUB = 'sub:\nmov %r6, %r1\nldabsw 0\nmov %r0, 1\nexit';
const TAIL_SUB = 'sub:\nmov %r2, 0\nlddw %r2, map_by_fd(jmp)\nmov %r3, 0\ncall 12\nmov %r0, 1\nexit';
const JMP = { jmp: [PROG_ARRAY, 4, 4, 4, 0] as [number, number, number, number, number] };

test('the ELF loader gives each function its BTF return kind from func_info', (t) => {
  t.deepEqual(fixture('ld_abs_void_subprog').funcs, [{ name: 'ld_abs_void_subprog', start: 0 }, { name: 'ld_abs_void', start: 3, nonScalarReturn: true }]);
  t.deepEqual(fixture('ld_abs_int_subprog').funcs, [{ name: 'ld_abs_int_subprog', start: 0 }, { name: 'ld_abs_int', start: 2 }]);
  t.is(fixture('ld_abs_int_subprog').noFuncInfo, undefined);
});

test('LD_ABS in a subprogram returning void is refused with EINVAL, before the walk', (t) => {
  const err = t.throws(() => verifyProgram(withFuncs(`call local sub\nmov %r0, 0\nexit\n${LDABS_SUB}`, [false]), { logLevel: 1 }), { instanceOf: VerifierError });
  t.is(err?.message, "LD_ABS is only allowed in functions that return 'int'.");
  t.is(err?.code, 'EINVAL');
  // As the kernel's check_btf_func, before any instruction is walked.
  t.is(err?.log, "LD_ABS is only allowed in functions that return 'int'.\nprocessed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n");
});

test('a tail call in a subprogram returning void is refused with EINVAL', (t) => {
  const err = t.throws(() => verifyProgram(withFuncs(`call local sub\nmov %r0, 0\nexit\n${TAIL_SUB}`, [false], JMP)), { instanceOf: VerifierError });
  t.is(err?.message, "tail_call is only allowed in functions that return 'int'.");
  t.is(err?.code, 'EINVAL');
  t.notThrows(() => verifyProgram(withFuncs(`call local sub\nmov %r0, 0\nexit\n${TAIL_SUB}`, [true], JMP)));
});

test('the main program and subprograms of unknown return type are not checked', (t) => {
  t.notThrows(() => verifyProgram(withFuncs(`call local sub\nmov %r0, 0\nexit\n${LDABS_SUB}`, [undefined])));
  const main = withFuncs('mov %r6, %r1\nldabsw 0\nexit', []);
  t.notThrows(() => verifyProgram({ ...main, funcs: [{ name: 'main', start: 0, nonScalarReturn: true }] }));
});

test('without any func info the kernel\'s older rule stands: no LD_ABS in subprograms', (t) => {
  const p = withFuncs(`call local sub\nmov %r0, 0\nexit\n${LDABS_SUB}`, [true]);
  const err = t.throws(() => verifyProgram({ ...p, funcs: [] }), { instanceOf: VerifierError });
  t.is(err?.message, 'LD_ABS is not allowed in subprogs without BTF');
  // An object built without -g: functions named from its symbols, no func_info for the kernel.
  const noBtf = t.throws(() => verifyProgram({ ...p, noFuncInfo: true }), { instanceOf: VerifierError });
  t.is(noBtf?.message, 'LD_ABS is not allowed in subprogs without BTF');
  t.is(noBtf?.code, 'EINVAL');
});

test('ld_abs_int_subprog: the load value + 1 on a long packet, 0 on a short one, on both engines', (t) => {
  const prog = fixture('ld_abs_int_subprog');
  verifyProgram(prog);
  const run = (engine: (typeof ENGINES)[number], packet: Uint8Array): number => {
    const p = prepareProgram({ type: prog.type as ProgType, insns: prog.insns, helpers: helpersFor(prog.type) });
    const env = new ExecEnv([]);
    env.regions[REGION_ID.PACKET] = new Region(REGION_ID.PACKET, 'mem', 'mem', packet, false);
    createEngine(engine, p, env, { budget: 10_000 }).run();
    return env.R[0]! >>> 0;
  };
  for (const engine of ENGINES) {
    // The kernel's test run gives 0x01010102 for the same 200 bytes of 1 (its loads start after
    // the Ethernet header; the bytes are all alike).
    t.is(run(engine, new Uint8Array(200).fill(1)), 0x01010102, engine);
    t.is(run(engine, new Uint8Array(64).fill(1)), 0, engine);
  }
});

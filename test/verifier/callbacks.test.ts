// bpf_loop and bpf_for_each_map_elem (issue 14): callbacks verified as subprogram frames, run by both
// engines. Processed counts and messages are the kernel's (6.18, recorded from test/kernel/callbacks-kernel.test.ts);
// return values are what BPF_PROG_TEST_RUN gave on the kernel for the same frames.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { bpfProgTestRun } from '../../bpf-vm/prog/test-run.ts';
import { verifyProgram, VerifierError } from '../../bpf-vm/verifier/index.ts';
import { BPF_PSEUDO_LD } from '../../bpf-vm/isa/opcodes.ts';
import { CALLBACK_PROGRAMS, CALLBACK_REFUSED, LOOP_SUM_LOG_LINES, RAW_CALLBACK_PROGRAM } from './callbacks-cases.ts';
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { createMap } from '../../bpf-vm/maps/create.ts';
import { BPF_MAP_TYPE } from '../../bpf-vm/maps/map.ts';
import { FdTable } from '../../bpf-vm/prog/fd-table.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';

const DIR = fileURLToPath(new URL('../fixtures/callbacks/', import.meta.url));
const REFUSED = fileURLToPath(new URL('../fixtures/callbacks-refused/', import.meta.url));
const frame = (n: number): Uint8Array => new Uint8Array(n).map((_, i) => i + 1);

test('the ELF loader turns a function address into ld_imm64 BPF_PSEUDO_FUNC with the distance to the callback', (t) => {
  const p = loadObjectFile(`${DIR}loop_sum.o`).program('loop_sum');
  const pc = p.insns.findIndex((i) => i.code === 0x18 && i.src === BPF_PSEUDO_LD.BPF_PSEUDO_FUNC);
  t.true(pc >= 0);
  const target = pc + 1 + p.insns[pc]!.imm;
  t.is(p.insns[pc + 1]!.imm, 0);
  t.true(p.funcs.some((f) => f.start === target && f.name === 'sum_byte'), JSON.stringify(p.funcs));
});

for (const c of CALLBACK_PROGRAMS) {
  test(`${c.prog}: accepted, processed count, same return values on both engines as the kernel`, (t) => {
    const v = verifyProgram(loadObjectFile(`${DIR}${c.obj}.o`).program(c.prog));
    t.is(v.stats.processed, c.vxoProcessed ?? c.processed);
    for (const engine of ENGINES) {
      for (const [n, want] of [[60, c.ret60], [20, c.ret20]] as const) {
        const r = bpfProgTestRun(loadObjectFile(`${DIR}${c.obj}.o`).program(c.prog), { dataIn: frame(n), engine });
        t.is(r.retval, want, `${engine}, ${n} bytes`);
      }
    }
  });
}

for (const c of CALLBACK_REFUSED) {
  test(`${c.obj}: refused with the kernel's '${c.message}'`, (t) => {
    const e = t.throws(() => verifyProgram(loadObjectFile(`${REFUSED}${c.obj}.o`).program(), { logLevel: 1 }), { instanceOf: VerifierError })!;
    t.is(e.message, c.message);
    t.is(e.processed, c.processed);
  });
}

test('level 2 log: the callback frame as the kernel prints it', (t) => {
  const log = verifyProgram(loadObjectFile(`${DIR}loop_sum.o`).program('loop_sum'), { logLevel: 2 }).log;
  for (const line of LOOP_SUM_LOG_LINES) t.true(log.split('\n').includes(line), line);
  // The caller's state after the call, full, on its own line, as 6.18 prints it (the zeros spilled: fp-8=????0 fp-16=0).
  t.true(log.split('\n').includes('14: R0=scalar() R10=fp0 fp-8=????0 fp-16=0 fp-24=pkt_end() fp-32=pkt(r=0)'));
});

/** Raw programs: no BTF function info (refused as the kernel refuses them), or function info given by hand. */
function rawProgram(src: string, funcs: Program['funcs'] = []): Program {
  return { name: 'raw', section: 'xdp', type: BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, insns: assemble(src), funcs, license: 'GPL', fds: new FdTable() };
}

test('a function address needs BTF function info, as in the kernel: missing btf func_info', (t) => {
  const e = t.throws(() => verifyProgram(rawProgram(RAW_CALLBACK_PROGRAM)), { instanceOf: VerifierError })!;
  t.is(e.message, 'missing btf func_info');
  t.is(e.code, 'EINVAL');
  t.is(e.processed, 2);
  const ok = verifyProgram(rawProgram(RAW_CALLBACK_PROGRAM, [{ name: 'main', start: 0 }, { name: 'cb', start: 8 }]));
  t.true(ok.stats.processed > 0);
});

test('a function address outside the program: call to invalid destination', (t) => {
  const p = rawProgram(RAW_CALLBACK_PROGRAM);
  const insns = p.insns.slice(0, 7);
  insns[1] = { ...insns[1]!, imm: 100 };
  const e = t.throws(() => verifyProgram({ ...p, insns }), { instanceOf: VerifierError })!;
  t.is(e.message, 'call to invalid destination');
});

test('a function pointer moved before the call: dereference of modified func ptr', (t) => {
  const src = RAW_CALLBACK_PROGRAM.replace('mov %r3, 0', 'add %r2, 8\nmov %r3, 0');
  const e = t.throws(() => verifyProgram(rawProgram(src, [{ name: 'main', start: 0 }, { name: 'cb', start: 9 }])), { instanceOf: VerifierError })!;
  t.is(e.message, 'dereference of modified func ptr R2 off=8 disallowed');
});

test('a callback\'s key pointer is the map key: reading past key_size is refused', (t) => {
  const src = `lddw %r1, map_by_fd(arr)
lddw %r2, code_addr(cb)
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 0
exit
cb:
ldxw %r0, [%r2+4]
mov %r0, 0
exit`;
  const fds = new FdTable();
  const fd = fds.add(createMap({ name: 'arr', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 2, flags: 0 }));
  const insns = assemble(src, { mapId: () => fd });
  const p: Program = { ...rawProgram(RAW_CALLBACK_PROGRAM, [{ name: 'main', start: 0 }, { name: 'cb', start: 9 }]), insns, fds };
  const e = t.throws(() => verifyProgram(p), { instanceOf: VerifierError })!;
  t.is(e.message, 'invalid access to memory, mem_size=4 off=4 size=4');
});

test('bpf_for_each_map_elem over a map type without a walk: callback function not allowed for map', (t) => {
  const src = `lddw %r1, map_by_fd(lpm)
lddw %r2, code_addr(cb)
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 0
exit
cb:
mov %r0, 0
exit`;
  const fds = new FdTable();
  const fd = fds.add(createMap({ name: 'lpm', type: BPF_MAP_TYPE.BPF_MAP_TYPE_LPM_TRIE, keySize: 8, valueSize: 8, maxEntries: 2, flags: 1 }));
  const insns = assemble(src, { mapId: () => fd });
  const p: Program = { ...rawProgram(RAW_CALLBACK_PROGRAM, [{ name: 'main', start: 0 }, { name: 'cb', start: 9 }]), insns, fds };
  const e = t.throws(() => verifyProgram(p), { instanceOf: VerifierError })!;
  t.is(e.message, 'callback function not allowed for map');
});

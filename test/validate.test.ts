// Structural validation: every rejection names the instruction and the reason.
import test from 'ava';
import { InvalidProgramError } from '../bpf-vm/errors.ts';
import { insn, type Insn } from '../bpf-vm/isa/insn.ts';
import { validateProgram } from '../bpf-vm/prog/validate.ts';

const EXIT = insn(0x95);
const MOV0 = insn(0xb7, 0, 0, 0, 0);
const rejects = (t: import('ava').ExecutionContext, insns: Insn[], re: RegExp, pc?: number): void => {
  const e = t.throws(() => validateProgram(insns), { instanceOf: InvalidProgramError, message: re });
  if (pc !== undefined) t.is(e!.pc, pc);
};

test('a well-formed program passes', (t) => {
  t.notThrows(() => validateProgram([MOV0, insn(0x18, 1, 0, 0, 5), insn(0, 0, 0, 0, 6), insn(0x05, 0, 0, 0), EXIT]));
});

test('empty programs and programs over the size limit are refused', (t) => {
  rejects(t, [], /empty program/);
  t.throws(() => validateProgram([MOV0, MOV0, EXIT], 2), { message: /BPF program is too large/ });
});

test('unknown opcodes are refused with their value', (t) => {
  rejects(t, [MOV0, insn(0x8f), EXIT], /insn 1: unknown opcode 0x8f/, 1);
  rejects(t, [insn(0x38), EXIT], /unknown opcode 0x38/, 0);
  rejects(t, [insn(0xdf, 1, 0, 0, 16), EXIT], /unknown opcode 0xdf/);
});

test('registers above r10 and writes to r10 are refused', (t) => {
  rejects(t, [insn(0xb7, 11, 0, 0, 1), EXIT], /invalid register r11/);
  rejects(t, [insn(0xbf, 0, 12), EXIT], /invalid register r12/);
  rejects(t, [insn(0xb7, 10, 0, 0, 1), EXIT], /r10 is read-only/);
  rejects(t, [insn(0x61, 10, 1, 0, 0), EXIT], /r10 is read-only/);
  t.notThrows(() => validateProgram([insn(0x7a, 10, 0, -8, 1), MOV0, EXIT]), 'storing through r10 is fine');
});

test('reserved fields must be zero or one of their allowed values', (t) => {
  rejects(t, [insn(0x07, 0, 1, 0, 1), EXIT], /reserved field src_reg=1/);
  rejects(t, [insn(0x0f, 0, 1, 0, 7), EXIT], /reserved field imm=7/);
  rejects(t, [insn(0x3f, 0, 1, 2), EXIT], /reserved field off=2/);
  rejects(t, [insn(0xbf, 0, 1, 4), EXIT], /reserved field off=4/);
  rejects(t, [insn(0xdc, 0, 0, 0, 8), EXIT], /reserved field imm=8/);
  rejects(t, [insn(0xdb, 0, 1, 0, 0x02), EXIT], /reserved field imm=2/);
  rejects(t, [insn(0x95, 0, 0, 0, 1)], /reserved field imm=1/);
});

test('ld_imm64 needs its second half, clean, and a supported source', (t) => {
  rejects(t, [MOV0, insn(0x18, 1, 0, 0, 1)], /incomplete ld_imm64/);
  rejects(t, [insn(0x18, 1, 0, 0, 1), insn(0x95), EXIT], /incomplete ld_imm64: second half has reserved fields/);
  rejects(t, [insn(0x18, 1, 3, 0, 1), insn(0), EXIT], /ld_imm64 src_reg 3 is not supported/);
  rejects(t, [insn(0x18, 1, 1, 0, 3), insn(0, 0, 0, 0, 1), EXIT], /second half of a map-fd ld_imm64/);
});

test('jumps and calls must land on an instruction, never inside an ld_imm64', (t) => {
  rejects(t, [insn(0x05, 0, 0, 5), EXIT], /jump out of range/);
  rejects(t, [insn(0x05, 0, 0, -2), EXIT], /jump out of range/);
  rejects(t, [insn(0x15, 1, 0, 1, 0), insn(0x18, 1, 0, 0, 1), insn(0), EXIT], /into the middle of ld_imm64/);
  rejects(t, [insn(0x06, 0, 0, 0, 3), EXIT], /jump out of range/);
  rejects(t, [insn(0x85, 0, 1, 0, 9), EXIT], /call out of range/);
  rejects(t, [insn(0x85, 0, 2, 1, 9), EXIT], /reserved field off=1/);
});

test('the last instruction must not fall off the end', (t) => {
  rejects(t, [MOV0], /last insn is not an exit or jmp/);
  rejects(t, [MOV0, insn(0x15, 0, 0, -2, 0)], /last insn is not an exit or jmp/);
  t.notThrows(() => validateProgram([MOV0, EXIT, insn(0x05, 0, 0, -2)]));
});

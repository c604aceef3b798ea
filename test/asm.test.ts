import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble, disassemble, disassembleInsn, toAsm, MNEMONICS } from '../bpf-vm/asm/index.ts';
import { decodeInsns, encodeInsns, insn, type Insn } from '../bpf-vm/isa/insn.ts';
import { OPCODE_TABLE, fieldAllows, type FieldRule, type OpcodeRule } from '../bpf-vm/isa/legality.ts';
import { BPF_PSEUDO_LD } from '../bpf-vm/isa/opcodes.ts';
import { AsmError, InvalidProgramError } from '../bpf-vm/errors.ts';

// ---------------------------------------------------------------------------------------------
// Every legal opcode, with every listed value of its variant-selecting fields and a spread of
// values for the free ones.

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

const ANY_OFF = [-32768, -1, 0, 7, 32767] as const;
const ANY_IMM = [-2147483648, -1, 0, 42, 2147483647] as const;

function values(rule: FieldRule, any: readonly number[]): readonly number[] {
  if (rule === 'zero') return [0];
  if (rule === 'any') return any;
  return rule;
}

/** One or more programs' worth of instructions per rule; ld_imm64 entries carry their second slot. */
function legalSamples(): Insn[][] {
  const rnd = lcg(0xb9f);
  const reg = (): number => rnd() % 11;
  const out: Insn[][] = [];
  for (const rule of OPCODE_TABLE.values()) {
    const srcs = rule.src === 'reg' ? [-1] : values(rule.src, [0]);
    for (const src of srcs) {
      for (const off of values(rule.off, ANY_OFF)) {
        for (const imm of values(rule.imm, ANY_IMM)) {
          const first = insn(rule.code, rule.dst === 'reg' ? reg() : 0, src === -1 ? reg() : src, off, imm);
          if (rule.kind !== 'lddw') {
            out.push([first]);
            continue;
          }
          const carriesNext = src === BPF_PSEUDO_LD.NONE || src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE
            || src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_IDX_VALUE;
          out.push([first, insn(0, 0, 0, 0, carriesNext ? ANY_IMM[rnd() % ANY_IMM.length]! : 0)]);
        }
      }
    }
  }
  return out;
}

function legal(ins: Insn, rule: OpcodeRule | undefined): boolean {
  if (rule === undefined) return false;
  return (rule.dst === 'reg' || ins.dst === 0)
    && (rule.src === 'reg' || fieldAllows(rule.src, ins.src))
    && fieldAllows(rule.off, ins.off) && fieldAllows(rule.imm, ins.imm);
}

test('every legal opcode survives toAsm -> assemble', (t) => {
  const samples = legalSamples();
  const covered = new Set(samples.map((s) => s[0]!.code));
  t.is(covered.size, OPCODE_TABLE.size);
  for (const sample of samples) {
    const text = toAsm(sample);
    t.deepEqual(assemble(text), sample, text);
  }
  const whole = samples.flat();
  t.deepEqual(assemble(toAsm(whole)), whole);
});

test('every legal opcode survives encodeInsns -> decodeInsns', (t) => {
  const whole = legalSamples().flat();
  t.deepEqual(decodeInsns(encodeInsns(whole)), whole);
});

test('every mnemonic assembles to instructions the opcode table allows', (t) => {
  for (const sample of legalSamples()) {
    for (const ins of assemble(toAsm(sample)).filter((_, i) => i === 0)) {
      t.true(legal(ins, OPCODE_TABLE.get(ins.code)), JSON.stringify(ins));
    }
  }
  t.true(MNEMONICS.includes('lock fetch add32'));
  t.true(MNEMONICS.includes('movsx3264'));
  t.false(MNEMONICS.includes('movsx3232'));
});

test('toAsm refuses what the syntax cannot express', (t) => {
  const bad: [Insn[], RegExp][] = [
    [[insn(0xff)], /insn 0: invalid opcode 0xff/],
    [[insn(0xbf, 1, 2, 4)], /off 4 is not allowed/],
    [[insn(0x18, 1, 0, 0, 1)], /no second slot/],
    [[insn(0x18, 1, 1, 0, 1), insn(0, 0, 0, 0, 7)], /src_reg 1 must have a zero imm/],
    [[insn(0x18, 1, 0, 0, 1), insn(0x07, 0, 0, 0, 0)], /second slot must have code/],
  ];
  for (const [insns, re] of bad) {
    const e = t.throws(() => toAsm(insns), { instanceOf: InvalidProgramError });
    t.regex(e?.message ?? '', re);
  }
});

// ---------------------------------------------------------------------------------------------
// Assembler: the suites' spellings.

const ASM_CASES: [string, Insn[]][] = [
  ['mov32 %r0, 1', [insn(0xb4, 0, 0, 0, 1)]],
  ['mov %r0, %r1', [insn(0xbf, 0, 1)]],
  ['mov64 r0, r1', [insn(0xbf, 0, 1)]],
  ['add64 %r1, 2', [insn(0x07, 1, 0, 0, 2)]],
  ['add32 %r0, -3', [insn(0x04, 0, 0, 0, -3)]],
  ['arsh32 %r0, %r1', [insn(0xcc, 0, 1)]],
  ['neg %r3', [insn(0x87, 3)]],
  ['neg32 %r3', [insn(0x84, 3)]],
  ['div %r1, %r2', [insn(0x3f, 1, 2)]],
  ['sdiv32 %r1, %r2', [insn(0x3c, 1, 2, 1)]],
  ['smod %r1, -3', [insn(0x97, 1, 0, 1, -3)]],
  ['smod32 %r1, %r2', [insn(0x9c, 1, 2, 1)]],
  ['movsx832 %r0, %r1', [insn(0xbc, 0, 1, 8)]],
  ['movsx1632 %r0, %r1', [insn(0xbc, 0, 1, 16)]],
  ['movsx864 %r0, %r1', [insn(0xbf, 0, 1, 8)]],
  ['movsx1664 %r0, %r1', [insn(0xbf, 0, 1, 16)]],
  ['movsx3264 %r0, %r1', [insn(0xbf, 0, 1, 32)]],
  ['le16 %r1', [insn(0xd4, 1, 0, 0, 16)]],
  ['be64 %r1', [insn(0xdc, 1, 0, 0, 64)]],
  ['bswap32 %r1', [insn(0xd7, 1, 0, 0, 32)]],
  ['swap16 %r1', [insn(0xd7, 1, 0, 0, 16)]],
  ['ldxw %r0, [%r1+4]', [insn(0x61, 0, 1, 4)]],
  ['ldxdw %r0, [%r1]', [insn(0x79, 0, 1, 0)]],
  ['ldxb %r0, [%r1 - 0x10]', [insn(0x71, 0, 1, -16)]],
  ['ldxh %r0, [%r1+0x7fff]', [insn(0x69, 0, 1, 0x7fff)]],
  ['ldxbsx %r0, [%r1+2]', [insn(0x91, 0, 1, 2)]],
  ['ldxsh %r0, [%r1-2]', [insn(0x89, 0, 1, -2)]],
  ['ldxwsx %r0, [%r1]', [insn(0x81, 0, 1)]],
  ['stw [%r1-4], 5', [insn(0x62, 1, 0, -4, 5)]],
  ['stb [%r1+0x10], 0xff', [insn(0x72, 1, 0, 16, 255)]],
  ['stdw [%r10-8], 0xffffffff', [insn(0x7a, 10, 0, -8, -1)]],
  ['stxdw [%r10-8], %r1', [insn(0x7b, 10, 1, -8)]],
  ['stxh [%r10 - 2], %r1', [insn(0x6b, 10, 1, -2)]],
  ['lddw %r1, 0x123456789abcdef0', [insn(0x18, 1, 0, 0, 0x9abcdef0 | 0), insn(0, 0, 0, 0, 0x12345678)]],
  ['lddw %r1, 0xFFFFFFFF00000000', [insn(0x18, 1, 0, 0, 0), insn(0, 0, 0, 0, -1)]],
  ['lddw %r1, -2', [insn(0x18, 1, 0, 0, -2), insn(0, 0, 0, 0, -1)]],
  ['lddw %r1, 42', [insn(0x18, 1, 0, 0, 42), insn(0, 0, 0, 0, 0)]],
  ['lddw %r1, map_by_fd(3)', [insn(0x18, 1, 1, 0, 3), insn(0)]],
  ['lddw %r1, map_val(map_by_fd(3)) + 16', [insn(0x18, 1, 2, 0, 3), insn(0, 0, 0, 0, 16)]],
  ['lddw %r1, map_by_idx(0)', [insn(0x18, 1, 5, 0, 0), insn(0)]],
  ['lddw %r1, map_val(map_by_idx(2))', [insn(0x18, 1, 6, 0, 2), insn(0)]],
  ['lddw %r1, var_addr(9)', [insn(0x18, 1, 3, 0, 9), insn(0)]],
  ['lddw %r1, code_addr(f)\nexit\nf: exit', [insn(0x18, 1, 4, 0, 2), insn(0), insn(0x95), insn(0x95)]],
  ['ldabsh 12', [insn(0x28, 0, 0, 0, 12)]],
  ['ldindb %r3, 4', [insn(0x50, 0, 3, 0, 4)]],
  ['ja +3', [insn(0x05, 0, 0, 3)]],
  ['ja -1', [insn(0x05, 0, 0, -1)]],
  ['jsge %r1, 0xffffffff, +1', [insn(0x75, 1, 0, 1, -1)]],
  ['jset %r1, 0x80000000, +1', [insn(0x45, 1, 0, 1, -0x80000000)]],
  ['jgt %r1, 4, 1', [insn(0x25, 1, 0, 1, 4)]],
  ['jeq32 %r1, %r2, -1', [insn(0x1e, 1, 2, -1)]],
  ['jsle32 %r1, -5, +2', [insn(0xd6, 1, 0, 2, -5)]],
  ['ja32 +5', [insn(0x06, 0, 0, 0, 5)]],
  ['gotol -3', [insn(0x06, 0, 0, 0, -3)]],
  ['call 1', [insn(0x85, 0, 0, 0, 1)]],
  ['call helper 5', [insn(0x85, 0, 0, 0, 5)]],
  ['call local +2', [insn(0x85, 0, 1, 0, 2)]],
  ['call local 10', [insn(0x85, 0, 1, 0, 10)]],
  ['call runtime 0x2a', [insn(0x85, 0, 2, 0, 42)]],
  ['exit', [insn(0x95)]],
  ['lock add [%r10-8], %r1', [insn(0xdb, 10, 1, -8, 0x00)]],
  ['lock fetch add [%r10-8], %r1', [insn(0xdb, 10, 1, -8, 0x01)]],
  ['lock or32 [%r1+4], %r2', [insn(0xc3, 1, 2, 4, 0x40)]],
  ['lock fetch or32 [%r1+4], %r2', [insn(0xc3, 1, 2, 4, 0x41)]],
  ['lock and [%r1], %r2', [insn(0xdb, 1, 2, 0, 0x50)]],
  ['lock fetch xor [%r1], %r2', [insn(0xdb, 1, 2, 0, 0xa1)]],
  ['lock xchg [%r1], %r2', [insn(0xdb, 1, 2, 0, 0xe1)]],
  ['lock fetch xchg32 [%r1], %r2', [insn(0xc3, 1, 2, 0, 0xe1)]],
  ['lock cmpxchg [%r1], %r2', [insn(0xdb, 1, 2, 0, 0xf1)]],
  ['lock cmpxchg32 [%r1], %r2', [insn(0xc3, 1, 2, 0, 0xf1)]],
];

test('assembler: instruction spellings', (t) => {
  for (const [src, want] of ASM_CASES) t.deepEqual(assemble(src), want, src);
});

test('assembler: labels, comments and the suite\'s implicit exit label', (t) => {
  const src = [
    '# leading comment',
    '',
    'start: mov %r0, 0   ; trailing comment',
    '  lddw %r1, 0x100000000 // two slots',
    '  jeq %r1, 0, done',
    '  jne %r0, 0, exit     # first exit, no label needed',
    '  call local sub',
    '  call sub',
    '  ja start',
    'done:',
    '  exit',
    'sub: mov %r0, 1',
    '  ja32 done',
    '  exit',
  ].join('\n');
  t.deepEqual(assemble(src), [
    insn(0xb7, 0, 0, 0, 0),
    insn(0x18, 1, 0, 0, 0), insn(0, 0, 0, 0, 1),
    insn(0x15, 1, 0, 4, 0),
    insn(0x55, 0, 0, 3, 0),
    insn(0x85, 0, 1, 0, 3),
    insn(0x85, 0, 1, 0, 2),
    insn(0x05, 0, 0, -8),
    insn(0x95),
    insn(0xb7, 0, 0, 0, 1),
    insn(0x06, 0, 0, 0, -3),
    insn(0x95),
  ]);
});

test('assembler: helper and map names through options', (t) => {
  const helpers: Record<string, number> = { bpf_map_lookup_elem: 1 };
  const maps: Record<string, number> = { counters: 7 };
  const opts = { helperId: (n: string) => helpers[n], mapId: (n: string) => maps[n] };
  t.deepEqual(assemble('lddw r1, map_by_fd(counters)\ncall bpf_map_lookup_elem\ncall helper bpf_map_lookup_elem', opts), [
    insn(0x18, 1, 1, 0, 7), insn(0),
    insn(0x85, 0, 0, 0, 1),
    insn(0x85, 0, 0, 0, 1),
  ]);
});

const ERROR_CASES: [string, number, string][] = [
  ['foo %r1', 1, "unknown mnemonic 'foo'"],
  ['lock nand [%r1], %r2', 1, "unknown mnemonic 'lock nand'"],
  ['add %r1', 1, "'add' takes 2 operands, got 1"],
  ['neg %r1, 1', 1, "'neg' takes 1 operand, got 2"],
  ['jeq %r1, 0', 1, "'jeq' takes 3 operands, got 2"],
  ['exit %r0', 1, "'exit' takes 0 operands, got 1"],
  ['mov %r16, 1', 1, "bad register '%r16': expected %r0..%r10"],
  ['mov %x1, 1', 1, "bad register '%x1': expected %r0..%r10"],
  ['mov %r1, 1.5', 1, "bad immediate '1.5': expected a decimal or 0x-prefixed hex number"],
  ['mov %r1, 0x100000000', 1, 'immediate 0x100000000 does not fit in 32 bits (-2147483648..4294967295); only lddw takes 64-bit immediates'],
  ['mov %r1, -2147483649', 1, 'immediate -2147483649 does not fit in 32 bits (-2147483648..4294967295); only lddw takes 64-bit immediates'],
  ['lddw %r1, 0x10000000000000000', 1, 'lddw immediate 0x10000000000000000 does not fit in 64 bits'],
  ['ldxw %r0, %r1', 1, "bad memory operand '%r1': expected [%rN], [%rN+off] or [%rN-off]"],
  ['ldxw %r0, [%r1+32768]', 1, 'offset 32768 out of range (-32768..32767)'],
  ['stw [%r1-0x8001], 1', 1, 'offset -32769 out of range (-32768..32767)'],
  ['ja +32768', 1, 'jump offset 32768 out of range (-32768..32767)'],
  ['ja nowhere', 1, "undefined label 'nowhere'"],
  ['mov %r0, 0\n\njeq %r0, 0, missing', 3, "undefined label 'missing'"],
  ['a: exit\na: exit', 2, "duplicate label 'a' (first defined on line 1)"],
  ['call %r2', 1, "'call %r2' (callx) is not in the instruction set: BPF_JMP | BPF_CALL | BPF_X is not a legal opcode"],
  ['call nothing', 1, "'call nothing': no such label or helper"],
  ['call local', 1, "'call local' needs a target"],
  ['call far 3', 1, "bad call mode 'far': expected helper, local or runtime"],
  ['movsx832 %r1, 5', 1, "'movsx832' needs a register source, got '5'"],
  ['lddw %r1, map_by_fd(m)', 1, "unknown map 'm'"],
  ['ja ?x', 1, "bad jump target '?x': expected +N, -N or a label"],
];

test('assembler: errors carry the line and a precise message', (t) => {
  for (const [src, line, message] of ERROR_CASES) {
    const e = t.throws(() => assemble(src), { instanceOf: AsmError }, src);
    t.is(e?.line, line, src);
    t.is(e?.message, `line ${line}: ${message}`, src);
  }
});

test('assembler: a label beyond 16 bits of offset is an error, ja32 reaches it', (t) => {
  const body = Array.from({ length: 40000 }, () => 'mov %r0, 0').join('\n');
  const e = t.throws(() => assemble(`ja far\n${body}\nfar: exit`), { instanceOf: AsmError });
  t.is(e?.message, "line 1: jump to 'far' is out of range: offset 40000 does not fit in 16 bits (ja32 takes a 32-bit offset)");
  const p = assemble(`ja32 far\n${body}\nfar: exit`);
  t.deepEqual(p[0], insn(0x06, 0, 0, 0, 40000));
});

// ---------------------------------------------------------------------------------------------
// Disassembler golden lines.

const DISASM_CASES: [string, string][] = [
  ['ldxw %r1, [%r1]', 'r1 = *(u32 *)(r1 + 0)'],
  ['stxdw [%r10-8], %r1', '*(u64 *)(r10 - 8) = r1'],
  ['stw [%r10-4], 0', '*(u32 *)(r10 - 4) = 0'],
  ['sth [%r10-4], -1', '*(u16 *)(r10 - 4) = -1'],
  ['jgt %r3, %r2, +20', 'if r3 > r2 goto +20'],
  ['jne32 %r1, 5, -3', 'if w1 != 5 goto -3'],
  ['jset32 %r1, 3, +1', 'if w1 & 3 goto +1'],
  ['jsgt %r1, %r2, +0', 'if r1 s> r2 goto +0'],
  ['jsle %r1, -1, +4', 'if r1 s<= -1 goto +4'],
  ['ja +2', 'goto +2'],
  ['ja32 -7', 'gotol -7'],
  ['mov %r0, 1', 'r0 = 1'],
  ['mov32 %r0, %r1', 'w0 = w1'],
  ['mov32 %r0, -1', 'w0 = -1'],
  ['add %r1, -8', 'r1 += -8'],
  ['xor32 %r1, 0xffff', 'w1 ^= 65535'],
  ['lsh %r1, 32', 'r1 <<= 32'],
  ['arsh %r1, 3', 'r1 s>>= 3'],
  ['mod %r1, %r2', 'r1 %= r2'],
  ['sdiv %r1, %r2', 'r1 s/= r2'],
  ['smod %r1, %r2', 'r1 s%= r2'],
  ['sdiv32 %r1, 7', 'w1 s/= 7'],
  ['neg %r0', 'r0 = -r0'],
  ['neg32 %r0', 'w0 = -w0'],
  ['movsx864 %r1, %r2', 'r1 = (s8)r2'],
  ['movsx1632 %r1, %r2', 'w1 = (s16)w2'],
  ['movsx3264 %r1, %r2', 'r1 = (s32)r2'],
  ['be16 %r2', 'r2 = be16 r2'],
  ['le32 %r2', 'r2 = le32 r2'],
  ['bswap16 %r2', 'r2 = bswap16 r2'],
  ['ldxbsx %r1, [%r2]', 'r1 = *(s8 *)(r2 + 0)'],
  ['ldxwsx %r1, [%r2-4]', 'r1 = *(s32 *)(r2 - 4)'],
  ['lddw %r1, 0x123', 'r1 = 291 ll'],
  ['lddw %r1, 0xffffffffffffffff', 'r1 = -1 ll'],
  ['lddw %r1, 0x123456789abcdef0', 'r1 = 1311768467463790320 ll'],
  ['lddw %r1, map_by_fd(5)', 'r1 = map[fd:5]'],
  ['lddw %r1, map_by_idx(0)', 'r1 = map[idx:0]'],
  ['lddw %r1, map_val(map_by_fd(5)) + 8', 'r1 = map[fd:5][0]+8'],
  ['lddw %r1, var_addr(3)', 'r1 = var_addr(3)'],
  ['call 1', 'call 1'],
  ['call local +5', 'call pc+5'],
  ['call local -3', 'call pc-3'],
  ['call runtime 7', 'call kernel-function#7'],
  ['exit', 'exit'],
  ['ldabsb 8', 'r0 = *(u8 *)skb[8]'],
  ['ldindh %r3, 0', 'r0 = *(u16 *)skb[r3]'],
  ['ldindw %r3, 4', 'r0 = *(u32 *)skb[r3 + 4]'],
  ['lock add [%r0], %r1', 'lock *(u64 *)(r0 + 0) += r1'],
  ['lock xor [%r0+8], %r1', 'lock *(u64 *)(r0 + 8) ^= r1'],
  ['lock add32 [%r0], %r1', 'lock *(u32 *)(r0 + 0) += r1'],
  ['lock and32 [%r0], %r1', 'lock *(u32 *)(r0 + 0) &= w1'],
  ['lock fetch add [%r0], %r1', 'r1 = atomic_fetch_add((u64 *)(r0 + 0), r1)'],
  ['lock fetch or32 [%r0-4], %r1', 'w1 = atomic_fetch_or((u32 *)(r0 - 4), w1)'],
  ['lock xchg [%r0], %r1', 'r1 = xchg_64(r0 + 0, r1)'],
  ['lock xchg32 [%r0], %r1', 'w1 = xchg32_32(r0 + 0, w1)'],
  ['lock cmpxchg [%r1], %r2', 'r0 = cmpxchg_64(r1 + 0, r0, r2)'],
  ['lock cmpxchg32 [%r1], %r2', 'w0 = cmpxchg32_32(r1 + 0, w0, w2)'],
];

test('disassembler: golden lines', (t) => {
  for (const [src, want] of DISASM_CASES) {
    t.deepEqual(disassemble(assemble(src)), [{ pc: 0, text: want }], src);
  }
});

test('disassembler: one line per instruction, none for the second ld_imm64 slot', (t) => {
  const p = assemble('lddw %r1, 1\nmov %r0, 0\nlddw %r2, 2\nexit');
  t.deepEqual(disassemble(p), [
    { pc: 0, text: 'r1 = 1 ll' },
    { pc: 2, text: 'r0 = 0' },
    { pc: 3, text: 'r2 = 2 ll' },
    { pc: 5, text: 'exit' },
  ]);
});

test('disassembler: names from callbacks', (t) => {
  const p = assemble('lddw %r1, map_by_fd(4)\nlddw %r2, map_val(map_by_idx(1)) - 4\ncall 1\ncall 999\ncall local f\nlddw %r3, code_addr(f)\nexit\nf: exit');
  const lines = disassemble(p, {
    mapName: (n, src) => `${src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD ? 'fd' : 'idx'}${n}`,
    helperName: (id) => (id === 1 ? 'bpf_map_lookup_elem' : undefined),
    funcName: (pc) => (pc === 10 ? 'sub' : undefined),
  }).map((l) => l.text);
  t.deepEqual(lines, [
    'r1 = map[fd4]',
    'r2 = map[idx1][0]-4',
    'call bpf_map_lookup_elem#1',
    'call unknown#999',
    'call pc+3 <sub>',
    'r3 = code_addr(pc+2) <sub>',
    'exit',
    'exit',
  ]);
});

test('disassembler: bad instructions print instead of throwing', (t) => {
  const p = [insn(0xff), insn(0x8d, 0, 1), insn(0xbf, 1, 2, 4), insn(0xdb, 1, 2, 0, 0x02), insn(0xd4, 1, 0, 0, 8), insn(0x18, 1)];
  t.deepEqual(disassemble(p).map((l) => l.text), [
    'invalid opcode 0xff',
    'invalid opcode 0x8d',
    'invalid insn 0xbf: off 4',
    'invalid insn 0xdb: imm 2',
    'invalid insn 0xd4: imm 8',
    'invalid insn 0x18: ld_imm64 has no second slot',
  ]);
  t.is(disassembleInsn(p, 99), 'invalid pc 99');
});

// ---------------------------------------------------------------------------------------------
// Against llvm-objdump, when the toolchain is installed.

function tool(name: string): boolean {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** pc -> text of `llvm-objdump -d`, without llvm's `<symbol+offset>` jump annotations. */
function objdump(obj: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of execFileSync('llvm-objdump', ['-d', obj], { encoding: 'utf8' }).split('\n')) {
    const m = /^\s*(\d+):\t[0-9a-f]{2}(?: [0-9a-f]{2})*\s*\t(.*)$/.exec(line);
    if (m !== null) out.set(Number(m[1]), m[2]!.replace(/ <[^<>\s]*>$/, '').trim());
  }
  return out;
}

function withTmp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'vxo-asm-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const HAVE_LLVM = tool('clang') && tool('llvm-objdump');

test('disassembler matches llvm-objdump on a clang-compiled program', (t) => {
  if (!HAVE_LLVM) {
    t.log('skipped: clang or llvm-objdump not found on PATH');
    t.pass();
    return;
  }
  const c = `
typedef unsigned long long u64; typedef unsigned int u32; typedef unsigned short u16;
static void *(*lookup)(void *, const void *) = (void *)1;
struct { int type, key, value, max, flags; } counts __attribute__((section("maps"), used)) = { 2, 4, 8, 4, 0 };
__attribute__((noinline)) static int scale(int a, int b) { return a * b + 7; }
__attribute__((section("xdp"), used)) int prog(u32 *ctx) {
  void *data = (void *)(long)ctx[0], *end = (void *)(long)ctx[1];
  if (data + 14 > end) return 1;
  u16 proto = __builtin_bswap16(*(u16 *)(data + 12));
  u32 k = proto & 3;
  u64 *v = lookup(&counts, &k);
  if (!v) return 2;
  __sync_fetch_and_add(v, 1);
  u64 old = __sync_fetch_and_add(v, 3) ^ __sync_lock_test_and_set(v, 9);
  u64 c = __sync_val_compare_and_swap(v, old, 10) + 0x123456789abcdefULL;
  if ((int)c > -3) c >>= 3; else c = (long long)c >> 5;
  if ((u32)c < 77) c -= 8;
  return scale(proto, (int)c) + (u32)(c >> 40) % 13;
}
char _license[] __attribute__((section("license"), used)) = "GPL";
`;
  withTmp((dir) => {
    writeFileSync(join(dir, 'p.c'), c);
    execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-mcpu=v3', '-I/usr/include/x86_64-linux-gnu', '-c', 'p.c', '-o', 'p.o'], { cwd: dir });
    // Take the bytes from llvm-objdump itself: one function per section, pcs restart at each symbol.
    const text = execFileSync('llvm-objdump', ['-d', join(dir, 'p.o')], { encoding: 'utf8' });
    let compared = 0;
    for (const section of text.split(/\nDisassembly of section /).slice(1)) {
      const insns: Insn[] = [];
      const want = new Map<number, string>();
      for (const line of section.split('\n')) {
        const m = /^\s*(\d+):\t([0-9a-f]{2}(?: [0-9a-f]{2})*)\s*\t(.*)$/.exec(line);
        if (m === null) continue;
        const bytes = Uint8Array.from(m[2]!.trim().split(' ').map((b) => parseInt(b, 16)));
        want.set(Number(m[1]), m[3]!.replace(/ <[^<>\s]*>$/, '').trim());
        insns.push(...decodeInsns(bytes));
      }
      for (const { pc, text: got } of disassemble(insns)) {
        // llvm prints a bpf-to-bpf call's raw imm (`call -1`, relocated later); the kernel style is `call pc-1`.
        const expected = want.get(pc)!.replace(/^call (-?\d+)$/, (s, n: string) =>
          insns[pc]!.src === 1 ? `call pc${Number(n) < 0 ? n : `+${n}`}` : s);
        t.is(got, expected, `pc ${pc}`);
        compared++;
      }
    }
    t.true(compared > 20);
  });
});

/**
 * Where llvm-objdump 14 and this disassembler knowingly differ, and why:
 * - `<unknown>`: instructions llvm 14 does not decode (ISA v4, jset, mod, BPF_ST, most 32-bit atomics).
 * - pseudo ld_imm64 (`ld_pseudo r1, 1, 5`), bpf-to-bpf and kfunc calls: printed in the kernel's style.
 * - ldind with a non-zero imm: llvm drops the imm; the kernel prints `skb[r3 + 4]`.
 * - 32-bit atomic add with FETCH: llvm 14's default decoder ignores the fetch bit.
 * - ALU with a non-zero off (sdiv, smod, movsx): llvm before 17 ignores off and prints div, mod, mov.
 */
function llvmDiffers(ins: Insn, llvm: string): boolean {
  const rule = OPCODE_TABLE.get(ins.code)!;
  return llvm === '<unknown>'
    || (rule.kind === 'lddw' && ins.src !== 0)
    || (rule.kind === 'call' && ins.src !== 0)
    || (rule.kind === 'ldind' && ins.imm !== 0)
    || (ins.code === 0xc3 && ins.imm === 0x01)
    || (rule.kind === 'alu' && ins.off !== 0);
}

test('disassembler matches llvm-objdump on every legal opcode llvm decodes', (t) => {
  if (!HAVE_LLVM) {
    t.log('skipped: clang or llvm-objdump not found on PATH');
    t.pass();
    return;
  }
  const insns = legalSamples().flat();
  const bytes = encodeInsns(insns);
  const lines: string[] = [];
  for (let o = 0; o < bytes.length; o += 8) lines.push(`\t.byte ${[...bytes.subarray(o, o + 8)].join(', ')}`);
  withTmp((dir) => {
    writeFileSync(join(dir, 'all.s'), `\t.text\n\t.globl f\nf:\n${lines.join('\n')}\n`);
    execFileSync('clang', ['-target', 'bpf', '-c', 'all.s', '-o', 'all.o'], { cwd: dir });
    const want = objdump(join(dir, 'all.o'));
    let compared = 0;
    for (const { pc, text } of disassemble(insns)) {
      const llvm = want.get(pc);
      if (llvm === undefined) {
        t.fail(`llvm-objdump printed nothing at pc ${pc}`);
        continue;
      }
      if (llvmDiffers(insns[pc]!, llvm)) continue;
      t.is(text, llvm, `pc ${pc}: ${JSON.stringify(insns[pc])}`);
      compared++;
    }
    t.log(`compared ${compared} instructions with llvm-objdump`);
    t.true(compared > 150);
  });
});

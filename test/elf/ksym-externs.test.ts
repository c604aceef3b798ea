// kfunc externs (`extern ... __ksym`) resolved at load against vxo's kernel BTF
// (bpf-vm/elf/externs.ts, test/fixtures/btf/ksym_*.c): a kfunc vxo has becomes a
// BPF_PSEUDO_KFUNC_CALL with its BTF id; a strong one it lacks, or with another prototype, fails the
// load with libbpf's message; a weak one it lacks becomes libbpf's poisoned call; the other extern
// kinds are refused naming the symbol. The disassembler names kfunc calls.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { disassemble } from '../../bpf-vm/asm/disassembler.ts';
import { kernelBtf } from '../../bpf-vm/btf/kernel-btf.ts';
import { parseElf } from '../../bpf-vm/elf/collection.ts';
import { POISON_CALL_KFUNC_BASE, externOrder } from '../../bpf-vm/elf/externs.ts';
import { readElf } from '../../bpf-vm/elf/reader.ts';
import { BpfError } from '../../bpf-vm/errors.ts';
import { helperName } from '../../bpf-vm/helpers/table.ts';
import { explainPoisonedInsn, loadCollection, programLoadInfo } from '../../bpf-vm/prog/collection.ts';
import { VerifierError } from '../../bpf-vm/verifier/api.ts';
import { verifyProgram } from '../../bpf-vm/verifier/index.ts';
import { formatDump } from '../../scenarios/cli/prog-actions.ts';

const dir = fileURLToPath(new URL('../fixtures/btf/', import.meta.url));
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(dir + name));
const kfunc = kernelBtf().kfunc('bpf_sk_assign_tcp_reqsk')!;

test('a kfunc vxo has: src_reg BPF_PSEUDO_KFUNC_CALL, imm its BTF id in vxo\'s kernel BTF, off 0', (t) => {
  const raw = readElf(fixture('ksym_calls.o')).sections.find((s) => s.name === 'tc')!.data;
  t.is(raw[12 * 8 + 1], 0x10, 'clang: src_reg 1 (a call), imm -1, relocated against the undefined symbol');
  const spec = parseElf(fixture('ksym_calls.o')).programs[0]!;
  t.deepEqual(spec.insns[12], { code: 0x85, dst: 0, src: 2, off: 0, imm: kfunc.funcId });
  t.deepEqual(spec.kfuncCalls, [{ insn: 12, name: 'bpf_sk_assign_tcp_reqsk', btfId: kfunc.funcId }]);
  t.is(kernelBtf().btf.type(kfunc.funcId)?.kind, 'func');
});

test('a weak kfunc vxo lacks: libbpf\'s poisoned call (2002000000 + extern index), the load succeeds', (t) => {
  t.deepEqual(externOrder(readElf(fixture('ksym_calls.o'))), ['bpf_no_such_kfunc', 'bpf_sk_assign_tcp_reqsk']);
  const spec = parseElf(fixture('ksym_calls.o')).programs[0]!;
  t.deepEqual(spec.insns[6], { code: 0x85, dst: 0, src: 0, off: 0, imm: POISON_CALL_KFUNC_BASE + 0 });
  t.like(spec.poisoned?.[0], { insn: 6, reason: 'kfunc', name: 'bpf_no_such_kfunc', func: 'ksym_calls', funcInsn: 6 });
  const prog = loadCollection(parseElf(fixture('ksym_calls.o'))).program();
  t.is(programLoadInfo(prog).kfuncCalls.length, 1);
  t.is(explainPoisonedInsn(prog, 6), "prog 'ksym_calls': 6: <invalid kfunc call> (in ksym_calls, insn #6)\nkfunc 'bpf_no_such_kfunc' is referenced but wasn't resolved");
});

test('a strong kfunc vxo lacks fails the load with libbpf\'s message', (t) => {
  const e = t.throws(() => parseElf(fixture('ksym_missing.o'), 'ksym_missing.o'), { instanceOf: BpfError });
  t.is(e?.code, 'EINVAL');
  t.is(e?.message, "extern (func ksym) 'bpf_no_such_kfunc': not found in kernel or module BTFs");
});

test('a kfunc declared with another prototype fails the load', (t) => {
  const e = t.throws(() => parseElf(fixture('ksym_proto.o')), { instanceOf: BpfError });
  t.is(e?.code, 'EINVAL');
  t.regex(e?.message ?? '', /^extern \(func ksym\) 'bpf_sk_assign_tcp_reqsk': func_proto \[\d+\] incompatible with vmlinux \[\d+\]$/);
});

test('.kconfig externs and ksym variables are refused with EOPNOTSUPP, naming the symbol', (t) => {
  const kcfg = t.throws(() => parseElf(fixture('ksym_kconfig.o')), { instanceOf: BpfError });
  t.is(kcfg?.code, 'EOPNOTSUPP');
  t.regex(kcfg?.message ?? '', /extern \(kcfg\) 'LINUX_KERNEL_VERSION'/);
  const v = t.throws(() => parseElf(fixture('ksym_var.o')), { instanceOf: BpfError });
  t.is(v?.code, 'EOPNOTSUPP');
  t.regex(v?.message ?? '', /extern \(var ksym\) 'bpf_prog_active'/);
});

test('the disassembler names kfunc calls; poisoned calls print as the kernel prints them', (t) => {
  const prog = loadCollection(parseElf(fixture('ksym_calls.o'))).program();
  const lines = disassemble(prog.insns, { helperName });
  t.is(lines.find((l) => l.pc === 12)?.text, `call bpf_sk_assign_tcp_reqsk#${kfunc.funcId}`);
  t.is(lines.find((l) => l.pc === 6)?.text, 'call unknown#2002000000');
  t.is(disassemble(prog.insns).find((l) => l.pc === 6)?.text, 'call 2002000000', 'llvm-objdump\'s spelling without helper names');
  t.is(disassemble(prog.insns, { kfuncName: () => undefined }).find((l) => l.pc === 12)?.text, `call kernel-function#${kfunc.funcId}`);
  const coll = loadCollection(parseElf(fixture('core_kinds.o')));
  t.is(disassemble(coll.program().insns, { helperName }).find((l) => l.pc === 67)?.text, 'call unknown#195896080');
});

test('`vxo prog dump` of core_sk.o: the kfunc call as the kernel\'s log prints it', (t) => {
  const coll = loadCollection(parseElf(fixture('core_sk.o')));
  const dump = formatDump(coll, coll.program());
  t.true(dump.includes(`  109: (85) call bpf_sk_assign_tcp_reqsk#${kfunc.funcId}`), dump);
  t.true(dump.includes('   98: (61) r1 = *(u32 *)(r9 + 496)'), 'tcp_sock___local.rcv_nxt at vxo\'s offset');
});

test('verifying ksym_calls.o: the kfunc call passes, the reached poisoned weak call fails as libbpf\'s', (t) => {
  const prog = loadCollection(parseElf(fixture('ksym_calls.o'))).program();
  const e = t.throws(() => verifyProgram(prog, { logLevel: 1 }), { instanceOf: VerifierError });
  t.is(e?.code, 'EINVAL');
  t.is(e?.message, 'invalid func unknown#2002000000');
});

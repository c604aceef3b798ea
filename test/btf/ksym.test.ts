// kfunc externs resolved against vxo's kernel BTF as libbpf does: the fixture's
// bpf_sk_assign_tcp_reqsk resolves to the kernel FUNC; an unknown name or an incompatible prototype
// is refused with libbpf's message, or left unresolved when the extern is weak.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseBtf } from '../../bpf-vm/btf/btf.ts';
import { BtfWriter, BTF_FUNC } from '../../bpf-vm/btf/btf-encode.ts';
import { kernelBtf } from '../../bpf-vm/btf/kernel-btf.ts';
import { resolveKsymFunc } from '../../bpf-vm/btf/ksym.ts';
import { readElf } from '../../bpf-vm/elf/reader.ts';

const k = kernelBtf();

test('the fixture\'s extern resolves to the kernel FUNC (the BTF id a kfunc call carries)', (t) => {
  const elf = readElf(readFileSync(fileURLToPath(new URL('../fixtures/btf/core_sk.o', import.meta.url))));
  const btf = parseBtf(elf.sections.find((s) => s.name === '.BTF')!.data);
  const f = btf.types.find((x) => x?.kind === 'func' && x.name === 'bpf_sk_assign_tcp_reqsk')!;
  t.truthy(btf.datasec('.ksyms')?.vars.some((v) => v.type === f.id));
  const r = resolveKsymFunc(btf, f.id, k, false);
  t.true(r.ok);
  if (r.ok) t.is(r.kfunc.funcId, k.typeId('bpf_sk_assign_tcp_reqsk', 'func')!);
});

function externs(): { btf: ReturnType<typeof parseBtf>; bad: number; unknown: number; notExtern: number } {
  const w = new BtfWriter();
  const int = w.add({ kind: 'int', name: 'int', size: 4, encoding: 1, bitOffset: 0, bits: 32 });
  const shortProto = w.add({ kind: 'func_proto', name: '', returnType: int, params: [{ name: 's', type: int }] });
  const bad = w.add({ kind: 'func', name: 'bpf_sk_assign_tcp_reqsk', type: shortProto, linkage: BTF_FUNC.EXTERN });
  const unknown = w.add({ kind: 'func', name: 'bpf_no_such_kfunc', type: shortProto, linkage: BTF_FUNC.EXTERN });
  const notExtern = w.add({ kind: 'func', name: 'bpf_rcu_read_lock', type: shortProto, linkage: BTF_FUNC.GLOBAL });
  return { btf: parseBtf(w.encode()), bad, unknown, notExtern };
}

test('unknown names and incompatible prototypes: libbpf\'s messages; weak externs stay unresolved', (t) => {
  const { btf, bad, unknown, notExtern } = externs();
  t.deepEqual(resolveKsymFunc(btf, unknown, k, false), { ok: false, weak: false, message: 'extern (func ksym) \'bpf_no_such_kfunc\': not found in kernel or module BTFs' });
  t.like(resolveKsymFunc(btf, unknown, k, true), { ok: false, weak: true });
  const proto = k.kfunc('bpf_sk_assign_tcp_reqsk')!.protoId;
  t.deepEqual(resolveKsymFunc(btf, bad, k, false), { ok: false, weak: false, message: `extern (func ksym) 'bpf_sk_assign_tcp_reqsk': func_proto [2] incompatible with vmlinux [${proto}]` });
  t.like(resolveKsymFunc(btf, notExtern, k, false), { ok: false, message: 'extern (func ksym) \'bpf_rcu_read_lock\': FUNC is not extern' });
});

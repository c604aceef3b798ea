// vxo's CO-RE pass and kfunc extern resolution against libbpf's, on the same object
// (test/fixtures/btf/core_sk.o): bpftool -d loads it into the running kernel, against Linux's
// BTF, and libbpf's debug log says which instruction each record patched and how it printed the
// record's spec. Layouts differ between vxo and Linux (tcp_sock), so the comparison is of
// structure: the same records, the same instructions, the same spec text, nothing poisoned, the
// kfunc resolved by name; and the same values where the types are UAPI (identical on both).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseBtf } from '../../bpf-vm/btf/btf.ts';
import { coreRelosBySection } from '../../bpf-vm/btf/core-relos.ts';
import { bpf_core_parse_spec } from '../../bpf-vm/btf/core-resolve.ts';
import { formatCoreSpec } from '../../bpf-vm/elf/core-apply.ts';
import { parseElf } from '../../bpf-vm/elf/collection.ts';
import { readElf } from '../../bpf-vm/elf/reader.ts';
import { bpfSize, sizeBytes } from '../../bpf-vm/isa/opcodes.ts';
import { kernelVerify } from '../support/kernel.ts';
import { kernelTest } from '../support/kernel-test.ts';

const obj = fileURLToPath(new URL('../fixtures/btf/core_sk.o', import.meta.url));

interface LibbpfRelo { spec?: string; insn?: number; cls?: string; from?: number; to?: number; poisoned?: boolean; memSz?: number }

/** libbpf's `prog 'core_sk': relo #N: ...` debug lines, by record index. */
function libbpfRelos(log: string, prog = 'core_sk'): Map<number, LibbpfRelo> {
  const out = new Map<number, LibbpfRelo>();
  const get = (i: number): LibbpfRelo => out.get(i) ?? (out.set(i, {}), out.get(i)!);
  for (const line of log.split('\n')) {
    const m = /^libbpf: prog '(\w+)': relo #(\d+): (.*)$/.exec(line);
    if (!m || m[1] !== prog) continue;
    m.splice(1, 1);
    const r = get(Number(m[1])), rest = m[2]!;
    const p = /^patched insn #(\d+) \(([A-Z/0-9]+)\) (?:off|imm|imm64) (\d+) -> (\d+)$/.exec(rest);
    const sz = /^patched insn #\d+ \(LDX\/ST\/STX\) mem_sz \d+ -> (\d+)$/.exec(rest);
    if (sz) r.memSz = Number(sz[1]);
    else if (p) Object.assign(r, { insn: Number(p[1]), cls: p[2], from: Number(p[3]), to: Number(p[4]) });
    else if (/substituting insn #\d+ w\/ invalid insn/.test(rest)) r.poisoned = true;
    else if (rest.startsWith('<') && r.spec === undefined) r.spec = rest;
  }
  return out;
}

kernelTest('CO-RE: vxo applies the records libbpf applies, to the same instructions, printing the same specs', (t) => {
  const r = kernelVerify(obj);
  t.true(r.accepted, r.log.slice(-2000));
  const linux = libbpfRelos(r.log);
  const bytes = new Uint8Array(readFileSync(obj));
  const elf = readElf(bytes);
  const sec = (n: string): Uint8Array => elf.sections.find((s) => s.name === n)!.data;
  const local = parseBtf(sec('.BTF'));
  const records = coreRelosBySection(sec('.BTF.ext'), sec('.BTF')).get('tc')!;
  const spec = parseElf(bytes).programs[0]!;
  t.is(spec.poisoned, undefined);
  t.is(linux.size, records.length, 'libbpf logged every record');
  const uapi = /^<\w+> \[\d+\] (struct __sk_buff|struct bpf_sock_tuple|struct bpf_tcp_req_attrs|enum bpf_map_type)\b/;
  let compared = 0;
  records.forEach((rec, i) => {
    const l = linux.get(i);
    const pc = rec.insnOff / 8;
    t.truthy(l, `relo #${i}`);
    if (!l) return;
    t.falsy(l.poisoned, `relo #${i} poisoned by libbpf`);
    t.is(l.insn, pc, `relo #${i}: the same instruction`);
    t.is(formatCoreSpec(bpf_core_parse_spec(local, rec.typeId, rec.accessStr, rec.kind), rec.kind).text, l.spec ?? '', `relo #${i}: libbpf's spec text`);
    const ins = spec.insns[pc]!;
    const cls = l.cls === 'LDIMM64' ? 'imm64' : l.cls === 'LDX/ST/STX' ? 'off' : 'imm';
    const vxo = cls === 'imm64' ? Number((BigInt(spec.insns[pc + 1]!.imm >>> 0) << 32n) | BigInt(ins.imm >>> 0)) : cls === 'off' ? ins.off : ins.imm;
    t.truthy(l.to !== undefined, `relo #${i}: libbpf patched it`);
    if (uapi.test(l.spec ?? '')) {
      t.is(vxo, l.to ?? -1, `relo #${i} ${l.spec}: UAPI layouts agree`);
      compared++;
    }
  });
  t.true(compared >= 8, `${compared} UAPI values compared`);
});

kernelTest('kfunc extern: libbpf and vxo both resolve bpf_sk_assign_tcp_reqsk by name and call it as a kfunc', (t) => {
  const r = kernelVerify(obj);
  t.regex(r.log, /extern \(func ksym\) 'bpf_sk_assign_tcp_reqsk': resolved to kernel \[\d+\]/);
  const spec = parseElf(new Uint8Array(readFileSync(obj))).programs[0]!;
  t.deepEqual(spec.kfuncCalls?.map((c) => c.name), ['bpf_sk_assign_tcp_reqsk']);
  t.like(spec.insns[109], { code: 0x85, src: 2, off: 0 });
  t.regex(r.log, /prog 'core_sk': found extern #0 'bpf_sk_assign_tcp_reqsk' \(sym \d+\) for insn #109/);
});

kernelTest('CO-RE without a target: vxo poisons exactly what libbpf poisons, and resizes the load libbpf resizes', (t) => {
  const path = fileURLToPath(new URL('../fixtures/btf/core_kinds.o', import.meta.url));
  // The verifier refuses the program (it reads through a packet pointer unchecked); libbpf has
  // relocated it by then, and its log says how.
  const linux = libbpfRelos(kernelVerify(path).log, 'core_kinds');
  const bytes = new Uint8Array(readFileSync(path));
  const elf = readElf(bytes);
  const sec = (n: string): Uint8Array => elf.sections.find((s) => s.name === n)!.data;
  const records = coreRelosBySection(sec('.BTF.ext'), sec('.BTF')).get('tc')!;
  const spec = parseElf(bytes).programs[0]!;
  t.is(linux.size, records.length);
  const vxoPoisoned = new Set(spec.poisoned?.map((p) => p.relo));
  records.forEach((rec, i) => {
    const l = linux.get(i)!;
    t.is(vxoPoisoned.has(i), l.poisoned === true, `relo #${i} at insn ${rec.insnOff / 8}: poisoned by libbpf ${l.poisoned === true}`);
    if (l.memSz !== undefined) t.is(sizeBytes(bpfSize(spec.insns[rec.insnOff / 8]!.code)) as number, l.memSz, `relo #${i}: load size`);
  });
  t.true(vxoPoisoned.size >= 3);
});

kernelTest('kfunc externs vxo and Linux both lack or mistype: the same libbpf messages', (t) => {
  const fx = (n: string): string => fileURLToPath(new URL(`../fixtures/btf/${n}`, import.meta.url));
  const vxoMessage = (n: string): string => {
    try {
      parseElf(new Uint8Array(readFileSync(fx(n))));
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  };
  const missing = kernelVerify(fx('ksym_missing.o'));
  t.false(missing.accepted);
  t.true(missing.log.includes(vxoMessage('ksym_missing.o')), missing.log.slice(-1500));
  // libbpf names the kernel BTF "vmlinux" since 1.2 (module kfuncs); older ones say "kernel". The ids differ.
  const proto = kernelVerify(fx('ksym_proto.o'));
  t.false(proto.accepted);
  const shape = (s: string): string => s.replace(/\[\d+\]/g, '[N]').replace(/incompatible with (kernel|vmlinux)/, 'incompatible with vmlinux');
  const line = /extern \(func ksym\) .*incompatible with .*/.exec(proto.log)?.[0] ?? '';
  t.is(shape(line), shape(vxoMessage('ksym_proto.o')));
  // A weak kfunc Linux lacks is not a load error there either (recent libbpf poisons the call as vxo does; v1.1 zeroes its imm).
  t.regex(kernelVerify(fx('ksym_calls.o')).log, /extern 'bpf_no_such_kfunc' \(weak\): not resolved|poisoning insn #6 that calls kfunc 'bpf_no_such_kfunc'/);
});

// `vxo btf dump`: bpftool's raw text and vmlinux.h for vxo's kernel BTF and for objects' BTF. The
// byte-for-byte comparison with the real bpftool is in test/kernel/btf-bpftool.test.ts; here the
// shape of the output, the C declarator syntax and the command line.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseBtf } from '../../bpf-vm/btf/btf.ts';
import { BtfWriter } from '../../bpf-vm/btf/btf-encode.ts';
import { dumpBtfC, withoutBpftool75Additions } from '../../bpf-vm/btf/btf-dump-c.ts';
import { dumpBtfRaw } from '../../bpf-vm/btf/btf-dump-raw.ts';
import { parseBtfFile } from '../../bpf-vm/btf/btf-file.ts';
import { kernelBtf } from '../../bpf-vm/btf/kernel-btf.ts';
import { btfDumpText } from '../../scenarios/cli/btf-actions.ts';
import { UsageError } from '../../scenarios/cli/errors.ts';

const k = kernelBtf();
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/btf/${name}`, import.meta.url));

test('raw: bpftool\'s line per type and tab-indented members', (t) => {
  const lines = dumpBtfRaw(k.btf).split('\n');
  t.is(lines[0], '[1] INT \'int\' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED');
  t.true(lines.includes('[12] INT \'_Bool\' size=1 bits_offset=0 nr_bits=8 encoding=BOOL'));
  const sc = lines.findIndex((l) => /^\[\d+\] STRUCT 'sock_common' size=104 vlen=20$/.test(l));
  t.true(sc > 0);
  t.regex(lines[sc + 1]!, /^\t'\(anon\)' type_id=\d+ bits_offset=0$/);
  t.regex(lines[sc + 6]!, /^\t'skc_reuse' type_id=\d+ bits_offset=152 bitfield_size=4$/);
  const kf = k.kfunc('bpf_sk_assign_tcp_reqsk')!;
  t.true(lines.includes(`[${kf.funcId}] FUNC 'bpf_sk_assign_tcp_reqsk' type_id=${kf.protoId} linkage=static`));
  t.true(lines.includes(`[${kf.funcId + 1}] DECL_TAG 'bpf_kfunc' type_id=${kf.funcId} component_idx=-1`));
  t.true(lines.includes('\t\'attrs__sz\' type_id=1'));
  t.is(lines.filter((l) => l.startsWith('[')).length, k.typeCount);
  t.regex(dumpBtfRaw(k.btf), /'TCP_LISTEN' val=10\n/);
});

test('C: a vmlinux.h with preserve_access_index, dependencies first, forward declarations, the kfunc externs', (t) => {
  const h = dumpBtfC(k.btf);
  t.true(h.startsWith('#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n'));
  t.true(h.endsWith('#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n'));
  const at = (s: string): number => {
    const i = h.indexOf(s);
    t.true(i >= 0, s);
    return i;
  };
  t.true(at('struct in6_addr {') < at('struct sock_common {'), 'embedded types first');
  t.true(at('struct sock;\n\n') < at('struct sock_common {'), 'a forward declaration for a pointer to a later struct');
  t.true(at('struct sock_common {') < at('struct sock {'));
  t.true(at('struct tcp_options_received {') < at('struct tcp_sock {'));
  at('typedef unsigned int __u32;\n\n');
  at('typedef __u32 __be32;\n\n');
  at('typedef struct {\n\tint counter;\n} atomic_t;\n\n');
  at('struct sock_common {\n\tunion {\n\t\t__addrpair skc_addrpair;\n\t\tstruct {\n\t\t\t__be32 skc_daddr;\n\t\t\t__be32 skc_rcv_saddr;\n\t\t};\n\t};\n');
  at('\tvolatile unsigned char skc_state;\n\tunsigned char skc_reuse: 4;\n');
  at('\tconst struct tcp_congestion_ops *icsk_ca_ops;\n');
  at('\tu64 icsk_ca_priv[13];\n');
  at('\tchar cb[48];\n');
  at('enum {\n\tTCP_ESTABLISHED = 1,\n');
  at('struct net;\n\n');
  at('\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\nextern void *bpf_cast_to_kern_ctx(void *obj) __weak __ksym;\nextern void bpf_rcu_read_lock(void) __weak __ksym;\n');
  at('extern int bpf_sk_assign_tcp_reqsk(struct __sk_buff *s, struct sock *sk, struct bpf_tcp_req_attrs *attrs, int attrs__sz) __weak __ksym;\n#endif\n\n');
  const old = withoutBpftool75Additions(h);
  t.false(old.includes('__ksym'));
  t.false(old.includes('__bpf_fastcall'));
});

test('C declarators: pointers to arrays, arrays of pointers, function pointers, const pointers', (t) => {
  const w = new BtfWriter();
  const int = w.add({ kind: 'int', name: 'int', size: 4, encoding: 1, bitOffset: 0, bits: 32 });
  const arr = w.add({ kind: 'array', name: '', type: int, indexType: int, nelems: 4 });
  const ptrArr = w.add({ kind: 'ptr', name: '', type: arr });
  const ptrInt = w.add({ kind: 'ptr', name: '', type: int });
  const arrPtr = w.add({ kind: 'array', name: '', type: ptrInt, indexType: int, nelems: 2 });
  const proto = w.add({ kind: 'func_proto', name: '', returnType: int, params: [{ name: 'a', type: int }, { name: '', type: ptrInt }] });
  const fp = w.add({ kind: 'ptr', name: '', type: proto });
  const cint = w.add({ kind: 'const', name: '', type: int });
  const pc = w.add({ kind: 'ptr', name: '', type: cint });
  const cp = w.add({ kind: 'const', name: '', type: ptrInt });
  const arr2 = w.add({ kind: 'array', name: '', type: arr, indexType: int, nelems: 3 });
  w.add({ kind: 'struct', name: 'decls', size: 96, members: [
    { name: 'pa', type: ptrArr, bitOffset: 0, bitfieldSize: 0 },
    { name: 'ap', type: arrPtr, bitOffset: 64, bitfieldSize: 0 },
    { name: 'fn', type: fp, bitOffset: 192, bitfieldSize: 0 },
    { name: 'pc', type: pc, bitOffset: 256, bitfieldSize: 0 },
    { name: 'cp', type: cp, bitOffset: 320, bitfieldSize: 0 },
    { name: 'm', type: arr2, bitOffset: 384, bitfieldSize: 0 },
  ] });
  const h = dumpBtfC(parseBtf(w.encode()));
  t.true(h.includes('struct decls {\n\tint (*pa)[4];\n\tint *ap[2];\n\tint (*fn)(int a, int *);\n\tconst int *pc;\n\tint * const cp;\n\tint m[3][4];\n};\n\n'), h);
});

test('the committed vmlinux.h is what vxo btf dump --format c writes now (make -C scenarios/sk vmlinux; test/fixtures/btf/vmlinux.h links to it)', (t) => {
  t.is(readFileSync(fixture('vmlinux.h'), 'utf8'), dumpBtfC(k.btf));
});

test('vxo btf dump: raw by default, --format c, --file for an object\'s BTF, bad formats are usage errors', (t) => {
  t.is(btfDumpText({ format: 'raw' }), dumpBtfRaw(k.btf));
  t.is(btfDumpText({ format: 'c' }), dumpBtfC(k.btf));
  const obj = fixture('core_sk.o');
  const text = btfDumpText({ format: 'raw', file: obj });
  t.is(text, dumpBtfRaw(parseBtfFile(readFileSync(obj), obj)));
  t.regex(text, /STRUCT 'tcp_sock___local' size=8 vlen=2/);
  t.throws(() => btfDumpText({ format: 'json' }), { instanceOf: UsageError, message: 'unrecognized format specifier: \'json\', possible values: raw, c' });
  t.throws(() => btfDumpText({ format: 'raw', file: fixture('no-such.o') }), { instanceOf: UsageError, message: /failed to load BTF from/ });
});

test.serial('vxo btf dump through the command line: exit 0 and the dump on stdout; a bad format exits 2', async (t) => {
  const { main } = await import('../../scenarios/cli/cli.ts');
  const run = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '', err = '';
    const ow = process.stdout.write.bind(process.stdout), ew = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string | Uint8Array) => { out += String(s); return true; }) as typeof process.stdout.write;
    process.stderr.write = ((s: string | Uint8Array) => { err += String(s); return true; }) as typeof process.stderr.write;
    try {
      return { code: await main(argv), out, err };
    } finally {
      process.stdout.write = ow;
      process.stderr.write = ew;
    }
  };
  const c = await run(['btf', 'dump', '--format', 'c']);
  t.is(c.code, 0, c.err);
  t.is(c.out, dumpBtfC(k.btf));
  const raw = await run(['btf', 'dump']);
  t.is(raw.out, dumpBtfRaw(k.btf));
  const bad = await run(['btf', 'dump', '--format', 'json']);
  t.is(bad.code, 2);
  t.regex(bad.err, /unrecognized format specifier: 'json'/);
  const help = await run(['btf']);
  t.is(help.code, 0);
  t.regex(help.out, /dump \[options\]/);
});

// vxo's BTF against the real tools: bpftool reads vxo's kernel BTF blob and prints what `vxo btf
// dump` prints (raw text and vmlinux.h, byte for byte), for the committed objects' BTF too; and
// the kernel itself loads the CO-RE fixture built against vxo's vmlinux.h, libbpf relocating it
// against Linux's BTF: vxo's names and types are the kernel's. Skips without bpftool (and the
// last test without a kernel that can load programs).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBtf, type Btf } from '../../bpf-vm/btf/btf.ts';
import { BtfWriter } from '../../bpf-vm/btf/btf-encode.ts';
import { dumpBtfC, withoutBpftool75Additions } from '../../bpf-vm/btf/btf-dump-c.ts';
import { dumpBtfRaw } from '../../bpf-vm/btf/btf-dump-raw.ts';
import { parseBtfFile } from '../../bpf-vm/btf/btf-file.ts';
import { BPF_CORE, coreRelosBySection } from '../../bpf-vm/btf/core-relos.ts';
import { bpf_core_calc_relo } from '../../bpf-vm/btf/core-resolve.ts';
import { readElf } from '../../bpf-vm/elf/reader.ts';
import { kernelBtf } from '../../bpf-vm/btf/kernel-btf.ts';
import { kernelVerify } from '../support/kernel.ts';
import { kernelTest } from '../support/kernel-test.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bpftool = spawnSync('bpftool', ['version'], { encoding: 'utf8' });
const haveBpftool = bpftool.status === 0;

function tool(args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('bpftool', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

/**
 * bpftool's vmlinux.h and ours, comparable: bpftool >= 7.5 sorts unless told `unsorted` and adds
 * the kfunc section; 7.1 knows neither, so ours loses what 7.1 does not write.
 */
function cDumps(file: string, btf: Btf): { theirs: string; ours: string } {
  const unsorted = tool(['btf', 'dump', 'file', file, 'format', 'c', 'unsorted']);
  if (unsorted.ok) return { theirs: unsorted.out, ours: dumpBtfC(btf) };
  const plain = tool(['btf', 'dump', 'file', file, 'format', 'c']);
  if (!plain.ok) throw new Error(`bpftool btf dump ${file} format c: ${plain.err}`);
  return { theirs: plain.out, ours: withoutBpftool75Additions(dumpBtfC(btf)) };
}

function withTmp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'vxo-btf-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('bpftool accepts vxo\'s kernel BTF and prints the same types as vxo btf dump, raw and as C', (t) => {
  if (!haveBpftool) { t.log('skipped:', `bpftool unavailable: ${bpftool.error?.message ?? bpftool.stderr}`); t.pass(); return; }
  const k = kernelBtf();
  withTmp((dir) => {
    const file = join(dir, 'vmlinux');
    writeFileSync(file, k.blob);
    const raw = tool(['btf', 'dump', 'file', file]);
    t.true(raw.ok, raw.err);
    t.is(raw.out.split('\n').filter((l) => l.startsWith('[')).length, k.typeCount);
    t.true(raw.out.includes("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n"));
    t.regex(raw.out, /STRUCT 'bpf_tcp_req_attrs' size=20 vlen=11\n/);
    t.regex(raw.out, /FUNC 'bpf_sk_assign_tcp_reqsk' type_id=\d+ linkage=static\n/);
    t.is(dumpBtfRaw(k.btf), raw.out);
    const c = cDumps(file, k.btf);
    t.is(c.ours, c.theirs);
  });
});

test('bpftool and vxo print the same declarators for pointers to arrays, function pointers and const pointers', (t) => {
  if (!haveBpftool) { t.log('skipped:', 'bpftool unavailable'); t.pass(); return; }
  const w = new BtfWriter();
  const int = w.add({ kind: 'int', name: 'int', size: 4, encoding: 1, bitOffset: 0, bits: 32 });
  const arr = w.add({ kind: 'array', name: '', type: int, indexType: int, nelems: 4 });
  const ptrInt = w.add({ kind: 'ptr', name: '', type: int });
  const proto = w.add({ kind: 'func_proto', name: '', returnType: int, params: [{ name: 'a', type: int }, { name: '', type: ptrInt }] });
  const cint = w.add({ kind: 'const', name: '', type: int });
  w.add({ kind: 'struct', name: 'decls', size: 108, members: [
    { name: 'pa', type: w.add({ kind: 'ptr', name: '', type: arr }), bitOffset: 0, bitfieldSize: 0 },
    { name: 'ap', type: w.add({ kind: 'array', name: '', type: ptrInt, indexType: int, nelems: 2 }), bitOffset: 64, bitfieldSize: 0 },
    { name: 'fn', type: w.add({ kind: 'ptr', name: '', type: proto }), bitOffset: 192, bitfieldSize: 0 },
    { name: 'pc', type: w.add({ kind: 'ptr', name: '', type: cint }), bitOffset: 256, bitfieldSize: 0 },
    { name: 'cp', type: w.add({ kind: 'const', name: '', type: ptrInt }), bitOffset: 320, bitfieldSize: 0 },
    { name: 'm', type: w.add({ kind: 'array', name: '', type: arr, indexType: int, nelems: 3 }), bitOffset: 384, bitfieldSize: 0 },
    { name: 'bits', type: int, bitOffset: 776, bitfieldSize: 5 },
  ] });
  const blob = w.encode();
  withTmp((dir) => {
    const file = join(dir, 'decls.btf');
    writeFileSync(file, blob);
    const btf = parseBtf(blob);
    t.is(dumpBtfRaw(btf), tool(['btf', 'dump', 'file', file]).out);
    const c = cDumps(file, btf);
    t.is(c.ours, c.theirs);
  });
});

function objects(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...objects(p));
    else if (e.endsWith('.o')) out.push(p);
  }
  return out;
}

test('bpftool and vxo btf dump --file agree on every committed object\'s BTF', (t) => {
  if (!haveBpftool) { t.log('skipped:', 'bpftool unavailable'); t.pass(); return; }
  let n = 0;
  for (const obj of [...objects(join(root, 'test/fixtures')), ...objects(join(root, 'scenarios'))]) {
    const raw = tool(['btf', 'dump', 'file', obj]);
    if (!raw.ok) continue; // built without -g: no .BTF
    const btf = parseBtfFile(readFileSync(obj), obj);
    t.is(dumpBtfRaw(btf), raw.out, obj);
    const c = cDumps(obj, btf);
    t.is(c.ours, c.theirs, obj);
    n++;
  }
  t.true(n > 10, `${n} objects compared`);
});

kernelTest('Linux loads the CO-RE fixture built against vxo\'s vmlinux.h: every field and the kfunc resolve by name', (t) => {
  const r = kernelVerify(join(root, 'test/fixtures/btf/core_sk.o'), { quiet: true });
  t.true(r.accepted, r.log.slice(-2000));
});

test('the CO-RE resolver resolves the fixture against this machine\'s /sys/kernel/btf/vmlinux without a poison', (t) => {
  const vmlinux = '/sys/kernel/btf/vmlinux';
  if (!existsSync(vmlinux) || !haveBpftool) { t.log('skipped: no', vmlinux, 'or no bpftool'); t.pass(); return; }
  const linux = parseBtf(readFileSync(vmlinux), vmlinux);
  const elf = readElf(readFileSync(join(root, 'test/fixtures/btf/core_sk.o')));
  const sec = (n: string): Uint8Array => elf.sections.find((s) => s.name === n)!.data;
  const local = parseBtf(sec('.BTF'));
  const relos = coreRelosBySection(sec('.BTF.ext'), sec('.BTF')).get('tc')!;
  const raw = tool(['btf', 'dump', 'file', vmlinux]).out;
  const tcpSockId = Number(/^\[(\d+)\] STRUCT 'tcp_sock' size=/m.exec(raw)?.[1]);
  for (const r of relos) {
    const res = bpf_core_calc_relo(local, r, linux);
    t.false(res.poison, `${r.insnOff / 8} ${r.accessStr}`);
    if (r.kind === BPF_CORE.TYPE_ID_TARGET) t.is(res.newVal, tcpSockId, 'TYPE_ID_TARGET is Linux\'s id of struct tcp_sock');
  }
});

// A program built against vxo's vmlinux.h (test/fixtures/btf/core_sk.c): clang compiles it (with
// the kfunc extern and the CO-RE macros), and its .BTF.ext carries CO-RE relocations naming the
// kernel types of vxo's BTF, every one of which resolves by name against that BTF: what the
// loader's CO-RE pass will do, checked here on the access paths alone.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBtf, type Btf } from '../../bpf-vm/btf/btf.ts';
import { BPF_CORE, BPF_CORE_KIND_STR, coreRelosBySection, type CoreRelo } from '../../bpf-vm/btf/core-relos.ts';
import { coreReloCount } from '../../bpf-vm/btf/ext.ts';
import { kernelBtf } from '../../bpf-vm/btf/kernel-btf.ts';
import { readElf } from '../../bpf-vm/elf/reader.ts';

const dir = fileURLToPath(new URL('../fixtures/btf/', import.meta.url));
const k = kernelBtf();

function sections(path: string): { btf: Uint8Array; ext: Uint8Array } {
  const elf = readElf(readFileSync(path));
  const get = (n: string): Uint8Array => {
    const s = elf.sections.find((x) => x.name === n);
    if (!s) throw new Error(`${path}: no ${n}`);
    return s.data;
  };
  return { btf: get('.BTF'), ext: get('.BTF.ext') };
}

/** libbpf's essential name: `tcp_sock___local` is a flavour of `tcp_sock`. */
const essential = (name: string): string => name.replace(/___.*$/, '');

/** The member names an access string walks from `typeId` (array indices skip), as libbpf's spec parser. */
function accessNames(btf: Btf, r: CoreRelo): string[] {
  const idx = r.accessStr.split(':').map(Number);
  const names: string[] = [];
  let id = btf.skipQualifiers(r.typeId);
  for (const i of idx.slice(1)) {
    const t = btf.type(id);
    if (t?.kind === 'struct' || t?.kind === 'union') {
      const m = t.members[i]!;
      if (m.name !== '') names.push(m.name);
      id = btf.skipQualifiers(m.type);
    } else if (t?.kind === 'array') {
      id = btf.skipQualifiers(t.type);
    }
  }
  return names;
}

/** Whether `names` can be walked from kernel struct `target`, through anonymous members as libbpf does. */
function kernelHasPath(target: number, names: readonly string[]): boolean {
  if (names.length === 0) return true;
  const t = k.btf.type(k.btf.skipQualifiers(target));
  if (t?.kind !== 'struct' && t?.kind !== 'union') return false;
  for (const m of t.members) {
    if (m.name === names[0] && kernelHasPath(m.type, names.slice(1))) return true;
    if (m.name === '' && kernelHasPath(m.type, names)) return true;
  }
  return false;
}

test('core_sk.o carries CO-RE relocations of every kind it uses, naming vxo\'s kernel types', (t) => {
  const { btf: raw, ext } = sections(join(dir, 'core_sk.o'));
  const btf = parseBtf(raw);
  const relos = coreRelosBySection(ext, raw).get('tc') ?? [];
  t.is(relos.length, coreReloCount(ext));
  t.true(relos.length > 10);
  const kinds = new Set(relos.map((r) => BPF_CORE_KIND_STR[r.kind]));
  for (const kind of [BPF_CORE.FIELD_BYTE_OFFSET, BPF_CORE.FIELD_BYTE_SIZE, BPF_CORE.FIELD_EXISTS, BPF_CORE.FIELD_SIGNED, BPF_CORE.FIELD_LSHIFT_U64,
    BPF_CORE.FIELD_RSHIFT_U64, BPF_CORE.TYPE_ID_TARGET, BPF_CORE.TYPE_EXISTS, BPF_CORE.TYPE_SIZE, BPF_CORE.ENUMVAL_EXISTS, BPF_CORE.ENUMVAL_VALUE]) {
    t.true(kinds.has(BPF_CORE_KIND_STR[kind]), BPF_CORE_KIND_STR[kind]);
  }
  const types = new Set(relos.map((r) => btf.nameOf(r.typeId)));
  for (const n of ['struct sock', 'struct tcp_sock', 'struct tcp_sock___local', 'struct bpf_tcp_req_attrs', 'enum bpf_map_type', 'struct __sk_buff']) t.true(types.has(n), n);
  for (const r of relos) t.true(r.insnOff % 8 === 0 && /^\d+(:\d+)*$/.test(r.accessStr), `${r.insnOff} ${r.accessStr}`);
});

test('every relocation resolves by name against vxo\'s kernel BTF (flavours stripped, anonymous members walked)', (t) => {
  const { btf: raw, ext } = sections(join(dir, 'core_sk.o'));
  const btf = parseBtf(raw);
  const paths = new Set<string>();
  for (const r of coreRelosBySection(ext, raw).get('tc') ?? []) {
    const local = btf.type(btf.skipQualifiers(r.typeId))!;
    const kind = local.kind === 'enum' || local.kind === 'enum64' ? 'enum' : local.kind === 'union' ? 'union' : 'struct';
    const target = k.typeId(essential(local.name), kind);
    t.truthy(target, `${BPF_CORE_KIND_STR[r.kind]} ${btf.nameOf(r.typeId)}`);
    if (target === undefined) continue;
    if (r.kind === BPF_CORE.ENUMVAL_EXISTS || r.kind === BPF_CORE.ENUMVAL_VALUE) {
      const v = local.kind === 'enum' ? local.values[Number(r.accessStr)]! : undefined;
      const tv = k.btf.type(target);
      t.true(tv?.kind === 'enum' && tv.values.some((x) => x.name === v?.name && x.value === v.value), `${v?.name}`);
      continue;
    }
    if (r.kind >= BPF_CORE.TYPE_ID_LOCAL) continue;
    const names = accessNames(btf, r);
    paths.add(`${essential(local.name)}.${names.join('.')}`);
    t.true(kernelHasPath(target, names), `${local.name}.${names.join('.')}`);
  }
  for (const p of ['sock.__sk_common.skc_state', 'sock.__sk_common.skc_num', 'sock.__sk_common.skc_cookie.counter', 'tcp_sock.rx_opt.snd_wscale', 'tcp_sock.mss_cache', 'tcp_sock.rcv_nxt']) {
    t.true(paths.has(p), p);
  }
});

const clangVersion = spawnSync('clang', ['--version'], { encoding: 'utf8' });
const clang = clangVersion.status === 0;
/** The clang the committed object was built with; another one compiles but may emit other bytes. */
const SAME_CLANG = clang && clangVersion.stdout.includes('clang version 14.0.6');
const CFLAGS = ['-O2', '-g', '-Wall', '-Werror', '-target', 'bpf'];

test('clang rebuilds the committed object byte for byte from core_sk.c and vmlinux.h (skipped without clang)', (t) => {
  if (!clang) { t.log('skipped:', 'clang is not on PATH'); t.pass(); return; }
  const tmp = mkdtempSync(join(tmpdir(), 'vxo-btf-'));
  try {
    const out = join(tmp, 'core_sk.o');
    // Same flags as the Makefile, run from the fixture directory so the prefix map gives the same DWARF.
    const r = spawnSync('clang', [...CFLAGS, `-fdebug-prefix-map=${dir.replace(/\/$/, '')}=.`, '-c', 'core_sk.c', '-o', out], { cwd: dir, encoding: 'utf8' });
    t.is(r.status, 0, r.stderr);
    if (SAME_CLANG) t.deepEqual(readFileSync(out), readFileSync(join(dir, 'core_sk.o')));
    else t.log('another clang than 14.0.6: compiled, bytes not compared');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the vmlinux.h kfunc prototypes compile with bpf_helpers.h, as the program\'s only declaration (skipped without clang)', (t) => {
  if (!clang) { t.log('skipped:', 'clang is not on PATH'); t.pass(); return; }
  const tmp = mkdtempSync(join(tmpdir(), 'vxo-btf-'));
  try {
    writeFileSync(join(tmp, 'vmlinux.h'), readFileSync(join(dir, 'vmlinux.h')));
    writeFileSync(join(tmp, 'p.c'), `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
SEC("tc") int p(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct tcphdr *th = (void *)(iph + 1);
	struct bpf_tcp_req_attrs attrs = {};
	struct bpf_sock_tuple tuple = {};
	struct bpf_sock *sk;
	int r;
	if ((void *)(th + 1) > end || !th->syn || iph->version != 4)
		return 0;
	tuple.ipv4.saddr = iph->saddr;
	tuple.ipv4.dport = th->dest;
	sk = bpf_skc_lookup_tcp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk) return 0;
	r = bpf_sk_assign_tcp_reqsk(skb, (struct sock *)sk, &attrs, sizeof(attrs));
	bpf_sk_release(sk);
	return r;
}
char _license[] SEC("license") = "GPL";
`);
    const r = spawnSync('clang', [...CFLAGS, '-c', 'p.c', '-o', 'p.o'], { cwd: tmp, encoding: 'utf8' });
    t.is(r.status, 0, r.stderr);
    const elf = readElf(readFileSync(join(tmp, 'p.o')));
    const btf = parseBtf(elf.sections.find((s) => s.name === '.BTF')!.data);
    const ksyms = btf.datasec('.ksyms');
    t.truthy(ksyms, 'the extern lands in .ksyms');
    const fn = btf.types.find((x) => x?.kind === 'func' && x.name === 'bpf_sk_assign_tcp_reqsk');
    t.like(fn, { kind: 'func', linkage: 2 }, 'an extern FUNC, as libbpf expects of a kfunc');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

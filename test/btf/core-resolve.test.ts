// CO-RE values by libbpf's rules (core-resolve.ts) for the fixture built against vxo's vmlinux.h:
// against vxo's kernel BTF every field relocation gives back what clang computed (same layout),
// the flavoured local struct relocates to the kernel offsets, type ids become the kernel's; and a
// missing field, type or enumerator gives 0 for the *_EXISTS kinds and a poison for the others.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseBtf } from '../../bpf-vm/btf/btf.ts';
import { BtfWriter } from '../../bpf-vm/btf/btf-encode.ts';
import { BPF_CORE, BPF_CORE_KIND_STR, coreRelosBySection } from '../../bpf-vm/btf/core-relos.ts';
import { bpf_core_calc_relo, bpf_core_parse_spec, CoreReloError, essentialName } from '../../bpf-vm/btf/core-resolve.ts';
import { kernelBtf } from '../../bpf-vm/btf/kernel-btf.ts';
import { readElf } from '../../bpf-vm/elf/reader.ts';

const k = kernelBtf();
const elf = readElf(readFileSync(fileURLToPath(new URL('../fixtures/btf/core_sk.o', import.meta.url))));
const sec = (n: string): Uint8Array => elf.sections.find((s) => s.name === n)!.data;
const local = parseBtf(sec('.BTF'));
const relos = coreRelosBySection(sec('.BTF.ext'), sec('.BTF')).get('tc')!;
const text = sec('tc');
const dv = new DataView(text.buffer, text.byteOffset, text.byteLength);

/** The value clang put where the loader patches: off for LDX/ST/STX, imm otherwise. */
function insnValue(off: number): number {
  const cls = text[off]! & 7;
  return cls === 1 || cls === 2 || cls === 3 ? dv.getInt16(off + 2, true) : dv.getInt32(off + 4, true);
}

test('against vxo\'s kernel BTF the program\'s own values come back, and they are what the instructions hold', (t) => {
  for (const r of relos) {
    const what = `insn ${r.insnOff / 8} ${BPF_CORE_KIND_STR[r.kind]} ${local.nameOf(r.typeId)} ${r.accessStr}`;
    const res = bpf_core_calc_relo(local, r, k.btf);
    t.false(res.poison, what);
    if (res.validate) t.is(res.origVal, insnValue(r.insnOff), what);
    const flavoured = essentialName(local.type(local.skipQualifiers(r.typeId))!.name) !== local.type(local.skipQualifiers(r.typeId))!.name;
    if (r.kind === BPF_CORE.TYPE_ID_TARGET) t.is(res.newVal, k.typeId('tcp_sock', 'struct')!, what);
    else if (!flavoured || r.kind === BPF_CORE.FIELD_EXISTS) t.is(res.newVal, res.origVal, what);
  }
});

test('a flavoured local struct (tcp_sock___local) relocates to the kernel struct\'s offsets', (t) => {
  const r = relos.find((x) => local.nameOf(x.typeId) === 'struct tcp_sock___local' && x.kind === BPF_CORE.FIELD_BYTE_OFFSET)!;
  const res = bpf_core_calc_relo(local, r, k.btf);
  t.is(res.origVal, 0);
  t.is(res.newVal, k.struct('tcp_sock')!.fields.find((f) => f.path === 'rcv_nxt')!.offset);
  t.is(res.newSize, 4);
  t.is(k.btf.nameOf(res.targetSpec!.rootTypeId), 'struct tcp_sock');
});

test('the bitfield relocations give the load size, offset and shifts of rx_opt.snd_wscale', (t) => {
  const f = k.struct('tcp_sock')!.fields.find((x) => x.path === 'rx_opt.snd_wscale')!;
  const get = (kind: number): number => bpf_core_calc_relo(local, relos.find((x) => x.kind === kind && x.accessStr === relos.find((y) => y.kind === BPF_CORE.FIELD_LSHIFT_U64)!.accessStr)!, k.btf).newVal;
  const byteOff = get(BPF_CORE.FIELD_BYTE_OFFSET), byteSz = get(BPF_CORE.FIELD_BYTE_SIZE);
  t.is(byteSz, 2);
  t.is(byteOff % 2, 0);
  t.is(get(BPF_CORE.FIELD_LSHIFT_U64), 64 - (f.bitOffset! + 4 - byteOff * 8));
  t.is(get(BPF_CORE.FIELD_RSHIFT_U64), 60);
});

function localBtf(): { btf: ReturnType<typeof parseBtf>; sock: number; nope: number; mapType: number } {
  const w = new BtfWriter();
  const int = w.add({ kind: 'int', name: 'int', size: 4, encoding: 1, bitOffset: 0, bits: 32 });
  const sock = w.add({ kind: 'struct', name: 'sock', size: 8, members: [{ name: 'sk_rcvbuf', type: int, bitOffset: 0, bitfieldSize: 0 }, { name: 'sk_no_such_field', type: int, bitOffset: 32, bitfieldSize: 0 }] });
  const nope = w.add({ kind: 'struct', name: 'no_such_struct___v2', size: 4, members: [{ name: 'x', type: int, bitOffset: 0, bitfieldSize: 0 }] });
  const mapType = w.add({ kind: 'enum', name: 'bpf_map_type', size: 4, signed: false, values: [{ name: 'BPF_MAP_TYPE_SOCKMAP', value: 99n }, { name: 'BPF_MAP_TYPE_NOPE', value: 1n }] });
  return { btf: parseBtf(w.encode()), sock, nope, mapType };
}

test('missing fields, types and enumerators: 0 for the *_EXISTS kinds, poison for the rest', (t) => {
  const { btf, sock, nope, mapType } = localBtf();
  const calc = (typeId: number, accessStr: string, kind: number) => bpf_core_calc_relo(btf, { insnOff: 0, typeId, accessStr, kind }, k.btf);
  t.like(calc(sock, '0:0', BPF_CORE.FIELD_BYTE_OFFSET), { poison: false, origVal: 0, newVal: k.struct('sock')!.fields.find((f) => f.name === 'sk_rcvbuf')!.offset });
  t.like(calc(sock, '0:1', BPF_CORE.FIELD_EXISTS), { poison: false, origVal: 1, newVal: 0 });
  t.like(calc(sock, '0:1', BPF_CORE.FIELD_BYTE_OFFSET), { poison: true, origVal: 4 });
  t.like(calc(nope, '0', BPF_CORE.TYPE_EXISTS), { poison: false, newVal: 0 });
  t.like(calc(nope, '0', BPF_CORE.TYPE_ID_TARGET), { poison: false, newVal: 0 });
  t.like(calc(nope, '0', BPF_CORE.TYPE_SIZE), { poison: true });
  t.like(calc(nope, '0', BPF_CORE.TYPE_ID_LOCAL), { poison: false, newVal: nope });
  t.like(calc(mapType, '0', BPF_CORE.ENUMVAL_VALUE), { poison: false, origVal: 99, newVal: 15 }, 'the kernel\'s value, not the program\'s');
  t.like(calc(mapType, '1', BPF_CORE.ENUMVAL_EXISTS), { poison: false, newVal: 0 });
  t.like(calc(mapType, '1', BPF_CORE.ENUMVAL_VALUE), { poison: true });
});

test('malformed access strings are CoreReloErrors', (t) => {
  const { btf, sock } = localBtf();
  t.throws(() => bpf_core_parse_spec(btf, sock, '0:x', BPF_CORE.FIELD_BYTE_OFFSET), { instanceOf: CoreReloError });
  t.throws(() => bpf_core_parse_spec(btf, sock, '0:7', BPF_CORE.FIELD_BYTE_OFFSET), { instanceOf: CoreReloError, message: /member 7/ });
  t.throws(() => bpf_core_parse_spec(btf, sock, '1', BPF_CORE.TYPE_SIZE), { instanceOf: CoreReloError });
  t.throws(() => bpf_core_parse_spec(btf, sock, '0', BPF_CORE.ENUMVAL_VALUE), { instanceOf: CoreReloError });
});

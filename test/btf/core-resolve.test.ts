// CO-RE values by libbpf's rules (core-resolve.ts) for the fixture built against vxo's vmlinux.h:
// against vxo's kernel BTF every field relocation gives back what clang computed (same layout),
// the flavoured local struct relocates to the kernel offsets, type ids become the kernel's; and a
// missing field, type or enumerator gives 0 for the *_EXISTS kinds and a poison for the others.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseBtf } from '../../bpf-vm/btf/btf.ts';
import { BtfWriter, BTF_FUNC, BTF_INT } from '../../bpf-vm/btf/btf-encode.ts';
import { BPF_CORE, BPF_CORE_KIND_STR, coreRelosBySection } from '../../bpf-vm/btf/core-relos.ts';
import { bpf_core_calc_relo, bpf_core_parse_spec, bpf_core_types_match, CoreReloError, essentialName } from '../../bpf-vm/btf/core-resolve.ts';
import { kernelBtf } from '../../bpf-vm/btf/kernel-btf.ts';
import { resolveKsymFunc } from '../../bpf-vm/btf/ksym.ts';
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

test('missing fields, types and enumerators: 0 for the *_EXISTS and type-based kinds, poison for the rest', (t) => {
  const { btf, sock, nope, mapType } = localBtf();
  const calc = (typeId: number, accessStr: string, kind: number) => bpf_core_calc_relo(btf, { insnOff: 0, typeId, accessStr, kind }, k.btf);
  t.like(calc(sock, '0:0', BPF_CORE.FIELD_BYTE_OFFSET), { poison: false, origVal: 0, newVal: k.struct('sock')!.fields.find((f) => f.name === 'sk_rcvbuf')!.offset });
  t.like(calc(sock, '0:1', BPF_CORE.FIELD_EXISTS), { poison: false, origVal: 1, newVal: 0 });
  t.like(calc(sock, '0:1', BPF_CORE.FIELD_BYTE_OFFSET), { poison: true, origVal: 4 });
  t.like(calc(nope, '0', BPF_CORE.TYPE_EXISTS), { poison: false, newVal: 0 });
  t.like(calc(nope, '0', BPF_CORE.TYPE_ID_TARGET), { poison: false, newVal: 0 });
  t.like(calc(nope, '0', BPF_CORE.TYPE_SIZE), { poison: false, newVal: 0 }, 'libbpf: type-based relocations give 0 when the type is missing');
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

test('essential names as libbpf\'s bpf_core_essential_name_len: the last X___Y separator, X and Y not underscores', (t) => {
  t.is(essentialName('tcp_sock___local'), 'tcp_sock');
  t.is(essentialName('a___b___c'), 'a___b', 'the last separator, not the first');
  t.is(essentialName('__sk_buff___v1'), '__sk_buff');
  t.is(essentialName('a____b'), 'a____b', 'four underscores: no X___Y with X and Y non-underscores');
  t.is(essentialName('___x'), '___x');
  t.is(essentialName('x___'), 'x___');
  t.is(essentialName('x___y'), 'x');
  t.is(essentialName('bpf_sk_assign_tcp_reqsk___v2'), 'bpf_sk_assign_tcp_reqsk');
});

test('validation flags as libbpf: type ids never checked against the instruction, sizes and enumerators always', (t) => {
  const { btf, sock, nope, mapType } = localBtf();
  const calc = (typeId: number, accessStr: string, kind: number) => bpf_core_calc_relo(btf, { insnOff: 0, typeId, accessStr, kind }, k.btf);
  t.like(calc(sock, '0', BPF_CORE.TYPE_ID_TARGET), { validate: false, newVal: k.typeId('sock', 'struct')! });
  t.like(calc(sock, '0', BPF_CORE.TYPE_ID_LOCAL), { validate: false, newVal: sock });
  t.like(calc(sock, '0', BPF_CORE.TYPE_SIZE), { validate: true, origVal: 8, newVal: k.btf.sizeOf(k.typeId('sock', 'struct')!) });
  t.like(calc(nope, '0', BPF_CORE.TYPE_SIZE), { validate: true, origVal: 4, newVal: 0 });
  t.like(calc(sock, '0', BPF_CORE.TYPE_EXISTS), { validate: true, origVal: 1, newVal: 1 });
  t.like(calc(mapType, '0', BPF_CORE.ENUMVAL_EXISTS), { validate: true });
  t.like(calc(sock, '0:1', BPF_CORE.FIELD_EXISTS), { validate: true, newVal: 0 });
});

/** A target BTF of our own, to reach the corners vxo's kernel BTF does not have. */
function targetBtf(): { btf: ReturnType<typeof parseBtf>; a: number; b: number } {
  const w = new BtfWriter();
  const int = w.add({ kind: 'int', name: 'int', size: 4, encoding: BTF_INT.SIGNED, bitOffset: 0, bits: 32 });
  const a = w.add({ kind: 'struct', name: 'foo___a', size: 8, members: [{ name: 'x', type: int, bitOffset: 0, bitfieldSize: 0 }, { name: 'y', type: int, bitOffset: 32, bitfieldSize: 0 }] });
  const b = w.add({ kind: 'struct', name: 'foo___b', size: 8, members: [{ name: 'y', type: int, bitOffset: 0, bitfieldSize: 0 }, { name: 'x', type: int, bitOffset: 32, bitfieldSize: 0 }] });
  w.add({ kind: 'struct', name: 'bar___a', size: 8, members: [{ name: 'x', type: int, bitOffset: 0, bitfieldSize: 0 }, { name: 'y', type: int, bitOffset: 32, bitfieldSize: 0 }] });
  w.add({ kind: 'struct', name: 'bar___b', size: 4, members: [{ name: 'x', type: int, bitOffset: 0, bitfieldSize: 0 }] });
  w.add({ kind: 'enum', name: 'neg', size: 4, signed: true, values: [{ name: 'NEG_ONE', value: -1n }] });
  return { btf: parseBtf(w.encode()), a, b };
}

test('several flavours in the target: the same answer or libbpf\'s ambiguity errors', (t) => {
  const tgt = targetBtf();
  const w = new BtfWriter();
  const int = w.add({ kind: 'int', name: 'int', size: 4, encoding: BTF_INT.SIGNED, bitOffset: 0, bits: 32 });
  const foo = w.add({ kind: 'struct', name: 'foo', size: 4, members: [{ name: 'x', type: int, bitOffset: 0, bitfieldSize: 0 }] });
  const bar = w.add({ kind: 'struct', name: 'bar', size: 4, members: [{ name: 'x', type: int, bitOffset: 0, bitfieldSize: 0 }] });
  const neg = w.add({ kind: 'enum', name: 'neg', size: 4, signed: true, values: [{ name: 'NEG_ONE', value: -1n }] });
  const local = parseBtf(w.encode());
  const calc = (typeId: number, accessStr: string, kind: number) => bpf_core_calc_relo(local, { insnOff: 0, typeId, accessStr, kind }, tgt.btf);
  t.throws(() => calc(foo, '0:0', BPF_CORE.FIELD_BYTE_OFFSET), { instanceOf: CoreReloError, message: 'field offset ambiguity: 32 != 0' });
  t.like(calc(bar, '0:0', BPF_CORE.FIELD_BYTE_OFFSET), { poison: false, newVal: 0 }, 'both flavours put x at 0');
  t.throws(() => calc(bar, '0', BPF_CORE.TYPE_SIZE), { instanceOf: CoreReloError, message: 'relocation decision ambiguity: success 4 != success 8' });
  t.throws(() => calc(foo, '0', BPF_CORE.TYPE_ID_TARGET), { instanceOf: CoreReloError, message: `relocation decision ambiguity: success ${tgt.b} != success ${tgt.a}` });
  t.like(calc(neg, '0', BPF_CORE.ENUMVAL_VALUE), { origVal: -1, newVal: -1 }, 'a 32-bit enumerator is sign-extended as libbpf stores its s32');
});

test('load size changes: pointers and unsigned integers are resized, anything else poisons an LDX/ST/STX', (t) => {
  const w = new BtfWriter();
  const u64 = w.add({ kind: 'int', name: 'long long unsigned int', size: 8, encoding: 0, bitOffset: 0, bits: 64 });
  const s64 = w.add({ kind: 'int', name: 'long long int', size: 8, encoding: BTF_INT.SIGNED, bitOffset: 0, bits: 64 });
  const u8 = w.add({ kind: 'int', name: 'unsigned char', size: 1, encoding: 0, bitOffset: 0, bits: 8 });
  const arr = w.add({ kind: 'array', name: '', type: u8, indexType: u8, nelems: 16 });
  // snd_cwnd, rcv_nxt and snd_una are u32 in vxo's tcp_sock.
  const tp = w.add({ kind: 'struct', name: 'tcp_sock', size: 24, members: [
    { name: 'snd_cwnd', type: u64, bitOffset: 0, bitfieldSize: 0 },
    { name: 'rcv_nxt', type: s64, bitOffset: 64, bitfieldSize: 0 },
    { name: 'snd_una', type: arr, bitOffset: 128, bitfieldSize: 0 },
  ] });
  const local = parseBtf(w.encode());
  const calc = (accessStr: string) => bpf_core_calc_relo(local, { insnOff: 0, typeId: tp, accessStr, kind: BPF_CORE.FIELD_BYTE_OFFSET }, k.btf);
  t.like(calc('0:0'), { origSize: 8, newSize: 4, failMemszAdjust: false }, 'unsigned to unsigned: narrowed');
  t.like(calc('0:1'), { origSize: 8, newSize: 4, failMemszAdjust: true }, 'a signed local field cannot change size');
  const whole = calc('0:2');
  t.is(whole.origSize, 1, 'an array member: the element size, as libbpf strips arrays');
  t.true(whole.poison, 'an array where vxo has a u32: the member types are not compatible');
});

test('TYPE_MATCHES is stricter than TYPE_EXISTS (bpf_core_types_match): every local member by name, ints by size and sign', (t) => {
  const { btf, sock } = localBtf();
  const calc = (typeId: number, b: typeof btf, kind: number) => bpf_core_calc_relo(b, { insnOff: 0, typeId, accessStr: '0', kind }, k.btf);
  t.like(calc(sock, btf, BPF_CORE.TYPE_EXISTS), { newVal: 1 }, 'compat: any struct of the name');
  t.like(calc(sock, btf, BPF_CORE.TYPE_MATCHES), { newVal: 0 }, 'sk_no_such_field has no match');
  const w = new BtfWriter();
  const int = w.add({ kind: 'int', name: 'int', size: 4, encoding: BTF_INT.SIGNED, bitOffset: 0, bits: 32 });
  const uint = w.add({ kind: 'int', name: 'int', size: 4, encoding: 0, bitOffset: 0, bits: 32 });
  const good = w.add({ kind: 'struct', name: 'sock___good', size: 4, members: [{ name: 'sk_rcvbuf', type: int, bitOffset: 0, bitfieldSize: 0 }] });
  const unsigned = w.add({ kind: 'struct', name: 'sock___unsigned', size: 4, members: [{ name: 'sk_rcvbuf', type: uint, bitOffset: 0, bitfieldSize: 0 }] });
  const lb = parseBtf(w.encode());
  t.like(calc(good, lb, BPF_CORE.TYPE_MATCHES), { newVal: 1 });
  t.like(calc(unsigned, lb, BPF_CORE.TYPE_MATCHES), { newVal: 0 }, 'sk_rcvbuf is a signed int in the kernel');
  t.like(calc(unsigned, lb, BPF_CORE.TYPE_EXISTS), { newVal: 1 });
  t.true(bpf_core_types_match(lb, good, k.btf, k.typeId('sock', 'struct')!));
});

test('kfunc extern flavours resolve by their essential name: the one with the kernel\'s prototype is called, the other stays unresolved', (t) => {
  const w = new BtfWriter();
  const int = w.add({ kind: 'int', name: 'int', size: 4, encoding: BTF_INT.SIGNED, bitOffset: 0, bits: 32 });
  const st = w.add({ kind: 'struct', name: 'opaque', size: 0, members: [] });
  const p = w.add({ kind: 'ptr', name: '', type: st });
  const cur = w.add({ kind: 'func_proto', name: '', returnType: int, params: [{ name: 's', type: p }, { name: 'sk', type: p }, { name: 'attrs', type: p }, { name: 'attrs__sz', type: int }] });
  const old = w.add({ kind: 'func_proto', name: '', returnType: int, params: [{ name: 's', type: p }, { name: 'sk', type: p }] });
  const fNew = w.add({ kind: 'func', name: 'bpf_sk_assign_tcp_reqsk___new', type: cur, linkage: BTF_FUNC.EXTERN });
  const fOld = w.add({ kind: 'func', name: 'bpf_sk_assign_tcp_reqsk___old', type: old, linkage: BTF_FUNC.EXTERN });
  const fOther = w.add({ kind: 'func', name: 'bpf_no_such_kfunc___v2', type: old, linkage: BTF_FUNC.EXTERN });
  const btf = parseBtf(w.encode());
  const r = resolveKsymFunc(btf, fNew, k, true);
  t.true(r.ok);
  if (r.ok) t.is(r.kfunc.funcId, k.typeId('bpf_sk_assign_tcp_reqsk', 'func')!);
  t.like(resolveKsymFunc(btf, fOld, k, true), { ok: false, weak: true });
  t.deepEqual(resolveKsymFunc(btf, fOld, k, false), { ok: false, weak: false, message: `extern (func ksym) 'bpf_sk_assign_tcp_reqsk___old': func_proto [${old}] incompatible with vmlinux [${k.kfunc('bpf_sk_assign_tcp_reqsk')!.protoId}]` });
  t.deepEqual(resolveKsymFunc(btf, fOther, k, false), { ok: false, weak: false, message: 'extern (func ksym) \'bpf_no_such_kfunc___v2\': not found in kernel or module BTFs' }, 'messages name the extern as declared');
});

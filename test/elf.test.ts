// parseElf against objects built by clang 14 (test/fixtures/elf, rebuilt by its Makefile), against
// deliberately broken copies of them, and against a mutation sweep that must only ever produce a
// spec or an ElfError. Expected values were read off `llvm-readelf -S -r -s` and `llvm-objdump -d -r`.
import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ElfError } from '../bpf-vm/errors.ts';
import { parseElf, readElf, type CollectionSpec, type ElfFile } from '../bpf-vm/elf/index.ts';
import { parseBtf } from '../bpf-vm/btf/index.ts';
import { BPF_MAP_FLAG, BPF_MAP_TYPE, type MapSpec } from '../bpf-vm/maps/map.ts';
import { BPF_PROG_TYPE } from '../bpf-vm/prog/types.ts';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, 'fixtures', 'elf');
const load = (name: string): Uint8Array => new Uint8Array(readFileSync(join(fixtures, name)));

// ---------- helpers ----------

/** Structural promises every spec must keep, whatever the input was. */
function checkSpec(spec: CollectionSpec): void {
  const maps = new Map<string, MapSpec>(spec.maps.map((m) => [m.name, m]));
  if (maps.size !== spec.maps.length) throw new Error('duplicate map names');
  for (const m of spec.maps) {
    if (m.initialValue && m.initialValue.byteLength !== m.valueSize) throw new Error(`${m.name}: initialValue length`);
  }
  for (const p of spec.programs) {
    const n = p.insns.length;
    if (n === 0) throw new Error(`${p.name}: no instructions`);
    if (p.funcs[0]?.name !== p.name || p.funcs[0]?.start !== 0) throw new Error(`${p.name}: entry func`);
    for (let i = 1; i < p.funcs.length; i++) {
      if (p.funcs[i]!.start <= p.funcs[i - 1]!.start || p.funcs[i]!.start >= n) throw new Error(`${p.name}: func starts`);
    }
    for (const r of p.references) {
      const ins = p.insns[r.insn];
      if (!ins || ins.code !== 0x18 || r.insn + 1 >= n) throw new Error(`${p.name}: reference ${r.insn} is not an ld_imm64`);
      const m = maps.get(r.map);
      if (!m) throw new Error(`${p.name}: reference to missing map ${r.map}`);
      if (r.kind === 'value' && (r.offset < 0 || r.offset >= m.valueSize)) throw new Error(`${p.name}: value offset`);
    }
    p.insns.forEach((ins, i) => {
      if (ins.code === 0x85 && ins.src === 1) {
        const t = i + ins.imm + 1;
        if (t < 0 || t >= n) throw new Error(`${p.name}: call at ${i} leaves the program`);
      }
    });
  }
}

/** Calls in a program as [index, imm, absolute target]. */
function calls(insns: CollectionSpec['programs'][number]['insns']): [number, number, number][] {
  const out: [number, number, number][] = [];
  insns.forEach((ins, i) => {
    if (ins.code === 0x85 && ins.src === 1) out.push([i, ins.imm, i + ins.imm + 1]);
  });
  return out;
}

function shdrAt(bytes: Uint8Array, index: number): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Number(dv.getBigUint64(40, true)) + index * 64;
}

interface Located {
  file: ElfFile;
  /** File offset of a section's contents. */
  sec(name: string): number;
  /** Index of a section. */
  idx(name: string): number;
  /** File offset of a symbol's Elf64_Sym. */
  sym(name: string): number;
}

function locate(bytes: Uint8Array): Located {
  const file = readElf(bytes);
  const find = (name: string) => {
    const s = file.sections.find((x) => x.name === name);
    if (!s) throw new Error(`no section ${name}`);
    return s;
  };
  return {
    file,
    sec: (name) => find(name).offset,
    idx: (name) => find(name).index,
    sym: (name) => {
      const s = file.symbols.find((x) => x.name === name);
      if (!s) throw new Error(`no symbol ${name}`);
      return file.sections[file.symtabIndex]!.offset + s.index * 24;
    },
  };
}

function patch(bytes: Uint8Array, edit: (dv: DataView, loc: Located) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer), locate(bytes));
  return copy;
}

function elfError(t: import('ava').ExecutionContext, bytes: Uint8Array, section: string, offset: number, message?: RegExp): void {
  const err = t.throws(() => parseElf(bytes), { instanceOf: ElfError });
  if (!err) return;
  t.is(err.section, section, err.message);
  t.is(err.offset, offset, err.message);
  if (message) t.regex(err.message, message);
}

// ---------- fixtures ----------

test('legacy maps: struct bpf_map_def records named by their symbols', (t) => {
  const spec = parseElf(load('legacy_maps.o'), 'legacy_maps.o');
  checkSpec(spec);
  t.deepEqual(spec.maps, [
    { name: 'counters', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 },
    { name: 'flows', type: BPF_MAP_TYPE.BPF_MAP_TYPE_HASH, keySize: 8, valueSize: 16, maxEntries: 1024, flags: 1 },
  ]);
  t.is(spec.license, 'GPL');
  t.is(spec.programs.length, 1);
  const p = spec.programs[0]!;
  t.is(p.name, 'xdp_count');
  t.is(p.section, 'xdp');
  t.is(p.type, BPF_PROG_TYPE.BPF_PROG_TYPE_XDP);
  t.is(p.insns.length, 23); // st_size 184
  t.is(p.license, 'GPL');
  // .relxdp: 0x28 -> counters, 0x78 -> flows
  t.deepEqual(p.references, [
    { insn: 5, map: 'counters', kind: 'map', offset: 0 },
    { insn: 15, map: 'flows', kind: 'map', offset: 0 },
  ]);
  // The loader sets src_reg; the reader leaves the ld_imm64 as clang wrote it.
  t.deepEqual(p.insns[5], { code: 0x18, dst: 1, src: 0, off: 0, imm: 0 });
  t.deepEqual(p.funcs, [{ name: 'xdp_count', start: 0 }]);
});

test('BTF-defined maps: attributes from pointer types, key/value type names', (t) => {
  const spec = parseElf(load('btf_maps.o'));
  checkSpec(spec);
  t.deepEqual(spec.maps, [
    { name: 'stats', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 16, flags: 0, btf: { keyType: '__u32', valueType: '__u64' } },
    {
      name: 'flows',
      type: BPF_MAP_TYPE.BPF_MAP_TYPE_HASH,
      keySize: 16,
      valueSize: 16,
      maxEntries: 4096,
      flags: BPF_MAP_FLAG.BPF_F_NO_PREALLOC,
      btf: { keyType: 'struct flow_key', valueType: 'flow_stats_t' },
    },
    // __uint(key_size)/__uint(value_size): sizes without type names
    { name: 'scratch', type: BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY, keySize: 4, valueSize: 24, maxEntries: 2, flags: 0 },
    { name: 'tx_ports', type: BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP, keySize: 4, valueSize: 8, maxEntries: 8, flags: 0, btf: { keyType: '__u32', valueType: 'struct bpf_devmap_val' } },
  ]);
  t.is(spec.license, 'Dual MIT/GPL');
  const p = spec.programs[0]!;
  t.is(spec.programs.length, 1);
  t.is(p.name, 'xdp_btf');
  t.is(p.insns.length, 40);
  t.deepEqual(p.references, [
    { insn: 5, map: 'stats', kind: 'map', offset: 0 },
    { insn: 19, map: 'flows', kind: 'map', offset: 0 },
    { insn: 28, map: 'scratch', kind: 'map', offset: 0 },
    { insn: 34, map: 'tx_ports', kind: 'map', offset: 0 },
  ]);
  t.deepEqual(p.insns[38], { code: 0x85, dst: 0, src: 0, off: 0, imm: 51 }); // bpf_redirect_map stays a helper call
});

test('global data: .bss, .data, .rodata and .rodata.str1.1 become one-element arrays', (t) => {
  const spec = parseElf(load('globals.o'));
  checkSpec(spec);
  const arr = (name: string, bytes: number[] | Uint8Array, flags = 0): MapSpec => ({
    name,
    type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY,
    keySize: 4,
    valueSize: bytes.length,
    maxEntries: 1,
    flags,
    initialValue: Uint8Array.from(bytes),
  });
  const rodata = [100, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, ...Buffer.from('mode %d\0')];
  t.deepEqual(spec.maps, [
    arr('.bss', new Uint8Array(24)),
    arr('.data', [7, 0, 0, 0, 0, 0, 0, 0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]),
    arr('.rodata', rodata, BPF_MAP_FLAG.BPF_F_RDONLY_PROG),
    arr('.rodata.str1.1', [...Buffer.from('hello\0')], BPF_MAP_FLAG.BPF_F_RDONLY_PROG),
  ]);
  t.deepEqual(
    spec.programs.map((p) => [p.name, p.section, p.insns.length]),
    [
      ['xdp_globals', 'xdp', 37],
      ['xdp_strings', 'xdp/strings', 6],
    ],
  );
  // offset = imm + st_value: named symbols carry st_value, the .rodata section symbol's ld_imm64
  // (bpf_printk's format) carries its offset 16 in imm.
  t.deepEqual(spec.programs[0]!.references, [
    { insn: 0, map: '.bss', kind: 'value', offset: 0 }, // hits
    { insn: 5, map: '.bss', kind: 'value', offset: 8 }, // drops
    { insn: 12, map: '.rodata', kind: 'value', offset: 0 }, // limit
    { insn: 16, map: '.rodata', kind: 'value', offset: 4 }, // table
    { insn: 19, map: '.data', kind: 'value', offset: 8 }, // seed
    { insn: 24, map: '.data', kind: 'value', offset: 0 }, // mode
    { insn: 27, map: '.rodata', kind: 'value', offset: 16 }, // xdp_globals.____fmt
  ]);
  t.is(spec.programs[0]!.insns[27]!.imm, 16);
  t.deepEqual(spec.programs[1]!.references, [{ insn: 0, map: '.rodata.str1.1', kind: 'value', offset: 0 }]);
});

test('subprograms: .text callees appended once, call offsets fixed', (t) => {
  const spec = parseElf(load('subprogs.o'));
  checkSpec(spec);
  t.deepEqual(
    spec.programs.map((p) => p.name),
    ['xdp_calls', 'tc_calls'],
  );
  const [xdp, tc] = spec.programs as [CollectionSpec['programs'][number], CollectionSpec['programs'][number]];

  // objdump: xdp_calls is 15 slots; call@3 -> .text+0x18 (add3, 3 slots), call@6 -> .text+0x30
  // (square, 6 slots). add3's own call (imm 2, no relocation) reaches square at .text slot 6.
  t.is(xdp.type, BPF_PROG_TYPE.BPF_PROG_TYPE_XDP);
  t.is(xdp.insns.length, 15 + 3 + 6);
  t.deepEqual(xdp.funcs, [
    { name: 'xdp_calls', start: 0 },
    { name: 'add3', start: 15 },
    { name: 'square', start: 18 },
  ]);
  t.deepEqual(calls(xdp.insns), [
    [3, 11, 15], // -> add3
    [6, 11, 18], // -> square
    [15, 2, 18], // add3 -> square (the same square, not a second copy)
  ]);
  // square's `bias` load moved with it: .text slot 7 -> 18 + 1
  t.deepEqual(xdp.references, [{ insn: 19, map: '.data', kind: 'value', offset: 0 }]);
  // Appended code is copied verbatim: add3 = call; r0 += 5; exit
  t.deepEqual(xdp.insns[16], { code: 0x07, dst: 0, src: 0, off: 0, imm: 5 });
  t.deepEqual(xdp.insns[17], { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 });

  // tc_calls is 9 slots; call@2 -> square (section symbol, imm 5), call@5 -> twice (its own
  // global symbol, imm -1 -> .text slot 0).
  t.is(tc.type, BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS);
  t.is(tc.insns.length, 9 + 6 + 3);
  t.deepEqual(tc.funcs, [
    { name: 'tc_calls', start: 0 },
    { name: 'square', start: 9 },
    { name: 'twice', start: 15 },
  ]);
  t.deepEqual(calls(tc.insns), [
    [2, 6, 9],
    [5, 9, 15],
  ]);
  t.deepEqual(tc.references, [{ insn: 10, map: '.data', kind: 'value', offset: 0 }]);
  // unused_helper and the global `twice` are never programs of their own
  t.false(spec.programs.some((p) => p.name === 'unused_helper' || p.name === 'twice'));
  // .data holds bias and the function pointer `keep` (its .rel.data is ignored, as libbpf does)
  t.deepEqual(spec.maps.map((m) => [m.name, m.valueSize]), [['.data', 16]]);
});

test('several programs per section and several sections', (t) => {
  const spec = parseElf(load('multi.o'));
  checkSpec(spec);
  t.deepEqual(spec.maps, []);
  t.is(spec.license, 'MIT');
  t.deepEqual(
    spec.programs.map((p) => [p.name, p.section, p.type, p.insns.length]),
    [
      ['xdp_pass', 'xdp', BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, 2],
      ['xdp_drop', 'xdp', BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, 2],
      ['xdp_len', 'xdp', BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, 9],
      ['xdp_tx', 'xdp/redirect', BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, 2],
      ['tc_ok', 'tc', BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS, 2],
      ['cls_ingress', 'classifier/ingress', BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS, 6],
      ['sock_all', 'socket', BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER, 3],
    ],
  );
  // Each program holds only its own function's slots.
  t.deepEqual(spec.programs[1]!.insns, [
    { code: 0xb7, dst: 0, src: 0, off: 0, imm: 1 },
    { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
  ]);
  t.deepEqual(spec.programs[2]!.insns[6], { code: 0x25, dst: 1, src: 0, off: 1, imm: 64 });
  // ld_imm64 keeps its two slots (r0 = 0xffffffff ll)
  t.deepEqual(spec.programs[6]!.insns.slice(0, 2), [
    { code: 0x18, dst: 0, src: 0, off: 0, imm: -1 },
    { code: 0x00, dst: 0, src: 0, off: 0, imm: 0 },
  ]);
});

test('a Uint8Array view into a larger buffer is read at its byteOffset', (t) => {
  const obj = load('globals.o');
  const big = new Uint8Array(obj.byteLength + 13);
  big.set(obj, 13);
  t.deepEqual(parseElf(big.subarray(13)), parseElf(obj));
});

test('initialValue is a copy, not a view of the input', (t) => {
  const obj = load('globals.o');
  const spec = parseElf(obj);
  obj.fill(0);
  t.is(spec.maps.find((m) => m.name === '.data')!.initialValue![0], 7);
});

// ---------- scenarios/xdp objects (built by another part of the project) ----------

const scenarioDir = join(here, '..', 'scenarios', 'xdp');
const scenarioObjects = existsSync(scenarioDir) ? readdirSync(scenarioDir).filter((f) => f.endsWith('.o')).sort() : [];

const scenarioExpect: Record<string, { maps: [string, number, number, number, number][]; programs: [string, string, string[]][] }> = {
  'redirect.o': {
    maps: [
      ['tx_port', BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP, 4, 4, 4],
      ['redirect_cnt', BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, 4, 8, 1],
    ],
    programs: [['xdp_redirect_map', 'xdp', ['tx_port', 'redirect_cnt']]],
  },
  'rx_drop.o': {
    maps: [['drop_cnt', BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, 4, 8, 1]],
    programs: [['rx_drop', 'xdp', ['drop_cnt']]],
  },
  'xdp1.o': {
    maps: [['rxcnt', BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, 4, 8, 256]],
    programs: [['xdp1', 'xdp', ['rxcnt']]],
  },
  'xdp2.o': {
    maps: [['rxcnt', BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, 4, 8, 256]],
    programs: [['xdp2', 'xdp', ['rxcnt']]],
  },
};

test('scenarios/xdp objects parse', (t) => {
  if (scenarioObjects.length === 0) {
    t.pass('no scenario objects yet');
    return;
  }
  for (const name of scenarioObjects) {
    const spec = parseElf(new Uint8Array(readFileSync(join(scenarioDir, name))), name);
    checkSpec(spec);
    t.true(spec.programs.length > 0, name);
    t.true(spec.license.length > 0, name);
    for (const p of spec.programs) t.is(p.type, BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, `${name} ${p.name}`);
    const want = scenarioExpect[name];
    if (!want) continue;
    t.deepEqual(
      spec.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries]),
      want.maps,
      name,
    );
    t.deepEqual(
      spec.programs.map((p) => [p.name, p.section, p.references.map((r) => r.map)]),
      want.programs,
      name,
    );
  }
});

// ---------- malformed input: ElfError naming section and offset ----------

test('not ELF / not 64-bit / not little-endian / not BPF', (t) => {
  const obj = load('multi.o');
  elfError(t, new TextEncoder().encode('hello world, not an object at all'), 'ELF header', 0, /not an ELF file/);
  elfError(t, new Uint8Array(0), 'ELF header', 0);
  elfError(t, patch(obj, (dv) => dv.setUint8(4, 1)), 'ELF header', 4, /64-bit/);
  elfError(t, patch(obj, (dv) => dv.setUint8(5, 2)), 'ELF header', 5, /little-endian/);
  elfError(t, patch(obj, (dv) => dv.setUint16(18, 62, true)), 'ELF header', 18, /EM_BPF/);
  elfError(t, patch(obj, (dv) => dv.setUint16(16, 2, true)), 'ELF header', 16, /ET_REL/);
});

test('truncated files', (t) => {
  const obj = load('multi.o');
  elfError(t, obj.subarray(0, 40), 'ELF header', 40, /truncated/);
  // clang puts the section header table last: any cut loses part of it
  elfError(t, obj.subarray(0, obj.byteLength - 1), 'ELF header', 60, /do not fit/);
});

test('section headers: contents outside the file, bad names, bad string table', (t) => {
  const obj = load('multi.o');
  const xdp = locate(obj).idx('xdp');
  const at = shdrAt(obj, xdp);
  elfError(t, patch(obj, (dv) => dv.setUint32(at + 32, 0x100000, true)), `section header ${xdp}`, at + 24, /outside the file/);
  elfError(t, patch(obj, (dv) => dv.setUint32(at + 24, obj.byteLength - 4, true)), `section header ${xdp}`, at + 24, /outside the file/);
  elfError(t, patch(obj, (dv) => dv.setUint32(at, 0xfffff, true)), `section header ${xdp}`, at, /name offset/);
  elfError(t, patch(obj, (dv) => dv.setUint16(62, 200, true)), 'ELF header', 62);
  // sh_offset too large for a JS number
  elfError(t, patch(obj, (dv) => dv.setUint32(at + 28, 0xffffffff, true)), `section header ${xdp}`, at + 24, /too large/);
});

test('program section size not a multiple of 8', (t) => {
  const obj = load('multi.o');
  const at = shdrAt(obj, locate(obj).idx('tc'));
  elfError(t, patch(obj, (dv) => dv.setUint32(at + 32, 12, true)), 'tc', 8, /multiple of 8/);
});

test('relocations: misaligned, outside the section, on the wrong instruction, bad symbol, bad type', (t) => {
  const obj = load('btf_maps.o');
  const rel = locate(obj).sec('.relxdp'); // first entry: 0x28 -> stats
  elfError(t, patch(obj, (dv) => dv.setUint32(rel, 0x2c, true)), '.relxdp', 0, /not an instruction/);
  elfError(t, patch(obj, (dv) => dv.setUint32(rel, 0x10000, true)), '.relxdp', 0, /not an instruction/);
  elfError(t, patch(obj, (dv) => dv.setUint32(rel, 0x20, true)), 'xdp', 0x20, /R_BPF_64_64 on opcode 0x7/);
  elfError(t, patch(obj, (dv) => dv.setUint32(rel + 12, 999, true)), '.relxdp', 12, /symbol index 999/);
  elfError(t, patch(obj, (dv) => dv.setUint32(rel + 8, 2, true)), '.relxdp', 8, /type 2 is not supported/);
  // two relocations on one instruction
  elfError(t, patch(obj, (dv) => dv.setUint32(rel + 16, 0x28, true)), '.relxdp', 16, /second relocation/);
});

test('reference to an unknown map', (t) => {
  const obj = load('legacy_maps.o');
  const loc = locate(obj);
  const license = loc.file.symbols.find((s) => s.name === '_license')!.index;
  const rel = loc.sec('.relxdp');
  elfError(t, patch(obj, (dv) => dv.setUint32(rel + 12, license, true)), 'xdp', 0x28, /unknown map \(_license in section license\)/);
  // A map symbol moved off its definition: nothing is defined at that offset... or the def runs off
  const flows = loc.sym('flows');
  elfError(t, patch(obj, (dv) => dv.setUint32(flows + 8, 0x18, true)), 'maps', 0x18, /runs past the section end/);
});

test('legacy map definitions with a bad size', (t) => {
  const obj = load('legacy_maps.o');
  const counters = locate(obj).sym('counters');
  const symtabOff = locate(obj).file.sections[locate(obj).file.symtabIndex]!.offset;
  elfError(t, patch(obj, (dv) => dv.setUint32(counters + 16, 12, true)), '.symtab', counters - symtabOff + 16, /smaller than struct bpf_map_def/);
  // 24 bytes: the tail is flows' type (1), an attribute this reader would drop
  elfError(t, patch(obj, (dv) => dv.setUint32(counters + 16, 24, true)), 'maps', 20, /non-zero attribute/);
  elfError(t, patch(obj, (dv) => dv.setUint32(counters + 16, 44, true)), 'maps', 0, /runs past/);
});

test('calls into the middle of a function or out of the section', (t) => {
  const obj = load('subprogs.o');
  const xdp = locate(obj).sec('xdp');
  // call@3 imm 2 -> .text slot 3 (add3); imm 3 -> slot 4, inside add3
  elfError(t, patch(obj, (dv) => dv.setInt32(xdp + 3 * 8 + 4, 3, true)), 'xdp', 0x18, /not the start of a function/);
  elfError(t, patch(obj, (dv) => dv.setInt32(xdp + 3 * 8 + 4, 400, true)), 'xdp', 0x18, /outside the section/);
  // add3's relocation-less call (imm 2): point it outside .text
  const text = locate(obj).sec('.text');
  elfError(t, patch(obj, (dv) => dv.setInt32(text + 3 * 8 + 4, 100, true)), '.text', 0x18, /outside .text/);
  // R_BPF_64_32 on a call whose src_reg says helper
  elfError(t, patch(obj, (dv) => dv.setUint8(xdp + 3 * 8 + 1, 0x00)), 'xdp', 0x18, /not on a bpf-to-bpf call/);
});

test('global data offset outside the section', (t) => {
  const obj = load('globals.o');
  const xdp = locate(obj).sec('xdp');
  // insn 27 is `r1 = .rodata + 16 ll`; .rodata is 24 bytes
  elfError(t, patch(obj, (dv) => dv.setInt32(xdp + 27 * 8 + 4, 24, true)), 'xdp', 27 * 8, /outside its 24 bytes/);
  elfError(t, patch(obj, (dv) => dv.setInt32(xdp + 27 * 8 + 4, -1, true)), 'xdp', 27 * 8, /offset -1/);
});

test('bad BTF: magic, truncation, ids out of range, loops, bad map definitions', (t) => {
  const obj = load('btf_maps.o');
  const loc = locate(obj);
  const btfOff = loc.sec('.BTF');
  const btfSec = loc.file.sections.find((s) => s.name === '.BTF')!;
  const btf = parseBtf(btfSec.data);
  const idOf = (pred: (ty: NonNullable<(typeof btf.types)[number]>) => boolean): number => btf.types.findIndex((ty) => ty !== undefined && pred(ty));

  elfError(t, patch(obj, (dv) => dv.setUint16(btfOff, 0x9feb, true)), '.BTF', 0, /bad magic/);
  elfError(t, patch(obj, (dv) => dv.setUint32(btfOff + 12, 0x10000, true)), '.BTF', 12, /type section/);
  elfError(t, patch(obj, (dv) => dv.setUint32(btfOff + 20, 0x10000, true)), '.BTF', 20, /string section/);

  // PTR [1] -> 99999
  const ptr = btf.types[1]!;
  t.is(ptr.kind, 'ptr');
  elfError(t, patch(obj, (dv) => dv.setUint32(btfOff + ptr.at + 8, 99999, true)), '.BTF', ptr.at, /refers to type 99999/);

  // TYPEDEF __u32 -> itself: stats' key size can no longer be resolved
  const u32 = idOf((ty) => ty.kind === 'typedef' && ty.name === '__u32');
  const u32At = btf.types[u32]!.at;
  elfError(t, patch(obj, (dv) => dv.setUint32(btfOff + u32At + 8, u32, true)), '.BTF', u32At, /loop/);

  // An unknown kind (31)
  elfError(t, patch(obj, (dv) => dv.setUint8(btfOff + ptr.at + 7, 31)), '.BTF', ptr.at + 4, /unknown kind 31/);

  // stats' `type` member pointing at __u32 instead of an array: not an __uint
  const statsDef = btf.types.find((ty) => ty?.kind === 'struct' && ty.members.length === 4 && ty.members[0]?.name === 'type');
  t.truthy(statsDef);
  const memberAt = statsDef!.at + 12; // first member: name_off, type, offset
  const u32Ptr = idOf((ty) => ty.kind === 'ptr' && ty.type === u32);
  elfError(t, patch(obj, (dv) => dv.setUint32(btfOff + memberAt + 4, u32Ptr, true)), '.BTF', statsDef!.at, /map stats: member type is not a pointer to an array/);
  // ...or at a non-pointer
  elfError(t, patch(obj, (dv) => dv.setUint32(btfOff + memberAt + 4, u32, true)), '.BTF', statsDef!.at, /member type is not a pointer/);
  // an unknown attribute name: rename `type` to `key` makes it a duplicate? use the `.maps` string instead
  const strStart = 24 + new DataView(btfSec.data.buffer, btfSec.data.byteOffset).getUint32(16, true);
  const dotMaps = Buffer.from(btfSec.data).indexOf(Buffer.from('.maps\0'), strStart) - strStart;
  elfError(t, patch(obj, (dv) => dv.setUint32(btfOff + memberAt, dotMaps, true)), '.BTF', statsDef!.at, /unknown attribute \.maps/);
});

test('BTF queries: sizes and names through typedefs, arrays and pointers', (t) => {
  const loc = locate(load('btf_maps.o'));
  const btf = parseBtf(loc.file.sections.find((s) => s.name === '.BTF')!.data);
  const byName = (kind: string, name: string): number => btf.types.findIndex((ty) => ty?.kind === kind && ty.name === name);
  t.is(btf.sizeOf(byName('struct', 'flow_key')), 16);
  t.is(btf.sizeOf(byName('typedef', 'flow_stats_t')), 16);
  t.is(btf.nameOf(byName('typedef', 'flow_stats_t')), 'flow_stats_t');
  t.is(btf.type(btf.skipQualifiers(byName('typedef', 'flow_stats_t')))?.name, 'flow_stats');
  t.is(btf.nameOf(byName('union', '')), 'union (anon)');
  // [1] PTR -> [3] ARRAY int[2]: __uint(type, BPF_MAP_TYPE_ARRAY)
  t.is(btf.nameOf(1), 'int[2] *');
  t.is(btf.sizeOf(1), 8);
  t.is(btf.sizeOf(3), 8);
  t.is(btf.nameOf(0), 'void');
  t.throws(() => btf.sizeOf(0), { instanceOf: ElfError });
  t.deepEqual(
    btf.datasec('.maps')!.vars.map((v) => btf.type(v.type)?.name),
    ['stats', 'flows', 'scratch', 'tx_ports'],
  );
  t.is(btf.datasec('.data'), undefined);
});

test('fileName decorates the message but keeps section and offset', (t) => {
  const bad = patch(load('multi.o'), (dv) => dv.setUint8(5, 2));
  const err = t.throws(() => parseElf(bad, 'multi.o'), { instanceOf: ElfError });
  t.is(err?.section, 'ELF header');
  t.is(err?.offset, 5);
  t.regex(err?.message ?? '', /^ELF header\+0x5: multi\.o: not a little-endian/);
});

// ---------- mutation sweep: a spec or an ElfError, nothing else ----------

function sweep(t: import('ava').ExecutionContext, name: string, nth: number): void {
  const obj = load(name);
  const loc = locate(obj);
  let ok = 0;
  let failed = 0;
  const attempt = (bytes: Uint8Array, what: string): void => {
    let spec: CollectionSpec;
    try {
      spec = parseElf(bytes, name);
    } catch (e) {
      if (e instanceof ElfError) {
        failed++;
        return;
      }
      t.fail(`${what}: ${String(e)}`);
      throw e;
    }
    try {
      checkSpec(spec);
    } catch (e) {
      t.fail(`${what}: spec broken: ${String(e)}`);
      throw e;
    }
    ok++;
  };

  for (let n = 0; n < obj.byteLength; n += 64) attempt(obj.subarray(0, n), `truncate ${n}`);

  // Every byte of the structures the reader interprets, each replaced by a few values.
  // The section header table and .BTF are the bulk of the bytes (some 4 KB of each object's 4.5)
  // and each parse costs a whole BTF parse, so there every byte takes two of the four values, not
  // four: a pair chosen by the byte's offset in its region and by the object. Headers and BTF types
  // are 4-byte aligned, so a field's byte has the same parity in every entry: the five objects
  // alternate pairs, and a field of an entry kind they share (section headers; INT, PTR, STRUCT,
  // FUNC_PROTO... types) still meets all four values across them. The ELF header and the small
  // sections (symbols, relocations, maps, license) keep all four in every object.
  const regions: [number, number, 'all' | 'paired'][] = [[0, 64, 'all']];
  const shoff = shdrAt(obj, 0);
  regions.push([shoff, shoff + loc.file.sections.length * 64, 'paired']);
  for (const s of loc.file.sections) {
    const interesting = s.type === 2 || s.type === 9 || (s.flags & 4) !== 0 || s.name === '.BTF' || s.name === 'maps' || s.name === 'license';
    if (interesting && s.type !== 8 && !s.name.startsWith('.rel.debug') && s.name !== '.rel.BTF.ext') {
      regions.push([s.offset, s.offset + s.size, s.name === '.BTF' ? 'paired' : 'all']);
    }
  }
  let flips = 0;
  for (const [from, to, values] of regions) {
    for (let at = from; at < to; at++) {
      const orig = obj[at]!;
      const four = [orig ^ 0xff, 0, orig + 1, 0x80];
      const pair = (at - from + nth) & 1;
      for (const v of values === 'all' ? four : [four[pair]!, four[pair + 2]!]) {
        if ((v & 0xff) === orig) continue;
        const copy = obj.slice();
        copy[at] = v & 0xff;
        attempt(copy, `byte 0x${at.toString(16)} = 0x${(v & 0xff).toString(16)}`);
        flips++;
      }
    }
  }
  t.log(`${name}: ${ok} specs, ${failed} ElfErrors (${flips} byte flips + truncations)`);
  t.true(failed > 0 && ok > 0);
}

['legacy_maps.o', 'btf_maps.o', 'globals.o', 'subprogs.o', 'multi.o'].forEach((name, nth) => {
  test(`mutation sweep: ${name} yields a spec or an ElfError`, (t) => sweep(t, name, nth));
});

test('an object with CO-RE relocations loads with them applied against vxo\'s kernel BTF, never run unpatched', (t) => {
  const bytes = readFileSync(fileURLToPath(new URL('./fixtures/elf-refused/core_relo.o', import.meta.url)));
  const spec = parseElf(bytes, 'core_relo.o');
  t.true(spec.programs.length > 0);
  // test/elf/core-apply.test.ts runs it on both engines and checks the patched values.
  t.true(spec.programs.every((p) => (p.poisoned ?? []).length === 0), 'every relocation resolved');
});

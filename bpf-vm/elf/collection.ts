// parseElf: an object from `clang -O2 -g -target bpf -c` to a CollectionSpec (maps and programs
// as plain data, nothing loaded), following libbpf's conventions for section names, legacy and
// BTF-defined maps, global data and bpf-to-bpf calls. What libbpf does at load against the running
// kernel's BTF is done here against vxo's (ParseElfOptions.kernel): CO-RE relocations applied
// (core-apply.ts) and kfunc externs resolved (externs.ts), so a spec's instructions are final; what
// could not be resolved but need not fail the load is poisoned and listed in ProgramSpec.poisoned.
import { coreReloCount, funcInfoBySection, lineInfoBySection, type BtfFuncInfo, type BtfLineInfo } from '../btf/ext.ts';
import { ElfError } from '../errors.ts';
import { Btf, parseBtf } from '../btf/btf.ts';
import { btfMapDefs } from '../btf/maps.ts';
import { decodeInsns, type Insn } from '../isa/insn.ts';
import { BPF_INSN_SIZE } from '../isa/opcodes.ts';
import { BPF_MAP_FLAG, BPF_MAP_TYPE, type MapSpec } from '../maps/map.ts';
import { progTypeFromSection } from '../prog/types.ts';
import { readElf, SHF, SHT, STB, STT, SYM_SIZE, type ElfFile, type ElfSection, type ElfSymbol } from './reader.ts';
import { resolveRelocations, type ExecSection, type MapLookup } from './relocations.ts';
import type { CollectionSpec, FuncInfo, KfuncCallSite, LineInfo, MapReference, PoisonedInsn, ProgramSpec } from './spec.ts';
import { applyCoreRelocations } from './core-apply.ts';
import { resolveKsymCalls, type KsymCall } from './externs.ts';
import { kernelBtf, type KernelBtf } from '../btf/kernel-btf.ts';

/** struct bpf_map_def: type, key_size, value_size, max_entries, map_flags. */
const LEGACY_MAP_DEF_SIZE = 20;
/**
 * KMALLOC_MAX_SIZE on x86-64: the kernel refuses array maps with larger values, and a hostile
 * NOBITS size must not make us allocate gigabytes of zeros.
 */
const MAX_DATA_SECTION = 4 << 20;
const LD_IMM64 = 0x18;
const CALL = 0x85;
const BPF_PSEUDO_CALL = 1;
const BPF_PSEUDO_FUNC = 4;
const BPF_PSEUDO_KFUNC_CALL = 2;

/** A function: a FUNC symbol's range of instruction slots within its section. */
interface Func {
  name: string;
  exec: ExecSection;
  start: number;
  end: number;
  /** Global FUNC symbols in program sections are programs; every function can be a callee. */
  global: boolean;
}

export interface ParseElfOptions {
  /**
   * The kernel BTF that CO-RE relocations and kfunc externs resolve against (libbpf does this at
   * load; vxo's specs carry the relocated instructions): vxo's kernel BTF unless given.
   */
  kernel?: KernelBtf;
}

/** Parses a BPF ELF object. `fileName` only decorates error messages. */
export function parseElf(bytes: Uint8Array, fileName?: string, opts: ParseElfOptions = {}): CollectionSpec {
  try {
    return parse(bytes, opts);
  } catch (e) {
    if (fileName !== undefined && e instanceof ElfError) {
      // Keep section and offset; name the file in the message (the constructor adds the prefix).
      const prefix = `${e.section}+0x${e.offset.toString(16)}: `;
      const raw = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
      throw new ElfError(e.section, e.offset, `${fileName}: ${raw}`, { cause: e });
    }
    throw e;
  }
}

function parse(bytes: Uint8Array, opts: ParseElfOptions): CollectionSpec {
  const file = readElf(bytes);
  const license = readLicense(file);
  const ext = file.sections.find((s) => s.name === '.BTF.ext');
  const symtabName = file.sections[file.symtabIndex]?.name ?? '.symtab';

  // --- maps ---
  const maps: MapSpec[] = [];
  const mapOffsets = new Map<number, Map<number, string>>(); // shndx -> offset -> map name
  const dataMaps = new Map<number, { name: string; size: number }>();
  const names = new Set<string>();
  const addMap = (spec: MapSpec, section: ElfSection, offset: number): void => {
    if (names.has(spec.name)) throw new ElfError(section.name, offset, `second map named ${spec.name}`);
    names.add(spec.name);
    maps.push(spec);
  };
  let btf: Btf | undefined;
  const loadBtf = (needer: ElfSection): Btf => {
    if (btf) return btf;
    const sec = file.sections.find((s) => s.name === '.BTF');
    if (!sec) throw new ElfError(needer.name, 0, 'BTF-defined maps need a .BTF section');
    btf = parseBtf(sec.data, sec.name);
    return btf;
  };

  for (const sec of file.sections) {
    if (sec.name === 'maps') {
      const offsets = new Map<number, string>();
      mapOffsets.set(sec.index, offsets);
      for (const def of legacyMaps(file, sec, symtabName)) {
        addMap(def.spec, sec, def.offset);
        offsets.set(def.offset, def.spec.name);
      }
    } else if (sec.name === '.maps') {
      const offsets = new Map<number, string>();
      mapOffsets.set(sec.index, offsets);
      if (sec.size === 0) continue;
      const symbols = new Map<string, ElfSymbol>();
      for (const s of file.symbols) if (s.shndx === sec.index && s.type !== STT.SECTION && s.name) symbols.set(s.name, s);
      const types = loadBtf(sec);
      if (!types.datasec(sec.name)) throw new ElfError(sec.name, 0, `BTF has no DATASEC ${sec.name} describing the maps`);
      for (const def of btfMapDefs(types, sec.name)) {
        const sym = symbols.get(def.name);
        if (!sym) throw new ElfError(sec.name, 0, `BTF map ${def.name} has no symbol in ${sec.name}`);
        if (sym.value >= sec.size) throw new ElfError(symtabName, sym.index * SYM_SIZE + 8, `map symbol ${def.name} at 0x${sym.value.toString(16)} lies outside ${sec.name}`);
        const spec: MapSpec = {
          name: def.name,
          type: def.type,
          keySize: def.keySize,
          valueSize: def.valueSize,
          maxEntries: def.maxEntries,
          flags: def.flags,
        };
        if (def.keyType !== undefined || def.valueType !== undefined) {
          spec.btf = {};
          if (def.keyType !== undefined) spec.btf.keyType = def.keyType;
          if (def.valueType !== undefined) spec.btf.valueType = def.valueType;
        }
        addMap(spec, sec, sym.value);
        offsets.set(sym.value, def.name);
      }
    } else if (isDataSection(sec)) {
      if (sec.size === 0) continue;
      if (sec.size > MAX_DATA_SECTION) throw new ElfError(sec.name, 0, `${sec.size} bytes of global data exceed the kernel's ${MAX_DATA_SECTION}-byte value limit`);
      const rodata = sec.name === '.rodata' || sec.name.startsWith('.rodata.');
      addMap(
        {
          name: sec.name,
          type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY,
          keySize: 4,
          valueSize: sec.size,
          maxEntries: 1,
          flags: rodata ? BPF_MAP_FLAG.BPF_F_RDONLY_PROG : 0,
          // A copy: the spec must not alias (or pin) the caller's file buffer.
          initialValue: sec.type === SHT.NOBITS ? new Uint8Array(sec.size) : sec.data.slice(),
        },
        sec,
        0,
      );
      dataMaps.set(sec.index, { name: sec.name, size: sec.size });
    }
  }

  // --- code ---
  const execs = new Map<number, ExecSection>();
  for (const sec of file.sections) {
    if (sec.type !== SHT.PROGBITS || (sec.flags & SHF.EXECINSTR) === 0) continue;
    if (sec.size % BPF_INSN_SIZE !== 0) {
      throw new ElfError(sec.name, sec.size - (sec.size % BPF_INSN_SIZE), `size ${sec.size} is not a multiple of ${BPF_INSN_SIZE}`);
    }
    execs.set(sec.index, { section: sec, insns: decodeInsns(sec.data, sec.name), relocs: new Map() });
  }
  const lookup: MapLookup = {
    isMapSection: (shndx) => mapOffsets.has(shndx),
    mapAt: (shndx, offset) => mapOffsets.get(shndx)?.get(offset),
    dataMap: (shndx) => dataMaps.get(shndx),
  };
  const relsByTarget = new Map<number, ElfSection[]>();
  for (const sec of file.sections) {
    if (sec.type !== SHT.REL && sec.type !== SHT.RELA) continue;
    if (!execs.has(sec.info)) {
      // Relocations of debug info, BTF and data (e.g. function pointers in .data) are a
      // linker's business; libbpf ignores them too. Only an out-of-range target is malformed.
      if (sec.info >= file.sections.length) throw new ElfError(sec.name, 0, `sh_info ${sec.info} is not a section (of ${file.sections.length})`);
      continue;
    }
    if (sec.type === SHT.RELA) throw new ElfError(sec.name, 0, 'RELA relocations are not used by BPF and not supported in code');
    const list = relsByTarget.get(sec.info) ?? [];
    list.push(sec);
    relsByTarget.set(sec.info, list);
  }
  for (const [shndx, rels] of relsByTarget) {
    const exec = execs.get(shndx);
    if (exec) resolveRelocations(file, exec, rels, lookup, execs);
  }

  const funcs = functionsBySection(file, execs, symtabName);
  const btfSec = file.sections.find((s) => s.name === '.BTF');
  const objBtf = (): Btf | undefined => {
    if (!btfSec) return undefined;
    btf ??= parseBtf(btfSec.data, btfSec.name);
    return btf;
  };

  // --- CO-RE and externs, against the kernel's BTF (libbpf: bpf_object__relocate_core, resolve_externs) ---
  if (ext && coreReloCount(ext.data) > 0) {
    const local = objBtf();
    if (!local || !btfSec) throw new ElfError('.BTF.ext', 0, 'CO-RE relocations need the object\'s .BTF');
    const kernel = opts.kernel ?? kernelBtf();
    const poisoned = applyCoreRelocations(ext.data, btfSec.data, local, kernel.btf, execs, (shndx) => funcs.get(shndx) ?? []);
    for (const [shndx, m] of poisoned) {
      const exec = execs.get(shndx);
      if (exec) exec.poisoned = m;
    }
  }
  const externSyms = new Map<number, { call: boolean }>();
  for (const exec of execs.values()) {
    for (const r of exec.relocs.values()) if (r.kind === 'ksym') externSyms.set(r.sym, { call: r.call && (externSyms.get(r.sym)?.call ?? true) });
  }
  const ksyms = externSyms.size > 0 ? resolveKsymCalls(file, objBtf(), opts.kernel ?? kernelBtf(), externSyms) : new Map<number, KsymCall>();

  const lines = ext && btfSec ? lineInfoBySection(ext.data, btfSec.data) : new Map<string, BtfLineInfo[]>();
  const funcRecords = ext && btfSec ? funcInfoBySection(ext.data, btfSec.data) : new Map<string, BtfFuncInfo[]>();
  const funcBtf = funcRecords.size > 0 ? objBtf() : undefined;
  const programs: ProgramSpec[] = [];
  for (const exec of execs.values()) {
    if (exec.section.name === '.text') continue; // .text holds subprograms, never entry points
    for (const f of funcs.get(exec.section.index) ?? []) {
      if (!f.global) continue;
      const linked = link(f, funcs, ksyms);
      const lineInfo = linkedLineInfo(linked.placed, lines);
      if (funcBtf) addFuncReturns(linked.funcs, linked.placed, funcRecords, funcBtf);
      programs.push({
        name: f.name,
        section: exec.section.name,
        type: progTypeFromSection(exec.section.name),
        insns: linked.insns,
        references: linked.references,
        funcs: linked.funcs,
        ...(funcRecords.has(exec.section.name) ? {} : { noFuncInfo: true as const }),
        ...(lineInfo.length > 0 ? { lineInfo } : {}),
        ...(linked.poisoned.length > 0 ? { poisoned: linked.poisoned } : {}),
        ...(linked.kfuncCalls.length > 0 ? { kfuncCalls: linked.kfuncCalls } : {}),
        license,
      });
    }
  }
  return { maps, programs, license };
}

function isDataSection(sec: ElfSection): boolean {
  if (sec.type !== SHT.PROGBITS && sec.type !== SHT.NOBITS) return false;
  if ((sec.flags & SHF.ALLOC) === 0 || (sec.flags & SHF.EXECINSTR) !== 0) return false;
  const n = sec.name;
  return n === '.data' || n === '.rodata' || n === '.bss' || n.startsWith('.data.') || n.startsWith('.rodata.') || n.startsWith('.bss.');
}

/** The `license` section's string (up to its NUL, as the kernel reads it); '' when absent. */
function readLicense(file: ElfFile): string {
  const sec = file.sections.find((s) => s.name === 'license');
  if (!sec) return '';
  const end = sec.data.indexOf(0);
  return new TextDecoder('utf-8').decode(end < 0 ? sec.data : sec.data.subarray(0, end));
}

/** Consecutive struct bpf_map_def records in `maps`, each named by a symbol pointing at it. */
function legacyMaps(file: ElfFile, sec: ElfSection, symtabName: string): { offset: number; spec: MapSpec }[] {
  if (sec.type !== SHT.PROGBITS) throw new ElfError(sec.name, 0, 'the legacy maps section must have contents (PROGBITS)');
  const symbols = file.symbols
    .filter((s) => s.shndx === sec.index && s.type !== STT.SECTION && s.type !== STT.FILE)
    .sort((a, b) => a.value - b.value || a.index - b.index);
  if (symbols.length === 0 && sec.size > 0) throw new ElfError(sec.name, 0, 'map definitions without symbols to name them');
  const dv = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  return symbols.map((sym) => {
    const size = sym.size || LEGACY_MAP_DEF_SIZE;
    const at = sym.value;
    const symAt = sym.index * SYM_SIZE;
    if (size < LEGACY_MAP_DEF_SIZE) throw new ElfError(symtabName, symAt + 16, `map ${sym.name}: definition of ${size} bytes is smaller than struct bpf_map_def (${LEGACY_MAP_DEF_SIZE})`);
    if (at % 4 !== 0) throw new ElfError(sec.name, at, `map ${sym.name}: definition is not 4-byte aligned`);
    if (at + size > sec.size) throw new ElfError(sec.name, at, `map ${sym.name}: ${size}-byte definition runs past the section end (${sec.size} bytes)`);
    // Larger definitions (e.g. iproute2's struct bpf_elf_map) carry attributes we would drop.
    for (let i = at + LEGACY_MAP_DEF_SIZE; i < at + size; i++) {
      if (sec.data[i] !== 0) throw new ElfError(sec.name, i, `map ${sym.name}: unknown non-zero attribute bytes after struct bpf_map_def`);
    }
    return {
      offset: at,
      spec: {
        name: sym.name,
        type: dv.getUint32(at, true),
        keySize: dv.getUint32(at + 4, true),
        valueSize: dv.getUint32(at + 8, true),
        maxEntries: dv.getUint32(at + 12, true),
        flags: dv.getUint32(at + 16, true),
      },
    };
  });
}

/** The functions of every executable section, sorted by start, from FUNC symbols. */
function functionsBySection(file: ElfFile, execs: ReadonlyMap<number, ExecSection>, symtabName: string): Map<number, Func[]> {
  const out = new Map<number, Func[]>();
  for (const exec of execs.values()) {
    const n = exec.insns.length;
    const syms = file.symbols
      .filter((s) => s.shndx === exec.section.index && s.type === STT.FUNC)
      .sort((a, b) => a.value - b.value || a.index - b.index);
    const list: Func[] = [];
    if (syms.length === 0) {
      // Hand-written objects may carry no FUNC symbols: the whole section is one function.
      if (n > 0) list.push({ name: exec.section.name, exec, start: 0, end: n, global: true });
    }
    for (let i = 0; i < syms.length; i++) {
      const s = syms[i]!;
      const symAt = s.index * SYM_SIZE;
      if (s.value % BPF_INSN_SIZE !== 0 || s.size % BPF_INSN_SIZE !== 0) {
        throw new ElfError(symtabName, symAt + 8, `function ${s.name}: offset 0x${s.value.toString(16)} or size ${s.size} is not a multiple of ${BPF_INSN_SIZE}`);
      }
      const start = s.value / BPF_INSN_SIZE;
      // st_size 0 (hand-written assembly): the function runs to the next one or the section end.
      let end = start + s.size / BPF_INSN_SIZE;
      if (s.size === 0) {
        end = n;
        for (let j = i + 1; j < syms.length; j++) {
          const next = syms[j]!.value / BPF_INSN_SIZE;
          if (next > start) {
            end = next;
            break;
          }
        }
      }
      if (start >= n || end > n || end <= start) {
        throw new ElfError(symtabName, symAt + 8, `function ${s.name} [0x${s.value.toString(16)}, +${s.size}) lies outside ${exec.section.name} (${exec.section.size} bytes)`);
      }
      list.push({ name: s.name, exec, start, end, global: s.bind === STB.GLOBAL || s.bind === STB.WEAK });
    }
    out.set(exec.section.index, list);
  }
  return out;
}

function funcAt(funcs: ReadonlyMap<number, Func[]>, shndx: number, insn: number): Func | undefined {
  // Aliases (several symbols at one start) share their code, so the first one serves.
  return funcs.get(shndx)?.find((f) => f.start === insn);
}

/**
 * Copies `entry`, then every function it calls (transitively, each once, in order of first
 * call, as libbpf appends subprograms), fixing each call's imm to the new distance and moving
 * each map reference to its new slot.
 */
/** The line info of each function copied into a program, moved to the slots it was copied to. */
function linkedLineInfo(placed: ReadonlyMap<Func, number>, lines: ReadonlyMap<string, BtfLineInfo[]>): LineInfo[] {
  const out: LineInfo[] = [];
  for (const [f, fBase] of placed) {
    for (const l of lines.get(f.exec.section.name) ?? []) {
      if (l.insnOff % BPF_INSN_SIZE !== 0) continue;
      const i = l.insnOff / BPF_INSN_SIZE;
      if (i < f.start || i >= f.end) continue;
      out.push({ insn: fBase + (i - f.start), fileName: l.fileName, line: l.line, lineNum: l.lineNum, lineCol: l.lineCol });
    }
  }
  return out.sort((a, b) => a.insn - b.insn);
}

/** Each linked function's BTF return kind, from its func_info record (the verifier's LD_ABS and tail-call rules want it). */
function addFuncReturns(infos: FuncInfo[], placed: ReadonlyMap<Func, number>, records: ReadonlyMap<string, BtfFuncInfo[]>, btf: Btf): void {
  for (const [f, fBase] of placed) {
    const rec = records.get(f.exec.section.name)?.find((r) => r.insnOff === f.start * BPF_INSN_SIZE);
    const info = infos.find((x) => x.start === fBase);
    if (rec === undefined || info === undefined) continue;
    if (btf.funcReturnsScalar(rec.typeId) === false) info.nonScalarReturn = true;
  }
}

interface Linked {
  insns: Insn[];
  references: MapReference[];
  funcs: FuncInfo[];
  placed: ReadonlyMap<Func, number>;
  poisoned: PoisonedInsn[];
  kfuncCalls: KfuncCallSite[];
}

function link(entry: Func, funcs: ReadonlyMap<number, Func[]>, ksyms: ReadonlyMap<number, KsymCall>): Linked {
  const base = new Map<Func, number>([[entry, 0]]);
  const order: Func[] = [entry];
  let total = entry.end - entry.start;
  const insns: Insn[] = [];
  const references: MapReference[] = [];
  const infos: FuncInfo[] = [{ name: entry.name, start: 0 }];
  const poisoned: PoisonedInsn[] = [];
  const kfuncCalls: KfuncCallSite[] = [];
  /** Where `callee` lands in the program, appending it on its first use. */
  const place = (callee: Func): number => {
    let at = base.get(callee);
    if (at === undefined) {
      at = total;
      base.set(callee, total);
      order.push(callee);
      infos.push({ name: callee.name, start: total });
      total += callee.end - callee.start;
    }
    return at;
  };

  for (let k = 0; k < order.length; k++) {
    const f = order[k]!;
    const fBase = base.get(f)!;
    const sec = f.exec;
    const fail = (i: number, message: string): ElfError => new ElfError(sec.section.name, i * BPF_INSN_SIZE, `${f.name}: ${message}`);
    for (let i = f.start; i < f.end; i++) {
      const ins = { ...sec.insns[i]! };
      const out = fBase + (i - f.start);
      const reloc = sec.relocs.get(i);
      const p = sec.poisoned?.get(i);
      if (p) poisoned.push({ ...p, insn: out });
      if (ins.code === LD_IMM64) {
        if (i + 1 >= f.end) throw fail(i, 'ld_imm64 is cut off by the end of the function');
        if (sec.relocs.has(i + 1)) throw fail(i + 1, 'relocation on the second slot of an ld_imm64');
        const hi = { ...sec.insns[i + 1]! };
        if (reloc?.kind === 'func') {
          // As libbpf: src_reg BPF_PSEUDO_FUNC, imm the distance to the function, appended like a callee.
          const callee = funcAt(funcs, reloc.section, reloc.insn);
          if (!callee) throw fail(i, `function address ${reloc.insn} in section ${reloc.section} is not the start of a function`);
          const calleeBase = place(callee);
          // Whether a callback is static matters to the verifier (the kernel reads BTF linkage).
          if (callee.global) { const info = infos.find((x) => x.start === calleeBase); if (info) info.global = true; }
          ins.src = BPF_PSEUDO_FUNC;
          ins.imm = calleeBase - (out + 1);
          hi.imm = 0;
        } else if (reloc && (reloc.kind === 'map' || reloc.kind === 'value')) {
          references.push({ insn: out, map: reloc.map, kind: reloc.kind, offset: reloc.kind === 'value' ? reloc.offset : 0 });
        }
        // The second slot is data, never an instruction: copy it without looking at it.
        insns.push(ins, hi);
        i++;
        continue;
      }
      if (ins.code === CALL && reloc?.kind === 'ksym') {
        const k = ksyms.get(reloc.sym);
        if (!k) throw fail(i, `call of extern '${reloc.name}' was not resolved`);
        if (k.kind === 'kfunc') {
          // libbpf's RELO_EXTERN_CALL: the kernel FUNC's BTF id, vmlinux (off 0).
          ins.src = BPF_PSEUDO_KFUNC_CALL;
          ins.imm = k.btfId;
          ins.off = 0;
          kfuncCalls.push({ insn: out, name: k.name, btfId: k.btfId });
        } else {
          // poison_kfunc_call: an invalid helper call naming the extern's index.
          ins.src = 0;
          ins.dst = 0;
          ins.off = 0;
          ins.imm = k.imm;
          poisoned.push({ insn: out, reason: 'kfunc', func: f.name, funcInsn: i - f.start, name: k.name, message: `kfunc '${k.name}' is referenced but wasn't resolved` });
        }
        insns.push(ins);
        continue;
      }
      if (ins.code === CALL) {
        let target: { shndx: number; insn: number } | undefined;
        if (reloc?.kind === 'call') target = { shndx: reloc.section, insn: reloc.insn };
        else if (ins.src === BPF_PSEUDO_CALL) {
          // No relocation: clang already resolved a call within this section, pc-relative.
          const t = i + ins.imm + 1;
          if (t < 0 || t >= sec.insns.length) throw fail(i, `call target ${t} is outside ${sec.section.name}`);
          target = { shndx: sec.section.index, insn: t };
        }
        if (target) {
          if (target.shndx === sec.section.index && target.insn >= f.start && target.insn < f.end) {
            // Inside this very function: the distance survives the copy unchanged.
            ins.imm = target.insn - (i + 1);
          } else {
            const callee = funcAt(funcs, target.shndx, target.insn);
            if (!callee) throw fail(i, `call target ${target.insn} in section ${target.shndx} is not the start of a function`);
            ins.imm = place(callee) - (out + 1);
          }
        }
      }
      insns.push(ins);
    }
  }
  return { insns, references, funcs: infos, placed: base, poisoned, kfuncCalls };
}

// Second step after the ELF reader: create the spec's maps, give them fds, and patch each program's
// map references into BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE ld_imm64s carrying those fds.
import { readFileSync } from 'node:fs';
import { BpfError, ElfError, InvalidProgramError } from '../errors.ts';
import { parseElf } from '../elf/collection.ts';
import type { CollectionSpec, ProgramSpec } from '../elf/spec.ts';
import { BPF_PSEUDO_LD } from '../isa/opcodes.ts';
import { createMap } from '../maps/create.ts';
import type { BpfMap } from '../maps/map.ts';
import { FdTable } from './fd-table.ts';
import type { Program } from './program.ts';
import { validateProgram } from './validate.ts';

export interface LoadOptions {
  /** Where map fds are allocated; a fresh table by default. */
  fds?: FdTable;
  /** CPUs for PERCPU maps. */
  nrCpus?: number;
  /** Upper bound on the memory of any one map. */
  maxMapBytes?: number;
}

export class Collection {
  constructor(
    readonly maps: ReadonlyMap<string, BpfMap>,
    readonly programs: ReadonlyMap<string, Program>,
    readonly fds: FdTable,
  ) {}

  /** A program by function name or section name; with no name, the only (or first) program. */
  program(name?: string): Program {
    if (name === undefined) {
      const first = this.programs.values().next();
      if (first.done) throw new BpfError('ENOENT', 'the object has no programs');
      return first.value;
    }
    const byName = this.programs.get(name);
    if (byName) return byName;
    for (const p of this.programs.values()) if (p.section === name) return p;
    throw new BpfError('ENOENT', `no program or section named '${name}' (have: ${[...this.programs.values()].map((p) => `${p.name} [${p.section}]`).join(', ')})`);
  }
}

function linkProgram(spec: ProgramSpec, fdOf: ReadonlyMap<string, number>, fds: FdTable): Program {
  const insns = spec.insns.map((i) => ({ ...i }));
  for (const ref of spec.references) {
    const first = insns[ref.insn], second = insns[ref.insn + 1];
    const fd = fdOf.get(ref.map);
    if (first === undefined || second === undefined || first.code !== 0x18) {
      throw new BpfError('EINVAL', `${spec.name}: map reference at insn ${ref.insn} is not an ld_imm64`);
    }
    if (fd === undefined) throw new BpfError('EINVAL', `${spec.name}: insn ${ref.insn} references unknown map '${ref.map}'`);
    first.src = ref.kind === 'map' ? BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD : BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE;
    first.imm = fd;
    second.imm = ref.kind === 'map' ? 0 : ref.offset;
  }
  try {
    validateProgram(insns);
  } catch (e) {
    // Name the place in the object: the section and the instruction's byte offset in the program.
    if (e instanceof InvalidProgramError) throw new ElfError(spec.section, e.pc * 8, `program ${spec.name}: ${e.message}`, { cause: e });
    throw e;
  }
  return { name: spec.name, section: spec.section, type: spec.type, insns, funcs: spec.funcs, license: spec.license, fds };
}

export function loadCollection(spec: CollectionSpec, opts: LoadOptions = {}): Collection {
  const fds = opts.fds ?? new FdTable();
  const maps = new Map<string, BpfMap>();
  const fdOf = new Map<string, number>();
  for (const ms of spec.maps) {
    const map = createMap(ms, { nrCpus: opts.nrCpus, maxBytes: opts.maxMapBytes });
    maps.set(ms.name, map);
    fdOf.set(ms.name, fds.add(map));
  }
  const programs = new Map<string, Program>();
  for (const ps of spec.programs) programs.set(ps.name, linkProgram(ps, fdOf, fds));
  return new Collection(maps, programs, fds);
}

/** Reads, parses and loads an object file in one step. */
export function loadObjectFile(path: string, opts: LoadOptions = {}): Collection {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new BpfError('ENOENT', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return loadCollection(parseElf(bytes, path), opts);
}

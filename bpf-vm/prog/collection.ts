// Second step after the ELF reader: create the spec's maps, give them fds, and patch each program's
// map references into BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE ld_imm64s carrying those fds.
//
// Loading does not run the verifier (unlike the kernel's BPF_PROG_LOAD): it checks each program's
// structure (validateProgram: opcodes, jump targets, ld_imm64 pairs, registers), so a malformed
// object fails here, but a program the verifier would reject loads, and can be dumped or verified
// with its log. Verification happens when a program is made runnable: every XdpProgramRunner (so
// every bpfProgTestRun call) verifies in its constructor unless given `verify: false` or an
// earlier VerifyResult, and refuses a rejected program with a VerifierError; verifyProgram runs
// the verifier alone.
//
// CO-RE relocations and kfunc externs are settled by the ELF reader (parseElf, against vxo's kernel
// BTF), so a program arrives with kfunc calls (src_reg BPF_PSEUDO_KFUNC_CALL, imm a BTF id) and
// maybe poisoned calls; programLoadInfo lists both and explainPoisonedInsn says why a poisoned call
// is there, for a verifier error that reaches one.
import { readFileSync } from 'node:fs';
import { BpfError, ElfError, InvalidProgramError } from '../errors.ts';
import { parseElf } from '../elf/collection.ts';
import type { CollectionSpec, KfuncCallSite, PoisonedInsn, ProgramSpec } from '../elf/spec.ts';
import { BPF_PSEUDO_LD } from '../isa/opcodes.ts';
import { createMap } from '../maps/create.ts';
import type { BpfMap } from '../maps/map.ts';
import { ProgArrayMap } from '../maps/prog-array.ts';
import { claimProgArrays } from './tail-call.ts';
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
  const prog: Program = {
    name: spec.name, section: spec.section, type: spec.type, insns, funcs: spec.funcs, license: spec.license, fds, ...(spec.noFuncInfo ? { noFuncInfo: true as const } : {}),
  };
  const out = spec.lineInfo !== undefined && spec.lineInfo.length > 0 ? { ...prog, lineInfo: spec.lineInfo } : prog;
  if (spec.poisoned !== undefined || spec.kfuncCalls !== undefined) {
    loadInfo.set(out, { poisoned: spec.poisoned ?? [], kfuncCalls: spec.kfuncCalls ?? [] });
  }
  return out;
}

/** What the load did to a program beyond its map references: poisoned instructions and kfunc calls. */
export interface ProgramLoadInfo {
  readonly poisoned: readonly PoisonedInsn[];
  readonly kfuncCalls: readonly KfuncCallSite[];
}

// Program's shape belongs to program.ts; until it carries these, they hang off the object.
const loadInfo = new WeakMap<Program, ProgramLoadInfo>();

/** The instructions the load poisoned in `prog` (CO-RE relocations without a target, unresolved weak kfuncs), and its kfunc calls. */
export function programLoadInfo(prog: Program): ProgramLoadInfo {
  return loadInfo.get(prog) ?? { poisoned: [], kfuncCalls: [] };
}

/**
 * libbpf's reading of a verifier error at a poisoned instruction (its log fixup): why the call at
 * `pc` is there (`failed to resolve CO-RE relocation <byte_off> [12] struct s.f (0:1 @ offset 4)`,
 * `kfunc 'x' is referenced but wasn't resolved`), naming the program; undefined for any other insn.
 */
export function explainPoisonedInsn(prog: Program, pc: number): string | undefined {
  const p = programLoadInfo(prog).poisoned.find((x) => x.insn === pc);
  if (p === undefined) return undefined;
  const what = p.reason === 'core' ? '<invalid CO-RE relocation>' : '<invalid kfunc call>';
  return `prog '${prog.name}': ${pc}: ${what} (in ${p.func}, insn #${p.funcInsn})\n${p.message}`;
}

/** Creates the spec's maps and links its programs; verifies nothing (see the top of this file). */
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
  // Programs get fds after the maps (libbpf creates maps, then loads programs), so that user space
  // can put them into the object's PROG_ARRAY maps: map.update(key, u32(coll.fds.programFd(prog))).
  for (const p of programs.values()) {
    // As the kernel's load (bpf_check_tail_call): a program's PROG_ARRAYs take its type.
    claimProgArrays(p);
    fds.addProgram(p);
  }
  for (const m of maps.values()) if (m instanceof ProgArrayMap) m.bindPrograms(fds);
  return new Collection(maps, programs, fds);
}

/**
 * Reads, parses and loads an object file in one step: maps created (empty, or holding .data/.rodata),
 * programs linked and structurally checked, but not verified (see the top of this file: the
 * verifier runs when a runner is built, or through verifyProgram). Throws BpfError/ElfError for a
 * file that cannot be read, parsed, or whose maps cannot be created.
 */
export function loadObjectFile(path: string, opts: LoadOptions = {}): Collection {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new BpfError('ENOENT', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return loadCollection(parseElf(bytes, path), opts);
}

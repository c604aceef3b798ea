// The verifier's rejection corpus (test/verifier-corpus/README.md): programs the kernel's verifier
// rejects, each with the phrase vxo's rejection must contain and what the kernel said about it.
// Three kinds of case:
//   unsafe/NAME.asm  hand-written assembly (bpf-vm/asm/assembler.ts syntax) with `; key: value` headers;
//   unsafe/NAME.c    C built by unsafe/Makefile into the committed NAME.o, with `// key: value` headers;
//   GENERATED below  programs too large for a file (a million instructions), built in code.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { insn, type Insn } from '../../bpf-vm/isa/insn.ts';
import { createMap } from '../../bpf-vm/maps/create.ts';
import { BPF_MAP_TYPE, type MapSpec } from '../../bpf-vm/maps/map.ts';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { FdTable } from '../../bpf-vm/prog/fd-table.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';

export const CORPUS_DIR = fileURLToPath(new URL('./', import.meta.url));
export const UNSAFE_DIR = join(CORPUS_DIR, 'unsafe');

/** The categories the README lists; every case names one. */
export const CATEGORIES = [
  'packet', // out-of-bounds packet access
  'packet_meta', // data_meta misuse
  'stack', // out of frame, uninitialised, variable offset, spills
  'ctx', // struct xdp_md access
  'map_value', // out-of-bounds or forbidden map value access
  'null', // map_value_or_null / socket_or_null used before a NULL check
  'uninit', // registers read before written
  'ptr_arith', // pointer arithmetic the verifier forbids
  'helper_args', // bad helper arguments
  'reference', // acquired references (sockets) not released, released twice, used after release
  'loop', // infinite loops and loops past the budget
  'cfg', // control flow: jumps, unreachable code, falling off the end, calls
  'insn', // malformed instructions: r10 writes, bad immediates, unknown helpers, bad ld_imm64
  'size', // programs too large, stacks too deep
  'return', // return values
] as const;
export type Category = (typeof CATEGORIES)[number];

/** A map for an assembly case: `; maps: NAME:TYPE:KEY:VALUE:ENTRIES[:FLAGS]`. */
export type CaseMap = Pick<MapSpec, 'name' | 'type' | 'keySize' | 'valueSize' | 'maxEntries' | 'flags'>;

/** What the real kernel answered (recorded by gen-kernel.ts). */
export interface KernelVerdict {
  /** errno name of the rejection (EACCES, EINVAL, E2BIG, ...). */
  errno: string;
  /** The verifier's error lines (the log after the failing instruction), first is the main one. */
  lines: string[];
}

/** What the kernel needs to load a case: raw instructions plus maps, or an object for bpftool. */
export type KernelInput =
  | { kind: 'insns'; insns: readonly Insn[]; maps: readonly CaseMap[]; progType: number; noPerfmon: boolean }
  | { kind: 'object'; path: string; noPerfmon: boolean };

/**
 * How the kernel was asked: `root` with every capability, or `no-perfmon` with CAP_BPF +
 * CAP_NET_ADMIN only (test/support/bpf-load.c --no-perfmon). Some checks exist only in the
 * second mode: perfmon-capable loaders may read uninitialised stack and leak pointers.
 */
export type KernelMode = 'root' | 'no-perfmon';

export interface UnsafeCase {
  /** File stem, unique across the corpus. */
  name: string;
  kind: 'asm' | 'c' | 'generated';
  /** Source file (absolute), for asm and C cases. */
  file?: string;
  category: Category;
  description: string;
  /** A substring vxo's VerifierError message (or log) must contain: the kernel's key phrase. */
  expect: string;
  /** The kernel's verdict as recorded; undefined until gen-kernel.ts has run on the case. */
  kernel: KernelVerdict | undefined;
  /** The capabilities the kernel verdict was obtained with (`; kernel-mode:`, root by default). */
  kernelMode: KernelMode;
  /** A fresh vxo Program (maps created anew on every call). */
  program(): Program;
  /** The same program for the kernel. */
  kernelInput(): KernelInput;
}

// ---------------------------------------------------------------------------------------------
// Headers

export interface Headers {
  description: string[];
  fields: Map<string, string[]>;
}

/**
 * The leading comment block of a case: `KEY: VALUE` lines are fields (a key may repeat), other
 * comment lines are the description. `prefix` is `;` for assembly and `//` for C.
 */
export function parseHeaders(text: string, prefix: string): Headers {
  const description: string[] = [];
  const fields = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (!line.startsWith(prefix)) break;
    const body = line.slice(prefix.length).trim();
    const m = /^([a-z][a-z-]*):\s?(.*)$/.exec(body);
    if (m !== null && FIELD_NAMES.has(m[1]!)) {
      const list = fields.get(m[1]!) ?? [];
      list.push(m[2]!.trimEnd());
      fields.set(m[1]!, list);
    } else if (body !== '') {
      description.push(body);
    }
  }
  return { description, fields };
}

const FIELD_NAMES = new Set(['category', 'expect', 'maps', 'patch', 'kernel', 'kernel-errno', 'kernel-mode']);

function kernelMode(h: Headers, where: string): KernelMode {
  const v = h.fields.get('kernel-mode');
  if (v === undefined) return 'root';
  if (v.length === 1 && (v[0] === 'root' || v[0] === 'no-perfmon')) return v[0];
  throw new Error(`${where}: kernel-mode must be root or no-perfmon`);
}

function one(h: Headers, key: string, where: string): string {
  const v = h.fields.get(key);
  if (v === undefined || v.length !== 1) throw new Error(`${where}: needs exactly one '${key}:' header line`);
  return v[0]!;
}

function category(v: string, where: string): Category {
  if (!(CATEGORIES as readonly string[]).includes(v)) throw new Error(`${where}: unknown category '${v}' (have ${CATEGORIES.join(', ')})`);
  return v as Category;
}

function kernelVerdict(h: Headers): KernelVerdict | undefined {
  const errno = h.fields.get('kernel-errno');
  if (errno === undefined) return undefined;
  return { errno: errno[0]!, lines: h.fields.get('kernel') ?? [] };
}

const MAP_TYPES: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(BPF_MAP_TYPE).map(([k, v]) => [k.replace('BPF_MAP_TYPE_', '').toLowerCase(), v]),
);

export function parseMapSpec(s: string, where: string): CaseMap {
  const f = s.split(':').map((x) => x.trim());
  if (f.length < 5 || f.length > 6) throw new Error(`${where}: map '${s}': expected NAME:TYPE:KEY:VALUE:ENTRIES[:FLAGS]`);
  const type = MAP_TYPES[f[1]!] ?? Number(f[1]);
  const nums = f.slice(2).map(Number);
  if (!Number.isInteger(type) || nums.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`${where}: map '${s}': bad number`);
  return { name: f[0]!, type, keySize: nums[0]!, valueSize: nums[1]!, maxEntries: nums[2]!, flags: nums[3] ?? 0 };
}

/** `; patch: PC FIELD=VALUE ...` sets raw fields the assembler cannot express (src_reg of lddw, ...). */
function applyPatch(insns: Insn[], spec: string, where: string): void {
  const [pcTok, ...sets] = spec.split(/\s+/);
  const pc = Number(pcTok);
  const ins = insns[pc];
  if (ins === undefined || sets.length === 0) throw new Error(`${where}: bad patch '${spec}'`);
  for (const s of sets) {
    const m = /^(code|dst|src|off|imm)=(-?(?:0x[0-9a-f]+|\d+))$/i.exec(s);
    if (m === null) throw new Error(`${where}: bad patch field '${s}'`);
    ins[m[1]!.toLowerCase() as keyof Insn] = Number(m[2]);
  }
}

// ---------------------------------------------------------------------------------------------
// vxo programs

function xdpProgram(name: string, insns: Insn[], fds: FdTable): Program {
  return { name, section: 'xdp', type: BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, insns, funcs: [], license: 'GPL', fds };
}

/** Creates the maps in a fresh FdTable (fds 3, 4, ... in order, as the raw kernel loader expects). */
function mapsInto(maps: readonly CaseMap[]): { fds: FdTable; byName: Map<string, number> } {
  const fds = new FdTable();
  const byName = new Map<string, number>();
  for (const m of maps) {
    const map = createMap({ name: m.name, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags });
    byName.set(m.name, fds.add(map));
  }
  return { fds, byName };
}

/** Map names resolve in order, so the same source assembles to the same words for vxo and the kernel. */
function assembleCase(source: string, maps: readonly CaseMap[], patches: readonly string[], where: string): Insn[] {
  const fdOf = new Map(maps.map((m, i) => [m.name, 3 + i]));
  const insns = assemble(source, { mapId: (n) => fdOf.get(n) });
  for (const p of patches) applyPatch(insns, p, where);
  return insns;
}

function asmCase(file: string): UnsafeCase {
  const text = readFileSync(file, 'utf8');
  const name = file.slice(file.lastIndexOf('/') + 1).replace(/\.asm$/, '');
  const h = parseHeaders(text, ';');
  const where = `unsafe/${name}.asm`;
  const maps = (h.fields.get('maps') ?? []).flatMap((s) => s.split(/\s+/).filter((x) => x !== '')).map((s) => parseMapSpec(s, where));
  const patches = h.fields.get('patch') ?? [];
  const insns = assembleCase(text, maps, patches, where);
  const mode = kernelMode(h, where);
  return {
    name,
    kind: 'asm',
    file,
    category: category(one(h, 'category', where), where),
    description: h.description.join(' '),
    expect: one(h, 'expect', where),
    kernel: kernelVerdict(h),
    kernelMode: mode,
    program() {
      const { fds } = mapsInto(maps);
      return xdpProgram(name, insns.map((i) => ({ ...i })), fds);
    },
    kernelInput: () => ({ kind: 'insns', insns, maps, progType: BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, noPerfmon: mode === 'no-perfmon' }),
  };
}

function cCase(file: string): UnsafeCase {
  const text = readFileSync(file, 'utf8');
  const name = file.slice(file.lastIndexOf('/') + 1).replace(/\.c$/, '');
  const h = parseHeaders(text, '//');
  const where = `unsafe/${name}.c`;
  const object = file.replace(/\.c$/, '.o');
  const mode = kernelMode(h, where);
  return {
    name,
    kind: 'c',
    file,
    category: category(one(h, 'category', where), where),
    description: h.description.join(' '),
    expect: one(h, 'expect', where),
    kernel: kernelVerdict(h),
    kernelMode: mode,
    program: () => loadObjectFile(object).program(),
    kernelInput: () => ({ kind: 'object', path: object, noPerfmon: mode === 'no-perfmon' }),
  };
}

// ---------------------------------------------------------------------------------------------
// Generated cases: too large for a file

const MOV64_IMM = 0xb7;
const MOV64_REG = 0xbf;
const ADD64_IMM = 0x07;
const JGT_IMM = 0x25;
const EXIT = 0x95;

interface GeneratedSpec {
  name: string;
  category: Category;
  description: string;
  expect: string;
  kernel: KernelVerdict;
  build(): Insn[];
}

/** Recorded by hand from gen-kernel.ts's report (it checks them, it cannot rewrite code). */
const GENERATED: readonly GeneratedSpec[] = [
  {
    name: 'gen-too-many-insns',
    category: 'size',
    description: '1,000,001 instructions: one more than a privileged program may have. The kernel refuses it before verifying (E2BIG, no log); vxo says BPF program is too large.',
    expect: 'BPF program is too large',
    kernel: { errno: 'E2BIG', lines: [] },
    build() {
      const insns: Insn[] = [];
      for (let i = 0; i < 1_000_000; i++) insns.push(insn(MOV64_IMM, 0, 0, 0, 2));
      insns.push(insn(EXIT));
      return insns;
    },
  },
  {
    name: 'gen-budget-two-paths',
    category: 'size',
    description: 'A branch on an unknown value, then 600,000 instructions whose result depends on it: the two paths never prune, so the verifier processes 1.2M instructions, past its budget.',
    expect: 'BPF program is too large',
    kernel: { errno: 'E2BIG', lines: ['BPF program is too large. Processed 1000001 insn'] },
    build() {
      // r2 = data (a scalar the verifier does not know: the u32 at ctx+16, ingress_ifindex)
      const insns: Insn[] = [insn(0x61, 2, 1, 16, 0), insn(MOV64_IMM, 0, 0, 0, 0), insn(JGT_IMM, 2, 0, 1, 5), insn(MOV64_IMM, 0, 0, 0, 1)];
      for (let i = 0; i < 600_000; i++) insns.push(insn(ADD64_IMM, 0, 0, 0, 1));
      insns.push(insn(MOV64_REG, 0, 2), insn(EXIT));
      return insns;
    },
  },
];

function generatedCase(g: GeneratedSpec): UnsafeCase {
  let cached: Insn[] | undefined;
  const insns = (): Insn[] => (cached ??= g.build());
  return {
    name: g.name,
    kind: 'generated',
    category: g.category,
    description: g.description,
    expect: g.expect,
    kernel: g.kernel,
    kernelMode: 'root',
    program: () => xdpProgram(g.name, insns().map((i) => ({ ...i })), new FdTable()),
    kernelInput: () => ({ kind: 'insns', insns: insns(), maps: [], progType: BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, noPerfmon: false }),
  };
}

// ---------------------------------------------------------------------------------------------

/** Every case, sorted by name: assembly and C files of unsafe/, then the generated ones. */
export function loadUnsafeCorpus(): UnsafeCase[] {
  const files = readdirSync(UNSAFE_DIR).sort();
  const cases: UnsafeCase[] = [];
  for (const f of files) {
    if (f.endsWith('.asm')) cases.push(asmCase(join(UNSAFE_DIR, f)));
    else if (f.endsWith('.c')) cases.push(cCase(join(UNSAFE_DIR, f)));
  }
  for (const g of GENERATED) cases.push(generatedCase(g));
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.name)) throw new Error(`duplicate case name ${c.name}`);
    seen.add(c.name);
  }
  return cases;
}

/**
 * The verifier's error lines in a kernel log: what follows the last instruction line (or the
 * whole log when there is none), without register-state dumps and the closing statistics.
 */
export function kernelErrorLines(log: string): string[] {
  // The kernel forgets the newline after some messages ("... for tail call" + "processed ...").
  // and before others ("6: (15) if r5 == 0x0 goto pc-2 infinite loop detected at insn 5").
  const lines = log
    .replace(/(\S)(processed \d+ insns)/g, '$1\n$2')
    .replace(/^(\d+: \([0-9a-f]{2}\) .*?) (infinite loop detected)/gm, '$1\n$2')
    .split('\n')
    .map((l) => l.trimEnd());
  let start = 0;
  lines.forEach((l, i) => {
    if (/^\d+: \([0-9a-f]{2}\)/.test(l)) start = i + 1;
  });
  return lines.slice(start).filter((l) =>
    l !== '' &&
    !/^processed \d+ insns/.test(l) &&
    !/^verification time/.test(l) &&
    !/^stack depth/.test(l) &&
    !/^from \d+ to \d+:/.test(l) &&
    !/^\d+: R\d/.test(l) &&
    !/^\d+: \(/.test(l) &&
    !/^mark_precise/.test(l) &&
    !/^(cur|old) state: /.test(l) &&
    !/^(last_idx|regs=|parent didn't have)/.test(l) &&
    !/^; /.test(l) &&
    !/^func#\d+ @\d+$/.test(l) &&
    !/^\s+\d+: /.test(l) &&
    !/^Live regs before insn:$/.test(l) &&
    !/^Func#\d+/.test(l) &&
    !/^Validating /.test(l) &&
    !/^caller:$/.test(l) && !/^callee:$/.test(l) && !/^ (R\d|frame)/.test(l),
  );
}

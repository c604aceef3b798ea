// The programs a run can name: the benchmark's own (scenarios/xdp) by name, or any clang object,
// and in it one program by function or section name (the first by default). An object named
// outright is read here, before any worker starts, so a missing file, a file that is not a BPF
// object or a program it does not hold is a usage error rather than a worker failure.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BPF_PROG_TYPE, parseElf, type CollectionSpec, type ProgramSpec } from '../../bpf-vm/index.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { RunError } from './run-error.ts';

export const XDP_DIR = join(PACKAGE_ROOT, 'scenarios', 'xdp') + '/';

export const BENCH_PROGRAMS = {
  xdp1: 'xdp1.o',
  xdp2: 'xdp2.o',
  redirect: 'redirect.o',
  rx_drop: 'rx_drop.o',
} as const;

export { RunError };

export interface ResolvedProgram {
  /** 'xdp1', 'xdp2', or the object's path as given. */
  label: string;
  object: string;
  /** The program in the object, by function or section name; the object's first when undefined. */
  section: string | undefined;
  /** Which benchmark program it is, if any: decides where the run's Mpps is counted. */
  bench: 'xdp1' | 'xdp2' | undefined;
}

export function benchObject(name: keyof typeof BENCH_PROGRAMS): string {
  return XDP_DIR + BENCH_PROGRAMS[name];
}

/** As the guest's loader picks (guest/bpf/object-loader.ts): the first whose function or section is `name`. */
function pick(spec: CollectionSpec, name: string | undefined): ProgramSpec | undefined {
  return name === undefined ? spec.programs[0] : spec.programs.find((p) => p.name === name || p.section === name);
}

function programList(spec: CollectionSpec): string {
  return spec.programs.map((p) => `${p.name} (section ${p.section})`).join(', ') || 'none';
}

export function resolveProgram(prog: string, section?: string): ResolvedProgram {
  if (section === '') throw new RunError('EINVAL', '--section: an empty name');
  const bench = prog === 'xdp1' || prog === 'xdp2' ? prog : undefined;
  const object = bench !== undefined ? benchObject(bench) : prog;
  if (bench === undefined && !existsSync(prog)) throw new RunError('ENOENT', `--prog ${prog}: not xdp1, xdp2 or an object file that exists`);
  // The benchmark's objects are known good; another object, or a section in one, is looked at.
  if (bench !== undefined && section === undefined) return { label: prog, object, section, bench };
  let spec: CollectionSpec;
  try {
    spec = parseElf(readFileSync(object), object);
  } catch (cause) {
    throw new RunError('EINVAL', `--prog ${prog}: not a BPF object vxo can load (${(cause as Error).message})`, { cause });
  }
  const p = pick(spec, section);
  if (p === undefined) {
    throw new RunError(section === undefined ? 'EINVAL' : 'ENOENT', section === undefined
      ? `--prog ${prog}: the object holds no program`
      : `--section ${section}: no program or section of that name in ${prog} (it has: ${programList(spec)})`);
  }
  if (p.type !== BPF_PROG_TYPE.BPF_PROG_TYPE_XDP) {
    throw new RunError('EINVAL', `${section === undefined ? `--prog ${prog}` : `--section ${section}`}: ${p.name} (section ${p.section}) is not an XDP program; pick one with --section (the object has: ${programList(spec)})`);
  }
  // A benchmark program with another section is no longer the benchmark's: count it as the user's.
  const same = bench !== undefined && p === spec.programs[0];
  return { label: prog, object, section, bench: same ? bench : undefined };
}

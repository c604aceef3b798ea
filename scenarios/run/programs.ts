// The programs a run can name: the benchmark's own (scenarios/xdp) by name, or any clang object.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
  /** Which benchmark program it is, if any: decides where the run's Mpps is counted. */
  bench: 'xdp1' | 'xdp2' | undefined;
}

export function benchObject(name: keyof typeof BENCH_PROGRAMS): string {
  return XDP_DIR + BENCH_PROGRAMS[name];
}

export function resolveProgram(prog: string): ResolvedProgram {
  if (prog === 'xdp1' || prog === 'xdp2') return { label: prog, object: benchObject(prog), bench: prog };
  if (!existsSync(prog)) throw new RunError('ENOENT', `--prog ${prog}: not xdp1, xdp2 or an object file that exists`);
  return { label: prog, object: prog, bench: undefined };
}

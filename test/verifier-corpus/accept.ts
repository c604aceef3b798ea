// The accept side of the verifier corpus: every object in scenarios/xdp, test/corpus/c and
// test/fixtures/elf, whose XDP programs both the kernel and vxo must accept.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { BPF_PROG_TYPE, progTypeName } from '../../bpf-vm/prog/types.ts';
import type { CaseMap } from './corpus.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const ACCEPT_DIRS = ['scenarios/xdp', 'test/corpus/c', 'test/fixtures/elf'] as const;

export interface AcceptObject {
  /** Path relative to the repository root. */
  object: string;
  path: string;
  /** The object's XDP programs, by function name (other program types are out of scope). */
  programs: string[];
  /** Programs of other types, left out (named with their type). */
  skipped: string[];
}

export function acceptObjects(): AcceptObject[] {
  const out: AcceptObject[] = [];
  for (const dir of ACCEPT_DIRS) {
    for (const f of readdirSync(join(ROOT, dir)).filter((x) => x.endsWith('.o')).sort()) {
      const object = `${dir}/${f}`;
      const path = join(ROOT, object);
      const coll = loadObjectFile(path);
      const programs: string[] = [];
      const skipped: string[] = [];
      for (const p of coll.programs.values()) {
        if (p.type === BPF_PROG_TYPE.BPF_PROG_TYPE_XDP) programs.push(p.name);
        else skipped.push(`${p.name} (${progTypeName(p.type)})`);
      }
      out.push({ object, path, programs, skipped });
    }
  }
  return out;
}

/** A fresh copy of one program of an object (maps created anew). */
export function acceptProgram(path: string, name: string): Program {
  return loadObjectFile(path).program(name);
}

/**
 * One program as raw instructions with its maps, for the raw kernel loader: vxo's FdTable hands
 * out fds 3, 4, ... in map order, the numbering test/support/bpf-load.c patches.
 */
export function rawProgram(path: string, name: string): { insns: Program['insns']; maps: CaseMap[]; progType: number } {
  const coll = loadObjectFile(path);
  const p = coll.program(name);
  const entries = [...coll.fds.entries()].sort((a, b) => a[0] - b[0]);
  entries.forEach(([fd], i) => {
    if (fd !== 3 + i) throw new Error(`${path}: map fds are not 3, 4, ... (fd ${fd} at ${i})`);
  });
  const maps = entries.map(([, m]) => ({
    name: m.spec.name,
    type: m.spec.type,
    keySize: m.spec.keySize,
    valueSize: m.spec.valueSize,
    maxEntries: m.spec.maxEntries,
    flags: m.spec.flags,
  }));
  return { insns: p.insns, maps, progType: p.type };
}

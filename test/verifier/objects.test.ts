// Every clang-built object vxo ships is accepted, and the work it takes is printed beside the
// kernel's own `processed N insns` (a benchmark, not an assertion: within a small factor is good).
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { verifyProgram } from '../../bpf-vm/verifier/index.ts';
import { REPO_ROOT } from '../support/vm.ts';

const DIRS = ['scenarios/xdp', 'test/corpus/c', 'test/fixtures/elf'];
const expected = JSON.parse(readFileSync(join(REPO_ROOT, 'test/corpus/c/expected.json'), 'utf8')) as {
  objects: Record<string, { program: string; verifierProcessed?: number }>;
};

const objects = DIRS.flatMap((d) => readdirSync(join(REPO_ROOT, d)).filter((f) => f.endsWith('.o')).map((f) => join(REPO_ROOT, d, f)));
const rows: string[] = [];

for (const path of objects) {
  const rel = relative(REPO_ROOT, path);
  test(`accepts ${rel}`, (t) => {
    const coll = loadObjectFile(path);
    for (const prog of coll.programs.values()) {
      const t0 = performance.now();
      const r = verifyProgram(prog);
      const ms = performance.now() - t0;
      t.true(r.stats.processed > 0, prog.name);
      const k = expected.objects[rel]?.program === prog.name ? expected.objects[rel]?.verifierProcessed : undefined;
      const ratio = k ? ` (${(r.stats.processed / k).toFixed(2)}x)` : '';
      const line = `${rel} ${prog.name}: processed ${r.stats.processed}, kernel ${k ?? '-'}${ratio}, states ${r.stats.totalStates}, ${ms.toFixed(1)} ms`;
      rows.push(line);
      t.log(line);
    }
  });
}

// How long xdp1 and xdp2 take to verify is a benchmark's question (bench/verifier.ts, npm run bench):
// a timed assertion fails on a loaded machine. What they cost the verifier is pinned by
// test/verifier/prune-parity.test.ts (processed instructions and states against the kernel's).
